// engine/kafka/topics.cc
#include "engine/kafka/topics.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/flat_json.h"
#include "core/status_macros.h"
#include "engine/event_json.h"

namespace sluice::engine::kafka {
namespace {

constexpr absl::Duration kLabelWait = absl::Milliseconds(100);

double NowSeconds() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

std::string PartitionName(const std::string& topic, int32_t partition) {
  return absl::StrCat(topic, "/", partition);
}

// Consumes one partition from an offset set before the first read, through the input's shared
// Fetcher.
class PartitionReader {
 public:
  // Starts reading the partition from its beginning right away, so that the client has fetched
  // by the time the stream starts (a first fetch takes ~0.5 s); Seek() starts it elsewhere.
  static absl::StatusOr<PartitionReader> Start(const PartitionInput& input,
                                               const std::string& topic) {
    PartitionReader reader;
    SLUICE_ASSIGN_OR_RETURN(reader.partition_,
                            input.fetcher->Start(topic, input.partition, Consumer::kBeginning));
    return reader;
  }

  // The message read, valid until the next call (its buffers are reused).
  absl::StatusOr<const PollResult*> Poll(absl::Duration timeout) {
    SLUICE_RETURN_IF_ERROR(partition_->Poll(timeout, &polled_));
    if (polled_.kind == PollResult::kMessage) next_offset_ = polled_.message.offset + 1;
    return &polled_;
  }
  // The offset of the next message; Consumer::kBeginning until one was read or a seek.
  int64_t next_offset() const { return next_offset_; }
  // Messages behind next_offset(), as of the last fetch; -1 if unknown.
  int64_t Lag() const {
    const int64_t high = partition_->CachedHighWatermark();
    return high < 0 || next_offset_ < 0 ? -1 : std::max<int64_t>(high - next_offset_, 0);
  }
  absl::Status Seek(int64_t offset) {
    next_offset_ = offset;
    return partition_->Seek(offset);
  }
  absl::Status Pause(bool paused) { return partition_->Pause(paused); }

 private:
  PartitionReader() = default;
  std::unique_ptr<Fetcher::Partition> partition_;
  int64_t next_offset_ = Consumer::kBeginning;
  PollResult polled_;
};

class EventSource final : public KafkaEventSource {
 public:
  EventSource(const PartitionInput& input, PartitionReader reader,
              std::vector<std::string> features, DeadLetters* dead_letters, Producer* outputs)
      : input_(input),
        reader_(std::move(reader)),
        parser_(std::move(features)),
        dead_letters_(dead_letters),
        outputs_(outputs),
        description_(
            absl::StrCat("kafka:", PartitionName(input.topics.transactions, input.partition))) {}

  absl::StatusOr<ReadResult> Read(absl::Duration timeout, core::Event* event) override {
    if (input_.stop != nullptr && input_.stop->load()) return ReadResult::kStopped;
    // Every 64 reads: asking librdkafka takes its locks.
    if (outputs_ != nullptr && (++reads_ & 63) == 0 &&
        outputs_->queued() > outputs_->capacity() / 2) {
      SLUICE_RETURN_IF_ERROR(WaitForOutputs());
      return ReadResult::kIdle;
    }
    SLUICE_ASSIGN_OR_RETURN(const PollResult* polled, reader_.Poll(timeout));
    if (polled->kind == PollResult::kTimeout) return ReadResult::kIdle;
    if (polled->kind == PollResult::kEndOfPartition) {
      lag_.store(0, std::memory_order_relaxed);
      return input_.stop_at_end ? ReadResult::kEndOfStream : ReadResult::kIdle;
    }
    if ((++records_ & 255) == 0) lag_.store(reader_.Lag(), std::memory_order_relaxed);
    const Message& m = polled->message;
    if (absl::Status parsed = parser_.Parse(m.value, event); !parsed.ok()) {
      bad_record_message_ =
          absl::StrCat(description_, " offset ", m.offset, ": ", parsed.message());
      if (dead_letters_ != nullptr) {
        SLUICE_RETURN_IF_ERROR(dead_letters_->Send(m, parsed.message()));
      }
      return ReadResult::kBadRecord;
    }
    event->row = m.offset;
    offset_.store(m.offset + 1, std::memory_order_relaxed);
    if (event->id.empty()) event->id = absl::StrCat(m.partition, ":", m.offset);
    event->arrival_time =
        m.timestamp_ms >= 0 ? static_cast<double>(m.timestamp_ms) / 1000 : core::kMissing;
    event->consumed_time = NowSeconds();
    last_timestamp_.store(event->arrival_time, std::memory_order_relaxed);
    return ReadResult::kEvent;
  }

  const std::string& bad_record_message() const override { return bad_record_message_; }
  int64_t pauses() const override { return pauses_.load(std::memory_order_relaxed); }
  double paused_seconds() const override { return paused_.load(std::memory_order_relaxed); }

  SourcePosition Position() override {
    const int64_t next = std::max<int64_t>(reader_.next_offset(), 0);
    return SourcePosition{next, absl::StrCat(description_, "@", next)};
  }

  absl::Status Seek(const SourcePosition& position) override {
    if (!absl::StartsWith(position.digest, absl::StrCat(description_, "@"))) {
      return absl::FailedPreconditionError(
          absl::StrCat("the snapshot was taken reading ", position.digest, ", not ", description_));
    }
    records_ = position.records;
    return reader_.Seek(position.records);
  }

  const std::string& description() const override { return description_; }
  int64_t lag() const override { return lag_.load(std::memory_order_relaxed); }
  int64_t offset() const override { return offset_.load(std::memory_order_relaxed); }
  double lag_seconds() const override {
    const double last = last_timestamp_.load(std::memory_order_relaxed);
    if (lag() <= 0 || core::IsMissing(last)) return 0;
    return std::max(0.0, NowSeconds() - last);
  }
  const std::vector<std::string>& feature_names() const override { return parser_.features(); }
  bool has_time() const override { return true; }
  int64_t records_read() const override { return records_; }

 private:
  PartitionInput input_;
  PartitionReader reader_;
  EventJsonParser parser_;
  DeadLetters* dead_letters_;
  Producer* outputs_;
  std::string description_;
  std::string bad_record_message_;
  int64_t records_ = 0;
  std::atomic<int64_t> lag_{-1};  // Refreshed every 256 messages and at the partition's end.
  std::atomic<int64_t> offset_{-1};
  std::atomic<double> last_timestamp_{core::kMissing};
  uint64_t reads_ = 0;
  std::atomic<int64_t> pauses_{0};
  std::atomic<double> paused_{0};

  // Stops fetching until the outputs' producer has caught up (or the run is stopped).
  absl::Status WaitForOutputs() {
    const absl::Time start = absl::Now();
    SLUICE_RETURN_IF_ERROR(reader_.Pause(true));
    while (outputs_->queued() >= outputs_->capacity() / 10 &&
           !(input_.stop != nullptr && input_.stop->load())) {
      outputs_->ServeDeliveries(absl::Milliseconds(2));  // The runner may be waiting for us.
    }
    SLUICE_RETURN_IF_ERROR(reader_.Pause(false));
    pauses_.fetch_add(1, std::memory_order_relaxed);
    paused_.store(
        paused_.load(std::memory_order_relaxed) + absl::ToDoubleSeconds(absl::Now() - start),
        std::memory_order_relaxed);
    return absl::OkStatus();
  }
};

class KafkaLabelSource final : public LabelSource {
 public:
  KafkaLabelSource(PartitionReader reader, DeadLetters* dead_letters)
      : reader_(std::move(reader)), dead_letters_(dead_letters) {}

  absl::Status TakeUntil(double time, Add add) override {
    while (true) {
      if (held_.has_value()) {
        if (held_->time > time) return absl::OkStatus();  // A later label: all due are in.
        add(*held_);
        held_.reset();
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(const bool more,
                              ReadOne(at_end_ ? absl::ZeroDuration() : kLabelWait));
      // Not cut short by a stop: the events read are all processed, each with its labels.
      if (!more && at_end_) return absl::OkStatus();
    }
  }

  absl::Status TakeAll(Add add) override {
    return TakeUntil(std::numeric_limits<double>::infinity(), add);
  }

  absl::Status TakeTo(int64_t to, Add add) override {
    while (position() < to) {
      if (held_.has_value()) {
        add(*held_);
        held_.reset();
        continue;
      }
      SLUICE_ASSIGN_OR_RETURN(const bool more, ReadOne(kLabelWait));
      (void)more;  // The position is reached in the end: these labels were read before.
    }
    return absl::OkStatus();
  }

  int64_t position() const override {
    return held_.has_value() ? held_offset_ : std::max<int64_t>(reader_.next_offset(), 0);
  }

  absl::Status Seek(int64_t position) override {
    if (position < 0) {
      return absl::FailedPreconditionError(absl::StrCat("label offset ", position));
    }
    return reader_.Seek(position);
  }

 private:
  // Reads at most one message into held_ (skipping a malformed one); false if none came within
  // `timeout` or the partition's end was reached (then at_end_).
  absl::StatusOr<bool> ReadOne(absl::Duration timeout) {
    SLUICE_ASSIGN_OR_RETURN(const PollResult* polled, reader_.Poll(timeout));
    if (polled->kind == PollResult::kTimeout) return false;
    if (polled->kind == PollResult::kEndOfPartition) {
      at_end_ = true;
      return false;
    }
    at_end_ = false;
    LabelRecord label;
    if (absl::Status parsed = ParseLabelJson(polled->message.value, &label); !parsed.ok()) {
      if (dead_letters_ != nullptr) {
        SLUICE_RETURN_IF_ERROR(dead_letters_->Send(polled->message, parsed.message()));
      }
      return true;
    }
    held_ = std::move(label);
    held_offset_ = polled->message.offset;
    return true;
  }

  PartitionReader reader_;
  DeadLetters* dead_letters_;
  std::optional<LabelRecord> held_;  // Read, not handed over yet (its time is still to come).
  int64_t held_offset_ = 0;
  bool at_end_ = false;  // Nothing was read since the partition's end was reported.
};

// Reads `topic`/`partition` from `offset` to its current end, handing each message to `take`.
absl::Status ReadToEnd(const PartitionInput& input, const std::string& topic, int32_t partition,
                       int64_t offset, absl::FunctionRef<absl::Status(const Message&)> take) {
  SLUICE_ASSIGN_OR_RETURN(auto consumer,
                          Consumer::Create(input.brokers, input.group, input.settings));
  SLUICE_RETURN_IF_ERROR(consumer->Assign({{topic, partition, offset}}));
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  PollResult polled;
  while (absl::Now() < deadline) {
    SLUICE_RETURN_IF_ERROR(consumer->Poll(absl::Milliseconds(100), &polled));
    if (polled.kind == PollResult::kEndOfPartition) return absl::OkStatus();
    if (polled.kind == PollResult::kMessage) SLUICE_RETURN_IF_ERROR(take(polled.message));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("kafka: reading ", PartitionName(topic, partition), " back from offset ", offset,
                   " did not reach its end within a minute"));
}

// The signal and index of a drift read back (KafkaSink::WriteDrift's), or nullopt if it is not
// one of ours.
std::optional<std::pair<std::string, int64_t>> ParseDriftReadBack(absl::string_view value,
                                                                  int32_t partition) {
  const std::optional<core::FlatJson> json = core::ParseFlatJson(value);
  if (!json.has_value()) return std::nullopt;
  std::string type, signal;
  int64_t index = -1;
  int32_t from = -1;
  for (const auto& [key, text] : *json) {
    if (key == "type") type = text;
    if (key == "signal") signal = text;
    if (key == "index" && !absl::SimpleAtoi(text, &index)) return std::nullopt;
    if (key == "partition" && !absl::SimpleAtoi(text, &from)) return std::nullopt;
  }
  if (type != "\"drift\"" || from != partition || index < 0) return std::nullopt;
  return std::pair(signal, index);
}

// The fields of a prediction read back, or nullopt if it is not one of ours.
struct ReadBack {
  int32_t partition = 0;
  int64_t row = 0;
  int64_t label_offset = -1;
};
std::optional<ReadBack> ParseReadBack(absl::string_view value) {
  const std::optional<core::FlatJson> json = core::ParseFlatJson(value);
  if (!json.has_value()) return std::nullopt;
  ReadBack r;
  int found = 0;
  for (const auto& [key, text] : *json) {
    if (key == "partition") found += absl::SimpleAtoi(text, &r.partition) ? 1 : 0;
    if (key == "row") found += absl::SimpleAtoi(text, &r.row) ? 1 : 0;
    if (key == "label_offset" && !absl::SimpleAtoi(text, &r.label_offset)) return std::nullopt;
  }
  return found == 2 ? std::optional<ReadBack>(r) : std::nullopt;
}

class KafkaSink final : public KafkaPredictionSink {
 public:
  KafkaSink(Producer& producer, const PartitionInput& input, int32_t scores_partition,
            int32_t alerts_partition, const PredictionFormat& format, double alert_threshold,
            const LabelSource* labels, std::string transactional_id, const ServingSlot* global)
      : producer_(producer),
        input_(input),
        scores_partition_(scores_partition),
        alerts_partition_(alerts_partition),
        format_(format),
        alert_threshold_(alert_threshold),
        labels_(labels),
        transactional_id_(std::move(transactional_id)),
        global_(global) {}

  void Write(const core::Event& event, const Pipeline::Scores& own, const Served& served) override {
    Pipeline::Scores scores = own;
    int64_t global_version = 0;
    if (global_ != nullptr) {
      // Held for this event only: a swap meanwhile frees the model it replaced after it.
      if (const std::shared_ptr<const ServingModel> model = global_->Get(); model != nullptr) {
        scores.anomaly = model->Score(event.features).anomaly;
        global_version = model->version();
        // The explanation is of the score sent: the global model's.
        if (own.why != nullptr &&
            model->Explain(event.features, static_cast<int>(own.why->top.size()), &global_why_)) {
          scores.why = &global_why_;
        }
      }
    }
    const bool alert = IsAlert(scores, format_, alert_threshold_);
    std::string& value = value_;  // Reused: no allocation per event.
    value.clear();
    core::FlatJsonWriter json(&value);
    AppendPredictionJson(event, scores, served, format_, json);
    if (global_ != nullptr) json.Int("global_version", global_version);
    json.Int("partition", input_.partition);
    if (labels_ != nullptr) json.Int("label_offset", labels_->position());
    json.Raw("alert", alert ? "true" : "false");
    json.Close();
    bool send_score = true, send_alert = alert;
    if (event.row <= recovered_last_row_) Skip(event.row, value, &send_score, &send_alert);
    if (send_score) {
      Keep(producer_.Send(input_.topics.scores, scores_partition_, event.id, value));
      if (!transactional_id_.empty()) uncommitted_.push_back(NowSeconds());
    }
    if (send_alert) {
      Keep(producer_.Send(input_.topics.alerts, alerts_partition_, event.id, value));
    }
    ++position_.lines;
    position_.bytes += static_cast<int64_t>(value.size());
    if (!core::IsMissing(event.consumed_time)) {
      const double now = NowSeconds();
      absl::MutexLock lock(&mu_);
      if (!core::IsMissing(event.arrival_time))
        interval_.prediction.Record(now - event.arrival_time);
      interval_.processing.Record(now - event.consumed_time);
      if (core::IsMissing(busy_.first_consumed)) busy_.first_consumed = event.consumed_time;
      busy_.last_written = now;
    }
  }

  // Keyed by the signal's name. A restart finds again the drifts its predecessor found past the
  // checkpoint (the detectors are in it): those read back are not sent again.
  void WriteDrift(const Drift& drift) override {
    if (drifted_.erase({absl::StrCat("\"", SignalName(drift.signal), "\""), drift.index}) > 0) {
      return;
    }
    std::string value;
    core::FlatJsonWriter json(&value);
    AppendDriftJson(drift, json);
    json.Int("partition", input_.partition);
    json.Close();
    Keep(producer_.Send(input_.topics.alerts, alerts_partition_, SignalName(drift.signal), value));
  }

  BusyTime busy() const override {
    absl::MutexLock lock(&mu_);
    return busy_;
  }

  Latencies TakeLatencies() override {
    absl::MutexLock lock(&mu_);
    return std::exchange(interval_, Latencies());
  }

  absl::StatusOr<Position> Flush() override {
    SLUICE_RETURN_IF_ERROR(first_error_);
    SLUICE_RETURN_IF_ERROR(producer_.Flush(absl::Minutes(1)));
    if (!transactional_id_.empty()) {
      // Nothing to read back: what follows the checkpoint is aborted unless committed with it.
      position_.resume = TransactionToken(transactional_id_);
      return position_;
    }
    SLUICE_ASSIGN_OR_RETURN(
        const int64_t scores_end,
        producer_.EndOffset(input_.topics.scores, scores_partition_, absl::Seconds(30)));
    SLUICE_ASSIGN_OR_RETURN(
        const int64_t alerts_end,
        producer_.EndOffset(input_.topics.alerts, alerts_partition_, absl::Seconds(30)));
    position_.resume =
        absl::StrCat(Token(input_.topics.scores, scores_partition_), "@", scores_end, " ",
                     Token(input_.topics.alerts, alerts_partition_), "@", alerts_end);
    return position_;
  }

  absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> Recover(const Position& from) override {
    position_ = from;
    int64_t scores_from = 0, alerts_from = 0;
    const std::vector<std::string> parts = absl::StrSplit(from.resume, ' ');
    if (parts.size() != 2 ||
        !ParseToken(parts[0], Token(input_.topics.scores, scores_partition_), &scores_from) ||
        !ParseToken(parts[1], Token(input_.topics.alerts, alerts_partition_), &alerts_from)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint's outputs were \"", from.resume, "\", not ",
          Token(input_.topics.scores, scores_partition_), " and ",
          Token(input_.topics.alerts, alerts_partition_), ": the topics changed since"));
    }
    std::vector<std::pair<int64_t, int64_t>> retrace;
    SLUICE_RETURN_IF_ERROR(ReadToEnd(input_, input_.topics.scores, scores_partition_, scores_from,
                                     [&](const Message& m) {
                                       const std::optional<ReadBack> r = ParseReadBack(m.value);
                                       if (!r.has_value() || r->partition != input_.partition)
                                         return absl::OkStatus();
                                       recovered_[r->row] = m.value;
                                       retrace.emplace_back(r->row, r->label_offset);
                                       recovered_last_row_ = std::max(recovered_last_row_, r->row);
                                       return absl::OkStatus();
                                     }));
    SLUICE_RETURN_IF_ERROR(ReadToEnd(input_, input_.topics.alerts, alerts_partition_, alerts_from,
                                     [&](const Message& m) {
                                       if (auto d = ParseDriftReadBack(m.value, input_.partition)) {
                                         drifted_.insert(*std::move(d));
                                         return absl::OkStatus();
                                       }
                                       const std::optional<ReadBack> r = ParseReadBack(m.value);
                                       if (!r.has_value() || r->partition != input_.partition)
                                         return absl::OkStatus();
                                       alerted_.insert(r->row);
                                       recovered_last_row_ = std::max(recovered_last_row_, r->row);
                                       return absl::OkStatus();
                                     }));
    counts_.recovered = static_cast<int64_t>(recovered_.size());
    std::sort(retrace.begin(), retrace.end());
    return retrace;
  }

  Counts counts() const override { return counts_; }

  bool CommitsWithCheckpoints() const override { return !transactional_id_.empty(); }

  absl::Status Commit(const SourcePosition& source, int64_t labels) override {
    SLUICE_RETURN_IF_ERROR(first_error_);
    const double start = NowSeconds();
    SLUICE_RETURN_IF_ERROR(
        producer_.CommitTransaction({{input_.topics.transactions, input_.partition, source.records},
                                     {input_.topics.labels, input_.partition, labels}},
                                    input_.group, absl::Minutes(1)));
    const double now = NowSeconds();
    {
      absl::MutexLock lock(&mu_);
      interval_.commit.Record(now - start);
      for (const double sent : uncommitted_) interval_.visible.Record(now - sent);
    }
    uncommitted_.clear();
    return producer_.BeginTransaction();
  }

 private:
  static std::string Token(const std::string& topic, int32_t partition) {
    return PartitionName(topic, partition);
  }
  static bool ParseToken(absl::string_view text, absl::string_view name, int64_t* offset) {
    const size_t at = text.rfind('@');
    return at != absl::string_view::npos && text.substr(0, at) == name &&
           absl::SimpleAtoi(text.substr(at + 1), offset);
  }

  // A prediction of an event the predecessor may have output already: not again.
  void Skip(int64_t row, const std::string& value, bool* send_score, bool* send_alert) {
    if (const auto it = recovered_.find(row); it != recovered_.end()) {
      *send_score = false;
      ++counts_.skipped;
      if (it->second != value) ++counts_.differed;
      recovered_.erase(it);
    }
    if (alerted_.erase(row) > 0) *send_alert = false;
    if (recovered_.empty() && alerted_.empty()) recovered_last_row_ = -1;
  }

  void Keep(absl::Status status) {
    if (first_error_.ok()) first_error_ = std::move(status);
  }

  Producer& producer_;
  PartitionInput input_;
  int32_t scores_partition_, alerts_partition_;
  PredictionFormat format_;
  Pipeline::Explanation global_why_;  // Write's, with a global model: reused.
  double alert_threshold_;
  const LabelSource* labels_;
  const std::string transactional_id_;
  const ServingSlot* global_;        // Null: the partition's own scores.
  std::vector<double> uncommitted_;  // When each score of the open transaction was sent.
  std::string value_;                // The message being written.
  Position position_;
  absl::Status first_error_;
  // What Recover() read back and Write() has not met yet.
  absl::flat_hash_map<int64_t, std::string> recovered_;
  absl::flat_hash_set<int64_t> alerted_;
  absl::flat_hash_set<std::pair<std::string, int64_t>> drifted_;  // (quoted signal, index)
  int64_t recovered_last_row_ = -1;
  Counts counts_;
  mutable absl::Mutex mu_;
  Latencies interval_ ABSL_GUARDED_BY(mu_);
  BusyTime busy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string TransactionToken(const std::string& transactional_id) {
  return absl::StrCat("transactions of ", transactional_id);
}

absl::Status CreateMissingOutputTopics(const std::string& brokers, const Settings& settings,
                                       const TopicNames& topics, int32_t partitions,
                                       std::vector<std::string>* created) {
  for (const std::string& topic : {topics.scores, topics.alerts, topics.DeadLetters()}) {
    const absl::StatusOr<int32_t> count =
        PartitionCount(brokers, settings, topic, absl::Seconds(30));
    if (count.ok()) continue;
    if (!absl::IsNotFound(count.status())) return count.status();
    SLUICE_RETURN_IF_ERROR(CreateTopic(brokers, settings, topic, partitions, absl::Seconds(30)));
    created->push_back(topic);
  }
  return absl::OkStatus();
}

absl::Status PrepareCheckpointsTopic(const std::string& brokers, const Settings& settings,
                                     const std::string& topic, int32_t partitions,
                                     std::vector<std::string>* created) {
  absl::StatusOr<int32_t> count = PartitionCount(brokers, settings, topic, absl::Seconds(30));
  if (absl::IsNotFound(count.status())) {
    // Compacted: only the latest chunks of each key stay (the last two versions of a model).
    SLUICE_RETURN_IF_ERROR(CreateTopic(brokers, settings, topic, partitions, absl::Seconds(30),
                                       {{"cleanup.policy", "compact"}}));
    created->push_back(topic);
    return absl::OkStatus();
  }
  SLUICE_RETURN_IF_ERROR(count.status());
  if (*count < partitions) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoints topic ", topic, " has ", *count, " partitions, fewer than the ", partitions,
        " of the transactions topic: partition P's checkpoints go to its partition P"));
  }
  return absl::OkStatus();
}

absl::Status DeadLetters::Send(const Message& message, absl::string_view reason) {
  const core::FlatJson json = {{"error", core::JsonQuote(reason)},
                               {"topic", core::JsonQuote(message.topic)},
                               {"partition", absl::StrCat(message.partition)},
                               {"offset", absl::StrCat(message.offset)},
                               {"key", core::JsonQuote(message.key)},
                               {"value", core::JsonQuote(message.value)}};
  ++count_;
  return producer_.Send(topic_, -1, message.key, core::WriteFlatJson(json));
}

absl::StatusOr<std::unique_ptr<KafkaEventSource>> NewKafkaEventSource(
    const PartitionInput& input, std::vector<std::string> features, DeadLetters* dead_letters,
    Producer* outputs) {
  SLUICE_ASSIGN_OR_RETURN(PartitionReader reader,
                          PartitionReader::Start(input, input.topics.transactions));
  return std::make_unique<EventSource>(input, std::move(reader), std::move(features), dead_letters,
                                       outputs);
}

absl::StatusOr<std::unique_ptr<LabelSource>> NewKafkaLabelSource(const PartitionInput& input,
                                                                 DeadLetters* dead_letters) {
  SLUICE_ASSIGN_OR_RETURN(PartitionReader reader,
                          PartitionReader::Start(input, input.topics.labels));
  return std::make_unique<KafkaLabelSource>(std::move(reader), dead_letters);
}

absl::StatusOr<std::unique_ptr<KafkaPredictionSink>> NewKafkaPredictionSink(
    Producer& producer, const PartitionInput& input, const PredictionFormat& format,
    double alert_threshold, const LabelSource* labels, std::string transactional_id,
    const ServingSlot* global) {
  SLUICE_ASSIGN_OR_RETURN(
      const int32_t scores,
      PartitionCount(input.brokers, input.settings, input.topics.scores, absl::Seconds(30)));
  SLUICE_ASSIGN_OR_RETURN(
      const int32_t alerts,
      PartitionCount(input.brokers, input.settings, input.topics.alerts, absl::Seconds(30)));
  return std::make_unique<KafkaSink>(producer, input, input.partition % scores,
                                     input.partition % alerts, format, alert_threshold, labels,
                                     std::move(transactional_id), global);
}

}  // namespace sluice::engine::kafka
