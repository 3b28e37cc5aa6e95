// engine/kafka/topics.h. The live path's ends on Kafka, for one input partition: its events (a
// Source), its labels (a LabelSource) and its predictions and alerts (a PredictionSink). The
// stream runner does the rest, as for a file.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/kafka/client.h"
#include "engine/prediction_sink.h"
#include "engine/serving.h"
#include "engine/source.h"
#include "engine/stream_runner.h"
#include "metrics/latency_histogram.h"

namespace sluice::engine::kafka {

struct TopicNames {
  std::string transactions = "transactions";  // JSON events, key = event id.
  std::string labels = "labels";              // JSON labels, key = event id.
  std::string scores = "scores";              // Every prediction.
  std::string alerts = "alerts";              // Predictions over the alert threshold.
  // Malformed messages of either input, with the reason and their origin.
  std::string DeadLetters() const { return transactions + ".dlq"; }
};

// Creates the output topics (scores, alerts, dead letters) that do not exist yet, with
// `partitions` partitions; their names go to *created.
absl::Status CreateMissingOutputTopics(const std::string& brokers, const Settings& settings,
                                       const TopicNames& topics, int32_t partitions,
                                       std::vector<std::string>* created);
// Creates the checkpoints topic (compacted; see checkpoint_topic.h) with `partitions`
// partitions if it does not exist (its name goes to *created then). FailedPrecondition if it
// exists with fewer: partition P's checkpoints go to its partition P.
absl::Status PrepareCheckpointsTopic(const std::string& brokers, const Settings& settings,
                                     const std::string& topic, int32_t partitions,
                                     std::vector<std::string>* created);

// Where one partition's inputs are read from.
struct PartitionInput {
  std::string brokers;
  Settings settings;
  std::string group;  // The consumer group its offsets belong to.
  TopicNames topics;
  int32_t partition = 0;
  // Ends the streams once the partition's end is reached (a batch over topics written
  // beforehand); otherwise they wait for more.
  bool stop_at_end = false;
  // Set (by a signal handler) to end the streams at the next poll. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Reads the inputs of every partition of the process through one client. Required by the
  // sources, which it must outlive.
  Fetcher* fetcher = nullptr;
};

// Sends what could not be used to the dead-letter topic: {"error": ..., "topic": ...,
// "partition": ..., "offset": ..., "key": ..., "value": ...} (key and value as JSON strings).
// Thread-safe.
class DeadLetters {
 public:
  DeadLetters(Producer& producer, std::string topic)
      : producer_(producer), topic_(std::move(topic)) {}
  absl::Status Send(const Message& message, absl::string_view reason);
  int64_t count() const { return count_.load(); }

 private:
  Producer& producer_;
  std::string topic_;
  std::atomic<int64_t> count_{0};
};

// The events of input.partition of the transactions topic, from its beginning (or where Seek()
// puts it). An event's row is its offset, its arrival time its message's CreateTime; an event
// without "id" gets "<partition>:<offset>". A malformed message is a bad record
// ("kafka:TOPIC/P offset O: event JSON: ...") and goes to `dead_letters`. Position: records =
// the next offset; the digest names topic, partition and offset (Seek checks them).
class KafkaEventSource : public Source {
 public:
  // Messages written to the partition and not read yet, as of the last fetch; thread-safe.
  virtual int64_t lag() const = 0;
  // The offset of the next message to read, as of the last one read (-1 before any); thread-safe.
  virtual int64_t offset() const = 0;
  // Back-pressure: times the source paused fetching because its outputs' producer fell behind,
  // and for how long in all; thread-safe.
  virtual int64_t pauses() const = 0;
  virtual double paused_seconds() const = 0;
  // How far behind in time: 0 when caught up, else the age of the last message read (its
  // CreateTime to now); thread-safe.
  virtual double lag_seconds() const = 0;
};
//
// Back-pressure: while `outputs` (the producer of this partition's predictions; may be null)
// holds more than half its capacity undelivered, the source pauses fetching and waits until
// under a tenth is left. Nothing is dropped; the lag grows instead.
absl::StatusOr<std::unique_ptr<KafkaEventSource>> NewKafkaEventSource(
    const PartitionInput& input, std::vector<std::string> features, DeadLetters* dead_letters,
    Producer* outputs = nullptr);

// The labels of input.partition of the labels topic, in the order written. TakeUntil(t) waits
// until it has read a label later than t or reached the end of what the partition holds now, so
// over topics written beforehand labels apply exactly as `replay --labels` applies a file. A
// stop (input.stop) does not cut it short: the events read are processed with their labels.
// Malformed labels go to `dead_letters` and are skipped. position() is the next offset.
absl::StatusOr<std::unique_ptr<LabelSource>> NewKafkaLabelSource(const PartitionInput& input,
                                                                 DeadLetters* dead_letters);

// Writes each prediction (engine::AppendPredictionJson, plus "partition", "label_offset" and
// "alert") to the scores topic and those over the threshold to the alerts topic too, both keyed by
// id, in partition P mod the topic's partitions for input partition P. Alert: fraud probability >
// alert_threshold, or with the anomaly model alone its score. "label_offset" is where the labels
// partition stood when the event was scored (the labels applied before it).
//
// Exactly once without Kafka transactions (the embedded broker has none that work): Flush()
// waits for delivery and its Position names where both output partitions end, and a checkpoint
// keeps it. A run restarted from that checkpoint calls Recover(): it reads back what its killed
// predecessor output past there, so Write() does not output those events again (it checks that
// the recomputed prediction is byte-identical), and the runner retraces the labels by
// "label_offset". Write and Flush on the runner's thread; TakeLatencies from any.
class KafkaPredictionSink : public PredictionSink {
 public:
  // Since the last call: prediction latency, from an event's message timestamp (CreateTime:
  // when it entered Kafka) to its prediction being handed to the producer; processing latency,
  // from the message being consumed to the same.
  // With transactions also: commit, the time a checkpoint's commit took; visible, from a
  // prediction handed to the producer to the commit of its transaction (when consumers that
  // read committed data may see it).
  struct Latencies {
    metrics::LatencyHistogram prediction, processing, commit, visible;
  };
  virtual Latencies TakeLatencies() = 0;
  // Wall-clock Unix seconds when the first event written was consumed and when the last one
  // was written (kMissing before any): the span the partition worked in, for throughput.
  struct BusyTime {
    double first_consumed = core::kMissing, last_written = core::kMissing;
  };
  virtual BusyTime busy() const = 0;
  // See above: `from` is the Position a checkpoint kept. Returns, for each source row already
  // scored, the labels position it was scored at (RunOptions::retrace). FailedPrecondition if
  // `from` names other topics or partitions.
  virtual absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> Recover(
      const Position& from) = 0;
  struct Counts {
    int64_t recovered = 0;  // Predictions read back by Recover().
    int64_t skipped = 0;    // Writes not output again: the predecessor had.
    int64_t differed = 0;   // Of those, recomputed differently (a non-deterministic run).
  };
  virtual Counts counts() const = 0;
};
// `labels`, if not null, is the run's label source (for "label_offset"); it must outlive the
// sink. NotFound if an output topic does not exist.
//
// With `global` (`sluice live --serve global`; it must outlive the sink), each prediction carries
// the anomaly score of the model the slot serves at that moment (the global model, see
// global_model_publisher.h) instead of the partition's own, and "global_version": its version
// (0, with the partition's own score, while the slot is empty); the fraud probability stays the
// partition's. The alert is decided on these served scores. The partition's pipeline, metrics and
// checkpoints are its own as before. Which global version serves an event depends on wall time,
// so a restart's recomputed prediction may differ from what its predecessor output: Recover()
// still outputs each event once (the one already output wins) and counts it in
// Counts::differed ("recomputed_differently").
//
// With a `transactional_id` (the producer's, its transactions initialised and one begun), the
// outputs go out in Kafka transactions instead, one per checkpoint: Commit() adds the offsets of
// the transactions and labels partitions at the checkpoint to the transaction, commits it and
// begins the next. Consumers that read committed data see each output once; a restart restores
// the checkpoint that matches the group's committed offsets, and what a killed run sent after it
// was aborted. Recover() is not used then; Flush()'s Position names the transactional id
// (TransactionToken).
absl::StatusOr<std::unique_ptr<KafkaPredictionSink>> NewKafkaPredictionSink(
    Producer& producer, const PartitionInput& input, const PredictionFormat& format,
    double alert_threshold, const LabelSource* labels, std::string transactional_id = "",
    const ServingSlot* global = nullptr);
std::string TransactionToken(const std::string& transactional_id);

}  // namespace sluice::engine::kafka
