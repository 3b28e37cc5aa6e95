// Drift alarms as a user meets them: a stream whose distribution changes midway raises a drift
// in the summary, and --snapshot-on-drift registers a version for it at a fixed event; a
// resumed run finds the same drifts. (River 0.26.1 agrees on every index: make test-river.)
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/cli.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

class DriftTest : public ::testing::Test {
 protected:
  // 8,000 rows of the built-in stream, then 8,000 more (another seed) where the fraud pattern
  // changed: every event with V14 > 1 is a fraud. The fraud model's error jumps at row 8,000.
  void SetUp() override {
    const std::string before = dir_.File("a.csv"), after = dir_.File("b.csv");
    ASSERT_EQ(RunSluice("gen --rows 8000 --seed 5 --out " + before).exit_code, 0);
    ASSERT_EQ(RunSluice("gen --rows 8000 --seed 6 --out " + after).exit_code, 0);
    std::string csv = ReadFileOrDie(before);
    const CsvTable changed = ReadCsv(after);
    for (std::vector<std::string> row : changed.rows) {
      row.back() = std::stod(row[14]) > 1 ? "1" : "0";  // Column 14 is V14.
      absl::StrAppend(&csv, absl::StrJoin(row, ","), "\n");
    }
    WriteFile(input_, csv);
  }
  CliResult Replay(const std::string& flags) {
    return RunSluice("replay --quiet --summary-timing=false --exclude Time --input " + input_ +
                     " --summary " + summary_ + " " + flags);
  }
  // The summary's drifts of `signal`: (index, events) pairs.
  std::vector<std::pair<int64_t, int64_t>> Drifts(const std::string& signal) {
    const std::string json = ReadFileOrDie(summary_);
    std::vector<std::pair<int64_t, int64_t>> out;
    const std::string key = "\"signal\": \"" + signal + "\", \"index\": ";
    for (size_t at = json.find(key); at != std::string::npos; at = json.find(key, at + 1)) {
      int64_t index = 0, events = 0;
      const std::string rest = json.substr(at + key.size(), 60);
      const std::vector<std::string> parts =
          absl::StrSplit(rest, absl::ByAnyChar(",: "), absl::SkipEmpty());
      EXPECT_TRUE(absl::SimpleAtoi(parts[0], &index)) << rest;
      EXPECT_EQ(parts[1], "\"events\"") << rest;
      EXPECT_TRUE(absl::SimpleAtoi(parts[2], &events)) << rest;
      out.emplace_back(index, events);
    }
    return out;
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
  const std::string summary_ = dir_.File("s.json");
  const std::string registry_ = dir_.File("r.db");
};

TEST_F(DriftTest, TheChangeRaisesADriftSoonAfterIt) {
  ASSERT_EQ(Replay("").exit_code, 0);
  int after_change = 0;
  for (const auto& [index, events] : Drifts("fraud_error")) {
    after_change += index >= 8000 && index < 8300;  // Labels arrive at once: index = event.
  }
  EXPECT_GE(after_change, 1) << ReadFileOrDie(summary_);
  for (const auto& [index, events] : Drifts("anomaly_score")) {
    EXPECT_EQ(events, index + 1);  // Found on the event whose score it is.
  }
  // Off means off.
  ASSERT_EQ(Replay("--drift off").exit_code, 0);
  EXPECT_TRUE(Drifts("anomaly_score").empty());
  EXPECT_THAT(ReadFileOrDie(summary_), HasSubstr("\"drifts\": {\"count\": 0"));
}

TEST_F(DriftTest, SnapshotOnDriftRegistersAVersionAtAFixedEvent) {
  ASSERT_EQ(Replay("--registry " + registry_ + " --snapshot-on-drift").exit_code, 0);
  std::vector<std::pair<int64_t, int64_t>> drifts = Drifts("anomaly_score");
  for (const auto& d : Drifts("fraud_error")) drifts.push_back(d);
  ASSERT_FALSE(drifts.empty());
  const CliResult list = RunSluice("registry --registry " + registry_ + " --json list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // Each drift asks for a version kDriftSnapshotLag (4,096) events after the events scored then
  // (drifts that close share one); this stream's first drift comes early enough for its own.
  int64_t first = drifts[0].second;
  for (const auto& d : drifts) first = std::min(first, d.second);
  ASSERT_LT(first + 4096, 16000) << "the first drift must leave room for its version";
  EXPECT_THAT(list.out, HasSubstr("\"trigger\": \"drift\""));
  EXPECT_THAT(list.out, HasSubstr(absl::StrCat("\"events_learned\": ", first + 4096))) << list.out;
  EXPECT_EQ(RunSluice("replay --quiet --rows 10 --snapshot-on-drift").exit_code, 2);
}

// The detectors are in every checkpoint: losing the last versions (as a kill -9 would) and
// resuming finds the uninterrupted run's drifts.
TEST_F(DriftTest, AResumedRunFindsTheSameDrifts) {
  const std::string flags = "--registry " + registry_ + " --snapshot-every-events 3000";
  ASSERT_EQ(Replay(flags).exit_code, 0);
  const std::string summary = ReadFileOrDie(summary_);
  ASSERT_FALSE(Drifts("anomaly_score").empty());
  RawSql(registry_, "DELETE FROM versions WHERE version > 3");  // Back to 6,000 events.
  CliResult r = Replay(flags + " --resume --drift-delta 0.01");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("resume with the same --drift and --drift-delta"));
  r = Replay(flags + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(summary_), summary);
}

}  // namespace
}  // namespace sluice::testing
