// engine/replay.h. Drives a CSV through the Pipeline with simulated label delay (River's
// stream.simulate_qa with a constant delay, counted in events or in event-time seconds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/event.h"
#include "engine/csv_reader.h"
#include "engine/pipeline.h"
#include "engine/snapshotter.h"

namespace sluice::engine {

// Where a resumed or audited run starts: a registered version's models and the checkpoints of
// its run up to it, oldest first (each carries the metric deltas since the one before).
struct ResumePoint {
  int64_t version = 0;
  std::string models;
  std::vector<std::string> checkpoints;
};

// The parts of a checkpoint the CLI needs before it replays.
struct CheckpointInfo {
  int64_t run_first_version = 0;  // The run's first version: its checkpoints form the chain.
  int64_t rows_read = 0;          // Source rows behind the snapshot.
  int64_t events = 0;
  int64_t labels = 0;
  int64_t predictions_bytes = 0;  // Length of the predictions file at the snapshot.
  int64_t predictions_rows = 0;   // Prediction lines written by then.
};
// DataLoss if `checkpoint` is corrupt.
absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(absl::string_view checkpoint);

struct ReplayOptions {
  int64_t max_rows = -1;    // Stop after this many data rows (bad ones count); -1: all.
  int64_t label_delay = 0;  // The label of event j arrives just before event j + N is scored.
  // If set, the label of event j arrives before the first event i with t_j + S <= t_i.
  std::optional<double> label_delay_seconds;
  bool skip_bad_rows = false;          // false: the first bad row ends the replay with its message.
  Snapshotter* snapshotter = nullptr;  // Snapshots into a registry; null: none.
  const ResumePoint* resume = nullptr;  // Continue from a snapshot; null: from the start.
  // Stop after this many events (audit replays one snapshot's span); -1: no limit.
  int64_t max_events = -1;
};

// The model that made a prediction: the registered version that served it (frozen) or the
// version the serving model continued from and the events it learned since (continuous).
// Version 0 when there is no registry.
struct Served {
  int64_t version = 0;
  int64_t events_since_snapshot = 0;
};

// What a replay reports while it runs. Called on the replay thread; default: nothing.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  // After an event was scored; `scores` were made before it was learned.
  virtual void OnPrediction(const core::Event& /*event*/, const Pipeline::Scores& /*scores*/,
                            const Served& /*served*/) {}
  // After a label was applied (metrics already updated).
  virtual void OnLabel(bool /*label*/, const Pipeline::Scores& /*scores*/) {}
  // A bad row that was skipped.
  virtual void OnBadRow(const std::string& /*message*/) {}
  // About every 16,384 rows.
  virtual void OnProgress(int64_t /*rows_read*/) {}
  // A snapshot is being taken after the last prediction: make what was written durable and
  // return (bytes, lines) of the predictions output so far, which a resume restores.
  virtual std::pair<int64_t, int64_t> OnSnapshot(int64_t /*version*/) { return {0, 0}; }
};

struct ReplayResult {
  int64_t events = 0;                         // Rows scored.
  int64_t labels = 0;                         // Labels applied.
  int64_t bad_rows = 0;                       // Rows skipped.
  std::vector<std::string> bad_row_examples;  // The first 20 messages.
  double seconds = 0;                         // Wall time of the replay loop.
  int64_t snapshots = 0;                      // Versions handed to the snapshotter.
  int64_t last_version = 0;                   // The newest of them.
  std::vector<std::string> snapshot_errors;   // Versions that could not be written.
  // How long the stream stood still for each snapshot: both stages' state capture, seconds.
  std::vector<double> snapshot_pauses;
};

// Replays `reader` through `pipeline`. InvalidArgument with "FILE:LINE: column NAME: reason" on
// the first bad row unless skip_bad_rows; FailedPrecondition if a label delay in seconds is asked
// of a file without a time column, or if `resume` does not fit this pipeline; DataLoss if its
// checkpoints are corrupt. With a snapshotter, versions are taken at the start (unless
// resuming), when the schedule fires, and at the end. `clock` times the run only.
absl::StatusOr<ReplayResult> RunReplay(CsvReader& reader, const ReplayOptions& options,
                                       Pipeline& pipeline, ReplayObserver& observer,
                                       const core::Clock& clock);

// The q-quantile (0..1) of `values` (nearest rank); 0 if empty.
double Quantile(std::vector<double> values, double q);

}  // namespace sluice::engine
