// tools/bench/registry_benchmark.cc. Restoring a version and listing a large registry.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/clock.h"
#include "engine/pipeline.h"
#include "engine/snapshotter.h"
#include "registry/registry.h"
#include "tools/bench/bench_data.h"

namespace sluice::bench {
namespace {

std::string TempPath(const char* name) {
  static const std::string dir = [] {
    std::string pattern = "/tmp/sluice-bench-XXXXXX";
    return std::string(mkdtemp(pattern.data()));
  }();
  return dir + "/" + name;
}

// Time to bring back one version of the default model: read and verify it, then load both
// learners.
void BM_RestoreVersion(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto pipeline = engine::Pipeline::Create({}, s.names).value();
  for (size_t i = 0; i < 5000; ++i) {
    const auto scores = pipeline->ScoreAndLearn(s.x[i]);
    pipeline->ApplyLabel(s.x[i], s.labels[i], scores);
  }
  const std::string path = TempPath("restore.db");
  unlink(path.c_str());
  auto registry = registry::Registry::Open(path, core::Clock::Real()).value();
  registry::NewVersion v;
  v.model = "default";
  v.trigger = "bench";
  v.config_json = v.lineage_json = v.metrics_json = "{}";
  v.state = engine::PackModels(pipeline->SaveAnomaly(), pipeline->SaveFraud());
  const int64_t number = registry->Put(v).value();
  auto target = engine::Pipeline::Create({}, s.names).value();
  for (auto _ : state) {
    const registry::Version got = registry->Get("default", number).value();
    std::string anomaly, fraud;
    if (!engine::UnpackModels(got.state, &anomaly, &fraud).ok() ||
        !target->RestoreAnomaly(anomaly).ok() || !target->RestoreFraud(fraud).ok()) {
      state.SkipWithError("restore failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["state_bytes"] = static_cast<double>(v.state.size());
}
BENCHMARK(BM_RestoreVersion)->Unit(benchmark::kMicrosecond);

// `sluice registry list` on 10,000 versions: metadata only, blobs stay on disk.
void BM_RegistryList10k(benchmark::State& state) {
  const std::string path = TempPath("list.db");
  unlink(path.c_str());
  {
    auto registry = registry::Registry::Open(path, core::Clock::Real()).value();
    registry::NewVersion v;
    v.model = "default";
    v.trigger = "every 10000 events";
    v.config_json = std::string(600, 'c');
    v.lineage_json = std::string(400, 'l');
    v.metrics_json = std::string(300, 'm');
    v.state = std::string(8192, 's');
    v.checkpoint = std::string(8192, 'k');
    for (int i = 0; i < 10000; ++i) registry->Put(v).value();
  }
  auto registry = registry::Registry::Open(path, core::Clock::Real()).value();
  for (auto _ : state) {
    const auto versions = registry->List("default").value();
    benchmark::DoNotOptimize(versions.size());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_RegistryList10k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::bench
