// engine/kafka/live_partition.h. One input partition of `sluice live`, wired: its events and
// labels from Kafka, its own pipeline, label join and metrics, its predictions to the scores and
// alerts topics through its own producer, its versions and checkpoints in the registry under its
// own model name, run by the stream runner on a thread of its own. A partition whose model has a
// checkpoint continues from it, exactly once (see KafkaPredictionSink).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/challenger.h"
#include "engine/kafka/client.h"
#include "engine/kafka/topics.h"
#include "engine/label_joiner.h"
#include "engine/pipeline.h"
#include "engine/serving.h"
#include "engine/snapshotter.h"
#include "engine/stream_runner.h"
#include "metrics/latency_histogram.h"
#include "registry/registry.h"

namespace sluice::engine::kafka {

struct LiveOptions {
  PartitionInput input;  // Its partition is the one to run.
  Pipeline::Options pipeline;
  std::vector<std::string> features;
  LabelJoiner::Options join;
  double alert_threshold = 0.5;
  int explain = 0;  // Explain each anomaly score by its top features (RunOptions::explain).
  std::optional<metrics::Adwin::Options> drift = metrics::Adwin::Options();  // RunOptions::drift
  bool snapshot_on_drift = false;
  // Models in shadow (RunOptions::challengers), and their automatic promotion (RunOptions::
  // promote, with a registry; its config_json is this partition's config with the
  // challenger's options, filled in here).
  std::vector<ChallengerSpec> challengers;
  std::optional<RunOptions::Promotion> promote;
  // Versions and checkpoints; an empty path: none (nothing survives a restart).
  std::string registry;
  std::string model_name = "default";  // Partition P's versions: registry::PartitionModel.
  SnapshotSchedule schedule;
  // How a restart after a crash outputs each prediction once (with a registry only):
  enum class ExactlyOnce {
    kReadBack,      // Read back what was output past the checkpoint; any broker.
    kTransactions,  // Kafka transactions, one per checkpoint; not librdkafka's mock cluster.
  } exactly_once = ExactlyOnce::kReadBack;
  // A member of a consumer group (with a registry): each version is also published to this
  // topic (partition: the input's; see checkpoint_topic.h), as a whole checkpoint, and at the
  // start the partition's latest version there is imported into the registry (with its number,
  // lineage and metrics) and continued from, so the partition moves between processes and
  // machines with its state. Empty: the registry alone.
  std::string checkpoints_topic;
  // `sluice live --serve global`: the slot holding the global model, whose anomaly scores the
  // predictions carry (see NewKafkaPredictionSink); shared by the process's partitions, it must
  // outlive the partition. Null: the partition's own scores.
  const ServingSlot* global_model = nullptr;
};

// The transactional.id of a partition's producer: a restarted or moved partition fences off
// its predecessor.
std::string TransactionalId(const PartitionInput& input);

class LivePartition {
 public:
  // Connects, takes the model's writer lease, restores the last checkpoint if there is one
  // (reading back what was output past it) and starts the run. `dead_letters` and `observer`
  // (called on the run's thread) must outlive it. FailedPrecondition if the registry's latest
  // version was made with another configuration.
  static absl::StatusOr<std::unique_ptr<LivePartition>> Start(const LiveOptions& options,
                                                              DeadLetters& dead_letters,
                                                              RunObserver& observer);
  // Waits for the run to end (at the partition's end with stop_at_end, or at input.stop).
  ~LivePartition();
  LivePartition(const LivePartition&) = delete;
  LivePartition& operator=(const LivePartition&) = delete;

  int32_t partition() const { return options_.input.partition; }
  // The version it continued from, 0 if it started fresh.
  int64_t resumed_version() const { return resumed_version_; }
  // Versions dropped at the start: checkpoints whose transaction never committed, or local
  // versions the checkpoints topic superseded.
  int64_t dropped_versions() const { return dropped_versions_; }
  // With a checkpoints topic: the version imported from it at the start (0: none, or the
  // registry had it already), and the newer ones refused there (corrupt or incomplete), each
  // named with why.
  int64_t imported_version() const { return imported_version_; }
  const std::vector<std::string>& refused_checkpoints() const { return refused_; }
  bool done() const { return done_.load(); }
  // Waits for the run to end; its result, outputs flushed.
  const absl::StatusOr<RunResult>& Join();
  int64_t lag() const { return source_->lag(); }
  // The offset of the next event to read (-1 before the first); thread-safe.
  int64_t offset() const { return source_->offset(); }
  double lag_seconds() const { return source_->lag_seconds(); }
  const KafkaEventSource& source() const { return *source_; }
  KafkaPredictionSink::Latencies TakeLatencies() { return sink_->TakeLatencies(); }
  KafkaPredictionSink::Counts sink_counts() const { return sink_->counts(); }
  KafkaPredictionSink::BusyTime busy() const { return sink_->busy(); }
  int64_t producer_queue() const { return producer_->queued(); }
  // Its challengers (empty without); read after Join().
  const Challengers& challengers() const { return *challengers_; }

 private:
  explicit LivePartition(const LiveOptions& options) : options_(options) {}
  absl::Status Open(DeadLetters& dead_letters);
  absl::Status Resume();
  absl::Status DropUncommitted(registry::Registry& registry, const std::string& model);
  absl::Status ImportPublished(registry::Registry& registry, const std::string& model);
  void Run(RunObserver& observer);

  const LiveOptions options_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Challengers> challengers_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<KafkaEventSource> source_;
  std::unique_ptr<LabelSource> labels_;
  std::unique_ptr<KafkaPredictionSink> sink_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::optional<ResumePoint> resume_;
  std::vector<std::pair<int64_t, int64_t>> retrace_;
  int64_t resumed_version_ = 0;
  int64_t dropped_versions_ = 0;
  int64_t imported_version_ = 0;
  std::vector<std::string> refused_;
  absl::StatusOr<RunResult> result_ = absl::UnknownError("not run");
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace sluice::engine::kafka
