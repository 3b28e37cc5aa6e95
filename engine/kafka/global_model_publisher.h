// engine/kafka/global_model_publisher.h. The merged (global) anomaly model of `sluice live` in a
// consumer group: one process (the one holding input partition 0) merges the latest published
// version of every partition's model (engine::MergeVersions) into a version of
// "<model>.global", registers it and publishes it to partition 0 of the checkpoints topic;
// every process that serves the global model follows that topic partition and swaps each newer
// global version into the ServingSlot its partitions score with.
//
// Numbering: the checkpoints topic is the truth. A new global version is numbered after the
// latest "<model>.global" version found on partition 0 of the topic (1 if none), its parent
// that one; so a merge made by whichever process holds partition 0 next continues the same
// sequence. Two processes that briefly both believe they hold partition 0 (during a rebalance)
// may publish the same number; the later record wins on the topic, as compaction would decide.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/kafka/client.h"
#include "engine/serving.h"
#include "registry/registry.h"

namespace sluice::engine::kafka {

// The registry (and checkpoints topic) name of the global model of `model_name`.
std::string GlobalModelName(const std::string& model_name);

// A version read from the checkpoints topic as a registry::Version (its SHA-256 and size
// computed), as MergeVersions and ServingModel::Create take it.
registry::Version ToVersion(const registry::NewVersion& v);

// Where the partitions' versions are and where the global ones go.
struct GlobalModelOptions {
  std::string brokers;
  Settings settings;
  std::string group;                   // Consumer group id used to read the checkpoints topic.
  std::string checkpoints_topic;       // See checkpoint_topic.h.
  std::string model_name = "default";  // Partition P's model: "<model_name>.p<P>".
  int32_t partitions = 0;              // Input partitions 0..partitions-1 are merged.
  // Local registry: each global version made or served here is registered in it (with its
  // number), for audit. Empty: none.
  std::string registry;
  absl::Duration read_timeout = absl::Minutes(1);  // Reading one topic partition to its end.
};

// Makes global versions. Not thread-safe: one thread calls PublishOnce().
class GlobalModelPublisher {
 public:
  // InvalidArgument if partitions < 1; errors of the producer's creation.
  static absl::StatusOr<std::unique_ptr<GlobalModelPublisher>> Create(
      const GlobalModelOptions& options);
  GlobalModelPublisher(const GlobalModelPublisher&) = delete;
  GlobalModelPublisher& operator=(const GlobalModelPublisher&) = delete;

  struct Round {
    int64_t version = 0;  // The global version published; 0: skipped.
    // Skipped: the first partition with no published version yet; -1 otherwise.
    int32_t missing_partition = -1;
    // Skipped: the latest global version is the one this publisher made last, of the same
    // partition versions.
    bool unchanged = false;
    std::vector<int64_t> merged;  // The version merged of each partition, by partition.
  };
  // One round: reads the latest published version of every partition's model, merges them,
  // registers the result locally and publishes it (flushed). Skipped (version 0) while some
  // partition has no published version, or if nothing changed since its last round. Errors: reading
  // the topic (DeadlineExceeded, Unavailable), a version refused on the topic (DataLoss), the
  // merge's (InvalidArgument if the partitions' configs differ), the registry's, the producer's.
  absl::StatusOr<Round> PublishOnce();

 private:
  GlobalModelPublisher(const GlobalModelOptions& options, std::unique_ptr<Producer> producer)
      : options_(options), producer_(std::move(producer)) {}

  const GlobalModelOptions options_;
  std::unique_ptr<Producer> producer_;
  Round last_;  // The last round that published.
};

// Serves the latest global version. Not thread-safe: one thread calls Refresh() (the slot it
// fills is read by any).
class GlobalModelFollower {
 public:
  // `slot` must outlive it. `features`: the partitions' features, in their order; a global
  // version with others is refused (its scores would be of other columns).
  static absl::StatusOr<std::unique_ptr<GlobalModelFollower>> Create(
      const GlobalModelOptions& options, std::vector<std::string> features, ServingSlot& slot);
  GlobalModelFollower(const GlobalModelFollower&) = delete;
  GlobalModelFollower& operator=(const GlobalModelFollower&) = delete;

  // Reads the latest global version on partition 0 of the topic (only if the partition grew
  // since the last look) and, if it is newer than the one served, restores it, registers it
  // locally (unless the registry has that number already) and swaps it into the slot. Returns
  // the version served now (0: none yet). Errors: reading the topic, a corrupt version
  // (DataLoss), a version of other features (FailedPrecondition), the registry's; the slot is
  // unchanged then.
  absl::StatusOr<int64_t> Refresh();
  int64_t served() const { return served_; }

 private:
  GlobalModelFollower(const GlobalModelOptions& options, std::vector<std::string> features,
                      ServingSlot& slot, std::unique_ptr<Producer> producer)
      : options_(options),
        features_(std::move(features)),
        slot_(slot),
        producer_(std::move(producer)) {}

  const GlobalModelOptions options_;
  const std::vector<std::string> features_;
  ServingSlot& slot_;
  std::unique_ptr<Producer> producer_;  // Asks partition 0's end offset only.
  int64_t seen_end_ = -1;               // Partition 0's end offset at the last read.
  int64_t served_ = 0;
};

// Publishes and/or follows on a thread of its own, for `sluice live`: the watch loop tells it
// how many events the process's partitions scored and whether it holds partition 0; it merges
// every `publish_every_events` of them while it does, and refreshes the served version every
// `refresh_interval`. What it did (and errors, which do not stop it) come back as lines from
// TakeNotes(). Thread-safe.
class GlobalModelService {
 public:
  struct Options {
    GlobalModelOptions model;
    int64_t publish_every_events = 0;  // 0: publishes nothing.
    // The slot to serve the global model in; null: follows nothing.
    ServingSlot* serve = nullptr;
    std::vector<std::string> features;  // The partitions' (with `serve`).
    absl::Duration refresh_interval = absl::Seconds(1);
  };
  // With `serve`, the latest global version is restored before it returns, so the partitions
  // started after score with it from their first event. InvalidArgument if it is to do nothing.
  static absl::StatusOr<std::unique_ptr<GlobalModelService>> Create(const Options& options);
  // Stops (see Finish()).
  ~GlobalModelService();
  GlobalModelService(const GlobalModelService&) = delete;
  GlobalModelService& operator=(const GlobalModelService&) = delete;

  // `events`: scored so far by every partition this process ran (never decreasing); `leads`:
  // whether it holds input partition 0 now. Requests a merge when, leading, `events` passed a
  // multiple of publish_every_events since the last call (one merge however many it passed). A
  // merge requested while a partition has published no version yet is tried again at each look
  // (and at Finish) while this process leads, until one is made: a stream read faster than
  // partitions publish their first versions still gets its global version. Called from one
  // thread.
  void Observe(int64_t events, bool leads);
  // Runs the merge requested and not done yet, then stops the thread. Idempotent.
  void Finish();
  // The lines of what happened since the last call ("global model version 3 of default.global
  // from partitions 0..3 (versions 5, 6, 6, 5)", "serving global model version 3", errors).
  std::vector<std::string> TakeNotes();

 private:
  explicit GlobalModelService(const Options& options) : options_(options) {}
  void Loop();
  void Publish();
  void Follow();
  void Note(std::string note);

  const Options options_;
  std::unique_ptr<GlobalModelPublisher> publisher_;
  std::unique_ptr<GlobalModelFollower> follower_;
  int64_t observed_ = 0;        // Observe()'s: the events of its last call.
  bool noted_missing_ = false;  // The thread's: "waiting for partition P" was said.
  // The thread's: a merge was due while a partition had published nothing yet; it is tried
  // again at each look, and once more at Finish(), until one is made.
  bool merge_pending_ = false;
  std::string last_error_;  // The thread's: the serving error said last.
  absl::Mutex mu_;
  bool publish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool leads_ ABSL_GUARDED_BY(mu_) = false;  // Whether this process holds partition 0 now.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> notes_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sluice::engine::kafka
