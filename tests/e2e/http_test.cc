// tests/e2e/http_test.cc. `sluice serve` over a real socket: scores equal replay's and audit's bit
// for bit, bad requests get the right status and a message that names the problem, slow and idle
// clients hold no worker, an alias switches under load without a failed request, and /metrics is
// valid Prometheus text.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/flat_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/cli.h"
#include "tests/support/http_client.h"

namespace sluice {
namespace {

using ::sluice::testing::CliResult;
using ::sluice::testing::Field;
using ::sluice::testing::HttpCall;
using ::sluice::testing::HttpConnection;
using ::sluice::testing::HttpReply;
using ::sluice::testing::RunSluice;
using ::sluice::testing::ShellQuote;
using ::sluice::testing::SpawnSluice;
using ::sluice::testing::TempDir;
using ::testing::HasSubstr;

const char kInput[] = "datasets/creditcard/creditcard_head4002.csv";

// The credit-card rows as JSON events, numbers copied as written (so they parse to the doubles
// replay read).
std::vector<std::string> EventsJson() {
  const testing::CsvTable table = testing::ReadCsv(testing::RepoFile(kInput));
  std::vector<std::string> events;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    std::vector<std::string> fields;
    for (size_t c = 0; c < table.header.size(); ++c) {
      const std::string name(absl::StripSuffix(absl::StripPrefix(table.header[c], "\""), "\""));
      if (name == "Class") continue;
      fields.push_back(absl::StrCat("\"", name, "\": ", table.rows[r][c]));
    }
    events.push_back(absl::StrCat("{\"id\": \"row-", r, "\", \"features\": {",
                                  absl::StrJoin(fields, ", "), "}}"));
  }
  return events;
}

// The flat objects of a response: one object, or an array of flat objects.
std::vector<core::FlatJson> Objects(const std::string& body) {
  std::vector<core::FlatJson> out;
  size_t start = 0;
  while ((start = body.find('{', start)) != std::string::npos) {
    const size_t end = body.find('}', start);
    std::optional<core::FlatJson> object = core::ParseFlatJson(body.substr(start, end - start + 1));
    EXPECT_TRUE(object.has_value()) << body.substr(start, end - start + 1);
    if (object.has_value()) out.push_back(*object);
    start = end;
  }
  return out;
}

class HttpServe : public ::testing::Test {
 protected:
  // A replay with frozen serving, versions every 1000 events: predictions name the version that
  // made each.
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const CliResult r = RunSluice(
        absl::StrCat("replay --input ", kInput, " --registry ", ShellQuote(Registry()),
                     " --snapshot-every-events 1000 --serving frozen --quiet --predictions ",
                     ShellQuote(dir_->File("predictions.csv"))));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Registry() { return dir_->File("registry.db"); }

  void TearDown() override { Stop(); }

  // Starts `sluice serve` on a free port with `flags` and waits until it answers.
  void Serve(const std::string& flags) {
    const std::string port_file = dir_->File("port");
    std::remove(port_file.c_str());
    pid_ = SpawnSluice(absl::StrCat("serve --registry ", Registry(), " --port 0 --port-file ",
                                    port_file, " ", flags),
                       dir_->File("serve.err"));
    for (int i = 0; i < 300 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::ifstream in(port_file);
      in >> port_;
    }
    ASSERT_GT(port_, 0) << testing::ReadFileOrDie(dir_->File("serve.err"));
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    pid_ = 0;
    port_ = 0;
  }

  static TempDir* dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

TempDir* HttpServe::dir_ = nullptr;

TEST_F(HttpServe, ScoresWithAnyVersionEqualReplayAndAuditBitForBit) {
  Serve("");
  const std::vector<std::string> events = EventsJson();
  const testing::CsvTable predictions = testing::ReadCsv(dir_->File("predictions.csv"));
  ASSERT_EQ(predictions.rows.size(), events.size());
  const int version_col = predictions.Column("model_version");
  const int anomaly_col = predictions.Column("anomaly_score");
  const int fraud_col = predictions.Column("fraud_probability");
  // One by one on a kept-alive connection, every 5th row, with the version that scored it.
  HttpConnection connection(port_);
  std::map<std::string, std::vector<size_t>> rows_of_version;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& version = predictions.rows[i][static_cast<size_t>(version_col)];
    rows_of_version[version].push_back(i);
    if (i % 5 != 0) continue;
    absl::StatusOr<HttpReply> reply =
        connection.Call("POST", absl::StrCat("/v1/score?version=", version), events[i]);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->status, 200) << reply->body;
    const core::FlatJson p = Objects(reply->body).at(0);
    EXPECT_EQ(Field(p, "anomaly_score"), predictions.rows[i][static_cast<size_t>(anomaly_col)]);
    EXPECT_EQ(Field(p, "fraud_probability"), predictions.rows[i][static_cast<size_t>(fraud_col)]);
    EXPECT_EQ(Field(p, "model_version"), version);
    EXPECT_EQ(Field(p, "id"), absl::StrCat("\"row-", i, "\""));
  }
  // Each version's rows in one batch: the same numbers, in order.
  for (const auto& [version, rows] : rows_of_version) {
    std::vector<std::string> batch;
    for (size_t i : rows) batch.push_back(events[i]);
    absl::StatusOr<HttpReply> reply =
        connection.Call("POST", absl::StrCat("/v1/score?version=", version),
                        absl::StrCat("[", absl::StrJoin(batch, ","), "]"));
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->status, 200) << reply->body.substr(0, 300);
    const std::vector<core::FlatJson> scored = Objects(reply->body);
    ASSERT_EQ(scored.size(), rows.size());
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto& row = predictions.rows[rows[k]];
      EXPECT_EQ(Field(scored[k], "anomaly_score"), row[static_cast<size_t>(anomaly_col)]);
      EXPECT_EQ(Field(scored[k], "fraud_probability"), row[static_cast<size_t>(fraud_col)]);
      EXPECT_EQ(Field(scored[k], "row"), absl::StrCat(k));
    }
  }
  // And what `sluice audit --version V --event` prints for the same event.
  for (size_t i : {size_t{1}, size_t{2500}, size_t{4001}}) {
    const std::string& version = predictions.rows[i][static_cast<size_t>(version_col)];
    const CliResult audit =
        RunSluice(absl::StrCat("audit --registry ", ShellQuote(Registry()), " --version ", version,
                               " --event ", ShellQuote(events[i])));
    ASSERT_EQ(audit.exit_code, 0) << audit.err;
    const core::FlatJson printed = *core::ParseFlatJson(audit.out.substr(0, audit.out.find('\n')));
    absl::StatusOr<HttpReply> reply =
        HttpCall(port_, "POST", absl::StrCat("/v1/score?version=", version), events[i]);
    ASSERT_TRUE(reply.ok());
    const core::FlatJson p = Objects(reply->body).at(0);
    EXPECT_EQ(Field(p, "anomaly_score"), Field(printed, "anomaly_score"));
    EXPECT_EQ(Field(p, "fraud_probability"), Field(printed, "fraud_probability"));
    // ?explain=2: the two largest shares, as audit --explain prints them (all of them).
    reply =
        HttpCall(port_, "POST", absl::StrCat("/v1/score?explain=2&version=", version), events[i]);
    ASSERT_TRUE(reply.ok());
    const std::string why =
        core::JsonUnquote(Field(Objects(reply->body).at(0), "explanation")).value_or("?");
    const CliResult all =
        RunSluice(absl::StrCat("audit --registry ", ShellQuote(Registry()), " --version ", version,
                               " --explain --event ", ShellQuote(events[i])));
    ASSERT_EQ(all.exit_code, 0) << all.err;
    const std::vector<std::string> shares = absl::StrSplit(why, ';', absl::SkipEmpty());
    EXPECT_EQ(shares.size(), i == 1 ? 0u : 2u) << why;  // Row 1 is in the first window: all 0.
    for (const std::string& share : shares) {
      const std::vector<std::string> kv = absl::StrSplit(share, '=');
      EXPECT_THAT(all.out, HasSubstr(absl::StrFormat("\n  %-24s %-24s", kv[0], kv[1])));
    }
  }
  EXPECT_EQ(HttpCall(port_, "POST", "/v1/score?explain=x", events[0])->status, 400);
}

TEST_F(HttpServe, BadRequestsAreAnsweredWithTheirStatusAndWhatIsWrong) {
  Serve("--max-body 100000");
  const std::string event = EventsJson()[0];
  const auto call = [&](const std::string& method, const std::string& target,
                        const std::string& body) {
    absl::StatusOr<HttpReply> reply = HttpCall(port_, method, target, body);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : HttpReply();
  };
  HttpReply r = call("POST", "/v1/score", "{\"features\": {\"V1\": 1,}}");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("malformed JSON at byte 22"));
  r = call("POST", "/v1/score", "[" + event + ", {\"features\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat("at byte ", event.size() + 16,
                                             ": expected a value, found the end")));
  r = call("POST", "/v1/score", absl::StrCat("{\"features\": {\"V1\": 1, \"V2\": 2}}"));
  EXPECT_EQ(r.status, 422);
  EXPECT_THAT(r.body, HasSubstr("missing features: Time, V3, V4"));
  r = call("POST", "/v1/score",
           "[" + event + "," + event.substr(0, event.find("\"V7\"")) + "\"V7\": \"high\"}}]");
  EXPECT_EQ(r.status, 422);
  EXPECT_THAT(r.body, HasSubstr("event 1: feature \\\"V7\\\": not a number"));
  r = call("POST", "/v1/score", std::string(100001, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("over the limit of 100000 bytes"));
  r = call("POST", "/v1/score?version=99", event);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("has no version 99"));
  r = call("POST", "/v1/score?alias=nobody", event);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("alias \\\"nobody\\\""));
  r = call("GET", "/v1/score", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "POST");
  r = call("DELETE", "/v1/models/default/aliases/champion", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, PUT");
  r = call("GET", "/v2/anything", "");
  EXPECT_EQ(r.status, 404);
  r = call("PUT", "/v1/models/default/aliases/champion", "{\"version\": 42}");
  EXPECT_EQ(r.status, 404);
  // A request that is not HTTP: 400, and the connection is closed.
  HttpConnection garbage(port_);
  ASSERT_TRUE(garbage.SendRaw("HELLO\r\n\r\n"));
  absl::StatusOr<HttpReply> reply = garbage.ReadReply(absl::Seconds(5));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status, 400);
  EXPECT_TRUE(garbage.ClosedWithin(absl::Seconds(5)));
}

// POST `target` with `body` sent in small parts of random sizes with pauses, as a slow client
// would: the server parses and scores each part as it arrives (a body of 64 KiB or more).
HttpReply PostInParts(int port, const std::string& target, const std::string& body) {
  HttpConnection connection(port);
  EXPECT_TRUE(connection.SendRaw(
      absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ", body.size(),
                   "\r\n\r\n")));
  std::mt19937 rng(7);
  for (size_t sent = 0, part = 0; sent < body.size(); ++part) {
    const size_t n = std::min(body.size() - sent, size_t{1} + rng() % 3000);
    EXPECT_TRUE(connection.SendRaw(body.substr(sent, n)));
    sent += n;
    if (part % 16 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  absl::StatusOr<HttpReply> reply = connection.ReadReply(absl::Seconds(60));
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : HttpReply();
}

// The same in one chunk of a chunked body: no Content-Length, so the server reads it whole.
HttpReply PostChunked(int port, const std::string& target, const std::string& body) {
  HttpConnection connection(port);
  EXPECT_TRUE(connection.SendRaw(absl::StrCat(
      "POST ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n")));
  absl::StatusOr<HttpReply> reply = connection.ReadReply(absl::Seconds(60));
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : HttpReply();
}

// A large batch is parsed and scored while it arrives; the answer is the one reading the whole
// body gives, byte for byte, whatever the batch holds and wherever the parts split it.
TEST_F(HttpServe, ALargeBatchScoredAsItArrivesIsAnsweredAsWhenReadWhole) {
  Serve("");
  std::vector<std::string> events = EventsJson();  // 4,002 events, 2.1 MB.
  const auto batch = [&] { return absl::StrCat("[", absl::StrJoin(events, ",\n"), "]"); };
  const auto same = [&](const std::string& target, const std::string& body, int status,
                        const std::string& expected) {
    const HttpReply streamed = PostInParts(port_, target, body);
    const HttpReply whole = PostChunked(port_, target, body);
    EXPECT_EQ(streamed.status, status) << target << ": " << streamed.body.substr(0, 300);
    EXPECT_EQ(whole.status, status) << target << ": " << whole.body.substr(0, 300);
    EXPECT_TRUE(streamed.body == whole.body) << target << ": " << streamed.body.substr(0, 300);
    EXPECT_THAT(streamed.body, HasSubstr(expected));
  };
  same("/v1/score", batch(), 200, "\"row\": 4001, \"id\": \"row-4001\"");
  same("/v1/score?version=2&explain=2", batch(), 200, "\"explanation\": \"V");
  // Not in the plain form from event 1,500 on (an escape): read whole, with the same answer.
  events[1500].replace(events[1500].find("row-"), 4, "row\\u002d");
  same("/v1/score", batch(), 200, "\"id\": \"row-1500\"");
  // Event 900 lacks a feature; the batch does not close; text after it.
  std::string without_v3 = events[900];
  without_v3.erase(without_v3.find("\"V3\""),
                   without_v3.find("\"V4\"") - without_v3.find("\"V3\""));
  std::swap(events[900], without_v3);
  same("/v1/score", batch(), 422, "event 900: missing features: V3");
  std::swap(events[900], without_v3);
  std::string body = batch();
  same("/v1/score", body.substr(0, body.size() - 1), 400,
       absl::StrCat("malformed JSON at byte ", body.size() - 1));
  same("/v1/score", body + " x", 400, absl::StrCat("malformed JSON at byte ", body.size() + 1));
  // What the server measured: from the last byte read, and the scoring of every event.
  const std::string metrics = HttpCall(port_, "GET", "/metrics")->body;
  EXPECT_THAT(metrics, HasSubstr("sluice_model_version_scored_events_total{model=\"default\","
                                 "version=\"2\"} 8004"));
}

TEST_F(HttpServe, IdleAndSlowClientsTimeOutWithoutHoldingAWorker) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1100) GTEST_SKIP() << "needs 1,100 file descriptors, has " << limit.rlim_cur;
  Serve("--http-threads 1 --http-timeout 2");
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<HttpConnection>(port_));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  HttpConnection slow(port_);
  ASSERT_TRUE(slow.SendRaw("POST /v1/score HTTP/1.1\r\nContent-Length: 500\r\n\r\n{\"feat"));
  // Others are served at once, on the one worker thread.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<HttpReply> reply = HttpCall(port_, "GET", "/healthz");
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // The idle and the slow are cut off after the timeout.
  EXPECT_TRUE(slow.ClosedWithin(absl::Seconds(5)));
  EXPECT_TRUE(idle.front()->ClosedWithin(absl::Seconds(5)));
  EXPECT_TRUE(idle.back()->ClosedWithin(absl::Seconds(5)));
}

TEST_F(HttpServe, AnAliasSwitchedEvery10msUnderLoadFailsNoRequest) {
  ASSERT_EQ(RunSluice(absl::StrCat("registry alias --registry ", ShellQuote(Registry()),
                                   " --model-name default champion 2"))
                .exit_code,
            0);
  Serve("--http-threads 2");  // Scoring and switching on two threads at once.
  const std::string event = EventsJson()[7];
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, requests{0};
  std::mutex seen_mu;
  std::set<std::string> seen;
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      HttpConnection connection(port_);
      while (!done.load()) {
        absl::StatusOr<HttpReply> reply = connection.Call("POST", "/v1/score", event);
        requests.fetch_add(1);
        if (!reply.ok() || reply->status != 200) {
          failures.fetch_add(1);
          continue;
        }
        const std::string version = Field(Objects(reply->body).at(0), "model_version");
        std::lock_guard<std::mutex> lock(seen_mu);
        seen.insert(version);
      }
    });
  }
  HttpConnection admin(port_);
  int switched = 0;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<HttpReply> reply = admin.Call("PUT", "/v1/models/default/aliases/champion",
                                                 absl::StrCat("{\"version\": ", 3 + i % 2, "}"));
    if (!reply.ok() || reply->status != 200) break;
    ++switched;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  done.store(true);
  for (auto& t : clients) t.join();
  ASSERT_EQ(switched, 100) << testing::ReadFileOrDie(dir_->File("serve.err"));
  EXPECT_EQ(failures.load(), 0) << "of " << requests.load();
  EXPECT_GT(requests.load(), 100);
  EXPECT_THAT(seen, ::testing::IsSubsetOf(std::set<std::string>{"2", "3", "4"}));
  EXPECT_TRUE(seen.count("3") == 1 && seen.count("4") == 1);
  // The last switch holds, and the history has every change with what it replaced.
  absl::StatusOr<HttpReply> after = HttpCall(port_, "POST", "/v1/score", event);
  EXPECT_EQ(Field(Objects(after->body).at(0), "model_version"), "4");
  absl::StatusOr<HttpReply> history =
      HttpCall(port_, "GET", "/v1/models/default/aliases/champion/history");
  const std::vector<core::FlatJson> changes = Objects(history->body);
  ASSERT_GE(changes.size(), 101u);
  EXPECT_EQ(Field(changes[changes.size() - 1], "version"), "4");
  EXPECT_EQ(Field(changes[changes.size() - 1], "previous"), "3");
}

TEST_F(HttpServe, ModelsVersionsStateAndHealth) {
  Serve("--version 3");
  absl::StatusOr<HttpReply> r = HttpCall(port_, "GET", "/v1/models");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->body, HasSubstr("{\"name\": \"default\", \"versions\": 6, \"latest\": 6"));
  r = HttpCall(port_, "GET", "/v1/models/default/versions/2");
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("\"version\": 2, \"parent\": 1"));
  EXPECT_THAT(r->body, HasSubstr("\"lineage\": {"));
  r = HttpCall(port_, "GET", "/v1/models/default/versions/9");
  EXPECT_EQ(r->status, 404);
  r = HttpCall(port_, "GET", "/v1/state");
  EXPECT_THAT(r->body, HasSubstr("\"mode\": \"serve\""));
  EXPECT_THAT(r->body, HasSubstr("\"served_version\": 3"));
  EXPECT_THAT(r->body, HasSubstr("\"versions\": [1,2,3,4,5,6]"));
  EXPECT_EQ(HttpCall(port_, "GET", "/healthz")->status, 200);
  EXPECT_EQ(HttpCall(port_, "GET", "/readyz")->status, 200);
  r = HttpCall(port_, "GET", "/");
  EXPECT_EQ(r->headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(r->body, HasSubstr("id=\"served-version\""));
  EXPECT_FALSE(absl::StrContains(r->body, "http://"));
  EXPECT_FALSE(absl::StrContains(r->body, "https://"));
}

TEST_F(HttpServe, MetricsAreValidPrometheusTextAndCountEachVersionsUse) {
  Serve("");
  const std::vector<std::string> events = EventsJson();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(HttpCall(port_, "POST", "/v1/score?version=2", events[i])->status, 200);
  ASSERT_EQ(HttpCall(port_, "POST", "/v1/score?version=1",
                     absl::StrCat("[", events[0], ",", events[1], "]"))
                ->status,
            200);
  absl::StatusOr<HttpReply> r = HttpCall(port_, "GET", "/metrics");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(
      r->body,
      HasSubstr("sluice_model_version_scored_events_total{model=\"default\",version=\"2\"} 3\n"));
  EXPECT_THAT(
      r->body,
      HasSubstr("sluice_model_version_scored_events_total{model=\"default\",version=\"1\"} 2\n"));
  EXPECT_THAT(r->body, HasSubstr("sluice_http_request_duration_seconds_count{route=\"/v1/"
                                 "score\",method=\"POST\",code=\"200\"} 4\n"));
  EXPECT_THAT(r->body, HasSubstr("sluice_build_info{version="));
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/install-deps.sh installs it)";
  }
  const std::string file = dir_->File("metrics.txt");
  testing::WriteFile(file, r->body);
  const int status = std::system(
      absl::StrCat("promtool check metrics < ", file, " > ", file, ".out 2>&1").c_str());
  EXPECT_EQ(status, 0) << testing::ReadFileOrDie(file + ".out");
  EXPECT_EQ(testing::ReadFileOrDie(file + ".out"), "");
}

// The API beside a stream: `replay --http-port` and `live --http-port`.
class HttpBeside : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Starts `sluice <args> --http-port 0 --port-file F` and waits for the port.
  void Start(const std::string& args) {
    pid_ = SpawnSluice(absl::StrCat(args, " --http-port 0 --port-file ", dir_.File("port")),
                       dir_.File("err"));
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      std::ifstream in(dir_.File("port"));
      in >> port_;
    }
    ASSERT_GT(port_, 0) << testing::ReadFileOrDie(dir_.File("err"));
  }
  // GET /v1/state until it contains `text` (at most 60 s).
  std::string StateWith(const std::string& text) {
    std::string body;
    for (int i = 0; i < 600; ++i) {
      absl::StatusOr<HttpReply> r = HttpCall(port_, "GET", "/v1/state");
      if (r.ok()) body = r->body;
      if (absl::StrContains(body, text)) return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no " << text << " in " << body;
    return body;
  }
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

TEST_F(HttpBeside, ReplayPublishesItsCountsAndServesItsVersionsAfterTheEnd) {
  Start(absl::StrCat("replay --input ", kInput, " --registry ", dir_.File("r.db"),
                     " --snapshot-every-events 1000 --quiet"));
  const std::string state = StateWith("\"events\": 4002");
  EXPECT_THAT(state, HasSubstr("\"mode\": \"replay\""));
  EXPECT_THAT(state, HasSubstr("\"labels\": 4002"));
  EXPECT_THAT(state, HasSubstr("\"label_outcomes\": {\"joined\": 4002, \"expired\": 0"));
  // What is served is re-read at most once a second.
  StateWith("\"served_version\": 6");
  EXPECT_EQ(HttpCall(port_, "GET", "/readyz")->status, 200);
  absl::StatusOr<HttpReply> r =
      HttpCall(port_, "POST", "/v1/labels", "{\"id\": \"1\", \"label\": 1, \"time\": 5}");
  EXPECT_EQ(r->status, 409);
  EXPECT_THAT(r->body, HasSubstr("post labels to sluice live"));
  r = HttpCall(port_, "POST", "/v1/score?version=2", EventsJson()[3]);
  EXPECT_EQ(r->status, 200) << r->body;
  r = HttpCall(port_, "GET", "/metrics");
  EXPECT_THAT(r->body, HasSubstr("sluice_events_total 4002\n"));
  EXPECT_THAT(r->body, HasSubstr("sluice_labels_total{outcome=\"joined\"} 4002\n"));
  EXPECT_THAT(r->body, HasSubstr("sluice_labels_total{outcome=\"unknown\"} 0\n"));
  // The credit-card head has drifts on both signals (tests/river checks where, against River).
  EXPECT_THAT(r->body, HasSubstr("sluice_drifts_total{signal=\"anomaly_score\"} "));
  EXPECT_THAT(r->body,
              ::testing::Not(HasSubstr("sluice_drifts_total{signal=\"anomaly_score\"} 0\n")));
  EXPECT_THAT(state, HasSubstr("\"drifts\": {\"anomaly_score\": "));
  EXPECT_EQ(Terminate(), 0);
}

TEST_F(HttpBeside, LiveTakesLabelsIntoItsLabelsTopicAndShowsItsPartitions) {
  Start(absl::StrCat("live --demo --rate 5000 --seconds 60 --quiet --registry ", dir_.File("r.db"),
                     " --snapshot-every-events 2000 --challenger logreg:lr=0.05"));
  const std::string state = StateWith("{\"partition\": 3, ");
  EXPECT_THAT(state, HasSubstr("\"mode\": \"live\""));
  EXPECT_THAT(state, HasSubstr("\"model\": \"default.p0\""));
  absl::StatusOr<HttpReply> r =
      HttpCall(port_, "POST", "/v1/labels", "{\"id\": \"1\", \"label\": 1, \"time\": 5}");
  EXPECT_EQ(r->status, 202) << r->body;
  r = HttpCall(port_, "POST", "/v1/labels", "{\"id\": \"1\", \"label\": 7, \"time\": 5}");
  EXPECT_EQ(r->status, 422);
  EXPECT_THAT(r->body, HasSubstr("label must be"));
  r = HttpCall(port_, "POST", "/v1/labels", "{\"id\": \"1\", ");
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("malformed JSON at byte"));
  // Ready once partition 0's first version is served (under sanitizers, seconds).
  int ready = 0;
  for (int i = 0; i < 600 && ready != 200; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const absl::StatusOr<HttpReply> reply = HttpCall(port_, "GET", "/readyz");
    ready = reply.ok() ? reply->status : 0;
  }
  EXPECT_EQ(ready, 200);
  EXPECT_THAT(StateWith("\"served_version\": "),
              ::testing::ContainsRegex("\"served_version\": [0-9]"));
  r = HttpCall(port_, "GET", "/metrics");
  EXPECT_THAT(r->body, HasSubstr("sluice_lag_messages{partition=\"3\"}"));
  EXPECT_THAT(r->body, HasSubstr("sluice_prediction_latency_seconds_bucket{le=\"+Inf\"}"));
  // The challenger's rolling AUC over all partitions' labels, once labels came (an hour of
  // event time after their events).
  const std::string labelled = StateWith("\"challenger_auc\": {\"logreg:lr=0.05\": 0.");
  // Each partition's next offset, the events it scored and its lag, by name.
  EXPECT_THAT(labelled, ::testing::ContainsRegex(
                            "\"partition\": 0, \"position\": [1-9][0-9]*, \"events\": [1-9]"));
  r = HttpCall(port_, "GET", "/metrics");
  EXPECT_THAT(r->body, HasSubstr("sluice_rolling_auc{model=\"challenger logreg:lr=0.05\","
                                 "version=\"shadow\"} 0."));
  EXPECT_EQ(Terminate(), 0);
}

}  // namespace
}  // namespace sluice
