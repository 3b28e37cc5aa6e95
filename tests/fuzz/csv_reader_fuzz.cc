// tests/fuzz/csv_reader_fuzz.cc. engine::CsvReader over arbitrary bytes.
//
// Input: one byte of options, then the CSV text. Option bits: 0 a "Class" label column, 1 the
// "Time" column is required, 2 an "id" column, 3 exclude column "x", 4-7 rows to SkipRows()
// first. Every row must come back as an event with finite features or as a bad row with a
// message; nothing else may happen.
#include <cmath>
#include <memory>
#include <string>

#include "core/event.h"
#include "engine/byte_stream.h"
#include "engine/csv_reader.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sluice::engine::CsvReader;
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  CsvReader::Options options;
  if ((flags & 1) == 0) options.label_column.clear();
  options.time_column_required = (flags & 2) != 0;
  if ((flags & 4) != 0) options.id_column = "id";
  if ((flags & 8) != 0) options.exclude = {"x"};
  const int64_t skip = flags >> 4;

  const std::string text(sluice::fuzz::Bytes(data + 1, size - 1));
  auto reader = CsvReader::Create("fuzz.csv", sluice::engine::NewStringStream(text), options);
  if (!reader.ok()) {
    SLUICE_FUZZ_CHECK(!reader.status().message().empty());
    return 0;
  }
  CsvReader& csv = **reader;
  SLUICE_FUZZ_CHECK(!csv.feature_names().empty());
  const auto skipped = csv.SkipRows(skip);
  SLUICE_FUZZ_CHECK(skipped.ok() && *skipped >= 0 && *skipped <= skip);
  SLUICE_FUZZ_CHECK(csv.rows_read() == *skipped);
  sluice::core::Event event;
  int64_t rows = *skipped;
  while (true) {
    const auto result = csv.Next(&event);
    SLUICE_FUZZ_CHECK(result.ok());  // A string stream has no I/O errors.
    if (*result == CsvReader::Result::kEndOfStream) break;
    ++rows;
    SLUICE_FUZZ_CHECK(csv.rows_read() == rows);
    if (*result == CsvReader::Result::kBadRow) {
      SLUICE_FUZZ_CHECK(!csv.bad_row_message().empty());
      continue;
    }
    SLUICE_FUZZ_CHECK(event.row == rows - 1);
    SLUICE_FUZZ_CHECK(event.features.size() == csv.feature_names().size());
    for (const double v : event.features) SLUICE_FUZZ_CHECK(std::isfinite(v));
    SLUICE_FUZZ_CHECK(event.label.has_value() == csv.has_label());
  }
  SLUICE_FUZZ_CHECK(csv.ConsumedSha256().size() == 64);
  return 0;
}
