// Explanations as a user meets them: on a stream whose anomalies have a known cause (sluice gen
// --inject-feature), the injected feature comes first; audit --explain gives every share and
// they add up to the score; a prediction's explanation is the audit's, bit for bit.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

class ExplainTest : public ::testing::Test {
 protected:
  // The share of injected events (rows 99, 199, ... after the first window) whose explanation
  // names `feature` first, replaying `input` with the model `flags`.
  double FirstShare(const std::string& input, const std::string& flags,
                    const std::string& feature) {
    const std::string predictions = dir_.File("p.csv");
    const CliResult r = RunSluice("replay --quiet --exclude Time --explain 3 --input " + input +
                                  " --predictions " + predictions + " " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const CsvTable table = ReadCsv(predictions);
    const int column = table.Column("explanation");
    int injected = 0, first = 0;
    for (size_t row = 1000; row < table.rows.size(); ++row) {
      if ((row + 1) % 100 != 0) continue;
      ++injected;
      const std::string& text = table.rows[row][static_cast<size_t>(column)];
      first += absl::StartsWith(text, feature + "=");
    }
    EXPECT_EQ(injected, 190);
    return static_cast<double>(first) / injected;
  }
  std::string Gen(double sd) {
    const std::string path = dir_.File(absl::StrCat("inj", sd, ".csv"));
    const CliResult r = RunSluice(
        absl::StrCat("gen --rows 20000 --out ", path, " --inject-feature V14 --inject-sd ", sd));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  TempDir dir_;
};

// The shares measured here are in the README ("Explanations"): HalfSpaceTrees(10, 8) ranks V14
// first for 190 of 190 events 30 standard deviations out; (25, 15) for 178 of 190 at 6.
TEST_F(ExplainTest, TheInjectedFeatureComesFirst) {
  const double far = FirstShare(Gen(30), "", "V14");
  EXPECT_GE(far, 0.9);
  std::printf("HalfSpaceTrees(10, 8), V14 +30 sd: first for %.1f %% of injected events\n",
              100 * far);
  const double near = FirstShare(Gen(6), "--hst-trees 25 --hst-height 15", "V14");
  EXPECT_GE(near, 0.9);
  std::printf("HalfSpaceTrees(25, 15), V14 +6 sd: first for %.1f %% of injected events\n",
              100 * near);
}

// audit --explain: every feature's share, largest first, and the share of no feature, which sum
// to the score; a prediction made by that version carries the same top shares, digit for digit.
TEST_F(ExplainTest, AuditGivesEverySharePredictionsTheTop) {
  const std::string input = Gen(30), registry = dir_.File("r.db"), predictions = dir_.File("p.csv");
  CliResult r = RunSluice("replay --quiet --exclude Time --explain 3 --serving frozen --input " +
                          input + " --rows 3000 --registry " + registry +
                          " --snapshot-every-events 1000 --predictions " + predictions);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CsvTable table = ReadCsv(predictions);
  // Row 2999 is injected, and scored by the version made after 2,000 events (frozen serving).
  const std::vector<std::string>& row = table.rows[2999];
  const std::string version = row[static_cast<size_t>(table.Column("model_version"))];
  std::string event = "{\"id\": \"x\", \"features\": {";
  const std::vector<std::string> header = ReadCsv(input).header;
  const std::vector<std::string> values = ReadCsv(input).rows[2999];
  for (size_t c = 1; c + 1 < header.size(); ++c) {
    absl::StrAppend(&event, c > 1 ? ", " : "", "\"", header[c], "\": ", values[c]);
  }
  event += "}}";
  r = RunSluice("audit --registry " + registry + " --version " + version + " --explain --event " +
                ShellQuote(event));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("\"anomaly_score\": ",
                                     row[static_cast<size_t>(table.Column("anomaly_score"))])));
  // The table: "  NAME  SHARE  PERCENT %" per feature, then "(no feature)".
  std::vector<std::string> top;
  double sum = 0, score = 0;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    const std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() == 4 && words[3] == "%") {
      double share = 0;
      ASSERT_TRUE(absl::SimpleAtod(words[1], &share)) << line;
      sum += share;
      if (top.size() < 3 && words[0] != "(no") top.push_back(absl::StrCat(words[0], "=", words[1]));
    } else if (words.size() == 5 && words[4] == "%" && words[0] == "(no") {
      double share = 0;
      ASSERT_TRUE(absl::SimpleAtod(words[2], &share)) << line;
      sum += share;
    } else if (absl::StartsWith(line, "anomaly score ")) {
      ASSERT_TRUE(absl::SimpleAtod(words[2], &score)) << line;
    }
  }
  EXPECT_GT(score, 0);
  EXPECT_NEAR(sum, score, 1e-12);
  EXPECT_EQ(absl::StrJoin(top, ";"), row[static_cast<size_t>(table.Column("explanation"))]);
  EXPECT_TRUE(absl::StartsWith(top[0], "V14="));
}

TEST_F(ExplainTest, ExplainNeedsTheAnomalyModel) {
  CliResult r = RunSluice("replay --quiet --rows 10 --model logreg --explain 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--explain explains the anomaly model's scores"));
  r = RunSluice("audit --registry x.db --predictions p.csv --input i.csv --explain");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--explain goes with --version V --event JSON"));
}

}  // namespace
}  // namespace sluice::testing
