#include "engine/global_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/flat_json.h"
#include "core/random.h"
#include "engine/csv_reader.h"
#include "engine/pipeline.h"
#include "engine/run_config.h"
#include "engine/serving.h"
#include "engine/snapshotter.h"
#include "engine/synthetic_stream.h"
#include "metrics/roc_auc.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

const std::vector<std::string> kFeatures = {"a", "b", "c"};

std::vector<std::vector<double>> Gaussian(uint64_t seed, int n) {
  core::PyRandom rng(seed);
  std::vector<std::vector<double>> out;
  for (int i = 0; i < n; ++i) out.push_back({rng.Gauss(0, 1), rng.Gauss(2, 3), rng.Random()});
  return out;
}

RunConfig Config(int window_size) {
  RunConfig config;
  config.features = kFeatures;
  config.pipeline.hst.window_size = window_size;
  config.pipeline.hst.num_trees = 5;
  config.pipeline.hst.height = 6;
  return config;
}

// A registered version of a pipeline (both models) that learned `events` events of a stream.
registry::Version MakeVersion(const std::string& model, int64_t number, int window_size, int events,
                              uint64_t stream_seed) {
  const RunConfig config = Config(window_size);
  auto pipeline = Pipeline::Create(config.pipeline, kFeatures).value();
  int i = 0;
  for (const auto& x : Gaussian(stream_seed, events)) {
    const Pipeline::Scores scores = pipeline->ScoreAndLearn(x);
    pipeline->ApplyLabel(x, ++i % 3 == 0, scores);
  }
  registry::Version v;
  v.model = model;
  v.version = number;
  v.created_event_time = static_cast<double>(events);
  v.config_json = core::WriteFlatJson(ConfigJson(config));
  v.state = PackModels(pipeline->SaveAnomaly(), pipeline->SaveFraud());
  v.state_sha256 = absl::StrCat("sha-", model);
  return v;
}

AnomalyState Anomaly(const registry::Version& v) {
  std::string anomaly, fraud;
  EXPECT_OK(UnpackModels(v.state, &anomaly, &fraud));
  return {ParseConfigJson(v.config_json)->pipeline.hst, kFeatures, anomaly, ""};
}

std::string MergedState(const std::vector<AnomalyState>& inputs) {
  absl::StatusOr<AnomalyState> merged = MergeAnomalyStates(inputs);
  EXPECT_TRUE(merged.ok()) << merged.status();
  return merged.ok() ? merged->state : "";
}

TEST(MergeAnomalyStates, IsExactIdentityCommutativeAndAssociative) {
  const AnomalyState a = Anomaly(MakeVersion("m.p0", 1, 20, 133, 1));
  const AnomalyState b = Anomaly(MakeVersion("m.p1", 1, 30, 71, 2));
  const AnomalyState c = Anomaly(MakeVersion("m.p2", 1, 50, 219, 3));
  EXPECT_EQ(MergedState({a}), a.state);
  const std::string abc = MergedState({a, b, c});
  EXPECT_EQ(MergedState({c, b, a}), abc);
  ASSERT_OK_AND_ASSIGN(const AnomalyState ab, MergeAnomalyStates(std::vector{a, b}));
  ASSERT_OK_AND_ASSIGN(const AnomalyState bc, MergeAnomalyStates(std::vector{b, c}));
  EXPECT_EQ(ab.hst.window_size, 50);
  EXPECT_EQ(MergedState({ab, c}), abc);
  EXPECT_EQ(MergedState({a, bc}), abc);
}

TEST(MergeAnomalyStates, RefusesOtherFeaturesOrTreesNamingTheInput) {
  const AnomalyState a = Anomaly(MakeVersion("m.p0", 1, 20, 50, 1));
  AnomalyState other_seed = Anomaly(MakeVersion("m.p1", 1, 20, 50, 2));
  other_seed.name = "the second";
  // Same state, other options given: the blob does not load with them.
  other_seed.hst.seed = 43;
  EXPECT_THAT(MergeAnomalyStates(std::vector{a, other_seed}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("the second")));
  AnomalyState renamed = a;
  renamed.features = {"a", "b", "d"};
  EXPECT_THAT(MergeAnomalyStates(std::vector{a, renamed}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model 1: its features")));
}

TEST(MergeVersions, RegistersAnAnomalyOnlyVersionThatServes) {
  const std::vector<registry::Version> versions = {MakeVersion("m.p0", 4, 20, 133, 1),
                                                   MakeVersion("m.p1", 6, 20, 171, 2)};
  ASSERT_OK_AND_ASSIGN(const registry::NewVersion merged, MergeVersions(versions, "global"));
  EXPECT_EQ(merged.model, "global");
  EXPECT_EQ(merged.trigger, "merge");
  EXPECT_EQ(merged.created_event_time, 171.0);
  EXPECT_EQ(merged.lineage_json,
            "{\"source\": \"merge\", \"merged\": [{\"model\": \"m.p0\", \"version\": 4, "
            "\"state_sha256\": \"sha-m.p0\"}, {\"model\": \"m.p1\", \"version\": 6, "
            "\"state_sha256\": \"sha-m.p1\"}]}");
  ASSERT_OK_AND_ASSIGN(const RunConfig config, ParseConfigJson(merged.config_json));
  EXPECT_EQ(config.pipeline.hst.window_size, 40);
  EXPECT_FALSE(config.pipeline.fraud);
  std::string anomaly, fraud;
  ASSERT_OK(UnpackModels(merged.state, &anomaly, &fraud));
  EXPECT_EQ(fraud, "");
  EXPECT_EQ(anomaly, MergedState({Anomaly(versions[0]), Anomaly(versions[1])}));
  // Serving (and so `serve` and `audit`) loads it as an anomaly-only pipeline.
  registry::Version stored;
  stored.model = merged.model;
  stored.version = 1;
  stored.config_json = merged.config_json;
  stored.state = merged.state;
  ASSERT_OK_AND_ASSIGN(auto serving, ServingModel::Create(stored));
  auto pipeline = Pipeline::Create(config.pipeline, kFeatures).value();
  ASSERT_OK(pipeline->RestoreAnomaly(anomaly));
  for (const auto& x : Gaussian(7, 50)) {
    const Pipeline::Scores s = serving->Score(x);
    EXPECT_EQ(s.anomaly, pipeline->ScoreAnomaly(x));
    EXPECT_GT(s.anomaly, 0.0);
    EXPECT_TRUE(std::isnan(s.fraud));
  }
}

TEST(MergeVersions, RefusesOtherConfigsNamingTheVersion) {
  registry::Version a = MakeVersion("m.p0", 4, 20, 50, 1);
  registry::Version b = MakeVersion("m.p1", 6, 20, 50, 2);
  RunConfig other = Config(20);
  other.pipeline.metric_window = 7;
  b.config_json = core::WriteFlatJson(ConfigJson(other));
  EXPECT_THAT(MergeVersions(std::vector{a, b}, "g"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("version 6 of \"m.p1\" was made with another config than "
                                 "version 4 of \"m.p0\": metric_window")));
  b = MakeVersion("m.p1", 6, 20, 50, 2);
  b.state[b.state.size() / 2] ^= 1;
  EXPECT_THAT(MergeVersions(std::vector{a, b}, "g"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("version 6 of \"m.p1\"")));
  RunConfig fraud_only = Config(20);
  fraud_only.pipeline.anomaly = false;
  b = MakeVersion("m.p1", 6, 20, 50, 2);
  b.config_json = core::WriteFlatJson(ConfigJson(fraud_only));
  EXPECT_THAT(MergeVersions(std::vector{a, b}, "g"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no anomaly model")));
  EXPECT_THAT(MergeVersions({}, "g"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- The measurement behind the README's numbers. ----

struct LabelledStream {
  std::vector<std::string> features;
  std::vector<std::vector<double>> x;
  std::vector<bool> y;
};

LabelledStream Read(absl::StatusOr<std::unique_ptr<CsvReader>> reader) {
  LabelledStream out;
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  out.features = (*reader)->feature_names();
  core::Event event;
  while (true) {
    absl::StatusOr<CsvReader::Result> r = (*reader)->Next(&event);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || *r != CsvReader::Result::kEvent) break;
    out.x.push_back(event.features);
    out.y.push_back(event.label.value_or(false));
  }
  return out;
}

// ROC-AUC of frozen serving with refreshes, as a served merged version is used: the stream is
// split round-robin over `partitions` models (window `window_size` each; 1 partition is the
// single model on the whole stream), which learn every event of their share. Events
// [k * refresh, (k + 1) * refresh) are scored by the merge of the partitions' models as they
// were after event k * refresh - 1 (MergeAnomalyStates). Every event is scored, the first block
// too (0 while the merged model is in its first window).
double RefreshedAuc(const LabelledStream& s, int partitions, int window_size, int refresh) {
  Pipeline::Options options;
  options.fraud = false;
  options.hst.window_size = window_size;
  std::vector<std::unique_ptr<Pipeline>> learners;
  for (int p = 0; p < partitions; ++p)
    learners.push_back(Pipeline::Create(options, s.features).value());
  metrics::RocAuc auc;
  std::unique_ptr<Pipeline> serving;
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (i % static_cast<size_t>(refresh) == 0) {
      std::vector<AnomalyState> states;
      for (const auto& learner : learners) {
        states.push_back({options.hst, s.features, learner->SaveAnomaly(), ""});
      }
      const AnomalyState merged = MergeAnomalyStates(states).value();
      Pipeline::Options serving_options = options;
      serving_options.hst = merged.hst;
      serving = Pipeline::Create(serving_options, s.features).value();
      EXPECT_OK(serving->RestoreAnomaly(merged.state));
    }
    auc.Update(s.y[i], serving->ScoreAnomaly(s.x[i]));
    learners[i % static_cast<size_t>(partitions)]->anomaly_model()->LearnOne(s.x[i], std::nullopt);
  }
  return auc.Auc();
}

// Single model (window 256, River's 250 rounded so that P = 2 and 4 divide it) vs the merge of
// P partition models, P = 2 and 4, each with window 256 / P (the merged window is 256, as the
// single model's) or 256 (merged window 256 * P, compared with a single model of that window).
//
// With window 256 / P and round-robin, each partition's windows cover the same 256 events of the
// stream as the single model's: with one scaler for all, the merged trees equal the single
// model's bit for bit (HalfSpaceTreesMerge.RoundRobinPartitionsMergeIntoTheSingleModel). What
// differs is the scalers: each partition learns its trees on events scaled with its own running
// min/max, which lag and differ from the stream's (the min and max are extremes, so a partition
// that saw an outlier scales differently from one that did not), while the merged model scores
// with the widest range. Measured (20,000 `sluice gen` events, 40 frauds, seeds 1-5 and 42): the
// merged AUC is 0.02-0.07 below the single model's for P = 2 and 0.04-0.12 below for P = 4; on
// the credit-card head (2 frauds) 0.03 and 0.09. The bounds below are those gaps with a margin:
// a merge that broke the trees (e.g. masses of the wrong window) falls to about 0.5.
void CompareMergedWithSingle(const char* name, const LabelledStream& s) {
  constexpr int kWindow = 256;
  const double single = RefreshedAuc(s, 1, kWindow, kWindow);
  std::printf("[%s] %zu events, %d positives; models refreshed every %d events\n", name, s.x.size(),
              static_cast<int>(std::count(s.y.begin(), s.y.end(), true)), kWindow);
  std::printf("[%s] single model, window %d: AUC %.4f\n", name, kWindow, single);
  for (const int partitions : {2, 4}) {
    const double same_window = RefreshedAuc(s, partitions, kWindow / partitions, kWindow);
    const double long_window = RefreshedAuc(s, partitions, kWindow, kWindow);
    const double single_long = RefreshedAuc(s, 1, kWindow * partitions, kWindow);
    std::printf(
        "[%s] P=%d merged, window %d each (merged %d): AUC %.4f; window %d each (merged %d): "
        "AUC %.4f vs single model with window %d: AUC %.4f\n",
        name, partitions, kWindow / partitions, kWindow, same_window, kWindow, kWindow * partitions,
        long_window, kWindow * partitions, single_long);
    EXPECT_GT(same_window, 0.5) << name << " P=" << partitions;
    EXPECT_NEAR(same_window, single, partitions == 2 ? 0.08 : 0.15) << name << " P=" << partitions;
    EXPECT_NEAR(long_window, single_long, 0.15) << name << " P=" << partitions;
  }
}

TEST(GlobalModelAuc, MergedPartitionModelsScoreCloseToTheSingleModel) {
  const auto path = testing::RepoFile("datasets/creditcard/creditcard_head4002.csv");
  SLUICE_REQUIRE_FILE(path);
  CompareMergedWithSingle("creditcard head", Read(CsvReader::Open(path.string(), {})));
  CompareMergedWithSingle(
      "sluice gen", Read(CsvReader::Create("synthetic", NewSyntheticCsvStream(42, 20000), {})));
}

}  // namespace
}  // namespace sluice::engine
