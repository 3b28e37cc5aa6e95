// engine/labels_file.cc
#include "engine/labels_file.h"

#include <algorithm>

#include "core/status_macros.h"
#include "engine/csv_reader.h"

namespace sluice::engine {

absl::StatusOr<std::vector<LabelRecord>> ReadLabels(std::string name,
                                                    std::unique_ptr<ByteStream> stream) {
  // A labels file is an event stream without features: the CSV reader validates it.
  CsvReader::Options options;
  options.id_column = "id";
  options.label_column = "label";
  options.time_column = "time";
  options.time_column_required = true;
  options.features_required = false;
  std::string text;
  std::string chunk(1 << 20, '\0');
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const size_t n, stream->Read(chunk.data(), chunk.size()));
    if (n == 0) break;
    text.append(chunk.data(), n);
  }
  {  // Every column but the three is ignored: learn their names from the header first.
    const size_t eol = text.find('\n');
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> header,
                            CsvReader::Create(name, NewStringStream(text.substr(0, eol)), options));
    options.exclude = header->feature_names();
    std::erase(options.exclude, options.time_column);
  }
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<CsvReader> reader,
      CsvReader::Create(std::move(name), NewStringStream(std::move(text)), options));
  std::vector<LabelRecord> labels;
  core::Event event;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const CsvReader::Result result, reader->Next(&event));
    if (result == CsvReader::Result::kEndOfStream) break;
    if (result == CsvReader::Result::kBadRow) {
      return absl::InvalidArgumentError(reader->bad_row_message());
    }
    labels.push_back(LabelRecord{event.id, *event.label, event.event_time});
  }
  std::stable_sort(labels.begin(), labels.end(),
                   [](const LabelRecord& a, const LabelRecord& b) { return a.time < b.time; });
  return labels;
}

absl::StatusOr<std::vector<LabelRecord>> ReadLabelsFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> stream, OpenFileStream(path));
  return ReadLabels(path, std::move(stream));
}

}  // namespace sluice::engine
