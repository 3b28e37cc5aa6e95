// `sluice live` as a user runs it: a standalone `sluice broker`, the topics written with
// `sluice produce` and kcat (an independent client), live run to the end of the topics, the
// scores read back with kcat. A partition's scores must equal `sluice replay` of its rows, bit
// for bit; malformed messages must reach the dead-letter topic with their reason.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/flat_json.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A `sluice broker` process for the test's lifetime, its stdin a pipe for fault commands.
class Broker {
 public:
  Broker(const TempDir& dir, int partitions) {
    // A broker that died must fail the test at the next command, not kill it with SIGPIPE.
    signal(SIGPIPE, SIG_IGN);
    const std::string file = dir.File(absl::StrCat("bootstrap-", partitions));
    const std::string partitions_text = absl::StrCat(partitions);
    std::vector<std::string> args = {SluiceBinary(),  "broker",           "--partitions",
                                     partitions_text, "--bootstrap-file", file};
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[0], STDIN_FILENO);
      close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[0]);
    commands_ = fds[1];
    for (int i = 0; i < 100 && bootstrap_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::ifstream in(file);
      std::getline(in, bootstrap_);
    }
  }
  ~Broker() {
    close(commands_);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  const std::string& bootstrap() const { return bootstrap_; }
  // A fault command (sluice broker --help).
  void Command(const std::string& line) {
    const std::string text = line + "\n";
    ASSERT_EQ(write(commands_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

 private:
  pid_t pid_ = -1;
  int commands_ = -1;
  std::string bootstrap_;
};

// Runs a shell command (kcat) and returns its exit code.
int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Every message of `topic` (all partitions), one JSON object each, via kcat.
std::vector<core::FlatJson> ReadTopic(const TempDir& dir, const std::string& bootstrap,
                                      const std::string& topic) {
  const std::string out = dir.File(topic + ".jsonl");
  EXPECT_EQ(Shell(absl::StrCat("kcat -b ", bootstrap, " -C -t ", topic, " -e -q -f '%s\\n' > ",
                               ShellQuote(out))),
            0);
  std::vector<core::FlatJson> messages;
  for (absl::string_view line : absl::StrSplit(ReadFileOrDie(out), '\n', absl::SkipEmpty())) {
    auto json = core::ParseFlatJson(line);
    EXPECT_TRUE(json.has_value()) << line;
    if (json.has_value()) messages.push_back(*json);
  }
  return messages;
}

// The credit-card head with an id column (the row number), so that a partition's rows keep
// their ids when replayed on their own.
std::vector<std::string> CreditCardWithIds(int rows) {
  std::ifstream in(RepoFile("datasets/creditcard/creditcard_head4002.csv"));
  std::vector<std::string> lines;
  std::string line;
  for (int i = -1; i < rows && std::getline(in, line); ++i) {
    lines.push_back(i < 0 ? "id," + line : absl::StrCat(i, ",", line));
  }
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << "\n";
}

void CheckPartitionsEqualReplay(const TempDir& dir, const std::string& bootstrap,
                                const std::vector<std::string>& lines, const std::string& labels,
                                int partitions);

// Produces the credit-card head with its labels into the broker at `bootstrap`, runs live to the
// end of the topics, and checks that each of the `partitions` partitions' scores equal replay of
// its rows, bit for bit, every event scored once.
void CheckLiveEqualsReplay(const TempDir& dir, const std::string& bootstrap, int partitions) {
  const std::vector<std::string> lines = CreditCardWithIds(4002);
  WriteLines(dir.File("cc.csv"), lines);
  const std::string labels = "--label-delay-seconds 30";
  const CliResult produced =
      RunSluice(absl::StrCat("produce --brokers ", bootstrap, " --input ", dir.File("cc.csv"),
                             " --id-column id ", labels, " --all-labels"));
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  EXPECT_THAT(produced.err, HasSubstr("4002 events and 4002 labels"));
  const CliResult live =
      RunSluice(absl::StrCat("live --brokers ", bootstrap, " --exit-at-end --quiet --explain 3",
                             " --summary ", dir.File("live.json")));
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_THAT(ReadFileOrDie(dir.File("live.json")), HasSubstr("\"events\": 4002"));
  CheckPartitionsEqualReplay(dir, bootstrap, lines, labels, partitions);
}

// Each of the `partitions` partitions' scores (whichever process wrote them) equal `sluice
// replay` of its rows of `lines` with `labels`, bit for bit, and every row is scored once.
void CheckPartitionsEqualReplay(const TempDir& dir, const std::string& bootstrap,
                                const std::vector<std::string>& lines, const std::string& labels,
                                int partitions) {
  // Scores by partition, in the order written.
  std::map<std::string, std::vector<core::FlatJson>> by_partition;
  for (core::FlatJson& s : ReadTopic(dir, bootstrap, "scores")) {
    by_partition[Field(s, "partition")].push_back(std::move(s));
  }
  ASSERT_EQ(by_partition.size(), static_cast<size_t>(partitions));
  std::set<std::string> seen;
  for (const auto& [partition, scores] : by_partition) {
    std::set<std::string> ids;
    for (const core::FlatJson& s : scores) {
      const std::string id = *core::JsonUnquote(Field(s, "id"));
      EXPECT_TRUE(seen.insert(id).second) << "id " << id << " scored twice";
      ids.insert(id);
    }
    std::vector<std::string> subset = {lines[0]};
    for (size_t i = 1; i < lines.size(); ++i) {
      if (ids.count(lines[i].substr(0, lines[i].find(','))) != 0) subset.push_back(lines[i]);
    }
    const std::string csv = dir.File("p" + partition + ".csv");
    const std::string predictions = dir.File("r" + partition + ".csv");
    WriteLines(csv, subset);
    // Explained (live --explain 3): replay explains too, and the explanations must agree.
    const bool explained = std::any_of(scores[0].begin(), scores[0].end(), [](const auto& field) {
      return field.first == "explanation";
    });
    const CliResult replay =
        RunSluice(absl::StrCat("replay --quiet --input ", csv, " --id-column id ", labels,
                               explained ? " --explain 3" : "", " --predictions ", predictions));
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    const CsvTable table = ReadCsv(predictions);
    ASSERT_EQ(table.rows.size(), scores.size()) << "partition " << partition;
    const int id_column = table.Column("id");
    const std::vector<double> anomaly = table.Doubles("anomaly_score");
    const std::vector<double> fraud = table.Doubles("fraud_probability");
    for (size_t i = 0; i < scores.size(); ++i) {
      ASSERT_EQ(*core::JsonUnquote(Field(scores[i], "id")),
                table.rows[i][static_cast<size_t>(id_column)]);
      const double a = std::strtod(Field(scores[i], "anomaly_score").c_str(), nullptr);
      const double f = std::strtod(Field(scores[i], "fraud_probability").c_str(), nullptr);
      ASSERT_EQ(std::bit_cast<uint64_t>(a), std::bit_cast<uint64_t>(anomaly[i]))
          << "partition " << partition << " event " << i;
      ASSERT_EQ(std::bit_cast<uint64_t>(f), std::bit_cast<uint64_t>(fraud[i]))
          << "partition " << partition << " event " << i;
      if (explained) {
        ASSERT_EQ(*core::JsonUnquote(Field(scores[i], "explanation")),
                  table.rows[i][static_cast<size_t>(table.Column("explanation"))])
            << "partition " << partition << " event " << i;
      }
    }
  }
  EXPECT_EQ(seen.size(), lines.size() - 1);
}

// A real Apache Kafka 4.x broker (KRaft, one node, from Maven Central jars via
// scripts/kafka-broker.sh; stopped however the test ends).
class RealKafka {
 public:
  explicit RealKafka(const TempDir& dir) : dir_(dir.File("kafka")) {
    if (Shell(absl::StrCat(ShellQuote(script_), " start ", ShellQuote(dir_), " > ",
                           ShellQuote(dir.File("bootstrap.txt")))) != 0) {
      return;
    }
    bootstrap_ = ReadFileOrDie(dir.File("bootstrap.txt"));
    while (!bootstrap_.empty() && bootstrap_.back() == '\n') bootstrap_.pop_back();
  }
  ~RealKafka() { Shell(absl::StrCat(ShellQuote(script_), " stop ", ShellQuote(dir_))); }
  // Empty if it did not start.
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::string script_ = RepoFile("scripts/kafka-broker.sh").string();
  std::string dir_;
  std::string bootstrap_;
};

class LiveTest : public ::testing::TestWithParam<int> {};

TEST_P(LiveTest, EachPartitionsScoresEqualReplayOfItsRowsBitForBit) {
  TempDir dir;
  Broker broker(dir, GetParam());
  ASSERT_FALSE(broker.bootstrap().empty()) << "sluice broker printed no address";
  CheckLiveEqualsReplay(dir, broker.bootstrap(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Partitions, LiveTest, ::testing::Values(1, 4));

// The same against a real Apache Kafka 4.x broker (KRaft, one node, from Maven Central jars via
// scripts/kafka-broker.sh; topics auto-created with 4 partitions): idempotent producers,
// read_committed consumers, the partitioner of the Java clients.
TEST(LiveRealKafka, EachPartitionsScoresEqualReplayOfItsRowsBitForBit) {
  TempDir dir;
  RealKafka kafka(dir);
  ASSERT_FALSE(kafka.bootstrap().empty()) << "scripts/kafka-broker.sh could not start Kafka";
  CheckLiveEqualsReplay(dir, kafka.bootstrap(), 4);
}

// Writes the first `rows` rows of the credit-card head (ids = row numbers) to the transactions
// topic, without labels.
void ProduceCreditCard(const TempDir& dir, const std::string& bootstrap, int rows) {
  WriteLines(dir.File("cc.csv"), CreditCardWithIds(rows));
  const CliResult produced = RunSluice(absl::StrCat("produce --brokers ", bootstrap, " --input ",
                                                    dir.File("cc.csv"), " --id-column id"));
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
}

// The ids in the scores topic, each of which must be there once.
std::set<std::string> ScoredOnce(const TempDir& dir, const std::string& bootstrap) {
  std::set<std::string> ids;
  for (const core::FlatJson& s : ReadTopic(dir, bootstrap, "scores")) {
    EXPECT_TRUE(ids.insert(*core::JsonUnquote(Field(s, "id"))).second) << "scored twice";
  }
  return ids;
}

// The JSON text of `key`'s array in `json` (its first occurrence), brackets included.
std::string JsonArray(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": [");
  EXPECT_NE(at, std::string::npos) << key << " in " << json;
  if (at == std::string::npos) return "";
  int depth = 0;
  for (size_t i = json.find('[', at); i < json.size(); ++i) {
    depth += json[i] == '[' ? 1 : json[i] == ']' ? -1 : 0;
    if (depth == 0) return json.substr(json.find('[', at), i + 1 - json.find('[', at));
  }
  return "";
}

// Challengers and their promotion in live are replay's: on a stream whose fraud pattern
// changes, a partition's challengers end with replay's numbers of its events, and it promotes
// the same challengers after the same events with the same figures, alias champion of its
// model moved with the reason. 6,500 events: the mock broker keeps 5 MiB per partition.
TEST(LiveChallengers, APartitionsChallengersAndPromotionEqualReplayOfItsEvents) {
  TempDir dir;
  Broker broker(dir, 1);
  ASSERT_FALSE(broker.bootstrap().empty()) << "sluice broker printed no address";
  ASSERT_NO_FATAL_FAILURE(WriteChangingFraudStream(dir, dir.File("in.csv"), 2000, 4500));
  const std::string labels = " --label-delay-seconds 30";
  const CliResult produced =
      RunSluice(absl::StrCat("produce --brokers ", broker.bootstrap(), " --input ",
                             dir.File("in.csv"), labels, " --all-labels"));
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  const std::string challengers =
      " --challenger logreg:lr=0.5 --challenger hst:trees=25,height=15 --auto-promote 0.05"
      " --promote-min-labels 1000 --serving continuous";
  const CliResult live = RunSluice(absl::StrCat("live --brokers ", broker.bootstrap(),
                                                " --exit-at-end --registry ", dir.File("live.db"),
                                                " --summary ", dir.File("live.json"), challengers));
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_THAT(live.err, HasSubstr("sluice live: partition 0: challenger logreg:lr=0.5 promoted: "
                                  "version 2 of default.p0, alias champion moved"));
  const CliResult replay = RunSluice(
      absl::StrCat("replay --quiet --input ", dir.File("in.csv"), labels, " --registry ",
                   dir.File("replay.db"), " --summary ", dir.File("replay.json"), challengers));
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  const std::string live_json = ReadFileOrDie(dir.File("live.json"));
  const std::string replay_json = ReadFileOrDie(dir.File("replay.json"));
  EXPECT_EQ(JsonArray(live_json, "challengers"), JsonArray(replay_json, "challengers"));
  EXPECT_THAT(JsonArray(live_json, "promotions"),
              HasSubstr("[{\"challenger\": \"logreg:lr=0.5\", \"version\": 2, "));
  EXPECT_EQ(JsonArray(live_json, "promotions"), JsonArray(replay_json, "promotions"));
  const CliResult history = RunSluice(absl::StrCat("registry --registry ", dir.File("live.db"),
                                                   " --model-name default.p0 history champion"));
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_THAT(history.out, HasSubstr("challenger logreg:lr=0.5 promoted: rolling AUC "));
}

TEST(LiveDeadLetters, MalformedMessagesGoToTheDeadLetterTopicWithTheirReason) {
  TempDir dir;
  Broker broker(dir, 1);
  ASSERT_FALSE(broker.bootstrap().empty());
  ProduceCreditCard(dir, broker.bootstrap(), 20);
  // Written by kcat, key|value per line.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"b1", "{\"id\": \"b1\", \"features\": {\"V1\": 1"},
      {"b2", "{\"id\": \"b2\"}"},
      {"b3", "{\"id\": \"b3\", \"features\": {\"V1\": \"high\"}}"},
      {"b4", "{\"id\": \"b4\", \"features\": [1, 2]}"},
      {"b5", "{\"id\": \"b5\", \"features\": {\"Nope\": 1}}"},
      {"b6", "{\"id\": \"b6\", \"features\": {\"V1\": 1}, \"pad\": \"" + std::string(200000, 'x') +
                 "\"}"}};
  std::string text;
  for (const auto& [key, value] : bad) text += key + "|" + value + "\n";
  WriteFile(dir.File("bad.txt"), text);
  ASSERT_EQ(
      Shell(absl::StrCat("kcat -b ", broker.bootstrap(), " -P -l -t transactions -p 0 -K '|' ",
                         "-X message.max.bytes=1000000 ", ShellQuote(dir.File("bad.txt")))),
      0);
  // Labels: one for an unknown id, one duplicate, one malformed.
  WriteFile(dir.File("labels.txt"),
            "3|{\"id\": 3, \"label\": 1, \"time\": 0}\n"
            "3|{\"id\": 3, \"label\": 0, \"time\": 0}\n"
            "zz|{\"id\": \"zz\", \"label\": 1, \"time\": 1}\n"
            "q|{\"id\": \"q\", \"label\": 7, \"time\": 1}\n");
  ASSERT_EQ(Shell(absl::StrCat("kcat -b ", broker.bootstrap(), " -P -l -t labels -p 0 -K '|' ",
                               ShellQuote(dir.File("labels.txt")))),
            0);
  const CliResult live =
      RunSluice(absl::StrCat("live --brokers ", broker.bootstrap(),
                             " --exit-at-end --quiet --summary ", dir.File("live.json")));
  ASSERT_EQ(live.exit_code, 0) << live.err;
  const std::string summary = ReadFileOrDie(dir.File("live.json"));
  EXPECT_THAT(summary, HasSubstr("\"events\": 20"));
  EXPECT_THAT(summary, HasSubstr("\"bad_records\": 6"));
  EXPECT_THAT(summary, HasSubstr("\"dead_letters\": 7"));  // Six events and one label.
  EXPECT_THAT(summary, HasSubstr("\"duplicate\": 1"));
  EXPECT_THAT(summary, HasSubstr("\"unknown\": 1"));
  // The events' letters in offset order, the label's apart: two threads send them.
  std::vector<core::FlatJson> letters, label_letters;
  for (core::FlatJson& letter : ReadTopic(dir, broker.bootstrap(), "transactions.dlq")) {
    (Field(letter, "topic") == "\"labels\"" ? label_letters : letters).push_back(letter);
  }
  ASSERT_EQ(letters.size(), 6u);
  ASSERT_EQ(label_letters.size(), 1u);
  const std::vector<std::string> reasons = {
      "unterminated object",        "no \\\"features\\\"",         "not a number",
      "features must be an object", "not in the version's schema", "unknown field"};
  for (size_t i = 0; i < reasons.size(); ++i) {
    EXPECT_THAT(Field(letters[i], "error"), HasSubstr(reasons[i])) << i;
    EXPECT_EQ(Field(letters[i], "topic"), "\"transactions\"");
    EXPECT_EQ(Field(letters[i], "offset"), absl::StrCat(20 + i));
    EXPECT_EQ(*core::JsonUnquote(Field(letters[i], "value")), bad[i].second);
  }
  EXPECT_THAT(Field(label_letters[0], "error"), HasSubstr("label must be"));
  EXPECT_EQ(Field(label_letters[0], "offset"), "3");
}

// `sluice live --demo`: broker, producer and engine in one process, stopped on time.
TEST(LiveDemo, RunsAndStopsOnTime) {
  TempDir dir;
  const CliResult demo =
      RunSluice(absl::StrCat("live --demo --seconds 3 --rate 5000 --quiet "
                             "--summary ",
                             dir.File("demo.json")));
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_THAT(demo.err, HasSubstr("embedded broker at 127.0.0.1:"));
  const std::string summary = ReadFileOrDie(dir.File("demo.json"));
  const auto json_events = summary.find("\n  \"events\": ");
  ASSERT_NE(json_events, std::string::npos);
  const int64_t events = std::strtoll(summary.c_str() + json_events + 13, nullptr, 10);
  EXPECT_GT(events, 5000);   // Two seconds or more at 5,000/s...
  EXPECT_LT(events, 20000);  // ...and it stopped.
  EXPECT_THAT(summary, HasSubstr("\"dead_letters\": 0"));
  EXPECT_THAT(summary, HasSubstr("\"p99_ms\": "));
}

// librdkafka values hold commas (server lists, debug contexts): -X takes each value whole.
TEST(LiveFlags, AKafkaSettingIsTakenWholeCommasIncluded) {
  for (const char* command :
       {"live --brokers 127.0.0.1:1 --quiet", "produce --brokers 127.0.0.1:1"}) {
    const CliResult result = RunSluice(absl::StrCat(command, " -X bogus.key=a,b"));
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_THAT(result.err, HasSubstr("kafka setting bogus.key=a,b")) << command;
  }
}

// The outputs' producer falls behind (its produce requests fail and are retried for a while):
// the partition pauses fetching instead of queueing without bound, then resumes; nothing is
// lost or doubled. The input trickles in (a slow broker, small fetches), so that the pause
// happens while it is read, not after a read-ahead took it all.
TEST(LiveBackPressure, AProducerThatFallsBehindPausesConsumption) {
  TempDir dir;
  Broker broker(dir, 1);
  ASSERT_FALSE(broker.bootstrap().empty());
  WriteLines(dir.File("cc.csv"), CreditCardWithIds(4002));
  ASSERT_EQ(RunSluice(absl::StrCat("produce --brokers ", broker.bootstrap(), " --input ",
                                   dir.File("cc.csv"),
                                   " --id-column id -X batch.num.messages=1 -X linger.ms=0"))
                .exit_code,
            0);
  broker.Command("rtt 1 3");
  broker.Command("err 0 19 40");  // NOT_ENOUGH_REPLICAS for the next 40 produce requests.
  const CliResult live = RunSluice(absl::StrCat(
      "live --brokers ", broker.bootstrap(),
      " --exit-at-end --quiet -X queue.buffering.max.messages=50 -X fetch.max.bytes=5000 "
      "-X max.partition.fetch.bytes=5000 -X message.max.bytes=5000 --summary ",
      dir.File("live.json")));
  ASSERT_EQ(live.exit_code, 0) << live.err;
  const std::string summary = ReadFileOrDie(dir.File("live.json"));
  EXPECT_THAT(summary, HasSubstr("\"events\": 4002"));
  const size_t at = summary.find("\"paused_for_outputs\": {\"times\": ");
  ASSERT_NE(at, std::string::npos) << summary;
  EXPECT_GE(std::strtoll(summary.c_str() + at + 32, nullptr, 10), 1) << summary;
  EXPECT_EQ(ScoredOnce(dir, broker.bootstrap()).size(), 4002u);
}

// The number of messages in `topic`, via kcat.
size_t CountMessages(const TempDir& dir, const std::string& bootstrap, const std::string& topic) {
  const std::string out = dir.File("count.txt");
  Shell(absl::StrCat("kcat -b ", bootstrap, " -C -t ", topic, " -e -q -f 'x\\n' > ",
                     ShellQuote(out), " 2>/dev/null"));
  const std::string text = ReadFileOrDie(out);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The broker goes away for 3 s while live runs, then requests fail for a while: live waits and
// retries, and every event is scored exactly once.
TEST(LiveFaults, ABrokerOutageAndFailingRequestsLoseAndDuplicateNothing) {
  TempDir dir;
  Broker broker(dir, 2);
  ASSERT_FALSE(broker.bootstrap().empty());
  const std::vector<std::string> lines = CreditCardWithIds(4002);
  WriteLines(dir.File("first.csv"), std::vector<std::string>(lines.begin(), lines.begin() + 2001));
  std::vector<std::string> second = {lines[0]};
  second.insert(second.end(), lines.begin() + 2001, lines.end());
  WriteLines(dir.File("second.csv"), second);
  const pid_t live = SpawnSluice(absl::StrCat("live --brokers ", broker.bootstrap(),
                                              " --quiet --summary ", dir.File("live.json")));
  const std::string produce =
      absl::StrCat("produce --brokers ", broker.bootstrap(), " --id-column id --input ");
  ASSERT_EQ(RunSluice(produce + dir.File("first.csv")).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  broker.Command("down 1");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  broker.Command("up 1");
  broker.Command("err 0 19 20");  // NOT_ENOUGH_REPLICAS for the next 20 produce requests.
  broker.Command("err 1 6 10");   // NOT_LEADER_FOR_PARTITION for the next 10 fetches.
  ASSERT_EQ(RunSluice(produce + dir.File("second.csv")).exit_code, 0);
  size_t scored = 0;
  for (int i = 0; i < 120 && scored < 4002; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    scored = CountMessages(dir, broker.bootstrap(), "scores");
  }
  kill(live, SIGTERM);
  int status = 0;
  waitpid(live, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(ReadFileOrDie(dir.File("live.json")), HasSubstr("\"events\": 4002"));
  EXPECT_EQ(ScoredOnce(dir, broker.bootstrap()).size(), 4002u);
}

// Every message of `topic` as "partition value" lines, sorted: the topic's content whatever the
// order of its partitions. Only committed transactions are read.
std::vector<std::string> TopicContent(const TempDir& dir, const std::string& bootstrap,
                                      const std::string& topic) {
  const std::string out = dir.File(topic + ".txt");
  EXPECT_EQ(Shell(absl::StrCat("kcat -b ", bootstrap, " -C -t ", topic,
                               " -X isolation.level=read_committed -e -q -f '%p %s\\n' > ",
                               ShellQuote(out))),
            0);
  std::vector<std::string> lines = absl::StrSplit(ReadFileOrDie(out), '\n', absl::SkipEmpty());
  std::sort(lines.begin(), lines.end());
  return lines;
}

// The version numbers of `model` in the registry `db`.
std::vector<std::string> Versions(const std::string& db, const std::string& model) {
  const CliResult list =
      RunSluice(absl::StrCat("registry --registry ", db, " --model-name ", model, " list"));
  EXPECT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> numbers;
  for (absl::string_view line : absl::StrSplit(list.out, '\n', absl::SkipEmpty())) {
    const std::string first(line.substr(0, line.find(' ')));
    if (!first.empty() && std::isdigit(static_cast<unsigned char>(first[0])) &&
        line.find("versions of") == absl::string_view::npos) {
      numbers.push_back(first);
    }
  }
  return numbers;
}

// Whether the registry `db` exists and holds a version of partition 0's model.
bool HasVersions(const std::string& db) {
  if (!std::filesystem::exists(db)) return false;
  const CliResult list =
      RunSluice(absl::StrCat("registry --registry ", db, " --model-name default.p0 list"));
  return list.exit_code == 0 && list.out.find("\n1 ") != std::string::npos;
}

// `signals` sent to `sluice live` at seeded moments, each time restarted with the same flags:
// every event is scored once and alerted at most once; after kill -9 alone the scores and alerts
// topics hold, byte for byte, what a run that was never stopped wrote. A SIGTERM registers the
// model as a "stop" version, which serves after the restart, so from there on scores may differ
// from an unstopped run's. The registry numbers its versions without a gap or a duplicate.
// `slow(true)` makes the broker slow enough that the stream lasts seconds and the signals land
// inside it; `live_flags` are added to every run.
void CheckStoppedRunsOutputEachEventOnce(const TempDir& dir, const std::string& bootstrap,
                                         int partitions, const std::string& live_flags,
                                         const std::vector<int>& signals,
                                         const std::function<void(bool)>& slow) {
  const bool graceful = std::count(signals.begin(), signals.end(), SIGTERM) > 0;
  WriteLines(dir.File("cc.csv"), CreditCardWithIds(4002));
  // One message per batch, so that a small fetch holds a few messages.
  ASSERT_EQ(RunSluice(absl::StrCat("produce --brokers ", bootstrap, " --input ", dir.File("cc.csv"),
                                   " --id-column id --label-delay-seconds 30 --all-labels "
                                   "-X batch.num.messages=1 -X linger.ms=0"))
                .exit_code,
            0);
  const std::string live =
      absl::StrCat("live --brokers ", bootstrap,
                   " --exit-at-end --quiet --snapshot-every-events 300 --alert-threshold 0.02 "
                   "--assignment static ",
                   live_flags);
  const CliResult reference =
      RunSluice(absl::StrCat(live, " --group reference --registry ", dir.File("reference.db"),
                             " --scores ref-scores --alerts ref-alerts"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const std::string killed = absl::StrCat(live, " --registry ", dir.File("killed.db"),
                                          " --summary ", dir.File("killed.json"));
  slow(true);
  std::mt19937 random(7);
  for (const int signal : signals) {
    const pid_t pid = SpawnSluice(killed);
    // The first run once it has started (its start snapshot is in the registry), then each a
    // seeded moment later: inside the stream however slow the machine is.
    for (int i = 0; i < 300 && !HasVersions(dir.File("killed.db")); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 1200)(random)));
    kill(pid, signal);
    int status = 0;
    waitpid(pid, &status, 0);
    if (signal == SIGTERM) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
  }
  slow(false);
  const CliResult last = RunSluice(killed);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  const std::string summary = ReadFileOrDie(dir.File("killed.json"));
  EXPECT_THAT(summary, HasSubstr("\"events\": 4002"));
  EXPECT_THAT(summary, Not(HasSubstr("\"resumed_from_version\": 0,"))) << summary;
  EXPECT_THAT(summary, Not(HasSubstr("\"recomputed_differently\": 1")));
  EXPECT_THAT(summary, HasSubstr("\"recomputed_differently\": 0"));

  const std::vector<std::string> scores = TopicContent(dir, bootstrap, "scores");
  EXPECT_EQ(scores.size(), 4002u);
  const std::vector<std::string> alerts = TopicContent(dir, bootstrap, "alerts");
  EXPECT_GT(alerts.size(), 100u);
  if (!graceful) {
    EXPECT_TRUE(scores == TopicContent(dir, bootstrap, "ref-scores"));
    EXPECT_TRUE(alerts == TopicContent(dir, bootstrap, "ref-alerts"));
  }
  int drifts = 0;
  for (const auto* topic : {&scores, &alerts}) {
    std::set<std::string> ids;
    for (const std::string& line : *topic) {
      auto json = core::ParseFlatJson(line.substr(line.find(' ') + 1));
      ASSERT_TRUE(json.has_value()) << line;
      const bool drift = std::any_of(json->begin(), json->end(),
                                     [](const auto& field) { return field.first == "type"; });
      if (drift) {  // Once per signal, index and partition.
        EXPECT_EQ(Field(*json, "type"), "\"drift\"") << line;
        ++drifts;
        EXPECT_TRUE(ids.insert(absl::StrCat(Field(*json, "signal"), Field(*json, "index"), "@",
                                            Field(*json, "partition")))
                        .second)
            << "output twice: " << line;
        continue;
      }
      EXPECT_TRUE(ids.insert(Field(*json, "id")).second) << "output twice: " << line;
    }
  }
  EXPECT_GE(drifts, 1);  // The credit-card head has drifts (tests/river checks where).
  // Versions 1..N of each partition's model, each once: the reference's, and a "stop" version
  // after a SIGTERM.
  for (int p = 0; p < partitions; ++p) {
    const std::string model = absl::StrCat("default.p", p);
    const std::vector<std::string> got = Versions(dir.File("killed.db"), model);
    const std::vector<std::string> want = Versions(dir.File("reference.db"), model);
    ASSERT_FALSE(got.empty());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], absl::StrCat(i + 1)) << model;
    EXPECT_EQ(got.size(), want.size() + (graceful ? 1 : 0)) << model;
    if (graceful) {
      EXPECT_THAT(RunSluice(absl::StrCat("registry --registry ", dir.File("killed.db"),
                                         " --model-name ", model, " list"))
                      .out,
                  HasSubstr(" stop "))
          << model;
    }
  }
}

// Consumer settings that fetch a few messages at a time, so that a slow broker makes the
// stream last seconds.
constexpr char kSmallFetches[] =
    "-X fetch.max.bytes=5000 -X max.partition.fetch.bytes=5000 -X message.max.bytes=5000";

// On the standalone broker (librdkafka's mock: no usable transactions), a restart reads back
// what its predecessor output past the checkpoint. The broker answers every request 3 ms late
// and consumers fetch a few messages at a time while the kills happen.
TEST(LiveExactlyOnce, KillNineAndRestartOutputEverythingOnceByteIdentical) {
  TempDir dir;
  Broker broker(dir, 2);
  ASSERT_FALSE(broker.bootstrap().empty());
  CheckStoppedRunsOutputEachEventOnce(
      dir, broker.bootstrap(), 2, kSmallFetches, {SIGKILL, SIGKILL, SIGKILL},
      [&](bool slow) { broker.Command(slow ? "rtt 1 3" : "rtt 1 0"); });
}

// SIGTERM stops cleanly (exit 0) with a "stop" version; a restart continues from it, and with a
// kill -9 after that every event is still output once.
TEST(LiveExactlyOnce, AGracefulStopAndAKillNineOutputEachEventOnce) {
  TempDir dir;
  Broker broker(dir, 2);
  ASSERT_FALSE(broker.bootstrap().empty());
  CheckStoppedRunsOutputEachEventOnce(
      dir, broker.bootstrap(), 2, kSmallFetches, {SIGTERM, SIGKILL},
      [&](bool slow) { broker.Command(slow ? "rtt 1 3" : "rtt 1 0"); });
}

// On a real broker, Kafka transactions: one per checkpoint, with the consumer offsets; what a
// killed run sent after its last commit is aborted, and read_committed readers never see it.
TEST(LiveExactlyOnceRealKafka, KillNineAndRestartOutputEverythingOnceByteIdentical) {
  TempDir dir;
  RealKafka kafka(dir);
  ASSERT_FALSE(kafka.bootstrap().empty()) << "scripts/kafka-broker.sh could not start Kafka";
  CheckStoppedRunsOutputEachEventOnce(dir, kafka.bootstrap(), 4, "", {SIGKILL, SIGKILL, SIGKILL},
                                      [](bool) {});
}

// The number of messages in `topic` now.
size_t TopicSize(const TempDir& dir, const std::string& bootstrap, const std::string& topic) {
  return TopicContent(dir, bootstrap, topic).size();
}

// Waits until `done()` holds, at most `seconds`; whether it did.
bool WaitFor(const std::function<bool()>& done, int seconds) {
  for (int i = 0; i < seconds * 5; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Processes a test started: those it did not wait for (it failed half-way) are killed when it
// ends, so that none outlives it.
class Children {
 public:
  ~Children() {
    for (const pid_t pid : pids_) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  pid_t Add(pid_t pid) {
    pids_.push_back(pid);
    return pid;
  }
  int Wait(pid_t pid) {
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
    return WaitExit(pid);
  }

 private:
  std::vector<pid_t> pids_;
};

// Scale-out on a consumer group: `sluice live` processes with registries of their own share the
// partitions, which move with their state through the checkpoints topic. The stream comes in
// four parts, each scored before the group changes: A runs alone; B and C join and take
// partitions over; A leaves gracefully (SIGTERM); B is killed with SIGKILL and C takes its
// partitions once B's session ends. Every event is scored once, and each partition's scores
// equal `sluice replay` of its rows, bit for bit, whoever scored them. Continuous serving (the
// scores do not depend on where checkpoints fell) and no labels (a label's place among the
// events would depend on when each part was written), so the models moved are the anomaly
// model and its scaler.
void CheckScaleOut(const TempDir& dir, const std::string& bootstrap, const std::string& flags) {
  // The credit-card head three times over (each copy a day later, with ids of its own).
  const std::vector<std::string> head = CreditCardWithIds(4002);
  std::vector<std::string> lines = {head[0]};
  for (int copy = 0; copy < 3; ++copy) {
    for (size_t i = 1; i < head.size(); ++i) {
      const std::vector<std::string> fields = absl::StrSplit(head[i], absl::MaxSplits(',', 2));
      lines.push_back(absl::StrCat(copy * 4002 + static_cast<int>(i) - 1, ",",
                                   std::stoi(fields[1]) + copy * 86400, ",", fields[2]));
    }
  }
  const auto scored = [&] { return TopicSize(dir, bootstrap, "scores"); };
  size_t produced = 0;
  // Sends the next `rows` rows.
  const auto send = [&](size_t rows) {
    std::vector<std::string> chunk = {lines[0]};
    for (size_t i = 0; i < rows; ++i) chunk.push_back(lines[1 + produced + i]);
    produced += rows;
    const std::string csv = dir.File(absl::StrCat("part", produced, ".csv"));
    WriteLines(csv, chunk);
    ASSERT_EQ(RunSluice(absl::StrCat("produce --brokers ", bootstrap, " --input ", csv,
                                     " --id-column id"))
                  .exit_code,
              0);
  };
  // Waits until every event sent is scored.
  const auto wait_scored = [&](const std::function<std::string()>& said) {
    ASSERT_TRUE(WaitFor([&] { return scored() >= produced; }, 90))
        << scored() << " of " << produced << " scored\n"
        << said();
  };
  const auto part = [&](size_t rows, const std::function<std::string()>& said) {
    send(rows);
    wait_scored(said);
  };
  Children children;
  const auto live = [&](const std::string& name) {
    return children.Add(SpawnSluice(
        absl::StrCat("live --brokers ", bootstrap, " --group scale ",
                     "--serving continuous --snapshot-every-events 200 ", "--registry ",
                     dir.File(name + ".db"), " --summary ", dir.File(name + ".json"), " ", flags),
        dir.File(name + ".err")));
  };
  // What each process said about the group and its partitions, if the test fails.
  const auto said = [&] {
    std::string all;
    for (const std::string name : {"a", "b", "c"}) {
      if (!std::filesystem::exists(dir.File(name + ".err"))) continue;
      for (absl::string_view line :
           absl::StrSplit(ReadFileOrDie(dir.File(name + ".err")), '\n', absl::SkipEmpty())) {
        if (!absl::StrContains(line, " events (")) absl::StrAppend(&all, name, ": ", line, "\n");
      }
    }
    return all;
  };
  // How many times a member was given partitions.
  const auto assignments = [&](const std::string& name) {
    const std::string err = dir.File(name + ".err");
    if (!std::filesystem::exists(err)) return 0;
    const std::string text = ReadFileOrDie(err);
    int n = 0;
    for (size_t at = text.find("gave this process"); at != std::string::npos;
         at = text.find("gave this process", at + 1)) {
      ++n;
    }
    return n;
  };
  send(3000);  // Before the first member: a real broker creates the topics then.
  const pid_t a = live("a");
  ASSERT_TRUE(WaitFor([&] { return assignments("a") > 0; }, 60)) << said();
  wait_scored(said);
  const pid_t b = live("b");
  const pid_t c = live("c");
  ASSERT_TRUE(WaitFor([&] { return assignments("b") > 0 && assignments("c") > 0; }, 90)) << said();
  part(3000, said);
  kill(a, SIGTERM);
  EXPECT_EQ(children.Wait(a), 0) << said();
  ASSERT_TRUE(WaitFor([&] { return assignments("b") + assignments("c") > 2; }, 60)) << said();
  part(3000, said);
  const int before_kill = assignments("c");
  kill(b, SIGKILL);
  children.Wait(b);
  // C is given B's partitions once B's session (10 s) ends.
  ASSERT_TRUE(WaitFor([&] { return assignments("c") > before_kill; }, 60)) << said();
  part(lines.size() - 1 - produced, said);
  kill(c, SIGTERM);
  EXPECT_EQ(children.Wait(c), 0) << said();
  // C continued partitions from checkpoints that A and B published.
  const std::string c_summary = ReadFileOrDie(dir.File("c.json"));
  EXPECT_THAT(c_summary, ::testing::ContainsRegex("\"imported_version\": [1-9]")) << c_summary;
  EXPECT_THAT(c_summary, Not(HasSubstr("\"recomputed_differently\": 1")));
  // A labels file with no label (a header alone): replay learns without labels too.
  WriteFile(dir.File("no-labels.csv"), "id,label,time\n");
  CheckPartitionsEqualReplay(dir, bootstrap, lines,
                             absl::StrCat("--labels ", dir.File("no-labels.csv")), 4);
}

// A checkpoint damaged on the checkpoints topic: a later run (another registry, as on another
// machine) refuses the newest version by its SHA-256, says so, continues from the version before
// it, and every event is still scored once, the partition equal to replay (no labels: see
// CheckScaleOut).
TEST(LiveScaleOut, ADamagedCheckpointIsRefusedAndThePreviousOneRestored) {
  TempDir dir;
  Broker broker(dir, 1);
  ASSERT_FALSE(broker.bootstrap().empty());
  const std::string bs = broker.bootstrap();
  const std::vector<std::string> lines = CreditCardWithIds(4002);
  const auto produce = [&](size_t first, size_t end) {
    std::vector<std::string> chunk = {lines[0]};
    for (size_t i = first; i < end; ++i) chunk.push_back(lines[i]);
    const std::string csv = dir.File(absl::StrCat("rows", first, ".csv"));
    WriteLines(csv, chunk);
    ASSERT_EQ(RunSluice(absl::StrCat("produce --brokers ", bs, " --input ", csv, " --id-column id"))
                  .exit_code,
              0);
  };
  const auto live = [&](const std::string& registry) {
    return RunSluice(absl::StrCat("live --brokers ", bs, " --exit-at-end --serving continuous ",
                                  "--snapshot-every-events 500 --registry ", dir.File(registry)));
  };
  produce(1, 2001);
  const CliResult first = live("first.db");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The newest chunk of partition 0's model (one chunk a version here), a byte of it flipped,
  // written again under its key: as if the topic had damaged it.
  const std::string listing = dir.File("listing.txt");
  ASSERT_EQ(Shell(absl::StrCat("kcat -b ", bs, " -C -t sluice.checkpoints -e -q -f '%o %k\\n' > ",
                               ShellQuote(listing))),
            0);
  const std::vector<std::string> entries =
      absl::StrSplit(ReadFileOrDie(listing), '\n', absl::SkipEmpty());
  ASSERT_FALSE(entries.empty());
  const std::vector<std::string> last = absl::StrSplit(entries.back(), ' ');
  ASSERT_EQ(last.size(), 2u);
  ASSERT_TRUE(absl::StartsWith(last[1], "default.p0/")) << last[1];
  const std::string chunk = dir.File("chunk.bin");
  ASSERT_EQ(Shell(absl::StrCat("kcat -b ", bs, " -C -t sluice.checkpoints -o ", last[0],
                               " -c 1 -e -q -f '%s' > ", ShellQuote(chunk))),
            0);
  std::string bytes = ReadFileOrDie(chunk);
  ASSERT_GT(bytes.size(), 1000u);
  bytes[bytes.size() - 100] ^= 1;
  WriteFile(chunk, bytes);
  ASSERT_EQ(Shell(absl::StrCat("kcat -b ", bs, " -P -t sluice.checkpoints -p 0 -k ", last[1], " ",
                               ShellQuote(chunk))),
            0);

  produce(2001, lines.size());
  const CliResult second = live("second.db");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("refused checkpoint version"));
  EXPECT_THAT(second.err, HasSubstr("SHA-256 mismatch"));
  EXPECT_THAT(second.err, HasSubstr("(imported from sluice.checkpoints)"));
  WriteFile(dir.File("no-labels.csv"), "id,label,time\n");
  CheckPartitionsEqualReplay(dir, bs, lines, absl::StrCat("--labels ", dir.File("no-labels.csv")),
                             1);
}

// On the standalone broker (the mock: a partition that moves reads back what was output past
// its checkpoint).
TEST(LiveScaleOut, MembersJoinLeaveAndDieEveryEventScoredOnceAsReplay) {
  TempDir dir;
  Broker broker(dir, 4);
  ASSERT_FALSE(broker.bootstrap().empty());
  CheckScaleOut(dir, broker.bootstrap(), "");
}

// On a real Apache Kafka 4.x broker: Kafka transactions, one per checkpoint (every second, so
// that each part's last scores are committed), the checkpoints published inside them; a moved
// partition's new owner fences the old one's transactional id.
TEST(LiveScaleOutRealKafka, MembersJoinLeaveAndDieEveryEventScoredOnceAsReplay) {
  TempDir dir;
  RealKafka kafka(dir);
  ASSERT_FALSE(kafka.bootstrap().empty()) << "scripts/kafka-broker.sh could not start Kafka";
  CheckScaleOut(dir, kafka.bootstrap(), "--snapshot-every-wall 1");
}

// The same with eager rebalancing: every member gives up all its partitions at each change and
// is given some of them back at once.
TEST(LiveScaleOutRealKafka, EagerMembersJoinLeaveAndDieEveryEventScoredOnceAsReplay) {
  TempDir dir;
  RealKafka kafka(dir);
  ASSERT_FALSE(kafka.bootstrap().empty()) << "scripts/kafka-broker.sh could not start Kafka";
  CheckScaleOut(dir, kafka.bootstrap(), "--snapshot-every-wall 1 --assignment eager");
}

// Machines simulated with network namespaces: the broker (a real Kafka) in one, two `sluice live`
// processes in two others, each with a registry of its own, sharing nothing but the broker's
// address; a bridge in the broker's namespace joins them (and the test, which reads the topics
// from its own namespace). Namespaces and links are the test's own, removed however it ends.
class Machines {
 public:
  explicit Machines(const TempDir& dir) : dir_(dir) {
    const std::string id = absl::StrCat(getpid() % 100000);
    broker_ = "slb" + id;
    members_ = {"sl1m" + id, "sl2m" + id};
    host_link_ = "slh" + id;
    std::string script =
        absl::StrCat("set -e\nip netns add ", broker_, "\nip -n ", broker_, " link set lo up\n",
                     "ip -n ", broker_, " link add br0 type bridge\n", "ip -n ", broker_,
                     " addr add 10.77.0.1/24 dev br0\n", "ip -n ", broker_, " link set br0 up\n");
    for (size_t i = 0; i < members_.size(); ++i) {
      const std::string& m = members_[i];
      absl::StrAppend(&script, "ip netns add ", m, "\nip -n ", m, " link set lo up\n",
                      "ip link add v", i, " netns ", broker_, " type veth peer name eth0 netns ", m,
                      "\n", "ip -n ", broker_, " link set v", i, " master br0 up\n", "ip -n ", m,
                      " addr add 10.77.0.", 2 + i, "/24 dev eth0\n", "ip -n ", m,
                      " link set eth0 up\n");
    }
    // The test's own way in, to read the topics.
    absl::StrAppend(&script, "ip link add ", host_link_, " type veth peer name vh netns ", broker_,
                    "\nip -n ", broker_, " link set vh master br0 up\n",
                    "ip addr add 10.77.0.9/24 dev ", host_link_, "\nip link set ", host_link_,
                    " up\n");
    WriteFile(dir.File("netns.sh"), script);
    created_ = Shell(absl::StrCat("sh ", ShellQuote(dir.File("netns.sh")), " > ",
                                  ShellQuote(dir.File("netns.log")), " 2>&1")) == 0;
  }
  ~Machines() {
    Shell(absl::StrCat(ShellQuote(RepoFile("scripts/kafka-broker.sh").string()), " stop ",
                       ShellQuote(dir_.File("kafka"))));
    Shell(absl::StrCat("ip link del ", host_link_, " 2>/dev/null; ip netns del ", broker_,
                       " 2>/dev/null; for m in ", absl::StrJoin(members_, " "),
                       "; do ip netns del $m 2>/dev/null; done; true"));
  }
  // Why the namespaces could not be made; empty if they were.
  std::string failure() const { return created_ ? "" : ReadFileOrDie(dir_.File("netns.log")); }
  // Starts Kafka in the broker's namespace; its address, empty if it did not start.
  std::string StartKafka() {
    const std::string out = dir_.File("kafka-bootstrap.txt");
    if (Shell(absl::StrCat("ip netns exec ", broker_, " env SLUICE_KAFKA_HOST=10.77.0.1 ",
                           ShellQuote(RepoFile("scripts/kafka-broker.sh").string()), " start ",
                           ShellQuote(dir_.File("kafka")), " > ", ShellQuote(out))) != 0) {
      return "";
    }
    std::string bootstrap = ReadFileOrDie(out);
    while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
    return bootstrap;
  }
  // `command` in member i's namespace, as a shell command line.
  std::string On(size_t i, const std::string& command) const {
    return absl::StrCat("ip netns exec ", members_[i], " ", command);
  }

 private:
  const TempDir& dir_;
  std::string broker_, host_link_;
  std::vector<std::string> members_;
  bool created_ = false;
};

TEST(LiveScaleOutMachines, TwoMachinesSharingOnlyTheBrokerScoreEachEventOnceAsReplay) {
  TempDir dir;
  Machines machines(dir);
  if (!machines.failure().empty()) {
    GTEST_SKIP() << "network namespaces cannot be created here: " << machines.failure();
  }
  const std::string bootstrap = machines.StartKafka();
  ASSERT_FALSE(bootstrap.empty()) << "Kafka did not start in its namespace";
  const std::vector<std::string> lines = CreditCardWithIds(4002);
  WriteLines(dir.File("cc.csv"), lines);
  const std::string labels = "--label-delay-seconds 30";
  const std::string sluice = ShellQuote(std::filesystem::absolute(SluiceBinary()).string());
  ASSERT_EQ(Shell(machines.On(0, absl::StrCat(sluice, " produce --brokers ", bootstrap, " --input ",
                                              dir.File("cc.csv"), " --id-column id --all-labels ",
                                              labels, " > /dev/null 2>&1"))),
            0);
  // Both machines at once, to the end of the topics.
  std::string both;
  for (size_t i = 0; i < 2; ++i) {
    const std::string m = absl::StrCat("m", i);
    absl::StrAppend(
        &both, "(",
        machines.On(i,
                    absl::StrCat(sluice, " live --brokers ", bootstrap,
                                 " --group machines --exit-at-end --serving continuous ",
                                 "--snapshot-every-events 200 ", "--registry ", dir.File(m + ".db"),
                                 " > ", dir.File(m + ".out"), " 2> ", dir.File(m + ".err"))),
        "; echo $? > ", dir.File(m + ".rc"), ") & ");
  }
  absl::StrAppend(&both, "wait");
  Shell(both);
  for (const std::string m : {"m0", "m1"}) {
    EXPECT_EQ(ReadFileOrDie(dir.File(m + ".rc")), "0\n") << ReadFileOrDie(dir.File(m + ".err"));
    EXPECT_THAT(ReadFileOrDie(dir.File(m + ".err")), HasSubstr("gave this process"))
        << m << " never ran a partition";
  }
  CheckPartitionsEqualReplay(dir, bootstrap, lines, labels, 4);
}

// The global model (issue #8): one process of a consumer group with --global-model every:1000
// merges every partition's latest published version into versions of default.global, and with
// --serve global its predictions carry the global model's anomaly score and its version. The
// stream comes in two halves, each run to its end by a process of its own: the first half is
// scored in a fraction of a second (before a merge could be served), so the second process
// serves, from its first event, the global version the first made at its end. Each sampled
// score equals `sluice audit` of that event with that version of default.global, bit for bit.
TEST(LiveGlobalModel, ScoresCarryTheGlobalVersionAndItsAnomalyScoreAsAudited) {
  TempDir dir;
  Broker broker(dir, 4);
  const std::string& bootstrap = broker.bootstrap();
  ASSERT_FALSE(bootstrap.empty());
  const std::vector<std::string> lines = CreditCardWithIds(4002);
  const std::vector<std::string> first(lines.begin(), lines.begin() + 2002);
  std::vector<std::string> second = {lines[0]};
  second.insert(second.end(), lines.begin() + 2002, lines.end());
  WriteLines(dir.File("first.csv"), first);
  WriteLines(dir.File("second.csv"), second);
  const std::string db = dir.File("r.db");
  const std::string live = absl::StrCat(
      "live --brokers ", bootstrap, " --registry ", db,
      " --snapshot-every-events 200 --global-model every:1000 --serve global --exit-at-end "
      "--serving continuous");
  for (const std::string half : {"first", "second"}) {
    const CliResult produced = RunSluice(
        absl::StrCat("produce --brokers ", bootstrap, " --input ", dir.File(half + ".csv"),
                     " --id-column id --label-delay-seconds 30 --all-labels"));
    ASSERT_EQ(produced.exit_code, 0) << produced.err;
    const CliResult run = RunSluice(live);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_THAT(run.err, HasSubstr("of default.global from partitions 0..3 (versions ")) << run.err;
    if (half == "second") {
      EXPECT_THAT(run.err, HasSubstr("serving global model version")) << run.err;
    }
  }
  const std::vector<std::string> versions = Versions(db, "default.global");
  ASSERT_GE(versions.size(), 2u);
  EXPECT_EQ(versions[0], "1");

  // The events as produced, by id (the key).
  const std::string events_file = dir.File("transactions.tsv");
  ASSERT_EQ(
      Shell(absl::StrCat("kcat -b ", bootstrap, " -C -t transactions -e -q -f '%k\\t%s\\n' > ",
                         ShellQuote(events_file))),
      0);
  std::map<std::string, std::string> events;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrDie(events_file), '\n', absl::SkipEmpty())) {
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, absl::string_view::npos) << line;
    events[std::string(line.substr(0, tab))] = std::string(line.substr(tab + 1));
  }
  ASSERT_EQ(events.size(), 4002u);

  std::vector<core::FlatJson> served;
  std::set<std::string> ids;
  for (core::FlatJson& s : ReadTopic(dir, bootstrap, "scores")) {
    const std::string id = *core::JsonUnquote(Field(s, "id"));
    EXPECT_TRUE(ids.insert(id).second) << "id " << id << " scored twice";
    const int64_t global_version = std::stoll(Field(s, "global_version"));
    // The second half is scored after the first process made its global versions.
    if (std::stoll(id) >= 2001) {
      EXPECT_GE(global_version, 1) << "id " << id;
    }
    if (global_version >= 1) served.push_back(std::move(s));
  }
  EXPECT_EQ(ids.size(), 4002u);
  ASSERT_GE(served.size(), 2001u);
  for (size_t i = 0; i < served.size(); i += served.size() / 5) {
    const std::string id = *core::JsonUnquote(Field(served[i], "id"));
    const std::string version = Field(served[i], "global_version");
    const CliResult audit =
        RunSluice(absl::StrCat("audit --registry ", db, " --model-name default.global --version ",
                               version, " --event ", ShellQuote(events[id])));
    ASSERT_EQ(audit.exit_code, 0) << audit.err;
    const std::string first_line = audit.out.substr(0, audit.out.find('\n'));
    const std::optional<core::FlatJson> audited = core::ParseFlatJson(first_line);
    ASSERT_TRUE(audited.has_value()) << audit.out;
    const double want = std::strtod(Field(*audited, "anomaly_score").c_str(), nullptr);
    const double got = std::strtod(Field(served[i], "anomaly_score").c_str(), nullptr);
    EXPECT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(want))
        << "id " << id << " with global version " << version << ": " << got << " vs " << want;
  }
}

}  // namespace
}  // namespace sluice::testing
