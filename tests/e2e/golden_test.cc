// Golden tests against River's own per-event outputs (tests/data/oracle/), with ==: through the
// learners directly and through `sluice replay`.
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "engine/csv_reader.h"
#include "engine/synthetic_stream.h"
#include "learners/half_space_trees.h"
#include "learners/logistic_regression.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

struct Stream {
  std::vector<std::string> names;
  std::vector<std::vector<double>> x;
  std::vector<bool> labels;
};

// The oracle's input stream (gen_synth.py --seed 1 --rows 20000), optionally without Time.
Stream OracleStream(bool with_time) {
  engine::CsvReader::Options options;
  if (!with_time) options.exclude = {"Time"};
  auto reader =
      engine::CsvReader::Create("synthetic", engine::NewSyntheticCsvStream(1, 20000), options)
          .value();
  Stream s;
  s.names = reader->feature_names();
  core::Event e;
  while (reader->Next(&e).value() == engine::CsvReader::Result::kEvent) {
    s.x.push_back(e.features);
    s.labels.push_back(*e.label);
  }
  return s;
}

std::unique_ptr<learners::Learner> OracleHst(const std::vector<std::string>& names) {
  return learners::ScaledLearner::Create(
             learners::MinMaxScaler::Create(static_cast<int>(names.size())).value(),
             learners::HalfSpaceTrees::Create(
                 {.num_trees = 25, .height = 15, .window_size = 250, .seed = 42}, names)
                 .value())
      .value();
}

std::unique_ptr<learners::ScaledLearner> OracleLr(int dimension) {
  return learners::ScaledLearner::Create(
             learners::StandardScaler::Create(dimension).value(),
             learners::LogisticRegression::Create({}, dimension).value())
      .value();
}

void ExpectSeriesEqual(const std::vector<double>& actual, const std::vector<double>& expected,
                       const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int mismatches = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i] && ++mismatches <= 3) {
      ADD_FAILURE() << what << " event " << i << ": " << actual[i] << " != " << expected[i];
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

TEST(Golden, HalfSpaceTreesEqualRiverOnEveryEvent) {
  SLUICE_REQUIRE_FILE(OracleFile("hst_scores_seed1.csv"));
  const auto oracle = ReadCsv(OracleFile("hst_scores_seed1.csv"));
  for (const bool with_time : {true, false}) {
    const Stream s = OracleStream(with_time);
    auto model = OracleHst(s.names);
    std::vector<double> scores;
    for (const auto& x : s.x) {
      scores.push_back(model->ScoreOne(x));
      model->LearnOne(x, std::nullopt);
    }
    ExpectSeriesEqual(scores, oracle.Doubles(with_time ? "score_with_time" : "score_no_time"),
                      with_time ? "hst with Time" : "hst without Time");
  }
}

TEST(Golden, LogisticRegressionEqualsRiverImmediateAndDelayed) {
  SLUICE_REQUIRE_FILE(OracleFile("lr_probs_seed1.csv"));
  SLUICE_REQUIRE_FILE(OracleFile("summary.json"));
  const auto oracle = ReadCsv(OracleFile("lr_probs_seed1.csv"));
  const Stream s = OracleStream(true);
  const int dim = static_cast<int>(s.names.size());
  auto immediate = OracleLr(dim);
  auto delayed = OracleLr(dim);
  std::vector<double> p_immediate, p_delayed;
  for (size_t i = 0; i < s.x.size(); ++i) {
    p_immediate.push_back(immediate->ScoreOne(s.x[i]));
    immediate->LearnOne(s.x[i], s.labels[i]);
    if (i >= 500) delayed->LearnOne(s.x[i - 500], s.labels[i - 500]);  // simulate_qa, delay 500.
    p_delayed.push_back(delayed->ScoreOne(s.x[i]));
  }
  for (size_t j = s.x.size() - 500; j < s.x.size(); ++j) delayed->LearnOne(s.x[j], s.labels[j]);
  ExpectSeriesEqual(p_immediate, oracle.Doubles("p_immediate"), "lr immediate");
  ExpectSeriesEqual(p_delayed, oracle.Doubles("p_delay500"), "lr delay 500");

  // Both runs learned the same events in the same order: River's final state, to the bit.
  const std::string summary = ReadFileOrDie(OracleFile("summary.json"));
  const auto& lr = static_cast<const learners::LogisticRegression&>(immediate->model());
  EXPECT_EQ(lr.intercept(), -1.5964812172083571);
  EXPECT_EQ(lr.iterations(), 20000u);
  EXPECT_EQ(immediate->Save(), delayed->Save());
  for (int i = 0; i < dim; ++i) {
    std::smatch m;
    const std::regex weight("\"" + s.names[static_cast<size_t>(i)] + "\": (-?[0-9.e-]+)");
    ASSERT_TRUE(std::regex_search(summary, m, weight)) << s.names[static_cast<size_t>(i)];
    EXPECT_EQ(lr.weight(i), std::strtod(m[1].str().c_str(), nullptr))
        << s.names[static_cast<size_t>(i)];
  }
}

// The same through the CLI: `sluice gen` writes the stream, `sluice replay` scores it.
TEST(Golden, SluiceReplayEqualsRiverOnEveryEvent) {
  SLUICE_REQUIRE_FILE(OracleFile("hst_scores_seed1.csv"));
  SLUICE_REQUIRE_FILE(OracleFile("lr_probs_seed1.csv"));
  TempDir dir;
  const std::string input = dir.File("synth.csv");
  ASSERT_EQ(RunSluice("gen --seed 1 --rows 20000 --out " + input).exit_code, 0);
  const auto hst = ReadCsv(OracleFile("hst_scores_seed1.csv"));
  const auto lr = ReadCsv(OracleFile("lr_probs_seed1.csv"));
  const std::string common = "replay --quiet --hst-trees 25 --hst-height 15 --input " + input;

  const std::string p = dir.File("p.csv");
  const std::string summary = dir.File("s.json");
  CliResult r = RunSluice(common + " --predictions " + p + " --summary " + summary);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto predictions = ReadCsv(p);
  ExpectSeriesEqual(predictions.Doubles("anomaly_score"), hst.Doubles("score_with_time"),
                    "replay hst with Time");
  ExpectSeriesEqual(predictions.Doubles("fraud_probability"), lr.Doubles("p_immediate"),
                    "replay lr immediate");
  const std::string json = ReadFileOrDie(summary);
  EXPECT_NE(json.find("\"river_rocauc\": 0.7695728957915832"), std::string::npos) << json;
  EXPECT_NE(json.find("\"river_rolling_rocauc\": 0.9428857715430862"), std::string::npos);
  EXPECT_NE(json.find("\"river_rocauc\": 0.5189291082164329"), std::string::npos);
  EXPECT_NE(json.find("\"river_rolling_rocauc\": 0.9634268537074149"), std::string::npos);

  r = RunSluice(common + " --model hst --exclude Time --predictions " + p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSeriesEqual(ReadCsv(p).Doubles("anomaly_score"), hst.Doubles("score_no_time"),
                    "replay hst without Time");

  r = RunSluice(common + " --model logreg --label-delay 500 --predictions " + p + " --summary " +
                summary);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSeriesEqual(ReadCsv(p).Doubles("fraud_probability"), lr.Doubles("p_delay500"),
                    "replay lr delay 500");
  EXPECT_NE(ReadFileOrDie(summary).find("\"river_rocauc\": 0.4997751753507014"), std::string::npos);
}

// River's docstring for HalfSpaceTrees on CreditCard: ROCAUC 88.43 % after 1,000 rows, 89.28 %
// after 2,000 and 91.15 % after 2,500.
TEST(Golden, CreditCardReproducesRiversPublishedRocAuc) {
  const std::string input = RepoFile("datasets/creditcard/creditcard_head4002.csv").string();
  SLUICE_REQUIRE_FILE(input);
  TempDir dir;
  const std::map<int, std::string> expected = {
      {1000, "0.8843"}, {2000, "0.8928"}, {2500, "0.9115"}};
  for (const auto& [rows, value] : expected) {
    const std::string summary = dir.File("s.json");
    const CliResult r = RunSluice("replay --quiet --model hst --rows " + std::to_string(rows) +
                                  " --input " + ShellQuote(input) + " --summary " + summary);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    const std::string json = ReadFileOrDie(summary);
    ASSERT_TRUE(std::regex_search(json, m, std::regex("\"river_rocauc\": ([0-9.]+)")));
    char rounded[16];
    std::snprintf(rounded, sizeof(rounded), "%.4f", std::strtod(m[1].str().c_str(), nullptr));
    EXPECT_EQ(rounded, value) << rows << " rows";
  }
}

}  // namespace
}  // namespace sluice::testing
