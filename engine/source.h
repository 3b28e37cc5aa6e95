// engine/source.h. Where events come from: the one interface every input (CSV file, the
// built-in stream, later Kafka partitions) implements, so that all of them take the same path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/event.h"
#include "engine/csv_reader.h"

namespace sluice::engine {

enum class ReadResult {
  kEvent,        // *event holds the next event.
  kIdle,         // Nothing arrived in time; poll again.
  kBadRecord,    // A record was consumed but is malformed: see bad_record_message().
  kEndOfStream,  // Nothing more will come.
  kStopped,      // Asked to stop (a signal): the stream goes on, a restarted run continues it.
};

// Where a source stands: `records` records (events and bad ones) lie behind it, and `digest`
// fingerprints them (CSV: the SHA-256 of the bytes read, header included). Opaque to callers
// except for lineage; Seek() takes it back.
struct SourcePosition {
  int64_t records = 0;
  std::string digest;
};

// A stream of events, read by one thread at a time. Not thread-safe.
class Source {
 public:
  virtual ~Source() = default;
  // Waits at most `timeout` for the next record and writes an event into *event (its buffers are
  // reused). An error (I/O) ends the stream.
  virtual absl::StatusOr<ReadResult> Read(absl::Duration timeout, core::Event* event) = 0;
  // After kBadRecord: "NAME:LINE: column COL: reason".
  virtual const std::string& bad_record_message() const = 0;
  // The position after the last record read.
  virtual SourcePosition Position() = 0;
  // Continues after `position`, taken from a source over the same input. Requires: nothing was
  // read yet. FailedPrecondition, naming both fingerprints, if the input is not the one the
  // position came from (fewer records, or other bytes behind them).
  virtual absl::Status Seek(const SourcePosition& position) = 0;
  // One line for lineage and messages, e.g. the file name.
  virtual const std::string& description() const = 0;
  // The schema, in dense order.
  virtual const std::vector<std::string>& feature_names() const = 0;
  // Whether events carry an event time.
  virtual bool has_time() const = 0;
  // Records read so far (bad ones included).
  virtual int64_t records_read() const = 0;
};

// A source over CSV rows; stops after `max_rows` data rows (-1: all; a resumed source counts the
// rows it skipped). `reader` may be over a file or the built-in stream.
std::unique_ptr<Source> NewCsvSource(std::unique_ptr<CsvReader> reader, int64_t max_rows = -1);

}  // namespace sluice::engine
