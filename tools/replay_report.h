// tools/replay_report.h. What `sluice replay` shows and writes besides the predictions: the
// progress line, the summary JSON and table, the HTML report.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/clock.h"
#include "core/event.h"
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
  const engine::Challengers* challengers = nullptr;  // --challenger: their AUCs too.
  double alert_threshold = 0.5;  // An event alerts when its fraud probability >= this.
};

// Observes a replay: the progress line and the report's data. Keeps every (label, score) pair
// it is shown (17 bytes per label with both models on) and the 20 events of highest anomaly
// score (of highest fraud probability when the anomaly model is off). Not thread-safe.
class ReplayRecorder final : public engine::RunObserver {
 public:
  // `done_fraction` (may be empty) tells how much of the input was read, in [0, 1], for the
  // progress bar. `pipeline` and `clock` must outlive the recorder.
  ReplayRecorder(const engine::Pipeline& pipeline, bool progress,
                 std::function<double(int64_t rows)> done_fraction, const core::Clock& clock);

  // Hot path: allocates only when the event enters the top 20 (and copies its explanation).
  void OnPrediction(const core::Event& event, const engine::Pipeline::Scores& scores,
                    const engine::Served& served) override;
  // Keeps the label and the scores of the models that are on, for the report's curves.
  void OnLabel(bool label, const engine::Pipeline::Scores& scores) override;
  void OnBadRecord(const std::string& message) override;
  void OnProgress(int64_t rows_read) override;
  // A "drift" marker (AddMarker) at the labels seen when it was found.
  void OnDrift(const engine::Drift& drift) override;
  // A "promotion" marker at the labels seen when it was registered.
  void OnPromotion(const engine::PromotionRecord& promotion) override;

  // Marks something that happened in the stream after `labels_seen` labels (0: before any),
  // drawn on the rolling-AUC chart as a vertical line with `text` as its tooltip. `kind` is
  // "drift" or "promotion" (another kind is drawn in grey under its own name).
  void AddMarker(int64_t labels_seen, std::string kind, std::string text);

  // Ends the progress line.
  void Finish();

  std::string SummaryJson(const RunDescription& run, const engine::RunResult& result) const;
  std::string SummaryTable(const RunDescription& run, const engine::RunResult& result) const;
  // One self-contained HTML file (inline CSS, SVG and script; nothing fetched). The exact
  // numbers are also in attributes for machines: data-auc-anomaly, data-ap-anomaly,
  // data-auc-fraud, data-ap-fraud (17 significant digits), each threshold row's data-model,
  // data-rule ("top" or "alert"), data-share (of "top" rows), data-threshold, data-alerts,
  // data-tp, data-fp, and each marker's data-kind and data-labels-seen.
  std::string HtmlReport(const RunDescription& run, const engine::RunResult& result) const;

 private:
  static constexpr size_t kMaxPoints = 1000;
  static constexpr size_t kTopAlerts = 20;
  struct Point {
    int64_t labels;
    double anomaly;
    double fraud;
  };
  struct Marker {
    int64_t labels_seen;
    std::string kind;
    std::string text;
  };
  // One of the events of highest score, with what it looked like when it was scored.
  struct Alert {
    double key = 0;   // What it is ranked by: the anomaly score (the fraud probability if off).
    int64_t seq = 0;  // Predictions seen before it: the earlier of two equal keys ranks first.
    int64_t row = 0;
    std::string id;
    double anomaly = 0;
    double fraud = 0;
    std::optional<bool> label;  // The input's label column, if it has one.
    int64_t version = 0;        // The registered version that served it (0: no registry).
    bool explained = false;     // Scores::why was set; then why_* hold a copy of it.
    std::vector<std::pair<int, double>> why_top;
    double why_rest = 0;
  };
  // Ranks first among the top alerts. As the heap's order, it puts the alert that leaves next
  // (lowest key, then latest) on top.
  static bool RanksAbove(const Alert& a, const Alert& b) {
    return a.key > b.key || (a.key == b.key && a.seq < b.seq);
  }

  std::string RollingChart() const;
  std::string TopAlertsSection() const;

  const engine::Pipeline& pipeline_;
  const std::array<bool, 2> enabled_;  // Anomaly, fraud.
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
  // Every label and the scores it was given, in label order; scores_[0] anomaly, [1] fraud,
  // empty for a model that is off.
  std::vector<uint8_t> labels_seen_;
  std::array<std::vector<double>, 2> scores_;
  std::vector<Marker> markers_;

  int64_t predictions_ = 0;
  std::vector<Alert> top_;  // A heap under RanksAbove, at most kTopAlerts.
};

}  // namespace sluice::tools
