// tools/replay_report.h. What `sluice replay` shows and writes besides the predictions: the
// progress line, the summary JSON and table, the HTML report.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/clock.h"
#include "engine/pipeline.h"
#include "engine/stream_runner.h"

namespace sluice::tools {

// Everything a replay run is described by, for the summary and the report.
struct RunDescription {
  std::string input;          // File name, or "built-in synthetic stream (seed S)".
  std::string anomaly_model;  // e.g. "MinMaxScaler | HalfSpaceTrees(n_trees=10, ...)".
  std::string fraud_model;
  std::string label_delay;  // e.g. "0 events".
  int metric_window = 1000;
  int64_t rows_read = 0;
  bool summary_timing = true;  // false: leave wall-clock fields out of the summary.
};

// Observes a replay: the progress line and the report's data. Not thread-safe.
class ReplayRecorder final : public engine::RunObserver {
 public:
  // `done_fraction` (may be empty) tells how much of the input was read, in [0, 1], for the
  // progress bar. `pipeline` and `clock` must outlive the recorder.
  ReplayRecorder(const engine::Pipeline& pipeline, bool progress,
                 std::function<double(int64_t rows)> done_fraction, const core::Clock& clock);

  void OnLabel(bool label, const engine::Pipeline::Scores& scores) override;
  void OnBadRecord(const std::string& message) override;
  void OnProgress(int64_t rows_read) override;

  // Ends the progress line.
  void Finish();

  std::string SummaryJson(const RunDescription& run, const engine::RunResult& result) const;
  std::string SummaryTable(const RunDescription& run, const engine::RunResult& result) const;
  std::string HtmlReport(const RunDescription& run, const engine::RunResult& result) const;

 private:
  static constexpr int kBins = 40;
  static constexpr size_t kMaxPoints = 1000;
  struct Point {
    int64_t labels;
    double anomaly;
    double fraud;
  };

  const engine::Pipeline& pipeline_;
  bool progress_;
  bool tty_;
  std::function<double(int64_t rows)> done_fraction_;
  const core::Clock& clock_;
  absl::Time start_;
  absl::Time last_progress_;
  bool progress_shown_ = false;

  int64_t labels_ = 0;
  int64_t stride_ = 1;  // Record a point every stride_ labels; doubles when the series is full.
  std::vector<Point> points_;
  // histogram_[model][label][bin], model 0 = anomaly, 1 = fraud.
  std::array<std::array<std::array<int64_t, kBins>, 2>, 2> histogram_{};
};

}  // namespace sluice::tools
