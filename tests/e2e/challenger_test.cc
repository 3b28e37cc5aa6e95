// Challengers as a user meets them: each scores and learns every event in shadow with AUCs of
// its own; one configured as the champion gets the champion's numbers exactly, which pins
// down that it sees the same events, scores and labels in the same order.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/cli.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

// The JSON text of `key`'s object in `json` from `from` on: {"model": ..., "labels": ...}.
std::string Metrics(const std::string& json, const std::string& from) {
  const size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from << " in " << json;
  const size_t labels = json.find("\"labels\"", at);
  return json.substr(labels, json.find('}', labels) - labels);
}

TEST(ChallengerTest, AChallengerLikeTheChampionHasItsNumbersExactly) {
  TempDir dir;
  const std::string summary = dir.File("s.json");
  const CliResult r =
      RunSluice("replay --quiet --summary-timing=false --rows 20000 --label-delay 500 --summary " +
                summary + " --report " + dir.File("r.html") +
                " --challenger hst:trees=10,height=8,window=250,seed=42 --challenger logreg:lr=0.01"
                " --challenger logreg:lr=0.1,scaler=standard --challenger hst:trees=25,height=15");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFileOrDie(summary);
  EXPECT_EQ(Metrics(json, "\"anomaly\": {"), Metrics(json, "\"model\": \"hst:trees=10,"));
  EXPECT_EQ(Metrics(json, "\"fraud\": {"), Metrics(json, "\"model\": \"logreg:lr=0.01\""));
  // Others differ, and say which model they shadow.
  EXPECT_NE(Metrics(json, "\"fraud\": {"), Metrics(json, "\"model\": \"logreg:lr=0.1,"));
  EXPECT_NE(Metrics(json, "\"anomaly\": {"), Metrics(json, "\"model\": \"hst:trees=25,"));
  EXPECT_THAT(json, HasSubstr("{\"shadows\": \"fraud\", \"model\": \"logreg:lr=0.1,"));
  EXPECT_THAT(json, HasSubstr("\"labels\": 20000"));
  EXPECT_THAT(ReadFileOrDie(dir.File("r.html")),
              HasSubstr("challenger <b>logreg:lr=0.1,scaler=standard</b> (shadows fraud)"));
}

TEST(ChallengerTest, BadSpecsAreRefusedNamingThePart) {
  for (const auto& [spec, message] : std::vector<std::pair<std::string, std::string>>{
           {"tree:trees=3", "the kind must be hst or logreg"},
           {"hst:trees=x", "trees=x: not a count"},
           {"hst:lr=0.1", "unknown option \"lr=0.1\" (hst: trees, height, window, seed)"},
           {"logreg:scaler=robust", "unknown option \"scaler=robust\""},
           {"logreg:lr=abc", "lr=abc: not a number"}}) {
    const CliResult r = RunSluice("replay --quiet --rows 10 --challenger " + spec);
    EXPECT_EQ(r.exit_code, 2) << spec;
    EXPECT_THAT(r.err, HasSubstr("--challenger: challenger \"" + spec + "\": " + message));
  }
  const CliResult r = RunSluice("replay --quiet --rows 10 --challenger hst:trees=0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("challenger \"hst:trees=0\": "));
}

// Checkpoints carry the challengers: losing the last versions (as a kill -9 would) and
// resuming gives the uninterrupted run's summary, challengers' AUCs included; other challengers
// than the checkpoint's are refused.
TEST(ChallengerTest, AResumedRunContinuesItsChallengers) {
  TempDir dir;
  const std::string summary = dir.File("s.json");
  const std::string flags =
      "replay --quiet --summary-timing=false --rows 6000 --label-delay 300 "
      "--registry " +
      dir.File("r.db") +
      " --snapshot-every-events 1000 "
      "--summary " +
      summary + " --challenger logreg:lr=0.05 --challenger hst:seed=7";
  ASSERT_EQ(RunSluice(flags).exit_code, 0);
  const std::string reference = ReadFileOrDie(summary);
  RawSql(dir.File("r.db"), "DELETE FROM versions WHERE version > 3");
  CliResult r = RunSluice(flags.substr(0, flags.find(" --challenger hst")) + " --resume");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot resume version 3: it was made with challengers "
                               "[logreg:lr=0.05 hst:seed=7], this run has [logreg:lr=0.05]"));
  r = RunSluice(flags + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(summary), reference);
}

// A stream whose fraud pattern changes midway (WriteChangingFraudStream): LogisticRegression
// with a higher learning rate adapts faster, wins, and is promoted at the same event every run,
// with the reason in the alias history.
TEST(ChallengerTest, AChallengerThatWinsIsPromotedAtTheSameEventEveryRun) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(WriteChangingFraudStream(dir, dir.File("in.csv")));
  std::vector<std::string> summaries;
  for (const char* run : {"1", "2"}) {
    const std::string registry = dir.File(absl::StrCat("r", run, ".db"));
    const std::string summary = dir.File(absl::StrCat("s", run, ".json"));
    const CliResult r =
        RunSluice("replay --quiet --summary-timing=false --input " + dir.File("in.csv") +
                  " --registry " + registry + " --summary " + summary +
                  " --challenger logreg:lr=0.5 --auto-promote 0.05 --promote-min-labels 2000");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    summaries.push_back(ReadFileOrDie(summary));
    EXPECT_THAT(summaries.back(), HasSubstr("\"promotions\": [{\"challenger\": \"logreg:lr=0.5\""));
    const CliResult history = RunSluice("registry --registry " + registry + " history champion");
    ASSERT_EQ(history.exit_code, 0) << history.err;
    EXPECT_THAT(history.out, HasSubstr("challenger logreg:lr=0.5 promoted: rolling AUC "));
  }
  EXPECT_EQ(summaries[0], summaries[1]);
}

}  // namespace
}  // namespace sluice::testing
