// engine/prediction_sink.cc
#include "engine/prediction_sink.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "engine/byte_stream.h"
#include "engine/text_file.h"

namespace sluice::engine {
namespace {

// A CSV field, quoted when it holds a comma, quote or line break.
void AppendCsvField(absl::string_view s, std::string* out) {
  if (s.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(s.data(), s.size());
    return;
  }
  out->push_back('"');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendOptionalDouble(double v, std::string* out) {
  if (!std::isnan(v)) core::AppendDouble(v, out);
}

// Counts the line breaks in the first `bytes` bytes of `path`; `*last` is the last byte read.
absl::StatusOr<int64_t> CountLines(const std::string& path, int64_t bytes, char* last) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> stream, OpenFileStream(path));
  std::string chunk(1 << 20, '\0');
  int64_t lines = 0;
  *last = '\n';
  for (int64_t left = bytes; left > 0;) {
    const auto want = static_cast<size_t>(std::min<int64_t>(left, 1 << 20));
    SLUICE_ASSIGN_OR_RETURN(const size_t n, stream->Read(chunk.data(), want));
    if (n == 0) break;
    for (const char* p = chunk.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', chunk.data() + n - p))) != nullptr;
         ++p) {
      ++lines;
    }
    *last = chunk[n - 1];
    left -= static_cast<int64_t>(n);
  }
  return lines;
}

class CsvSink final : public CsvPredictionSink {
 public:
  CsvSink(std::unique_ptr<BufferedFile> file, VersionColumns columns, int64_t lines)
      : file_(std::move(file)), columns_(columns), lines_(lines) {}

  void Write(const core::Event& event, const Pipeline::Scores& scores,
             const Served& served) override {
    ++lines_;
    std::string& out = file_->buffer();
    absl::StrAppend(&out, event.row, ",");
    AppendCsvField(event.id, &out);
    out.push_back(',');
    AppendOptionalDouble(event.event_time, &out);
    out.push_back(',');
    if (event.label.has_value()) out.push_back(*event.label ? '1' : '0');
    out.push_back(',');
    AppendOptionalDouble(scores.anomaly, &out);
    out.push_back(',');
    AppendOptionalDouble(scores.fraud, &out);
    if (columns_ != VersionColumns::kNone) absl::StrAppend(&out, ",", served.version);
    if (columns_ == VersionColumns::kContinuous) {
      absl::StrAppend(&out, ",", served.events_since_snapshot);
    }
    out.push_back('\n');
    file_->MaybeFlush();
  }

  absl::StatusOr<Position> Flush() override { return Position{file_->Flush(), lines_}; }

  absl::Status Close() override { return file_->Close(); }

 private:
  std::unique_ptr<BufferedFile> file_;
  VersionColumns columns_;
  int64_t lines_;  // Predictions written, header excluded.
};

}  // namespace

std::string PredictionsHeader(VersionColumns columns) {
  return absl::StrCat("row,id,event_time,label,anomaly_score,fraud_probability",
                      columns == VersionColumns::kNone ? "" : ",model_version",
                      columns == VersionColumns::kContinuous ? ",events_since_snapshot" : "");
}

std::vector<std::string> PredictionFields(const core::Event& event, const Pipeline::Scores& scores,
                                          const Served& served, VersionColumns columns) {
  const auto number = [](double v) {
    std::string out;
    AppendOptionalDouble(v, &out);
    return out;
  };
  std::vector<std::string> fields = {
      absl::StrCat(event.row),  event.id,
      number(event.event_time), event.label.has_value() ? (*event.label ? "1" : "0") : "",
      number(scores.anomaly),   number(scores.fraud)};
  if (columns != VersionColumns::kNone) fields.push_back(absl::StrCat(served.version));
  if (columns == VersionColumns::kContinuous) {
    fields.push_back(absl::StrCat(served.events_since_snapshot));
  }
  return fields;
}

absl::StatusOr<std::unique_ptr<CsvPredictionSink>> NewCsvPredictionSink(
    const std::string& path, VersionColumns columns,
    std::optional<PredictionSink::Position> resume) {
  if (!resume.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<BufferedFile> file, BufferedFile::Create(path));
    file->Append(absl::StrCat(PredictionsHeader(columns), "\n"));
    return std::make_unique<CsvSink>(std::move(file), columns, 0);
  }
  char last = '\n';
  SLUICE_ASSIGN_OR_RETURN(const int64_t lines, CountLines(path, resume->bytes, &last));
  if (lines != resume->lines + 1 || last != '\n') {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": the snapshot recorded the header and ", resume->lines,
                     " predictions in its first ", resume->bytes, " bytes, but they hold ", lines,
                     " line breaks", last != '\n' ? " and end inside a line" : "",
                     ": the file was edited or replaced since; refusing to continue it"));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<BufferedFile> file,
                          BufferedFile::Resume(path, resume->bytes));
  return std::make_unique<CsvSink>(std::move(file), columns, resume->lines);
}

}  // namespace sluice::engine
