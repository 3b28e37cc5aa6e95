// engine/kafka/feed.cc
#include "engine/kafka/feed.h"

#include <chrono>
#include <limits>
#include <queue>
#include <thread>
#include <utility>

#include "core/status_macros.h"
#include "engine/event_json.h"

namespace sluice::engine::kafka {
namespace {

// Labels in the order they become known: by time, then in the order they were added.
struct Later {
  bool operator()(const std::pair<LabelRecord, int64_t>& a,
                  const std::pair<LabelRecord, int64_t>& b) const {
    return a.first.time != b.first.time ? a.first.time > b.first.time : a.second > b.second;
  }
};
using LabelQueue = std::priority_queue<std::pair<LabelRecord, int64_t>,
                                       std::vector<std::pair<LabelRecord, int64_t>>, Later>;

// Sends every queued label known by `time` (all of them for +infinity).
absl::Status SendLabelsUntil(double time, const FeedOptions& options, Producer& producer,
                             LabelQueue& queue, FeedCounts* counts) {
  std::string json;
  while (!queue.empty() && queue.top().first.time <= time) {
    const LabelRecord& label = queue.top().first;
    json.clear();
    AppendLabelJson(label, &json);
    SLUICE_RETURN_IF_ERROR(producer.Send(options.labels_topic, -1, label.id, json));
    ++counts->labels;
    queue.pop();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FeedCounts> Feed(CsvReader& reader, Producer& producer, const FeedOptions& options,
                                const std::atomic<bool>* stop) {
  LabelQueue queue;
  int64_t added = 0;
  for (const LabelRecord& l : options.labels) queue.emplace(l, added++);
  FeedCounts counts;
  core::Event event;
  std::string json;
  // Connected before the clock starts, so that the first events are not held back.
  for (const std::string& topic : {options.transactions_topic, options.labels_topic}) {
    if (absl::Status s = producer.Prepare(topic, absl::Seconds(30)); !absl::IsNotFound(s)) {
      SLUICE_RETURN_IF_ERROR(s);  // A missing topic may be created on first use.
    }
  }
  const auto start = std::chrono::steady_clock::now();
  while (stop == nullptr || !stop->load()) {
    SLUICE_ASSIGN_OR_RETURN(const CsvReader::Result result, reader.Next(&event));
    if (result == CsvReader::Result::kEndOfStream) break;
    if (result == CsvReader::Result::kBadRow) {
      return absl::InvalidArgumentError(reader.bad_row_message());
    }
    SLUICE_RETURN_IF_ERROR(SendLabelsUntil(event.event_time, options, producer, queue, &counts));
    json.clear();
    AppendEventJson(event, reader.feature_names(), reader.feature_text(), &json);
    SLUICE_RETURN_IF_ERROR(producer.Send(options.transactions_topic, -1, event.id, json));
    ++counts.events;
    if (options.label_delay_seconds.has_value() && event.label.has_value() &&
        (*event.label || options.all_labels)) {
      queue.emplace(
          LabelRecord{event.id, *event.label, event.event_time + *options.label_delay_seconds},
          added++);
    }
    if (options.rate > 0 && counts.events % 100 == 0) {
      std::this_thread::sleep_until(
          start + std::chrono::duration<double>(static_cast<double>(counts.events) / options.rate));
    }
  }
  SLUICE_RETURN_IF_ERROR(
      SendLabelsUntil(std::numeric_limits<double>::infinity(), options, producer, queue, &counts));
  SLUICE_RETURN_IF_ERROR(producer.Flush(absl::Minutes(5)));
  return counts;
}

}  // namespace sluice::engine::kafka
