// engine/stream_runner.h. The one event path: Source -> Pipeline -> LabelJoiner -> sinks, with
// the snapshot schedule and checkpoints. Replay runs one runner over a file; live will run one
// per input partition.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/event.h"
#include "engine/challenger.h"
#include "engine/label_joiner.h"
#include "engine/label_record.h"
#include "engine/pipeline.h"
#include "engine/snapshotter.h"
#include "engine/source.h"
#include "metrics/adwin.h"

namespace sluice::engine {

// Where a resumed or audited run starts: a registered version's models and the checkpoints of
// its run up to it, oldest first (each carries the metric deltas since the one before).
struct ResumePoint {
  int64_t version = 0;
  std::string models;
  std::vector<std::string> checkpoints;
};

// The model that made a prediction: the registered version that served it (frozen) or the
// version the serving model continued from and the events it learned since (continuous).
// Version 0 when there is no registry.
struct Served {
  int64_t version = 0;
  int64_t events_since_snapshot = 0;
};

// A change in a signal the run watches, found by ADWIN (metrics::Adwin: River's drift.ADWIN
// with its defaults unless RunOptions::drift says otherwise).
struct Drift {
  enum class Signal {
    kAnomalyScore,  // The anomaly scores, in event order (NaN scores skipped).
    kFraudError,    // The fraud model's |label - probability|, in the order labels are applied.
  };
  Signal signal;
  // 0-based index of the update that detected it: the event's among scored events (anomaly
  // score) or the label's among applied labels (fraud error): River's index for the same series.
  int64_t index = 0;
  int64_t events = 0;  // Events scored when it was detected.
  int64_t labels = 0;  // Labels applied when it was detected.
  std::string id;      // The event scored last when it was detected.
  double event_time = 0;
  double mean = 0;    // ADWIN's estimation after the cut: the level the signal moved to.
  double window = 0;  // ADWIN's width after the cut.
};
// "anomaly_score" or "fraud_error".
const char* SignalName(Drift::Signal signal);

// A challenger promoted (RunOptions::promote): registered as `version`, alias "champion" moved.
struct PromotionRecord {
  std::string challenger;  // Its spec.
  int64_t version = 0;
  double rolling_auc = 0, champion_rolling_auc = 0;
  int64_t labels = 0;  // Its labels when it won.
  int64_t events = 0;  // Events scored when registered.
};

// Where predictions go (a CSV file now; Kafka topics and HTTP responses later). Called on the
// runner's thread only.
class PredictionSink {
 public:
  struct Position {
    int64_t bytes = 0;   // Durable output so far.
    int64_t lines = 0;   // Predictions written so far.
    std::string sha256;  // Of those bytes, if the sink keeps one (a resume verifies it).
    // Where a sink whose output cannot be truncated (a topic) finds, after a crash, what it
    // output past the snapshot; opaque to the runner.
    std::string resume;
  };
  virtual ~PredictionSink() = default;
  // Hot path: errors are kept and returned by Flush() or Close().
  virtual void Write(const core::Event& event, const Pipeline::Scores& scores,
                     const Served& served) = 0;
  // A drift (an alert of its own: the alerts topic). Default: nothing.
  virtual void WriteDrift(const Drift& /*drift*/) {}
  // Makes everything written durable (it survives the process being killed); the position a
  // resumed run continues from.
  virtual absl::StatusOr<Position> Flush() = 0;
  // A sink whose outputs become visible only with the checkpoint that covers them (Kafka
  // transactions) says so, and commits them in Commit(), which the runner calls once the
  // snapshot after Flush() is durable: the source then stood at `source` and the labels at
  // `labels`. Default: outputs are visible as written; nothing to commit.
  virtual bool CommitsWithCheckpoints() const { return false; }
  virtual absl::Status Commit(const SourcePosition& /*source*/, int64_t /*labels*/) {
    return absl::OkStatus();
  }
};

// The parts of a checkpoint callers need before they run.
struct CheckpointInfo {
  int64_t run_first_version = 0;  // The run's first version: its checkpoints form the chain.
  SourcePosition position;        // Where the source stood at the snapshot.
  int64_t label_position = 0;     // Where the labels source stood (0 without one).
  int64_t events = 0;
  int64_t labels = 0;
  PredictionSink::Position predictions;  // The predictions output at the snapshot.
};
// DataLoss if `checkpoint` is corrupt.
absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(absl::string_view checkpoint);

// What a run reports while it runs: progress, the HTML report. Called on the runner's thread;
// default: nothing.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // After an event was scored; `scores` were made before it was learned.
  virtual void OnPrediction(const core::Event& /*event*/, const Pipeline::Scores& /*scores*/,
                            const Served& /*served*/) {}
  // After a label was applied (metrics already updated).
  virtual void OnLabel(bool /*label*/, const Pipeline::Scores& /*scores*/) {}
  // Right after, with challengers: their scores of that event, in RunOptions::challengers' order.
  virtual void OnChallengerLabel(bool /*label*/, const std::vector<double>& /*scores*/) {}
  // A bad record that was skipped.
  virtual void OnBadRecord(const std::string& /*message*/) {}
  // About every 16,384 records.
  virtual void OnProgress(int64_t /*records_read*/) {}
  // About every 256 records: scored events waiting for their labels.
  virtual void OnPending(int64_t /*pending_joins*/) {}
  // At the same times: what became of the labels so far (joined, expired, duplicate, ...).
  virtual void OnLabelCounts(const LabelCounts& /*counts*/) {}
  // A drift, when found.
  virtual void OnDrift(const Drift& /*drift*/) {}
  // A challenger promoted, when registered.
  virtual void OnPromotion(const PromotionRecord& /*promotion*/) {}
};

// Labels from outside the event stream (a labels file, a labels topic), in the order they became
// known. Used by one runner thread. Not thread-safe.
class LabelSource {
 public:
  using Add = absl::FunctionRef<void(const LabelRecord&)>;
  virtual ~LabelSource() = default;
  // Hands over, in order, every label not handed over yet whose time is <= `time`. A source that
  // may be behind (a topic) waits until it has seen a later label or has nothing more for now.
  virtual absl::Status TakeUntil(double time, Add add) = 0;
  // Hands over every label left: the event stream ended.
  virtual absl::Status TakeAll(Add add) = 0;
  // Hands over every label before `position`, whatever their times: a restarted run retracing
  // what its predecessor did. Waits for labels not read yet.
  virtual absl::Status TakeTo(int64_t position, Add add) = 0;
  // Where it stands (an index, an offset): a checkpoint keeps it, a resumed run seeks to it.
  virtual int64_t position() const = 0;
  // Continues from `position`. Requires: nothing was taken yet. FailedPrecondition if the source
  // cannot be there (e.g. a labels file with fewer labels).
  virtual absl::Status Seek(int64_t position) = 0;
};

// A LabelSource over labels in memory sorted by time (ties in file order), which must outlive it.
std::unique_ptr<LabelSource> NewLabelVectorSource(const std::vector<LabelRecord>& labels);

struct RunOptions {
  // Labels from the source's own label column, revealed after a delay (River's simulate_qa with
  // a constant delay): the label of event j arrives just before event j + N is scored...
  int64_t label_delay = 0;
  // ...or, if set, before the first event i with t_j + S <= t_i.
  std::optional<double> label_delay_seconds;
  // If set, labels come from here instead; the source's label column is ignored. Must outlive
  // the run.
  LabelSource* labels = nullptr;
  LabelJoiner::Options join;            // TTL, expiry and memory bounds (by_id is set by the run).
  bool skip_bad_records = false;        // false: the first bad record ends the run.
  Snapshotter* snapshotter = nullptr;   // Snapshots into a registry; null: none.
  const ResumePoint* resume = nullptr;  // Continue from a snapshot; null: from the start.
  int64_t max_events = -1;              // Stop after this many events (audit); -1: no limit.
  // A restarted live run retraces its killed predecessor past the resume point: before the
  // event of source row `first` is scored, the labels source is taken to position `second`
  // exactly (where it stood when that event was first scored), not by time, so the labels
  // interleave with the events as they did. Sorted by row; must outlive the run.
  const std::vector<std::pair<int64_t, int64_t>>* retrace = nullptr;
  // Each checkpoint restores alone: it holds the cumulative AUCs' every pair, not those since
  // the previous one, and starts its own chain. For a partition that moves between machines,
  // which get its latest checkpoint only.
  bool whole_checkpoints = false;
  // Explain every anomaly score with its `explain` largest feature shares (Scores::why, to the
  // sink and the observer); 0: none.
  int explain = 0;
  // ADWIN on both signals of Drift (a model that is off has none); nullopt: no drift detection.
  // Checkpoints carry the detectors, so a resumed run detects at the same indices.
  std::optional<metrics::Adwin::Options> drift = metrics::Adwin::Options();
  // With a snapshotter: a drift registers a version (trigger "drift"), taken after the event
  // kDriftSnapshotLag events after the one scored last at the detection, the same event every
  // run (the read-ahead of the parse stage, which holds the anomaly model, is at most that).
  bool snapshot_on_drift = false;
  // Challengers scoring and learning every event in shadow (never served); null: none. Must
  // outlive the run. Checkpoints carry them: a resumed run needs the same challengers.
  Challengers* challengers = nullptr;
  // Automatic promotion (with challengers and a snapshotter): once a challenger's rolling AUC
  // beats the champion's (same kind) by at least `delta` over at least `min_labels` labels, it
  // is registered as a version (trigger "promotion": the champion's other model and the
  // challenger's, `config_json` of those options) and alias "champion" moves to it, the history
  // saying why. Taken with the snapshot kDriftSnapshotLag events later (as a drift's), so at the
  // same event every run; a challenger is promoted at most once.
  struct Promotion {
    double delta = 0.05;
    int64_t min_labels = 1000;
    std::function<std::string(const Pipeline::Options&)> config_json;
  };
  std::optional<Promotion> promote;
};
inline constexpr int64_t kDriftSnapshotLag = 4096;

struct RunResult {
  int64_t events = 0;     // Events scored.
  bool stopped = false;   // The source was stopped (kStopped), not at its end.
  NanScores anomaly_nan;  // Of a model that is on (a model that is off scores NaN always).
  NanScores fraud_nan;
  int64_t labels = 0;  // Labels applied (joined, and expiries applied as negative).
  LabelCounts label_counts;
  int64_t labels_pending = 0;                    // Scored events still waiting at the end.
  int64_t bad_records = 0;                       // Records skipped.
  std::vector<std::string> bad_record_examples;  // The first 20 messages.
  double seconds = 0;                            // Wall time of the run.
  int64_t snapshots = 0;                         // Versions handed to the snapshotter.
  int64_t last_version = 0;                      // The newest of them.
  std::vector<std::string> snapshot_errors;      // Versions that could not be written.
  // How long the stream stood still for each snapshot: both stages' state capture, seconds.
  std::vector<double> snapshot_pauses;
  std::vector<Drift> drifts;  // In the order found (the first 1,000; drift_count counts all).
  int64_t drift_count = 0;
  std::vector<PromotionRecord> promotions;  // RunOptions::promote's, in order.
};

// Runs `source` through `pipeline` to its end: scores each event, writes it to `sink` (may be
// null), joins labels and applies them. Parsing and the unsupervised stage run on a second
// thread. InvalidArgument with the record's message on the first bad record unless
// skip_bad_records; FailedPrecondition if labels in event time are asked of a source without
// time, or if `resume` does not fit this pipeline or this input (the message names the version);
// DataLoss if its checkpoints are corrupt. With a snapshotter, versions are taken at the start
// (unless resuming), when the schedule fires, and at the end. `clock` times the run only.
absl::StatusOr<RunResult> RunStream(Source& source, Pipeline& pipeline, PredictionSink* sink,
                                    RunObserver& observer, const RunOptions& options,
                                    const core::Clock& clock);

// The q-quantile (0..1) of `values` (nearest rank); 0 if empty.
double Quantile(std::vector<double> values, double q);

}  // namespace sluice::engine
