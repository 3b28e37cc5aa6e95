#include "engine/pipeline.h"

#include <string>
#include <vector>

#include "core/random.h"
#include "core/state_codec.h"
#include "engine/snapshotter.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

const std::vector<std::string> kFeatures = {"a", "b"};

std::vector<std::vector<double>> Stream(int n) {
  core::PyRandom rng(3);
  std::vector<std::vector<double>> out;
  for (int i = 0; i < n; ++i) out.push_back({rng.Gauss(0, 1), rng.Random()});
  return out;
}

Pipeline::Options Options(Pipeline::Serving serving) {
  Pipeline::Options o;
  o.hst.window_size = 10;
  o.metric_window = 50;
  o.serving = serving;
  return o;
}

// Continuous: the learners score (River's progressive validation). Frozen: the promoted state
// scores until the next promotion, while the learners go on learning.
TEST(Pipeline, FrozenServesThePromotedStateContinuousTheLearner) {
  auto continuous = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
  auto frozen = Pipeline::Create(Options(Pipeline::Serving::kFrozen), kFeatures).value();
  const auto events = Stream(200);
  std::string anomaly_at_50, fraud_at_50;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& x = events[i];
    const Pipeline::Scores c = continuous->ScoreAndLearn(x);
    const Pipeline::Scores f = frozen->ScoreAndLearn(x);
    if (i <= 50) {  // Both started untrained; frozen serves the untrained state until 50.
      EXPECT_EQ(f.fraud, 0.5) << i;
    } else {
      // Frozen scores with the state promoted after event 50.
      auto reference = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
      ASSERT_OK(reference->RestoreAnomaly(anomaly_at_50));
      ASSERT_OK(reference->RestoreFraud(fraud_at_50));
      EXPECT_EQ(f.anomaly, reference->ScoreAnomaly(x)) << i;
      EXPECT_EQ(f.fraud, reference->ScoreFraud(x)) << i;
      if (i == 199) {
        EXPECT_NE(f.fraud, c.fraud);
      }
    }
    continuous->ApplyLabel(x, i % 4 == 0, c);
    frozen->ApplyLabel(x, i % 4 == 0, f);
    if (i == 50) {
      anomaly_at_50 = frozen->SaveAnomaly();
      fraud_at_50 = frozen->SaveFraud();
      ASSERT_OK(frozen->PromoteAnomaly(anomaly_at_50));
      ASSERT_OK(frozen->PromoteFraud(fraud_at_50));
    }
  }
  // The learners learned the same events either way.
  EXPECT_EQ(frozen->SaveAnomaly(), continuous->SaveAnomaly());
  EXPECT_EQ(frozen->SaveFraud(), continuous->SaveFraud());
}

// Checkpoints carry the cumulative AUCs as deltas: loading every delta in order reproduces them.
TEST(Pipeline, MetricDeltasSavedInTurnLoadBackExactly) {
  auto a = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
  std::vector<std::string> deltas;
  int i = 0;
  for (const auto& x : Stream(300)) {
    const Pipeline::Scores s = a->ScoreAndLearn(x);
    a->ApplyLabel(x, ++i % 5 == 0, s);
    if (i % 100 == 0) {
      core::StateWriter w;
      a->SaveMetrics(&w);
      deltas.emplace_back(w.payload());
    }
  }
  auto b = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
  for (const std::string& delta : deltas) {
    core::StateReader r(delta);
    ASSERT_TRUE(b->LoadMetrics(&r));
    EXPECT_TRUE(r.done());
  }
  for (const bool fraud : {false, true}) {
    const ModelMetrics& ma = fraud ? a->fraud_metrics() : a->anomaly_metrics();
    const ModelMetrics& mb = fraud ? b->fraud_metrics() : b->anomaly_metrics();
    EXPECT_EQ(ma.labels, mb.labels);
    EXPECT_EQ(ma.auc.Auc(), mb.auc.Auc());
    EXPECT_EQ(ma.rolling.Auc(), mb.rolling.Auc());
    EXPECT_EQ(ma.river.Get(), mb.river.Get());
    EXPECT_EQ(ma.river_rolling.Get(), mb.river_rolling.Get());
  }
  // Only the last delta: the windows are right but the cumulative AUC misses the earlier pairs.
  auto c = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
  core::StateReader r(deltas.back());
  ASSERT_TRUE(c->LoadMetrics(&r));
  EXPECT_EQ(c->fraud_metrics().rolling.Auc(), a->fraud_metrics().rolling.Auc());
  EXPECT_NE(c->fraud_metrics().auc.Auc(), a->fraud_metrics().auc.Auc());
}

TEST(Pipeline, RestoreModelsRefusesAMismatchOrCorruption) {
  auto full = Pipeline::Create(Options(Pipeline::Serving::kContinuous), kFeatures).value();
  Pipeline::Options hst_only = Options(Pipeline::Serving::kContinuous);
  hst_only.fraud = false;
  auto half = Pipeline::Create(hst_only, kFeatures).value();
  const std::string blob = PackModels(full->SaveAnomaly(), full->SaveFraud());
  EXPECT_THAT(half->RestoreModels(blob), testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  std::string corrupt = blob;
  corrupt[corrupt.size() / 2] ^= 4;
  EXPECT_THAT(full->RestoreModels(corrupt), testing::StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_OK(full->RestoreModels(blob));
}

}  // namespace
}  // namespace sluice::engine
