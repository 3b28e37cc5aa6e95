// engine/kafka/feed.h. Pushes an event stream into the transactions topic as JSON events keyed by
// id, and its labels into the labels topic, each label when its time comes: what `sluice
// produce` and `sluice live --demo` do.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/csv_reader.h"
#include "engine/kafka/client.h"
#include "engine/label_record.h"

namespace sluice::engine::kafka {

struct FeedOptions {
  std::string transactions_topic = "transactions";
  std::string labels_topic = "labels";
  double rate = 0;  // Events per second; 0: as fast as the broker takes them.
  // Each row's label, label_delay_seconds of event time after it: the frauds only, or every one
  // with all_labels...
  std::optional<double> label_delay_seconds;
  bool all_labels = false;
  // ...or these (sorted by time), each sent just before the first event at or after its time.
  std::vector<LabelRecord> labels;
};

struct FeedCounts {
  int64_t events = 0;
  int64_t labels = 0;
};

// Sends every row of `reader` until its end or `stop` (may be null) is set, then the labels
// still due, and waits for delivery. InvalidArgument with the row's message at a bad row.
absl::StatusOr<FeedCounts> Feed(CsvReader& reader, Producer& producer, const FeedOptions& options,
                                const std::atomic<bool>* stop = nullptr);

}  // namespace sluice::engine::kafka
