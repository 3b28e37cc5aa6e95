// engine/csv_reader.cc
#include "engine/csv_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/format.h"
#include "core/status_macros.h"

namespace sluice::engine {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

// At most this many bytes of any piece of input (a field, a column name, a list of columns)
// appear in a message, so that a 10 MB header gives a one-line error.
constexpr size_t kShownBytes = 80;

// `text` cut to kShownBytes (at a UTF-8 character boundary) with control characters shown as
// '?'; a cut text ends with "…".
std::string Shown(absl::string_view text) {
  if (text.size() <= kShownBytes) {
    std::string shown(text);
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return shown;
  }
  size_t cut = kShownBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(Shown(text.substr(0, cut)), "…");
}

// Shows a field in an error message: quoted, escaped, and cut if long.
std::string Quote(absl::string_view text) { return absl::StrCat("\"", Shown(text), "\""); }

// The header's columns for a message: "a,b,c", cut like any shown input, with the count.
std::string ShownColumns(const std::vector<std::string>& columns) {
  std::string joined;
  for (const std::string& column : columns) {
    if (!joined.empty()) joined += ',';
    joined += column;
    if (joined.size() > kShownBytes) break;  // Enough to show; never join a 10 MB header.
  }
  return absl::StrCat(Shown(joined),
                      columns.size() > 3 ? absl::StrCat("; ", columns.size(), " columns") : "");
}

}  // namespace

CsvReader::CsvReader(std::string name, std::unique_ptr<ByteStream> stream)
    : name_(std::move(name)), stream_(std::move(stream)) {
  buffer_.resize(kChunkBytes);
}

absl::StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path,
                                                           const Options& options) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> stream, OpenFileStream(path));
  return Create(path, std::move(stream), options);
}

absl::StatusOr<std::unique_ptr<CsvReader>> CsvReader::Create(std::string name,
                                                             std::unique_ptr<ByteStream> stream,
                                                             const Options& options) {
  std::unique_ptr<CsvReader> reader(new CsvReader(std::move(name), std::move(stream)));
  reader->hash_ = options.hash;
  SLUICE_RETURN_IF_ERROR(reader->ReadHeader(options));
  return reader;
}

absl::StatusOr<bool> CsvReader::NextLine(absl::string_view* line) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(start, '\n', end_ - begin_);
    if (newline != nullptr) {
      const auto length = static_cast<size_t>(static_cast<const char*>(newline) - start);
      *line = absl::string_view(start, length);
      begin_ += length + 1;
      break;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      *line = absl::string_view(start, end_ - begin_);  // A last line without a newline.
      begin_ = end_;
      break;
    }
    // Move the partial line to the front, grow if one line fills the buffer, and read more.
    if (begin_ > 0) {
      Hash();
      hashed_ = 0;
      std::memmove(buffer_.data(), start, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    SLUICE_ASSIGN_OR_RETURN(const size_t n,
                            stream_->Read(buffer_.data() + end_, buffer_.size() - end_));
    if (n == 0) eof_ = true;
    end_ += n;
    bytes_read_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  }
  ++line_number_;
  if (begin_ - hashed_ >= (1 << 16)) Hash();  // As we go: ConsumedSha256() finds little left.
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

bool CsvReader::SplitFields(absl::string_view line, std::string* error) {
  fields_.clear();
  unescaped_.clear();
  size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      std::string value;
      bool escaped = false;
      size_t j = i + 1;
      while (true) {
        const size_t quote = line.find('"', j);
        if (quote == absl::string_view::npos) {
          *error = "unterminated quoted field";
          return false;
        }
        value.append(line.data() + j, quote - j);
        if (quote + 1 < line.size() && line[quote + 1] == '"') {
          value.push_back('"');
          escaped = true;
          j = quote + 2;
          continue;
        }
        if (escaped) {
          unescaped_.push_back(std::move(value));
          fields_.push_back(unescaped_.back());
        } else {
          fields_.push_back(line.substr(i + 1, quote - i - 1));
        }
        i = quote + 1;
        break;
      }
      if (i == line.size()) return true;
      if (line[i] != ',') {
        *error = "text after a closing quote";
        return false;
      }
      ++i;
    } else {
      const size_t comma = line.find(',', i);
      if (comma == absl::string_view::npos) {
        fields_.push_back(line.substr(i));
        return true;
      }
      fields_.push_back(line.substr(i, comma - i));
      i = comma + 1;
    }
  }
}

// One role per column: ParseField gives a column its first role only, so a second one would
// silently read as empty. Excluding the time column is allowed: it keeps the time, drops the
// feature.
absl::Status CsvReader::CheckOneRolePerColumn(const std::vector<bool>& excluded) const {
  struct Role {
    int index;
    const char* name;
  };
  const Role roles[] = {{label_index_, "label"}, {id_index_, "id"}, {time_index_, "time"}};
  for (size_t a = 0; a < std::size(roles); ++a) {
    if (roles[a].index < 0) continue;
    for (size_t b = a + 1; b < std::size(roles); ++b) {
      if (roles[a].index == roles[b].index) {
        return absl::InvalidArgumentError(absl::StrCat(
            name_, ":1: column ", Quote(columns_[static_cast<size_t>(roles[a].index)]),
            " cannot be both the ", roles[a].name, " column and the ", roles[b].name, " column"));
      }
    }
    if (a < 2 && excluded[static_cast<size_t>(roles[a].index)]) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ":1: column ", Quote(columns_[static_cast<size_t>(roles[a].index)]),
                       " cannot be both the ", roles[a].name, " column and an excluded column"));
    }
  }
  return absl::OkStatus();
}

absl::Status CsvReader::ReadHeader(const Options& options) {
  absl::string_view line;
  SLUICE_ASSIGN_OR_RETURN(const bool has_header, NextLine(&line));
  if (!has_header) return absl::InvalidArgumentError(absl::StrCat(name_, ": empty file"));
  if (absl::StartsWith(line, kByteOrderMark)) line.remove_prefix(kByteOrderMark.size());
  if (line.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ":1: empty header line"));
  }
  std::string error;
  if (!SplitFields(line, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ":1: header: ", error));
  }
  absl::flat_hash_map<std::string, int> index;
  for (const absl::string_view field : fields_) {
    const std::string column(field);
    if (column.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ":1: header: column ", columns_.size() + 1, " has no name"));
    }
    if (column.find('\0') != std::string::npos) {
      // A NUL cannot travel through the names' C-string and JSON uses downstream.
      return absl::InvalidArgumentError(absl::StrCat(name_, ":1: header: column ",
                                                     columns_.size() + 1, " (", Quote(column),
                                                     ") contains a NUL byte"));
    }
    if (!index.emplace(column, static_cast<int>(columns_.size())).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ":1: header: duplicate column ", Quote(column)));
    }
    columns_.push_back(column);
  }
  const auto find = [&](const std::string& column, const char* flag, bool required,
                        int* out) -> absl::Status {
    if (column.empty()) return absl::OkStatus();
    const auto it = index.find(column);
    if (it != index.end()) {
      *out = it->second;
    } else if (required) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ":1: ", flag, " column ", Quote(column),
                       " is not in the header (columns: ", ShownColumns(columns_), ")"));
    }
    return absl::OkStatus();
  };
  SLUICE_RETURN_IF_ERROR(find(options.label_column, "label", true, &label_index_));
  SLUICE_RETURN_IF_ERROR(
      find(options.time_column, "time", options.time_column_required, &time_index_));
  SLUICE_RETURN_IF_ERROR(find(options.id_column, "id", true, &id_index_));
  std::vector<bool> excluded(columns_.size(), false);
  for (const std::string& column : options.exclude) {
    int i = -1;
    SLUICE_RETURN_IF_ERROR(find(column, "excluded", true, &i));
    if (i >= 0) excluded[static_cast<size_t>(i)] = true;
  }
  SLUICE_RETURN_IF_ERROR(CheckOneRolePerColumn(excluded));
  feature_of_column_.assign(columns_.size(), -1);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const int column = static_cast<int>(i);
    if (excluded[i] || column == label_index_ || column == id_index_) continue;
    feature_of_column_[i] = static_cast<int>(feature_names_.size());
    feature_names_.push_back(columns_[i]);
  }
  if (feature_names_.empty() && options.features_required) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ":1: no feature columns left"));
  }
  return absl::OkStatus();
}

bool CsvReader::BadRow(absl::string_view column, absl::string_view reason) {
  bad_row_message_ =
      absl::StrCat(name_, ":", line_number_, ": column ", Shown(column), ": ", reason);
  return false;
}

bool CsvReader::ParseField(size_t column, absl::string_view field, core::Event* event) {
  const int index = static_cast<int>(column);
  if (index == label_index_) {
    if (field == "1") {
      event->label = true;
    } else if (field == "0") {
      event->label = false;
    } else {
      return BadRow(columns_[column], absl::StrCat("label must be 0 or 1, got ", Quote(field)));
    }
    return true;
  }
  if (index == id_index_) {
    event->id.assign(field.data(), field.size());
    return true;
  }
  const int feature = feature_of_column_[column];
  if (feature < 0 && index != time_index_) return true;  // Excluded.
  const std::optional<double> value = core::ParseDouble(field);
  if (!value.has_value()) {
    return BadRow(columns_[column], field.empty() ? std::string("empty value")
                                                  : absl::StrCat("not a number: ", Quote(field)));
  }
  if (!std::isfinite(*value)) {
    return BadRow(columns_[column], absl::StrCat("not a finite number: ", Quote(field)));
  }
  if (feature >= 0) {
    event->features[static_cast<size_t>(feature)] = *value;
    feature_text_[static_cast<size_t>(feature)] = field;
  }
  if (index == time_index_) event->event_time = *value;
  return true;
}

bool CsvReader::FieldCountError(size_t fields) {
  if (fields < columns_.size()) {
    return BadRow(columns_[fields], absl::StrCat("missing (the row has ", fields,
                                                 " fields, the header ", columns_.size(), ")"));
  }
  return BadRow(absl::StrCat("#", columns_.size() + 1),
                absl::StrCat("unexpected (the row has ", fields, " fields, the header ",
                             columns_.size(), ")"));
}

bool CsvReader::ParseUnquotedRow(absl::string_view line, core::Event* event) {
  if (ParseUnquotedFields(line, event)) return true;
  // A row with the wrong number of fields reports that first, whatever column failed before
  // the count could be known (counting only after a failure keeps good rows at one pass).
  const auto fields = static_cast<size_t>(std::count(line.begin(), line.end(), ',')) + 1;
  if (fields != columns_.size()) FieldCountError(fields);
  return false;
}

bool CsvReader::ParseUnquotedFields(absl::string_view line, core::Event* event) {
  // One pass: split and convert together. A plain decimal feature is converted as it is
  // scanned; any other field is cut at its comma and handed to ParseField.
  const char* p = line.data();
  const char* const end = p + line.size();
  const size_t columns = columns_.size();
  for (size_t column = 0; column < columns; ++column) {
    const int feature = feature_of_column_[column];
    bool converted = false;
    if (feature >= 0 && static_cast<int>(column) != time_index_) {
      double value = 0;
      bool exact = false;
      const char* stop = core::ParseDecimalPrefix(p, end, &value, &exact);
      if (exact && (stop == end || *stop == ',')) {
        event->features[static_cast<size_t>(feature)] = value;
        feature_text_[static_cast<size_t>(feature)] =
            absl::string_view(p, static_cast<size_t>(stop - p));
        p = stop;
        converted = true;
      }
    }
    if (!converted) {
      const char* comma = p;
      while (comma != end && *comma != ',') ++comma;
      if (!ParseField(column, absl::string_view(p, static_cast<size_t>(comma - p)), event)) {
        return false;
      }
      p = comma;
    }
    if (column + 1 < columns) {
      if (p == end) return FieldCountError(column + 1);
      ++p;  // The comma.
    }
  }
  if (p != end)
    return FieldCountError(columns + 1 + static_cast<size_t>(std::count(p + 1, end, ',')));
  return true;
}

std::string CsvReader::ConsumedSha256() {
  if (!hash_) return std::string();
  Hash();
  core::Sha256 copy = sha_;
  return copy.HexDigest();
}

absl::StatusOr<int64_t> CsvReader::SkipRows(int64_t rows) {
  int64_t skipped = 0;
  absl::string_view line;
  while (skipped < rows) {
    SLUICE_ASSIGN_OR_RETURN(const bool more, NextLine(&line));
    if (!more) break;
    if (line.empty()) continue;  // Blank lines are not rows.
    ++skipped;
    ++rows_read_;
  }
  return skipped;
}

void CsvReader::Hash() {
  if (hash_) sha_.Update(absl::string_view(buffer_.data() + hashed_, begin_ - hashed_));
  hashed_ = begin_;
}

absl::StatusOr<bool> CsvReader::NextRowLine(absl::string_view* line) {
  do {
    SLUICE_ASSIGN_OR_RETURN(const bool more, NextLine(line));
    if (!more) return false;
  } while (line->empty());  // Blank lines carry no row.
  return true;
}

bool CsvReader::SplitRow(absl::string_view line) {
  std::string error;
  if (!SplitFields(line, &error)) {
    return BadRow(columns_[std::min(fields_.size(), columns_.size() - 1)], error);
  }
  return fields_.size() == columns_.size() || FieldCountError(fields_.size());
}

absl::StatusOr<CsvReader::Result> CsvReader::NextFields(std::vector<absl::string_view>* fields) {
  absl::string_view line;
  SLUICE_ASSIGN_OR_RETURN(const bool more, NextRowLine(&line));
  if (!more) return Result::kEndOfStream;
  ++rows_read_;
  if (!SplitRow(line)) return Result::kBadRow;
  *fields = fields_;
  return Result::kEvent;
}

absl::StatusOr<CsvReader::Result> CsvReader::Next(core::Event* event) {
  absl::string_view line;
  SLUICE_ASSIGN_OR_RETURN(const bool more, NextRowLine(&line));
  if (!more) return Result::kEndOfStream;
  event->row = rows_read_++;
  event->features.resize(feature_names_.size());
  feature_text_.resize(feature_names_.size());
  event->event_time = core::kMissing;
  event->label.reset();
  if (line.find('"') == absl::string_view::npos) {
    if (!ParseUnquotedRow(line, event)) return Result::kBadRow;
  } else {
    if (!SplitRow(line)) return Result::kBadRow;
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (!ParseField(i, fields_[i], event)) return Result::kBadRow;
    }
  }
  if (id_index_ < 0) event->id = absl::StrCat(event->row);
  return Result::kEvent;
}

}  // namespace sluice::engine
