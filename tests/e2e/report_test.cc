// The HTML report of `sluice replay --report`: its numbers against brute force over the
// predictions file, and ReplayRecorder on hand-worked cases (curves with ties and NaN scores,
// markers, top alerts, a model that is off).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/event.h"
#include "engine/pipeline.h"
#include "tests/support/cli.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_util.h"
// ReplayRecorder lives in the sluice executable, which no library holds: compile it into this
// test. (If tools/ ever gets a library, link it instead.)
#include "tools/replay_report.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of attribute `name` on the first element that has it; fails if none.
std::string Attr(const std::string& html, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t at = html.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no attribute " << name;
    return "";
  }
  const size_t from = at + key.size();
  return html.substr(from, html.find('"', from) - from);
}

double AttrDouble(const std::string& html, const std::string& name) {
  return std::strtod(Attr(html, name).c_str(), nullptr);
}

// Every element that opens with `<tag` and has all `attrs` (name="value"), as its opening tag.
std::vector<std::string> Elements(const std::string& html, const std::string& tag,
                                  const std::map<std::string, std::string>& attrs) {
  std::vector<std::string> out;
  for (size_t at = html.find("<" + tag + " "); at != std::string::npos;
       at = html.find("<" + tag + " ", at + 1)) {
    const std::string open = html.substr(at, html.find('>', at) - at + 1);
    bool all = true;
    for (const auto& [name, value] : attrs) {
      all = all && open.find(" " + name + "=\"" + value + "\"") != std::string::npos;
    }
    if (all) out.push_back(open);
  }
  return out;
}

// Brute force, the definitions themselves: every (positive, negative) pair, ties count 1/2.
double BruteForceAuc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  int64_t twice_wins = 0, positives = 0, negatives = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!labels[i]) continue;
    ++positives;
    for (size_t j = 0; j < scores.size(); ++j) {
      if (labels[j]) continue;
      twice_wins += scores[i] > scores[j] ? 2 : scores[i] == scores[j] ? 1 : 0;
    }
  }
  negatives = static_cast<int64_t>(scores.size()) - positives;
  return static_cast<double>(twice_wins) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

// scikit-learn's average_precision_score: over the distinct scores t, highest first, the
// sum of (R(t) - R(previous t)) P(t), with R and P of alerting on score >= t.
double BruteForceAp(const std::vector<double>& scores, const std::vector<bool>& labels) {
  const std::set<double, std::greater<>> thresholds(scores.begin(), scores.end());
  const double positives = static_cast<double>(std::count(labels.begin(), labels.end(), true));
  double ap = 0, previous_recall = 0;
  for (const double t : thresholds) {
    double tp = 0, fp = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= t) ++(labels[i] ? tp : fp);
    }
    const double recall = tp / positives;
    ap += (recall - previous_recall) * (tp / (tp + fp));
    previous_recall = recall;
  }
  return ap;
}

// A stream where frauds (about 1 in 12) lean on V1, V2 and Amount, with repeated rows.
std::string SmallStream(int rows) {
  uint64_t state = 12345;
  const auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  std::string csv = "Time,V1,V2,V3,Amount,Class\n";
  std::string previous;
  for (int row = 0; row < rows; ++row) {
    const bool fraud = uniform() < 0.085;
    std::string features = absl::StrFormat("%.4f,%.4f,%.4f,%.2f", uniform() + (fraud ? 0.9 : 0),
                                           uniform() - (fraud ? 0.7 : 0), uniform(),
                                           100 * uniform() + (fraud ? 60 : 0));
    // A repeated row: within a window HalfSpaceTrees scores it as it scored the row before.
    if (row % 7 == 3) features = previous;
    absl::StrAppend(&csv, row, ",", features, ",", fraud ? 1 : 0, "\n");
    previous = features;
  }
  return csv;
}

// Replays a small stream once for the whole suite, with the sluice built beside this test
// unless SLUICE_BINARY says otherwise.
class ReportReplay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::getenv("SLUICE_BINARY") == nullptr) {
      const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
      const std::filesystem::path sibling =
          self.parent_path().parent_path().parent_path() / "tools" / "sluice";
      if (std::filesystem::exists(sibling)) {
        setenv("SLUICE_BINARY", sibling.c_str(), 1);
        set_binary_ = true;
      }
    }
    dir_ = new TempDir();
    WriteFile(dir_->File("in.csv"), SmallStream(3000));
    // The labels arrive 300 events late: until then LogisticRegression is untrained and says
    // 0.5 for every event, one large tie group at the alert threshold.
    result_ = new CliResult(RunSluice("replay --quiet --input " + dir_->File("in.csv") +
                                      " --label-delay 300 --predictions " + dir_->File("p.csv") +
                                      " --summary " + dir_->File("s.json") + " --report " +
                                      dir_->File("r.html")));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
    if (set_binary_) unsetenv("SLUICE_BINARY");
  }
  void SetUp() override {
    ASSERT_EQ(result_->exit_code, 0) << result_->err;
    html_ = ReadFileOrDie(dir_->File("r.html"));
    predictions_ = ReadCsv(dir_->File("p.csv"));
    ASSERT_EQ(predictions_.rows.size(), 3000u);
    for (const double label : predictions_.Doubles("label")) labels_.push_back(label == 1);
  }

  static inline TempDir* dir_ = nullptr;
  static inline CliResult* result_ = nullptr;
  static inline bool set_binary_ = false;
  std::string html_;
  CsvTable predictions_;
  std::vector<bool> labels_;
};

TEST_F(ReportReplay, AucAndAveragePrecisionEqualBruteForceOverThePredictions) {
  const std::string summary = ReadFileOrDie(dir_->File("s.json"));
  for (const std::string model : {"anomaly", "fraud"}) {
    const std::vector<double> scores =
        predictions_.Doubles(model == "anomaly" ? "anomaly_score" : "fraud_probability");
    // The stream must exercise ties, or the tie rule is untested.
    ASSERT_LT(std::set<double>(scores.begin(), scores.end()).size(), scores.size() - 100) << model;
    // Both are the rational 2U / (2 P N) with an exact integer numerator, rounded once.
    EXPECT_EQ(AttrDouble(html_, "data-auc-" + model), BruteForceAuc(scores, labels_)) << model;
    // AP sums one rounded term per threshold (~2,000): their rounding errors add up to well
    // under 1e-12.
    EXPECT_NEAR(AttrDouble(html_, "data-ap-" + model), BruteForceAp(scores, labels_), 1e-12)
        << model;
    // The summary's AUC comes from metrics::RocAuc, a different code path.
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(summary, m, std::regex("\"" + model + "\": \\{[^}]*\"auc\": ([^,]+),")));
    EXPECT_NEAR(AttrDouble(html_, "data-auc-" + model), std::strtod(m[1].str().c_str(), nullptr),
                1e-12)
        << model;
  }
}

TEST_F(ReportReplay, ThresholdTableCountsEqualBruteForce) {
  for (const std::string model : {"anomaly", "fraud"}) {
    const std::vector<double> scores =
        predictions_.Doubles(model == "anomaly" ? "anomaly_score" : "fraud_probability");
    const std::vector<std::string> rows = Elements(html_, "tr", {{"data-model", model}});
    ASSERT_EQ(rows.size(), model == "anomaly" ? 5u : 6u) << model;
    for (const std::string& row : rows) {
      const double threshold = AttrDouble(row, "data-threshold");
      int64_t tp = 0, fp = 0;
      for (size_t i = 0; i < scores.size(); ++i) {
        if (scores[i] >= threshold) ++(labels_[i] ? tp : fp);
      }
      EXPECT_EQ(Attr(row, "data-tp"), absl::StrCat(tp)) << row;
      EXPECT_EQ(Attr(row, "data-fp"), absl::StrCat(fp)) << row;
      EXPECT_EQ(Attr(row, "data-alerts"), absl::StrCat(tp + fp)) << row;
      if (Attr(row, "data-rule") == "top") {
        // The threshold is the score of the ceil(share n)-th highest event.
        const int64_t k = static_cast<int64_t>(std::ceil(AttrDouble(row, "data-share") * 3000));
        const int64_t above =
            std::count_if(scores.begin(), scores.end(), [&](double s) { return s > threshold; });
        EXPECT_GE(tp + fp, k) << row;
        EXPECT_LT(above, k) << row;
      }
    }
  }
  // The fraud model's alert row, at RunDescription's default threshold.
  const std::vector<std::string> alert =
      Elements(html_, "tr", {{"data-model", "fraud"}, {"data-rule", "alert"}});
  ASSERT_EQ(alert.size(), 1u);
  EXPECT_EQ(Attr(alert[0], "data-threshold"), "0.5");
  // The 300 untrained predictions of exactly 0.5 all alert.
  EXPECT_GE(std::strtoll(Attr(alert[0], "data-alerts").c_str(), nullptr, 10), 300);
}

TEST_F(ReportReplay, IsSelfContained) {
  EXPECT_THAT(html_, Not(HasSubstr("http://")));
  EXPECT_THAT(html_, Not(HasSubstr("https://")));
  EXPECT_THAT(html_, Not(HasSubstr(" src=")));
  EXPECT_THAT(html_, Not(HasSubstr(" href=")));
  EXPECT_THAT(html_, Not(HasSubstr("<link")));
  EXPECT_THAT(html_, Not(HasSubstr("url(")));
  EXPECT_THAT(html_, Not(HasSubstr("@import")));
  EXPECT_EQ(html_.rfind("</html>\n"), html_.size() - 8);
}

TEST_F(ReportReplay, CurvesAreDrawnThinnedToAtMost2000Points) {
  for (const std::string model : {"anomaly", "fraud"}) {
    const std::vector<std::string> paths =
        Elements(html_, "path", {{"class", "curve"}, {"data-model", model}});
    ASSERT_EQ(paths.size(), 2u) << model;  // ROC and precision-recall.
    for (const std::string& path : paths) {
      const int64_t points = std::strtoll(Attr(path, "data-points-drawn").c_str(), nullptr, 10);
      EXPECT_GT(points, 100) << path.substr(0, 100);
      EXPECT_LE(points, 2000) << path.substr(0, 100);
    }
  }
}

// ReplayRecorder on its own, fed by hand.
class ReportRecorder : public ::testing::Test {
 protected:
  void MakeRecorder(bool anomaly, bool fraud) {
    engine::Pipeline::Options options;
    options.anomaly = anomaly;
    options.fraud = fraud;
    auto pipeline = engine::Pipeline::Create(options, {"amount", "v1", "v2"});
    ASSERT_TRUE(pipeline.ok()) << pipeline.status();
    pipeline_ = *std::move(pipeline);
    recorder_ =
        std::make_unique<tools::ReplayRecorder>(*pipeline_, /*progress=*/false, nullptr, clock_);
  }
  std::string Html(double alert_threshold = 0.5) const {
    tools::RunDescription run;
    run.input = "hand-made";
    run.alert_threshold = alert_threshold;
    return recorder_->HtmlReport(run, engine::RunResult{});
  }

  FakeClock clock_;
  std::unique_ptr<engine::Pipeline> pipeline_;
  std::unique_ptr<tools::ReplayRecorder> recorder_;
};

TEST_F(ReportRecorder, HandWorkedCurvesWithTiesAndNaN) {
  MakeRecorder(true, true);
  // Anomaly scores, highest first: 0.9 (fraud) | 0.8 (legit, fraud) | 0.7 (fraud) | 0.5 (legit,
  // legit) | 0.1 (legit) | NaN (fraud), the lowest. The fraud model says 0.5 to all: one tie.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::pair<double, bool> labelled[] = {{0.8, false}, {0.9, true}, {0.5, false},
                                              {nan, true},  {0.8, true}, {0.1, false},
                                              {0.7, true},  {0.5, false}};
  for (const auto& [score, label] : labelled) recorder_->OnLabel(label, {score, 0.5});
  const std::string html = Html();
  // U = 4 + 3.5 + 3 + 0 over 16 pairs.
  EXPECT_EQ(AttrDouble(html, "data-auc-anomaly"), 10.5 / 16);
  // (1/4)(1/1) + (1/4)(2/3) + (1/4)(3/4) + (1/4)(4/8): one rounding per term, 4 ULP apart at most.
  EXPECT_DOUBLE_EQ(AttrDouble(html, "data-ap-anomaly"), 35.0 / 48);
  EXPECT_EQ(AttrDouble(html, "data-auc-fraud"), 0.5);  // One diagonal step.
  EXPECT_EQ(AttrDouble(html, "data-ap-fraud"), 0.5);   // The fraud rate.
  EXPECT_THAT(html, HasSubstr("1 of 8 labelled events have a NaN anomaly score"));
  // The top 0.1 % of 8 events is the first: 0.9, a fraud.
  const std::vector<std::string> top =
      Elements(html, "tr", {{"data-model", "anomaly"}, {"data-share", "0.001"}});
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(Attr(top[0], "data-threshold"), "0.90000000000000002");
  EXPECT_EQ(Attr(top[0], "data-tp"), "1");
  EXPECT_EQ(Attr(top[0], "data-fp"), "0");
  // Alerting at 0.5: everything.
  const std::vector<std::string> alert = Elements(html, "tr", {{"data-rule", "alert"}});
  ASSERT_EQ(alert.size(), 1u);
  EXPECT_EQ(Attr(alert[0], "data-tp"), "4");
  EXPECT_EQ(Attr(alert[0], "data-fp"), "4");
  // Above every score: no alert.
  const std::vector<std::string> none =
      Elements(Html(0.75), "tr", {{"data-rule", "alert"}, {"data-alerts", "0"}});
  EXPECT_EQ(none.size(), 1u);
}

TEST_F(ReportRecorder, ModelThatIsOffIsLeftOut) {
  MakeRecorder(/*anomaly=*/false, /*fraud=*/true);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  recorder_->OnLabel(true, {nan, 0.75});
  recorder_->OnLabel(false, {nan, 0.25});
  const std::string html = Html();
  EXPECT_EQ(AttrDouble(html, "data-auc-fraud"), 1.0);
  EXPECT_THAT(html, Not(HasSubstr("data-auc-anomaly")));
  EXPECT_THAT(html, Not(HasSubstr("NaN anomaly score")));
  EXPECT_TRUE(Elements(html, "tr", {{"data-model", "anomaly"}}).empty());
  EXPECT_TRUE(Elements(html, "path", {{"data-model", "anomaly"}}).empty());
}

TEST_F(ReportRecorder, LongCurvesAreThinnedKeepingTheirEnds) {
  MakeRecorder(true, true);
  // 30,000 distinct scores: the exact ROC curve has 30,001 points.
  uint64_t state = 7;
  for (int i = 0; i < 30000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const bool label = (state >> 60) < 3;
    recorder_->OnLabel(label, {(label ? 0.3 : 0) + static_cast<double>(i % 9973) / 1e4 +
                                   static_cast<double>(i) / 1e9,
                               0.5});
  }
  const std::string html = Html();
  const std::vector<std::string> paths =
      Elements(html, "path", {{"class", "curve"}, {"data-model", "anomaly"}});
  ASSERT_EQ(paths.size(), 2u);
  for (const std::string& path : paths) {
    EXPECT_LE(std::strtoll(Attr(path, "data-points-drawn").c_str(), nullptr, 10), 2000);
    EXPECT_GE(std::strtoll(Attr(path, "data-points-drawn").c_str(), nullptr, 10), 1000);
  }
  // The ROC curve still runs from (0, 0) to (1, 1): the fraud model's single diagonal step
  // draws those two corners exactly.
  const std::string roc = Attr(paths[0], "d");
  const std::string diagonal =
      Attr(Elements(html, "path", {{"class", "curve"}, {"data-model", "fraud"}})[0], "d");
  ASSERT_EQ(diagonal.find(" L"), diagonal.rfind(" L"));  // M corner L corner.
  EXPECT_EQ(roc.substr(0, roc.find(" L")), diagonal.substr(0, diagonal.find(" L")));
  EXPECT_EQ(roc.substr(roc.rfind(" L")), diagonal.substr(diagonal.rfind(" L")));
}

TEST_F(ReportRecorder, MarkersAreDrawnAtTheirLabelCountWithKindAndText) {
  MakeRecorder(true, true);
  recorder_->AddMarker(0, "promotion", "version 1 <champion>");  // Before any label.
  for (int i = 0; i < 100; ++i) recorder_->OnLabel(i % 10 == 0, {i / 100.0, 0.5});
  recorder_->AddMarker(50, "drift", "anomaly score: ADWIN mean 0.41 -> 0.58");
  recorder_->AddMarker(100, "promotion", "version 2");
  const std::string html = Html();
  const std::vector<std::string> markers = Elements(html, "g", {{"class", "marker"}});
  ASSERT_EQ(markers.size(), 3u);
  EXPECT_THAT(markers[0], HasSubstr("data-kind=\"promotion\" data-labels-seen=\"0\""));
  EXPECT_THAT(markers[1], HasSubstr("data-kind=\"drift\" data-labels-seen=\"50\""));
  EXPECT_THAT(markers[2], HasSubstr("data-kind=\"promotion\" data-labels-seen=\"100\""));
  EXPECT_THAT(html, HasSubstr("<title>promotion after 0 labels: version 1 &lt;champion&gt;"
                              "</title>"));
  EXPECT_THAT(html, HasSubstr("<title>drift after 50 labels: anomaly score: ADWIN mean 0.41 "
                              "-&gt; 0.58</title>"));
  // Evenly spaced labels, evenly spaced lines.
  std::vector<double> xs;
  for (size_t at = html.find("<g class=\"marker\""); at != std::string::npos;
       at = html.find("<g class=\"marker\"", at + 1)) {
    xs.push_back(AttrDouble(html.substr(html.find("<line", at)), "x1"));
  }
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_LT(xs[0], xs[1]);
  EXPECT_NEAR(xs[1] - xs[0], xs[2] - xs[1], 0.11);  // Coordinates are printed to 0.1.
  // The legend names each kind with its count.
  EXPECT_THAT(html, HasSubstr("promotion (2)"));
  EXPECT_THAT(html, HasSubstr("drift (1)"));
}

TEST_F(ReportRecorder, TopAlertsKeepTheTwentyHighestWithTheirExplanations) {
  MakeRecorder(true, true);
  engine::Pipeline::Explanation why;
  why.top = {{1, 0.0}, {0, 0.0}};
  // Scores 0.00 .. 0.49 in a scrambled order; 0.49 twice (the earlier ranks first).
  for (int i = 0; i < 51; ++i) {
    const int k = i == 50 ? 49 : (i * 17) % 50;
    const double score = k / 100.0;
    why.top = {{1, 0.5 * score}, {0, 0.25 * score}};
    why.rest = 0.125 * score;
    core::Event event;
    event.row = i;
    event.id = absl::StrCat("tx-", i);
    event.label = k % 2 == 1;
    recorder_->OnPrediction(event, {score, 1 - score, i % 2 == 0 ? &why : nullptr},
                            engine::Served{});
  }
  const std::string html = Html();
  const std::regex row_re("<tr><td>(\\d+)</td><td class=\"l\">([^<]*)</td>");
  std::vector<std::string> ids;
  for (std::sregex_iterator it(html.begin(), html.end(), row_re), end; it != end; ++it) {
    ids.push_back((*it)[2].str());
  }
  ASSERT_EQ(ids.size(), 20u);
  // Score k / 100 came at i = 3k mod 50 (17 * 3 = 1 mod 50). Highest first: 0.49 (i = 47, then
  // its repeat at i = 50), 0.48 (i = 44), 0.47 (i = 41), ...
  EXPECT_EQ(ids[0], "tx-47");
  EXPECT_EQ(ids[1], "tx-50");
  EXPECT_EQ(ids[2], "tx-44");
  EXPECT_EQ(ids[3], "tx-41");
  // The lowest of the 20 is 0.31 (i = 43).
  EXPECT_EQ(ids[19], "tx-43");
  // i = 44 (even) was explained: v1 half the score, amount a quarter, an eighth no feature.
  EXPECT_THAT(html, HasSubstr("<b>v1</b> 50.0 % &middot; <b>amount</b> 25.0 % <span "
                              "class=\"rest\">&middot; other features 12.5 % &middot; no "
                              "feature 12.5 %</span>"));
}

}  // namespace
}  // namespace sluice::testing
