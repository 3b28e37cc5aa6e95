// tools/bench/http_benchmark.cc. The parts of POST /v1/score that are not sockets: reading a
// batch of 1,000 events from JSON (as `sluice produce` writes them: shortest round-trip numbers)
// and finding where a malformed one breaks.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/event.h"
#include "engine/event_json.h"
#include "tools/bench/bench_data.h"

namespace sluice {
namespace {

std::string BatchJson(int events) {
  const bench::Stream& stream = bench::SyntheticStream(events);
  std::string json = "[";
  core::Event event;
  for (int i = 0; i < events; ++i) {
    event.id = "t-" + std::to_string(i);
    event.features = stream.x[static_cast<size_t>(i)];
    if (i > 0) json += ",";
    engine::AppendEventJson(event, stream.names, &json);
  }
  return json + "]";
}

// range(0): 1, the fast path (engine/event_scan.h) with simdjson behind it; 0, simdjson alone.
void BM_ParseBatch1000(benchmark::State& state) {
  const std::string json = BatchJson(1000);
  engine::EventJsonParser parser(bench::SyntheticStream(1000).names, state.range(0) == 1);
  std::vector<core::Event> events;
  bool is_array = false;
  for (auto _ : state) {
    if (!parser.ParseBatch(json, &events, &is_array).ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(events.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
  state.counters["bytes_per_batch"] = static_cast<double>(json.size());
}
BENCHMARK(BM_ParseBatch1000)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

void BM_FindJsonSyntaxError1000(benchmark::State& state) {
  const std::string json = BatchJson(1000);
  for (auto _ : state) benchmark::DoNotOptimize(engine::FindJsonSyntaxError(json));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_FindJsonSyntaxError1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sluice
