// tools/bench/metrics_benchmark.cc. Updates per second of each metric.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/random.h"
#include "metrics/river_roc_auc.h"
#include "metrics/roc_auc.h"

namespace sluice::metrics {
namespace {

struct Labelled {
  bool label;
  double score;
};

// `positives` of the labels positive, scoring a little higher; distinct scores.
std::vector<Labelled> MakeStream(double positives) {
  std::vector<Labelled> out;
  core::PyRandom rng(3);
  for (int i = 0; i < (1 << 16); ++i) {
    const bool label = rng.Random() < positives;
    out.push_back({label, rng.Random() * 0.8 + (label ? 0.2 : 0.0)});
  }
  return out;
}

// Fraud-like: 1 % positives.
const std::vector<Labelled>& Stream() {
  static const auto* stream = new std::vector<Labelled>(MakeStream(0.01));
  return *stream;
}

template <typename Metric>
void RunUpdates(benchmark::State& state, Metric& metric,
                const std::vector<Labelled>& s = Stream()) {
  size_t i = 0;
  for (auto _ : state) {
    metric.Update(s[i].label, s[i].score);
    i = (i + 1) & (s.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RollingRocAuc_W1000(benchmark::State& state) {
  RollingRocAuc metric(1000);
  RunUpdates(state, metric);
  benchmark::DoNotOptimize(metric.Auc());
}
BENCHMARK(BM_RollingRocAuc_W1000);

// As many positives as negatives: the rank tree's regime (the worst case).
void BM_RollingRocAuc_W1000_Balanced(benchmark::State& state) {
  static const auto* balanced = new std::vector<Labelled>(MakeStream(0.5));
  RollingRocAuc metric(1000);
  RunUpdates(state, metric, *balanced);
  benchmark::DoNotOptimize(metric.Auc());
}
BENCHMARK(BM_RollingRocAuc_W1000_Balanced);

void BM_RollingRocAuc_W1000_UpdateAndGet(benchmark::State& state) {
  RollingRocAuc metric(1000);
  const auto& s = Stream();
  size_t i = 0;
  double sink = 0;
  for (auto _ : state) {
    metric.Update(s[i].label, s[i].score);
    sink += metric.Auc();
    i = (i + 1) & (s.size() - 1);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RollingRocAuc_W1000_UpdateAndGet);

void BM_RocAuc(benchmark::State& state) {
  RocAuc metric;
  RunUpdates(state, metric);
}
BENCHMARK(BM_RocAuc);

void BM_RiverRocAuc(benchmark::State& state) {
  RiverRocAuc metric;
  RunUpdates(state, metric);
}
BENCHMARK(BM_RiverRocAuc);

void BM_RiverRollingRocAuc_W1000(benchmark::State& state) {
  RiverRollingRocAuc metric(1000);
  RunUpdates(state, metric);
}
BENCHMARK(BM_RiverRollingRocAuc_W1000);

}  // namespace
}  // namespace sluice::metrics
