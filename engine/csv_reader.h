// engine/csv_reader.h. Turns a CSV with a header row into validated Events, one row at a time.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/event.h"
#include "core/sha256.h"
#include "engine/byte_stream.h"

namespace sluice::engine {

// Reads RFC 4180-style CSV: comma separated, optional double quotes ("" inside quotes is a
// quote), LF or CRLF line ends, an optional UTF-8 byte-order mark. A newline always ends a row.
// Blank lines are skipped. Every column that is not the label, the id or excluded is a feature
// (the time column too, unless excluded). Not thread-safe.
class CsvReader {
 public:
  struct Options {
    std::string label_column = "Class";  // Empty: the file has no labels.
    std::string time_column = "Time";    // Empty: no event time.
    bool time_column_required = false;   // If false, a missing time column means "no time".
    std::string id_column;               // Empty: the id is the row number.
    std::vector<std::string> exclude;    // Columns that are not features.
    bool features_required = true;       // false: a file of ids, labels and times only.
    bool hash = true;  // Keep the SHA-256 of what was read (ConsumedSha256); ~6 % of the reading.
  };
  enum class Result { kEvent, kBadRow, kEndOfStream };

  // Reads and checks the header. InvalidArgument (naming `name` and the column) for an empty
  // file, a bad header (a column without a name, a duplicate, a NUL byte in a name), a missing
  // label/time/id column, an unknown excluded column, a column given two roles (label, id, time,
  // or label/id and excluded; excluding the time column is allowed) or no features left.
  // Messages echo at most 80 bytes of any piece of input.
  static absl::StatusOr<std::unique_ptr<CsvReader>> Create(std::string name,
                                                           std::unique_ptr<ByteStream> stream,
                                                           const Options& options);
  // Create() over the file at `path`; NotFound if it does not exist.
  static absl::StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                         const Options& options);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next data row into *event (its buffers are reused). kBadRow: the row was consumed
  // and bad_row_message() says "NAME:LINE: column COL: reason". An I/O error ends the stream.
  absl::StatusOr<Result> Next(core::Event* event);
  const std::string& bad_row_message() const { return bad_row_message_; }
  // The next data row's fields as text, without roles or conversion, for files that are not
  // event streams (the views live until the next call). kBadRow: a malformed quote or a wrong
  // field count, as Next() reports them.
  absl::StatusOr<Result> NextFields(std::vector<absl::string_view>* fields);
  // The line of the last row read (1 is the header).
  int64_t line_number() const { return line_number_; }
  // Skips up to `rows` data rows without parsing them (a resumed run's rows); returns how many
  // there were.
  absl::StatusOr<int64_t> SkipRows(int64_t rows);

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // The text of each feature of the row Next() read last, in feature_names() order (views valid
  // until the next call): what a writer can copy instead of formatting the number again.
  const std::vector<absl::string_view>& feature_text() const { return feature_text_; }
  const std::vector<std::string>& columns() const { return columns_; }
  bool has_label() const { return label_index_ >= 0; }
  bool has_time() const { return time_index_ >= 0; }
  const std::string& name() const { return name_; }
  // Data rows read so far, bad ones included.
  int64_t rows_read() const { return rows_read_; }
  // Bytes read from the stream so far, in 1 MiB steps. Thread-safe, for progress reports while
  // another thread reads.
  int64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }
  // SHA-256 of the input's bytes up to the end of the last row read (header included): the
  // exact data behind a snapshot, and the whole file's SHA-256 once it was read to the end.
  // Hashing happens as the bytes stream by, so this costs ~1 us. Empty without Options::hash.
  std::string ConsumedSha256();

 private:
  CsvReader(std::string name, std::unique_ptr<ByteStream> stream);
  absl::Status ReadHeader(const Options& options);
  // InvalidArgument if the label, id and time columns are not three different columns, or the
  // label or id column is excluded.
  absl::Status CheckOneRolePerColumn(const std::vector<bool>& excluded) const;
  // Sets *line to the next line without its terminator; false at the end of the stream.
  absl::StatusOr<bool> NextLine(absl::string_view* line);
  // The next line that is not blank; false at the end of the stream.
  absl::StatusOr<bool> NextRowLine(absl::string_view* line);
  // SplitFields() and the field count check; false after setting bad_row_message_.
  bool SplitRow(absl::string_view line);
  // Splits a line with quotes into fields_; false (with *error set) on a malformed quote.
  bool SplitFields(absl::string_view line, std::string* error);
  // Each returns false after setting bad_row_message_. A row with the wrong number of fields
  // reports its field count (FieldCountError) before any per-column problem.
  bool ParseUnquotedRow(absl::string_view line, core::Event* event);
  bool ParseUnquotedFields(absl::string_view line, core::Event* event);
  bool ParseField(size_t column, absl::string_view field, core::Event* event);
  bool FieldCountError(size_t fields);
  bool BadRow(absl::string_view column, absl::string_view reason);

  std::string name_;
  std::unique_ptr<ByteStream> stream_;
  std::string buffer_;
  size_t begin_ = 0;  // Unconsumed bytes are buffer_[begin_, end_).
  size_t end_ = 0;
  bool eof_ = false;
  int64_t line_number_ = 0;
  int64_t rows_read_ = 0;
  std::atomic<int64_t> bytes_read_{0};
  void Hash();  // Hashes buffer_[hashed_, begin_).
  bool hash_ = true;
  core::Sha256 sha_;  // Of the bytes before buffer_[hashed_].
  size_t hashed_ = 0;

  std::vector<std::string> columns_;
  std::vector<std::string> feature_names_;
  std::vector<int> feature_of_column_;  // Column -> feature index, or -1.
  std::vector<absl::string_view> feature_text_;
  int label_index_ = -1;
  int time_index_ = -1;
  int id_index_ = -1;

  std::vector<absl::string_view> fields_;
  std::deque<std::string> unescaped_;  // Owns fields that contained "" escapes.
  std::string bad_row_message_;
};

}  // namespace sluice::engine
