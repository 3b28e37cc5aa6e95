// tools/bench/csv_benchmark.cc. Rows per second of the CSV reader on the synthetic stream, and
// fields per second of its number parser alone.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/format.h"
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

// The first 2000 rows of Text() (half a megabyte, so in cache as the reader's buffer is), or
// with each number divided by 7 and written with 15 significant digits ("-0.148429857142857"), as
// in the credit-card file, where most fractions are longer than 8 digits.
std::string NumbersText(bool long_digits) {
  const std::string& all = Text();
  size_t end = 0;
  for (int row = 0; row <= 2000; ++row) end = all.find('\n', end) + 1;  // And the header.
  const std::string text = all.substr(0, end);
  if (!long_digits) return text;
  const size_t body = text.find('\n') + 1;
  std::string out = text.substr(0, body);
  for (size_t field = body; field < text.size();) {
    const size_t stop = text.find_first_of(",\n", field);
    const double v = core::ParseDouble(absl::string_view(text).substr(field, stop - field)).value();
    char buf[32];
    out.append(buf, static_cast<size_t>(std::snprintf(buf, sizeof(buf), "%.15g", v / 7)));
    out.push_back(text[stop]);
    field = stop + 1;
  }
  return out;
}

// core::ParseDecimalPrefix alone, field after field as the reader calls it: up to the end of the
// line, and the next field starting where the last one stopped.
void BM_CsvParseDecimalPrefix(benchmark::State& state) {
  const std::string text = NumbersText(state.range(0) != 0);
  std::vector<std::pair<const char*, const char*>> rows;  // Where each starts and ends.
  int64_t fields = 0;
  for (size_t row = text.find('\n') + 1; row < text.size(); row = text.find('\n', row) + 1) {
    rows.emplace_back(text.data() + row, text.data() + text.find('\n', row));
    fields += std::count(rows.back().first, rows.back().second, ',') + 1;
  }
  for (auto _ : state) {
    for (const auto& [row, row_end] : rows) {
      for (const char* p = row;; ++p) {  // ++p: the comma.
        double value = 0;
        bool exact = false;
        p = core::ParseDecimalPrefix(p, row_end, &value, &exact);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(exact);
        p = std::find(p, row_end, ',');  // Already there when the field is a number.
        if (p == row_end) break;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * fields);
}
BENCHMARK(BM_CsvParseDecimalPrefix)->ArgName("long")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sluice::engine
