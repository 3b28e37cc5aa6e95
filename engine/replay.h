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

namespace sluice::engine {

struct ReplayOptions {
  int64_t max_rows = -1;    // Stop after this many data rows (bad ones count); -1: all.
  int64_t label_delay = 0;  // The label of event j arrives just before event j + N is scored.
  // If set, the label of event j arrives before the first event i with t_j + S <= t_i.
  std::optional<double> label_delay_seconds;
  bool skip_bad_rows = false;  // false: the first bad row ends the replay with its message.
};

// What a replay reports while it runs. Called on the replay thread; default: nothing.
class ReplayObserver {
 public:
  virtual ~ReplayObserver() = default;
  // After an event was scored; `scores` were made before it was learned.
  virtual void OnPrediction(const core::Event& /*event*/, const Pipeline::Scores& /*scores*/) {}
  // After a label was applied (metrics already updated).
  virtual void OnLabel(bool /*label*/, const Pipeline::Scores& /*scores*/) {}
  // A bad row that was skipped.
  virtual void OnBadRow(const std::string& /*message*/) {}
  // About every 16,384 rows.
  virtual void OnProgress(int64_t /*rows_read*/) {}
};

struct ReplayResult {
  int64_t events = 0;                         // Rows scored.
  int64_t labels = 0;                         // Labels applied.
  int64_t bad_rows = 0;                       // Rows skipped.
  std::vector<std::string> bad_row_examples;  // The first 20 messages.
  double seconds = 0;                         // Wall time of the replay loop.
};

// Replays `reader` through `pipeline`. InvalidArgument with "FILE:LINE: column NAME: reason" on
// the first bad row unless skip_bad_rows; FailedPrecondition if a label delay in seconds is asked
// of a file without a time column. `clock` times the run only.
absl::StatusOr<ReplayResult> RunReplay(CsvReader& reader, const ReplayOptions& options,
                                       Pipeline& pipeline, ReplayObserver& observer,
                                       const core::Clock& clock);

}  // namespace sluice::engine
