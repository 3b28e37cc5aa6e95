// engine/snapshotter.h. Scheduled snapshots of a running pipeline into the model registry: when
// a rule fires, each pipeline stage hands over its state at the same event boundary, and a
// background thread writes the version, so the stream does not wait for the disk.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "registry/registry.h"

namespace sluice::engine {

// When to snapshot; every rule that is set fires on its own. All zero: only at the start and
// the end of the stream.
struct SnapshotSchedule {
  int64_t every_events = 0;        // After every N-th event.
  double every_event_seconds = 0;  // When event time advanced S seconds since the last one.
  double every_wall_seconds = 0;   // When S seconds of wall time passed since the last one.
};

// One version ready to be written.
struct Snapshot {
  int64_t version = 0;
  std::optional<int64_t> parent;
  std::string trigger;
  std::optional<double> event_time;  // Of the last event it learned.
  std::string models;                // PackModels() of both learners.
  std::string checkpoint;            // Run state for --resume and continuous audit.
  // Metrics at snapshot time, as JSON; run by the writer thread, off the stream's pause.
  std::function<std::string()> metrics_json;
  // Lineage.
  std::string input_sha256;  // Of the input bytes up to its last row (CsvReader::ConsumedSha256).
  int64_t rows_read = 0;     // Source rows [0, rows_read) are behind it.
  int64_t events = 0;
  int64_t labels = 0;
  std::string first_event_id, last_event_id;
  std::optional<double> first_event_time, last_event_time;
  // A promotion (a challenger registered as a version): its own config (the challenger's
  // options; default: the run's), no checkpoint, and `alias` pointed at it as it is written,
  // keeping `alias_reason` in the alias history.
  std::optional<std::string> config_json;
  std::string alias, alias_reason;
};

// Packs the two learner states (either may be empty: model off) into one registry blob.
std::string PackModels(const std::string& anomaly, const std::string& fraud);
// DataLoss if `blob` is not a PackModels() blob.
absl::Status UnpackModels(absl::string_view blob, std::string* anomaly, std::string* fraud);

// Numbers the versions of one run of model `model_name`. A run numbers its versions itself
// (stage 2 must name a snapshot's version in the predictions before the writer thread has
// written it), so it must be the model's only writer: Start() takes the model's writer lease in
// the registry (see registry::Registry) and the writer thread drops it when it has written
// everything. A second run of the same model is refused at Start(), before its stream starts;
// runs of other models share the file freely. The lease of a run that crashed or was killed
// (kill -9 included) is stale once its process is gone, so `--resume` can start at once.
class Snapshotter {
 public:
  struct Options {
    std::string registry_path;
    std::string model_name = "default";
    SnapshotSchedule schedule;
    std::string config_json;  // Recorded with every version.
    std::string input;        // The input file ("" for the built-in stream).
    std::string input_description;
    registry::Registry::Options registry_options;  // Busy timeout; tests cap the file size.
    // The writer thread runs at the lowest priority, unless the stream waits for each write
    // (WaitWritten: outputs committed with their checkpoint).
    bool background = true;
    // If set, the writer thread hands it each version once the registry holds it (`sluice
    // live` in a consumer group publishes it to the checkpoints topic); an error fails the
    // snapshot as a failed write would.
    std::function<absl::Status(const registry::NewVersion&)> publish;
  };

  // Opens the registry and takes the model's writer lease (errors surface here, before the
  // stream starts), picks the first version number and starts the writer thread.
  // FailedPrecondition, naming the process, if another run is writing the model. `wall` must
  // outlive the snapshotter.
  static absl::StatusOr<std::unique_ptr<Snapshotter>> Start(const Options& options,
                                                            const core::Clock& wall);
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Stage 1 (one thread): called after each event; the trigger if a snapshot is due after it.
  std::optional<std::string> Due(int64_t events, double event_time);
  // Stage 1, while the source has nothing new and events came since the last snapshot: the
  // trigger if the wall-clock rule is due.
  std::optional<std::string> DueWhileIdle();
  // Continue numbering after `version` and measure the schedule from `event_time` (resume).
  // `version` must be the model's latest at Start(): if another run wrote versions after it
  // before Start() took the lease, none of this run's snapshots is written (each one is an
  // error of Finish()), as their numbers would collide with that run's.
  void ContinueAfter(int64_t version, double event_time);

  // Stage 2 (one thread): the number the next snapshot gets, and the last one taken.
  int64_t TakeVersion() { return ++version_; }
  int64_t version() const { return version_; }
  // Queues `snapshot` for the writer thread. While kMaxQueued snapshots wait to be written it
  // blocks first: a writer that falls behind pauses the stream rather than memory growing.
  static constexpr size_t kMaxQueued = 4;
  void Submit(Snapshot snapshot);
  // Queues snapshots to be written in one registry transaction, all or none: promotions with
  // the checkpoint after them, so that a crash never leaves a promotion newest.
  void Submit(std::vector<Snapshot> group);
  // Waits until `version`, submitted, was written: its error if it could not be.
  absl::Status WaitWritten(int64_t version);
  // Waits until everything submitted was written or failed and releases the writer lease;
  // returns one message per failure.
  std::vector<std::string> Finish();
  const Options& options() const { return options_; }

 private:
  Snapshotter(const Options& options, const core::Clock& wall,
              std::unique_ptr<registry::Registry> registry, int64_t last_version);
  void Write();
  registry::NewVersion ToVersion(Snapshot& snapshot) const;

  const Options options_;
  const core::Clock& wall_;
  std::unique_ptr<registry::Registry> registry_;  // The writer thread's, after the constructor.
  const int64_t latest_at_start_;  // The model's latest version when the lease was taken.
  int64_t version_;                // Stage 2.
  // Stage 1 schedule state.
  std::optional<double> last_event_time_;
  absl::Time last_wall_;

  absl::Mutex mu_;
  std::deque<std::vector<Snapshot>> queue_ ABSL_GUARDED_BY(mu_);
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  int64_t done_version_ ABSL_GUARDED_BY(mu_) = 0;  // The last version written or failed.
  std::string last_error_ ABSL_GUARDED_BY(mu_);    // Of done_version_, if it failed.
  std::string refused_ ABSL_GUARDED_BY(mu_);  // Why no snapshot may be written (ContinueAfter).
  std::thread writer_;
};

}  // namespace sluice::engine
