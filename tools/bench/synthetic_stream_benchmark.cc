// tools/bench/synthetic_stream_benchmark.cc. Rows per second of the built-in synthetic stream
// (`sluice gen`, and `sluice replay` without --input), next to the bare draws it makes.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "core/random.h"
#include "engine/synthetic_stream.h"

namespace sluice::engine {
namespace {

// Reads state.range(0) rows of seed 1 in 64 KiB chunks, as the CSV reader does.
void BM_SyntheticCsvStream(benchmark::State& state) {
  const int64_t rows = state.range(0);
  static char buf[1 << 16];
  int64_t bytes = 0;
  for (auto _ : state) {
    auto stream = NewSyntheticCsvStream(1, rows);
    while (const size_t n = stream->Read(buf, sizeof(buf)).value())
      bytes += static_cast<int64_t>(n);
    benchmark::DoNotOptimize(buf);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_SyntheticCsvStream)->Arg(20000)->Unit(benchmark::kMillisecond);

// Baseline: only the draws one row makes (28 x (random, gauss), one expovariate, one
// lognormvariate), without formatting. The stream cannot be faster than this.
void BM_SyntheticDrawsOnly(benchmark::State& state) {
  core::PyRandom rng(1);
  double sink = 0;
  for (auto _ : state) {
    sink += rng.ExpoVariate(1.0 / 0.6);
    for (int j = 0; j < 28; ++j) {
      sink += rng.Random();
      sink += rng.Gauss(0.0, 1.0);
    }
    sink += rng.LogNormVariate(3.0, 1.4);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SyntheticDrawsOnly);

}  // namespace
}  // namespace sluice::engine
