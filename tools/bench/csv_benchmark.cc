// tools/bench/csv_benchmark.cc. Rows per second of the CSV reader on the synthetic stream.
#include <benchmark/benchmark.h>

#include <string>

#include "engine/csv_reader.h"
#include "engine/synthetic_stream.h"

namespace sluice::engine {
namespace {

const std::string& Text() {
  static const auto* text = [] {
    auto stream = NewSyntheticCsvStream(1, 100000);
    auto* out = new std::string();
    char buf[1 << 16];
    while (size_t n = stream->Read(buf, sizeof(buf)).value()) out->append(buf, n);
    return out;
  }();
  return *text;
}

void BM_CsvReader(benchmark::State& state) {
  const std::string& text = Text();
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto reader = CsvReader::Create("bench", NewStringStream(text), {}).value();
    core::Event e;
    state.ResumeTiming();
    while (reader->Next(&e).value() == CsvReader::Result::kEvent) ++rows;
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_CsvReader)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::engine
