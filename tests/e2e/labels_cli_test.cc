// `sluice replay --labels`: labels joined by id from a file, with a TTL, give exactly what the
// delay simulation gives when they say the same thing.
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/format.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

class LabelsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunSluice("gen --rows 6000 --seed 3 --out " + input_).exit_code, 0);
    const CsvTable table = ReadCsv(input_);
    for (const std::vector<std::string>& row : table.rows) {
      times_.push_back(std::stod(row.front()));
      labels_.push_back(row.back() == "1");
    }
  }
  // A labels file: each row's label at Time + `delay`, all rows or only the frauds.
  std::string LabelsFile(double delay, bool frauds_only) {
    std::string text = "id,label,time\n";
    for (size_t i = 0; i < times_.size(); ++i) {
      if (frauds_only && !labels_[i]) continue;
      absl::StrAppend(&text, i, ",", labels_[i] ? 1 : 0, ",", core::FormatDouble(times_[i] + delay),
                      "\n");
    }
    const std::string path = dir_.File(frauds_only ? "frauds.csv" : "labels.csv");
    WriteFile(path, text);
    return path;
  }
  // Replays the input with `flags`; returns the predictions file and the summary's metrics and
  // drifts. A drift of the fraud model's error is found at the same label either way, but the
  // event scored when it is applied depends on how labels arrive: those fields are left out.
  std::pair<std::string, std::string> Replay(const std::string& flags) {
    const std::string p = dir_.File("p.csv"), s = dir_.File("s.json");
    const CliResult r = RunSluice("replay --quiet --summary-timing=false --input " + input_ +
                                  " --predictions " + p + " --summary " + s + " " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string summary = ReadFileOrDie(s);
    static const std::regex when(
        R"("events": \d+, "labels": \d+, "id": "[^"]*", "event_time": [^,]+, )");
    return {ReadFileOrDie(p),
            std::regex_replace(summary.substr(summary.find("\"anomaly\":")), when, "")};
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
  std::vector<double> times_;
  std::vector<bool> labels_;
};

TEST_F(LabelsCliTest, LabelsFileEqualsTheDelaySimulation) {
  for (const double delay : {0.0, 40.0, 500.0}) {
    const auto simulated = Replay(absl::StrCat("--label-delay-seconds ", delay));
    EXPECT_EQ(Replay("--labels " + LabelsFile(delay, false)), simulated) << delay;
    // No chargeback within the TTL means legitimate: the frauds alone say the same.
    EXPECT_EQ(Replay(absl::StrCat("--labels ", LabelsFile(delay, true), " --label-ttl ", delay,
                                  " --expired-labels negative")),
              simulated)
        << delay;
  }
}

TEST_F(LabelsCliTest, SummaryCountsWhatHappenedToLabels) {
  const std::string labels = dir_.File("odd.csv");
  // Row 1's label twice, an id that never comes, and row 5999's label after the stream ends.
  WriteFile(labels, "id,label,time\n1,0,10\n1,1,11\nnope,1,3\n5999,0,1e12\n");
  const std::string s = dir_.File("s.json");
  const CliResult r =
      RunSluice("replay --quiet --input " + input_ + " --labels " + labels + " --summary " + s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(ReadFileOrDie(s),
              HasSubstr("\"label_join\": {\"joined\": 2, \"expired\": 0, \"duplicate\": 1, "
                        "\"late\": 0, \"unknown\": 1, \"evicted\": 0, \"pending\": 5998}"));
}

TEST_F(LabelsCliTest, BadLabelsFilesAreRefusedNamingFileLineAndColumn) {
  const std::string labels = dir_.File("bad.csv");
  WriteFile(labels, "id,label,time\n1,0,10\n2,yes,11\n");
  CliResult r = RunSluice("replay --quiet --input " + input_ + " --labels " + labels);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:3: column label: label must be 0 or 1, got \"yes\""));
  WriteFile(labels, "id,label\n1,0\n");
  r = RunSluice("replay --quiet --input " + input_ + " --labels " + labels);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:1: time column \"time\" is not in the header"));
  r = RunSluice("replay --quiet --input " + input_ + " --labels " + labels + " --label-delay 5");
  EXPECT_EQ(r.exit_code, 2);
  r = RunSluice("replay --quiet --input " + input_ + " --expired-labels negative");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--expired-labels negative needs --label-ttl"));
}

}  // namespace
}  // namespace sluice::testing
