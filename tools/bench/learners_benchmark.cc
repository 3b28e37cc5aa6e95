// tools/bench/learners_benchmark.cc. Events per second of each learner pipeline, one core, 30
// features, score (or predict) then learn, as `sluice replay` runs them.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "learners/half_space_trees.h"
#include "learners/logistic_regression.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tools/bench/bench_data.h"

namespace sluice::bench {
namespace {

std::unique_ptr<learners::Learner> MinMaxHst(int trees, int height, const Stream& s) {
  return learners::ScaledLearner::Create(
             learners::MinMaxScaler::Create(static_cast<int>(s.names.size())).value(),
             learners::HalfSpaceTrees::Create(
                 {.num_trees = trees, .height = height, .window_size = 250, .seed = 42}, s.names)
                 .value())
      .value();
}

void RunScoreLearn(benchmark::State& state, learners::Learner& model, const Stream& s,
                   bool supervised) {
  // Warm up past the first window (tree building and the zero-score phase are not steady state).
  for (size_t i = 0; i < 1000; ++i)
    model.LearnOne(s.x[i], supervised ? std::optional<bool>(s.labels[i]) : std::nullopt);
  size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    sink += model.ScoreOne(s.x[i]);
    model.LearnOne(s.x[i], supervised ? std::optional<bool>(s.labels[i]) : std::nullopt);
    if (++i == s.x.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}

void BM_MinMaxHst_10x8(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto model = MinMaxHst(10, 8, s);
  RunScoreLearn(state, *model, s, false);
}
BENCHMARK(BM_MinMaxHst_10x8);

// What replay does: score and learn in one call (one walk per tree).
void BM_MinMaxHst_10x8_ScoreAndLearn(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto model = MinMaxHst(10, 8, s);
  size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    sink += model->ScoreAndLearnOne(s.x[i], std::nullopt);
    if (++i == s.x.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MinMaxHst_10x8_ScoreAndLearn);

// Explaining against scoring alone (the bound: at most 2x): a trained model, no
// learning in the loop, so the two differ only by the attribution.
void ScoreOrExplain(benchmark::State& state, int trees, int height, bool explain) {
  const Stream& s = SyntheticStream();
  auto model = MinMaxHst(trees, height, s);
  for (size_t i = 0; i < 2000; ++i) model->LearnOne(s.x[i], std::nullopt);
  std::vector<double> shares;
  size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    sink += explain ? *model->Explain(s.x[i], &shares) : model->ScoreOne(s.x[i]);
    if (++i == s.x.size()) i = 0;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
void BM_Hst_10x8_Score(benchmark::State& state) { ScoreOrExplain(state, 10, 8, false); }
void BM_Hst_10x8_Explain(benchmark::State& state) { ScoreOrExplain(state, 10, 8, true); }
void BM_Hst_25x15_Score(benchmark::State& state) { ScoreOrExplain(state, 25, 15, false); }
void BM_Hst_25x15_Explain(benchmark::State& state) { ScoreOrExplain(state, 25, 15, true); }
BENCHMARK(BM_Hst_10x8_Score);
BENCHMARK(BM_Hst_10x8_Explain);
BENCHMARK(BM_Hst_25x15_Score);
BENCHMARK(BM_Hst_25x15_Explain);

void BM_MinMaxHst_25x15(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto model = MinMaxHst(25, 15, s);
  RunScoreLearn(state, *model, s, false);
}
BENCHMARK(BM_MinMaxHst_25x15);

void BM_StandardLr(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto model =
      learners::ScaledLearner::Create(
          learners::StandardScaler::Create(static_cast<int>(s.names.size())).value(),
          learners::LogisticRegression::Create({}, static_cast<int>(s.names.size())).value())
          .value();
  RunScoreLearn(state, *model, s, true);
}
BENCHMARK(BM_StandardLr);

// Baseline: a learner that does nothing, to show the harness cost.
class NoOp final : public learners::Learner {
 public:
  double ScoreOne(learners::Features x) const override { return x[0]; }
  void LearnOne(learners::Features, std::optional<bool>) override {}
  int dimension() const override { return 30; }
  std::string Save() const override { return {}; }
  absl::Status Load(absl::string_view) override { return absl::OkStatus(); }
};

void BM_NoOpLearner(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  NoOp model;
  RunScoreLearn(state, model, s, true);
}
BENCHMARK(BM_NoOpLearner);

void BM_HstSave(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto model = MinMaxHst(10, 8, s);
  for (size_t i = 0; i < 5000; ++i) model->LearnOne(s.x[i], std::nullopt);
  for (auto _ : state) benchmark::DoNotOptimize(model->Save());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HstSave);

}  // namespace
}  // namespace sluice::bench
