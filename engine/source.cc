// engine/source.cc
#include "engine/source.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace sluice::engine {
namespace {

class CsvSource final : public Source {
 public:
  CsvSource(std::unique_ptr<CsvReader> reader, int64_t max_rows)
      : reader_(std::move(reader)), max_rows_(max_rows) {}

  absl::StatusOr<ReadResult> Read(absl::Duration /*timeout*/, core::Event* event) override {
    if (max_rows_ >= 0 && reader_->rows_read() >= max_rows_) return ReadResult::kEndOfStream;
    SLUICE_ASSIGN_OR_RETURN(const CsvReader::Result result, reader_->Next(event));
    switch (result) {
      case CsvReader::Result::kEvent:
        return ReadResult::kEvent;
      case CsvReader::Result::kBadRow:
        return ReadResult::kBadRecord;
      case CsvReader::Result::kEndOfStream:
        break;
    }
    return ReadResult::kEndOfStream;
  }

  const std::string& bad_record_message() const override { return reader_->bad_row_message(); }

  SourcePosition Position() override { return {reader_->rows_read(), reader_->ConsumedSha256()}; }

  absl::Status Seek(const SourcePosition& position) override {
    SLUICE_ASSIGN_OR_RETURN(const int64_t skipped, reader_->SkipRows(position.records));
    if (skipped != position.records) {
      return absl::FailedPreconditionError(
          absl::StrCat(reader_->name(), " has ", skipped, " rows; the position is after row ",
                       position.records, ": is this the input the run started with?"));
    }
    if (!position.digest.empty()) {
      const std::string digest = reader_->ConsumedSha256();
      if (digest != position.digest) {
        return absl::FailedPreconditionError(absl::StrCat(
            reader_->name(), ": its first ", position.records, " rows have SHA-256 ", digest,
            ", the recorded input had ", position.digest, ": this is another input"));
      }
    }
    return absl::OkStatus();
  }

  const std::string& description() const override { return reader_->name(); }
  const std::vector<std::string>& feature_names() const override {
    return reader_->feature_names();
  }
  bool has_time() const override { return reader_->has_time(); }
  int64_t records_read() const override { return reader_->rows_read(); }

 private:
  std::unique_ptr<CsvReader> reader_;
  const int64_t max_rows_;
};

}  // namespace

std::unique_ptr<Source> NewCsvSource(std::unique_ptr<CsvReader> reader, int64_t max_rows) {
  return std::make_unique<CsvSource>(std::move(reader), max_rows);
}

}  // namespace sluice::engine
