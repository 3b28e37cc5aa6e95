// engine/stream_runner.cc
#include "engine/stream_runner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::engine {
namespace {

// How labels reach the joiner, and when: the source's own labels after a delay (the queue, in
// scoring order, revealed oldest first and stopping at the first not yet due, exactly as
// simulate_qa does for a constant delay), or external labels in time order.
class LabelFeed {
 public:
  LabelFeed(const RunOptions& options, LabelJoiner& joiner) : options_(options), joiner_(joiner) {}

  // Before the event `index` at `time` is scored: every label due by then arrives, then every
  // TTL that ran out expires.
  absl::Status ArriveBefore(int64_t index, int64_t row, double time) {
    if (options_.labels != nullptr) {
      const auto add = [this](const LabelRecord& l) { joiner_.AddLabel(l.id, l.label); };
      if (const std::optional<int64_t> to = RetracedPosition(row); to.has_value()) {
        SLUICE_RETURN_IF_ERROR(options_.labels->TakeTo(*to, add));
      } else {
        SLUICE_RETURN_IF_ERROR(options_.labels->TakeUntil(time, add));
      }
    } else {
      while (!queue_.empty() && Due(queue_.front(), index, time)) {
        joiner_.AddLabelForSeq(queue_.front().seq, queue_.front().label);
        queue_.pop_front();
      }
    }
    joiner_.ExpireUntil(time);
    return absl::OkStatus();
  }

  // After event `index` was scored and handed to the joiner.
  void Scored(int64_t index, const core::Event& event) {
    if (options_.labels != nullptr || !event.label.has_value()) return;
    if (!options_.label_delay_seconds.has_value() && options_.label_delay == 0) {
      joiner_.AddLabelForSeq(index, *event.label);  // Immediate.
      return;
    }
    const double due = options_.label_delay_seconds.has_value()
                           ? event.event_time + *options_.label_delay_seconds
                           : static_cast<double>(index + options_.label_delay);
    queue_.push_back({index, *event.label, due});
  }

  // The stream ended: whatever is still to come arrives now.
  absl::Status ArriveAll() {
    if (options_.labels != nullptr) {
      SLUICE_RETURN_IF_ERROR(options_.labels->TakeAll(
          [this](const LabelRecord& l) { joiner_.AddLabel(l.id, l.label); }));
    }
    for (const Delayed& d : queue_) joiner_.AddLabelForSeq(d.seq, d.label);
    queue_.clear();
    return absl::OkStatus();
  }

  void Save(core::StateWriter* w) const {
    w->Put<uint64_t>(options_.labels != nullptr ? static_cast<uint64_t>(options_.labels->position())
                                                : 0);
    w->Put<uint64_t>(queue_.size());
    for (const Delayed& d : queue_) {
      w->Put(d.seq);
      w->Put<uint8_t>(d.label ? 1 : 0);
      w->Put(d.due);
    }
  }

  // Restores the queue; the external labels' position goes to *label_position.
  bool Load(core::StateReader* r, uint64_t* label_position) {
    uint64_t n = 0;
    if (!r->Get(label_position) || !r->Get(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      Delayed d;
      uint8_t label = 0;
      if (!r->Get(&d.seq) || !r->Get(&label) || !r->Get(&d.due)) return false;
      d.label = label != 0;
      queue_.push_back(d);
    }
    return true;
  }

 private:
  // Where the labels stood when the predecessor scored `row`, if it did.
  std::optional<int64_t> RetracedPosition(int64_t row) {
    if (options_.retrace == nullptr) return std::nullopt;
    const auto& r = *options_.retrace;
    while (retraced_ < r.size() && r[retraced_].first < row) ++retraced_;
    if (retraced_ == r.size() || r[retraced_].first != row) return std::nullopt;
    return r[retraced_].second;
  }

  struct Delayed {
    int64_t seq;
    bool label;
    double due;  // Event time, or the index before which it arrives (delays in events).
  };
  bool Due(const Delayed& d, int64_t index, double time) const {
    return options_.label_delay_seconds.has_value() ? d.due <= time
                                                    : d.due <= static_cast<double>(index);
  }

  const RunOptions& options_;
  LabelJoiner& joiner_;
  std::deque<Delayed> queue_;
  size_t retraced_ = 0;  // options_.retrace before it lies behind.
};

class LabelVectorSource final : public LabelSource {
 public:
  explicit LabelVectorSource(const std::vector<LabelRecord>& labels) : labels_(labels) {}
  absl::Status TakeUntil(double time, Add add) override {
    for (; next_ < labels_.size() && labels_[next_].time <= time; ++next_) add(labels_[next_]);
    return absl::OkStatus();
  }
  absl::Status TakeAll(Add add) override {
    for (; next_ < labels_.size(); ++next_) add(labels_[next_]);
    return absl::OkStatus();
  }
  absl::Status TakeTo(int64_t position, Add add) override {
    for (; next_ < labels_.size() && static_cast<int64_t>(next_) < position; ++next_) {
      add(labels_[next_]);
    }
    return absl::OkStatus();
  }
  int64_t position() const override { return static_cast<int64_t>(next_); }
  absl::Status Seek(int64_t position) override {
    if (position < 0 || static_cast<uint64_t>(position) > labels_.size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint is ", position, " labels into a labels file of ", labels_.size()));
    }
    next_ = static_cast<size_t>(position);
    return absl::OkStatus();
  }

 private:
  const std::vector<LabelRecord>& labels_;
  size_t next_ = 0;  // The labels before it were handed over.
};

// The first half of a run, on a second thread: reads records a batch at a time and runs the
// pipeline's unsupervised stage (the anomaly model) on each, while the calling thread runs the
// supervised stage. Records reach it in source order and each stage sees every event in that
// order, so results do not depend on the threading.
class ParseStage {
  static constexpr size_t kBatchRows = 1024;
  static constexpr size_t kBatches = 4;  // In flight: bounds memory and read-ahead.
  static_assert(kDriftSnapshotLag >= static_cast<int64_t>(kBatches * kBatchRows),
                "a drift snapshot must be asked for before this stage reaches it");

 public:
  struct Row {
    ReadResult result;
    core::Event event;
    std::string bad_record_message;
    double anomaly_score;
    Pipeline::Explanation why;  // Of anomaly_score, with --explain.
    // Set when a snapshot is due after this row: the trigger and the anomaly model's state,
    // taken by this stage at this very boundary.
    std::optional<std::string> snapshot_trigger;
    std::string anomaly_state;
    SourcePosition position;   // Of the source after this row.
    double anomaly_pause = 0;  // Seconds this stage spent capturing it.
  };
  struct Batch {
    std::vector<Row> rows = std::vector<Row>(kBatchRows);  // Reused: buffers survive.
    size_t size = 0;                                       // Rows in use.
  };

  ParseStage(Source& source, int64_t max_events, int64_t events, Pipeline& pipeline,
             Snapshotter* snapshotter, int explain, const core::Clock& clock)
      : source_(source),
        clock_(clock),
        max_events_(max_events),
        explain_(explain),
        events_(events),
        snapshot_events_(events),
        pipeline_(pipeline),
        snapshotter_(snapshotter),
        storage_(kBatches) {
    for (Batch& batch : storage_) free_.push_back(&batch);
    thread_ = std::thread([this] { Produce(); });
  }
  ~ParseStage() {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    thread_.join();
  }
  ParseStage(const ParseStage&) = delete;
  ParseStage& operator=(const ParseStage&) = delete;

  // Asks for a snapshot after the event that makes `events` events through this stage (from
  // the consumer's thread). Requires: this stage has not passed it, as kDriftSnapshotLag events
  // after the consumer's position ensures; requests come in increasing order.
  void RequestSnapshotAfter(int64_t events, std::string trigger) {
    absl::MutexLock lock(&mu_);
    requests_.emplace_back(events, std::move(trigger));
    if (requests_.size() == 1) next_request_.store(events, std::memory_order_release);
  }

  // The next batch, or nullptr at the end of the stream (then status() tells why it ended).
  // Give it back with Recycle() before the next call.
  Batch* Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ParseStage* self) { return !self->full_.empty() || self->done_; }, this));
    if (full_.empty()) return nullptr;
    Batch* batch = full_.front();
    full_.pop_front();
    return batch;
  }
  void Recycle(Batch* batch) {
    absl::MutexLock lock(&mu_);
    free_.push_back(batch);
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  // After Next() returned nullptr: whether the source was stopped rather than ended.
  bool stopped() const { return stopped_.load(); }

 private:
  // Fills `batch` until it is full, the source is idle or ends; false once it ended.
  absl::StatusOr<bool> Fill(Batch& batch) {
    batch.size = 0;
    while (batch.size < kBatchRows) {
      if (max_events_ >= 0 && events_ >= max_events_) return false;
      Row& row = batch.rows[batch.size];
      // Only the batch's first record may wait: once one is in, a source with nothing ready
      // (a topic between messages) hands the batch over at once, so latency stays low.
      const absl::Duration wait = batch.size == 0 ? absl::Milliseconds(100) : absl::ZeroDuration();
      SLUICE_ASSIGN_OR_RETURN(row.result, source_.Read(wait, &row.event));
      if (row.result == ReadResult::kEndOfStream) return false;
      if (row.result == ReadResult::kStopped) {
        stopped_.store(true);
        return false;
      }
      if (row.result == ReadResult::kIdle) {  // Hand over what came so far...
        // ...and, if the wall-clock rule is due, a snapshot of what came since the last one:
        // outputs that wait for a checkpoint (a Kafka transaction) must not wait for the next
        // event.
        if (snapshotter_ != nullptr && events_ > snapshot_events_) {
          row.snapshot_trigger = snapshotter_->DueWhileIdle();
          if (row.snapshot_trigger.has_value()) {
            SLUICE_RETURN_IF_ERROR(CaptureSnapshot(row));
            ++batch.size;
          }
        }
        return true;
      }
      row.snapshot_trigger.reset();
      ++batch.size;
      if (row.result == ReadResult::kBadRecord) {
        row.bad_record_message = source_.bad_record_message();
        continue;
      }
      // Explained first: the score is made before the model learns the event.
      if (explain_ > 0) pipeline_.ExplainAnomaly(row.event.features, explain_, &row.why);
      row.anomaly_score = pipeline_.ScoreAndLearnAnomaly(row.event.features);
      ++events_;
      if (snapshotter_ == nullptr) continue;
      row.snapshot_trigger = RequestedSnapshot();
      if (!row.snapshot_trigger.has_value()) {
        row.snapshot_trigger = snapshotter_->Due(events_, row.event.event_time);
      }
      if (row.snapshot_trigger.has_value()) SLUICE_RETURN_IF_ERROR(CaptureSnapshot(row));
    }
    return true;
  }

  // The trigger of a snapshot asked for by RequestSnapshotAfter if one is due now (after
  // events_ events).
  std::optional<std::string> RequestedSnapshot() {
    if (events_ != next_request_.load(std::memory_order_acquire)) return std::nullopt;
    absl::MutexLock lock(&mu_);
    std::string trigger = requests_.front().second;
    while (!requests_.empty() && requests_.front().first <= events_) requests_.pop_front();
    next_request_.store(requests_.empty() ? kNoRequest : requests_.front().first,
                        std::memory_order_release);
    return trigger;
  }

  // This stage's part of a snapshot due after `row`: the anomaly model's state, taken here.
  absl::Status CaptureSnapshot(Row& row) {
    const absl::Time start = clock_.Now();
    row.anomaly_state = pipeline_.SaveAnomaly();
    row.position = source_.Position();
    SLUICE_RETURN_IF_ERROR(pipeline_.PromoteAnomaly(row.anomaly_state));
    row.anomaly_pause = absl::ToDoubleSeconds(clock_.Now() - start);
    snapshot_events_ = events_;
    return absl::OkStatus();
  }

  void Produce() {
    absl::StatusOr<bool> more = true;
    while (more.ok() && *more) {
      Batch* batch = nullptr;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](ParseStage* self) { return !self->free_.empty() || self->cancelled_; }, this));
        if (cancelled_) break;
        batch = free_.front();
        free_.pop_front();
      }
      more = Fill(*batch);
      absl::MutexLock lock(&mu_);
      full_.push_back(batch);
    }
    absl::MutexLock lock(&mu_);
    status_ = more.status();
    done_ = true;
  }

  Source& source_;  // Used by the producer thread only.
  const core::Clock& clock_;
  const int64_t max_events_;
  const int explain_;         // Top features explained per anomaly score; 0: none.
  int64_t events_;            // Events through this stage.
  int64_t snapshot_events_;   // events_ at the last snapshot (or the start).
  Pipeline& pipeline_;        // Its unsupervised stage only.
  Snapshotter* snapshotter_;  // Its schedule only.
  std::vector<Batch> storage_;
  std::atomic<bool> stopped_{false};
  absl::Mutex mu_;
  std::deque<Batch*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch*> full_ ABSL_GUARDED_BY(mu_);
  static constexpr int64_t kNoRequest = -1;
  // RequestSnapshotAfter's (events, trigger), in order.
  std::deque<std::pair<int64_t, std::string>> requests_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> next_request_{kNoRequest};  // requests_.front(), read without mu_.
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

constexpr absl::string_view kCheckpointKind = "RunCheckpoint";
// Format 3 added the sink's resume token and the labels position, format 4 the drift detectors
// and the challengers, format 5 the promotions; older formats read without them.
constexpr uint16_t kCheckpointFormat = 5;

// Everything a run needs to continue exactly where a snapshot was taken, except the models (in
// the version's state) and the cumulative AUC pairs before this snapshot (in the earlier
// checkpoints of the run).
struct Checkpoint {
  CheckpointInfo info;
  NanScores anomaly_nan, fraud_nan;
  int64_t bad_records = 0;
  std::vector<std::string> bad_record_examples;
  double last_event_time = core::kMissing;
  std::string first_event_id;
  double first_event_time = core::kMissing;
  std::string anomaly_drift, fraud_drift;  // The detectors' states (format 4); empty: none.
  int64_t drift_count = 0;                 // And the drifts found so far (RunResult's).
  std::vector<Drift> drifts;
};

void WriteDrift(const Drift& d, core::StateWriter* w) {
  w->Put(static_cast<uint8_t>(d.signal));
  w->Put(d.index);
  w->Put(d.events);
  w->Put(d.labels);
  w->PutString(d.id);
  w->Put(d.event_time);
  w->Put(d.mean);
  w->Put(d.window);
}

bool ReadDrift(core::StateReader* r, Drift* d) {
  uint8_t signal = 0;
  if (!r->Get(&signal) || signal > 1) return false;
  d->signal = static_cast<Drift::Signal>(signal);
  return r->Get(&d->index) && r->Get(&d->events) && r->Get(&d->labels) && r->GetString(&d->id) &&
         r->Get(&d->event_time) && r->Get(&d->mean) && r->Get(&d->window);
}

void WriteCheckpointHeader(const Checkpoint& c, core::StateWriter* w) {
  w->PutString(c.info.predictions.resume);
  w->Put(c.info.label_position);
  w->Put(c.info.run_first_version);
  w->Put(c.info.position.records);
  w->PutString(c.info.position.digest);
  w->Put(c.info.events);
  w->Put(c.info.labels);
  w->Put(c.info.predictions.bytes);
  w->Put(c.info.predictions.lines);
  w->PutString(c.info.predictions.sha256);
  w->Put(c.bad_records);
  w->Put<uint64_t>(c.bad_record_examples.size());
  for (const std::string& m : c.bad_record_examples) w->PutString(m);
  w->Put(c.last_event_time);
  w->PutString(c.first_event_id);
  w->Put(c.first_event_time);
  for (const NanScores* nan : {&c.anomaly_nan, &c.fraud_nan}) {
    w->Put(nan->count);
    w->PutString(nan->first_event_id);
    w->Put(nan->first_row);
  }
  w->PutString(c.anomaly_drift);
  w->PutString(c.fraud_drift);
  w->Put(c.drift_count);
  w->Put<uint64_t>(c.drifts.size());
  for (const Drift& d : c.drifts) WriteDrift(d, w);
}

bool ReadCheckpointHeader(uint16_t format, core::StateReader* r, Checkpoint* c) {
  uint64_t examples = 0;
  if (format >= 3 &&
      (!r->GetString(&c->info.predictions.resume) || !r->Get(&c->info.label_position))) {
    return false;
  }
  if (!r->Get(&c->info.run_first_version) || !r->Get(&c->info.position.records) ||
      !r->GetString(&c->info.position.digest) || !r->Get(&c->info.events) ||
      !r->Get(&c->info.labels) || !r->Get(&c->info.predictions.bytes) ||
      !r->Get(&c->info.predictions.lines) || !r->GetString(&c->info.predictions.sha256) ||
      !r->Get(&c->bad_records) || !r->Get(&examples) || examples > 1000) {
    return false;
  }
  c->bad_record_examples.resize(examples);
  for (std::string& m : c->bad_record_examples) r->GetString(&m);
  if (!r->Get(&c->last_event_time) || !r->GetString(&c->first_event_id) ||
      !r->Get(&c->first_event_time)) {
    return false;
  }
  for (NanScores* nan : {&c->anomaly_nan, &c->fraud_nan}) {
    if (!r->Get(&nan->count) || !r->GetString(&nan->first_event_id) || !r->Get(&nan->first_row)) {
      return false;
    }
  }
  if (format < 4) return true;
  uint64_t drifts = 0;
  if (!r->GetString(&c->anomaly_drift) || !r->GetString(&c->fraud_drift) ||
      !r->Get(&c->drift_count) || !r->Get(&drifts) || drifts > 1000) {
    return false;
  }
  c->drifts.resize(drifts);
  for (Drift& d : c->drifts) {
    if (!ReadDrift(r, &d)) return false;
  }
  return true;
}

// A copy of a model's windowed metrics, small enough to take during a snapshot; the JSON is
// made later on the writer thread (River's rolling AUC sorts its window).
struct MetricWindows {
  bool on;
  int64_t labels;
  metrics::RollingRocAuc rolling;
  metrics::RiverRocAuc river;
  metrics::RiverRollingRocAuc river_rolling;

  MetricWindows(bool model_on, const ModelMetrics& m)
      : on(model_on),
        labels(m.labels),
        rolling(m.rolling),
        river(m.river),
        river_rolling(m.river_rolling) {}
  std::string Json() const {
    if (!on) return "null";
    return absl::StrCat("{\"labels\": ", labels,
                        ", \"rolling_auc\": ", core::JsonNumber(rolling.Auc()),
                        ", \"river_rocauc\": ", core::JsonNumber(river.Get()),
                        ", \"river_rolling_rocauc\": ", core::JsonNumber(river_rolling.Get()), "}");
  }
};

std::function<std::string()> MetricsJson(const Pipeline& pipeline, const RunResult& result) {
  return [anomaly = MetricWindows(pipeline.options().anomaly, pipeline.anomaly_metrics()),
          fraud = MetricWindows(pipeline.options().fraud, pipeline.fraud_metrics()),
          events = result.events, labels = result.labels, bad_records = result.bad_records] {
    return absl::StrCat("{\"events\": ", events, ", \"labels\": ", labels,
                        ", \"bad_rows\": ", bad_records, ", \"anomaly\": ", anomaly.Json(),
                        ", \"fraud\": ", fraud.Json(), "}");
  };
}

LabelJoiner::Options JoinOptions(const RunOptions& options) {
  LabelJoiner::Options join = options.join;
  join.by_id = options.labels != nullptr;
  return join;
}

// A detector for a model that is on, if drift detection is.
std::optional<metrics::Adwin> DriftDetector(const RunOptions& options, bool model_on) {
  if (!options.drift.has_value() || !model_on) return std::nullopt;
  return metrics::Adwin(*options.drift);
}

std::string SaveDetector(const std::optional<metrics::Adwin>& adwin) {
  if (!adwin.has_value()) return "";
  core::StateWriter w;
  adwin->Save(&w);
  return std::move(w.payload());
}

// false if `state` does not fit `adwin` (one is off, or another ADWIN's options).
bool LoadDetector(const std::string& state, std::optional<metrics::Adwin>* adwin) {
  if (state.empty() || !adwin->has_value()) return state.empty() == !adwin->has_value();
  core::StateReader r(state);
  return (*adwin)->Load(&r) && r.done();
}

}  // namespace

const char* SignalName(Drift::Signal signal) {
  return signal == Drift::Signal::kAnomalyScore ? "anomaly_score" : "fraud_error";
}

namespace {

// The supervised half of a run and its bookkeeping, on the calling thread.
class Runner {
 public:
  Runner(Source& source, Pipeline& pipeline, PredictionSink* sink, RunObserver& observer,
         const RunOptions& options, const core::Clock& clock)
      : source_(source),
        pipeline_(pipeline),
        sink_(sink),
        observer_(observer),
        options_(options),
        clock_(clock),
        joiner_(JoinOptions(options)),
        feed_(options_, joiner_),
        anomaly_drift_(DriftDetector(options, pipeline.options().anomaly)),
        fraud_drift_(DriftDetector(options, pipeline.options().fraud)),
        promoted_(options.challengers != nullptr ? options.challengers->size() : 0) {}

  // `status`, said of resuming `resume`.
  static absl::Status Resumable(const ResumePoint& resume, const absl::Status& status) {
    if (status.ok()) return status;
    return absl::Status(status.code(), absl::StrCat("cannot resume version ", resume.version, ": ",
                                                    status.message()));
  }

  // The challengers' metrics in a checkpoint (format 4), which must be this run's challengers.
  absl::Status LoadChallengerMetrics(core::StateReader* r) {
    if (options_.challengers != nullptr) return options_.challengers->LoadMetrics(r);
    uint64_t saved = 0;
    if (!r->Get(&saved)) return absl::DataLossError("malformed checkpoint");
    if (saved == 0) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("it was made with ", saved, " challengers: give the same --challenger flags"));
  }

  absl::Status Restore(const ResumePoint& resume) {
    SLUICE_RETURN_IF_ERROR(pipeline_.RestoreModels(resume.models));
    const auto malformed = [&] {
      return absl::DataLossError(
          absl::StrCat("checkpoint of version ", resume.version, " is malformed"));
    };
    if (resume.checkpoints.empty()) {
      return absl::DataLossError(absl::StrCat("version ", resume.version, " has no checkpoint"));
    }
    Checkpoint last;
    for (size_t i = 0; i < resume.checkpoints.size(); ++i) {
      uint16_t format = 0;
      SLUICE_ASSIGN_OR_RETURN(
          const absl::string_view payload,
          core::OpenState(resume.checkpoints[i], kCheckpointKind, kCheckpointFormat, &format));
      core::StateReader r(payload);
      Checkpoint c;
      if (!ReadCheckpointHeader(format, &r, &c) || !pipeline_.LoadMetrics(&r)) return malformed();
      if (format >= 4) SLUICE_RETURN_IF_ERROR(Resumable(resume, LoadChallengerMetrics(&r)));
      if (i + 1 < resume.checkpoints.size()) continue;
      uint64_t label_position = 0;
      if (!joiner_.Load(&r, pipeline_.feature_names().size()) || !feed_.Load(&r, &label_position) ||
          (format >= 4 && !joiner_.LoadExtra(&r))) {
        return malformed();
      }
      if (format >= 4 && options_.challengers != nullptr) {
        SLUICE_RETURN_IF_ERROR(Resumable(resume, options_.challengers->LoadModels(&r)));
      }
      if (format >= 5 && !LoadPromotions(&r)) return malformed();
      if (!r.done()) return malformed();
      if (options_.labels != nullptr) {
        if (absl::Status seek = options_.labels->Seek(static_cast<int64_t>(label_position));
            !seek.ok()) {
          return absl::Status(seek.code(), absl::StrCat("cannot resume version ", resume.version,
                                                        ": ", seek.message()));
        }
      }
      // A checkpoint before format 4 has no detectors: they start afresh.
      if (format >= 4 && (!LoadDetector(c.anomaly_drift, &anomaly_drift_) ||
                          !LoadDetector(c.fraud_drift, &fraud_drift_))) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot resume version ", resume.version, ": its drift detectors were saved with ",
            c.anomaly_drift.empty() && c.fraud_drift.empty() ? "--drift off" : "--drift on",
            "; resume with the same --drift and --drift-delta"));
      }
      last = std::move(c);
    }
    checkpoint_ = last;
    result_.events = last.info.events;
    result_.labels = last.info.labels;
    result_.bad_records = last.bad_records;
    result_.bad_record_examples = last.bad_record_examples;
    result_.anomaly_nan = last.anomaly_nan;
    result_.fraud_nan = last.fraud_nan;
    result_.drift_count = last.drift_count;
    result_.drifts = last.drifts;
    served_.version = resume.version;
    result_.last_version = resume.version;
    run_first_version_ = last.info.run_first_version;
    if (absl::Status seek = source_.Seek(last.info.position); !seek.ok()) {
      return absl::Status(seek.code(), absl::StrCat("cannot resume version ", resume.version, ": ",
                                                    seek.message()));
    }
    records_ = last.info.position.records;
    resumed_ = {records_, result_.labels};
    if (options_.snapshotter != nullptr) {
      options_.snapshotter->ContinueAfter(resume.version, last.last_event_time);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<RunResult> Run() {
    if (options_.snapshotter != nullptr && options_.resume == nullptr) {
      run_first_version_ = options_.snapshotter->version() + 1;
      SLUICE_RETURN_IF_ERROR(
          TakeSnapshot("start", pipeline_.SaveAnomaly(), core::kMissing, source_.Position()));
    }
    ParseStage rows(source_, options_.max_events, result_.events, pipeline_, options_.snapshotter,
                    options_.explain, clock_);
    parse_ = &rows;
    while (ParseStage::Batch* batch = rows.Next()) {
      for (size_t i = 0; i < batch->size; ++i) {
        SLUICE_RETURN_IF_ERROR(Process(batch->rows[i]));
      }
      rows.Recycle(batch);
    }
    SLUICE_RETURN_IF_ERROR(rows.status());
    parse_ = nullptr;  // Done: drifts found from here on ask for no snapshot.
    // A stopped stream goes on later: the labels still to come are not due yet, and the pending
    // joins keep waiting (in the checkpoint).
    if (!rows.stopped()) {
      SLUICE_RETURN_IF_ERROR(feed_.ArriveAll());
      joiner_.Finish();
      Drain();
    }
    result_.stopped = rows.stopped();
    result_.label_counts = joiner_.counts();
    result_.labels_pending = joiner_.pending();
    observer_.OnPending(result_.labels_pending);
    observer_.OnLabelCounts(result_.label_counts);
    // A resumed run that met nothing new (restarted after its end) adds no copy of its version.
    const bool unchanged = options_.resume != nullptr && records_ == resumed_.records &&
                           result_.labels == resumed_.labels;
    if (options_.snapshotter != nullptr && !unchanged) {
      // The unsupervised stage has finished, so its state may be read here.
      SLUICE_RETURN_IF_ERROR(TakeSnapshot(rows.stopped() ? "stop" : "end of stream",
                                          pipeline_.SaveAnomaly(), last_event_time_,
                                          source_.Position()));
    }
    if (options_.snapshotter != nullptr) result_.snapshot_errors = options_.snapshotter->Finish();
    return result_;
  }

 private:
  absl::Status Process(ParseStage::Row& row) {
    if (row.result == ReadResult::kIdle) {  // A snapshot while the source stands still.
      const absl::Time start = clock_.Now();
      SLUICE_RETURN_IF_ERROR(TakeSnapshot(*row.snapshot_trigger, std::move(row.anomaly_state),
                                          last_event_time_, std::move(row.position)));
      result_.snapshot_pauses.push_back(row.anomaly_pause +
                                        absl::ToDoubleSeconds(clock_.Now() - start));
      return absl::OkStatus();
    }
    if ((++records_ & 255) == 0) {
      observer_.OnPending(joiner_.pending());
      observer_.OnLabelCounts(joiner_.counts());
      if ((records_ & 16383) == 0) observer_.OnProgress(records_);
    }
    if (row.result == ReadResult::kBadRecord) {
      if (!options_.skip_bad_records) return absl::InvalidArgumentError(row.bad_record_message);
      ++result_.bad_records;
      if (result_.bad_record_examples.size() < 20) {
        result_.bad_record_examples.push_back(row.bad_record_message);
      }
      observer_.OnBadRecord(row.bad_record_message);
      return absl::OkStatus();
    }
    const core::Event& event = row.event;
    const int64_t index = result_.events++;
    if (checkpoint_.first_event_id.empty() && index == 0) {
      checkpoint_.first_event_id = event.id;
      checkpoint_.first_event_time = event.event_time;
    }
    SLUICE_RETURN_IF_ERROR(feed_.ArriveBefore(index, event.row, event.event_time));
    Drain();
    const Pipeline::Scores scores{
        row.anomaly_score, pipeline_.ScoreFraud(event.features),
        options_.explain > 0 && pipeline_.options().anomaly ? &row.why : nullptr};
    if (std::isnan(scores.anomaly) && pipeline_.options().anomaly) {
      CountNan(event, &result_.anomaly_nan);
    }
    if (std::isnan(scores.fraud) && pipeline_.options().fraud) CountNan(event, &result_.fraud_nan);
    if (sink_ != nullptr) sink_->Write(event, scores, served_);
    observer_.OnPrediction(event, scores, served_);
    if (anomaly_drift_.has_value() && !std::isnan(scores.anomaly) &&
        anomaly_drift_->Update(scores.anomaly)) {
      Found(Drift::Signal::kAnomalyScore, index, *anomaly_drift_, event.id, event.event_time);
    }
    ++served_.events_since_snapshot;
    if (options_.challengers != nullptr) options_.challengers->Score(event, &shadow_);
    if (options_.labels != nullptr || event.label.has_value()) {
      joiner_.AddScored(index, event, scores, served_.version, shadow_);
    } else {
      joiner_.SkipScored();  // An input without labels: nothing will ever join.
    }
    feed_.Scored(index, event);
    Drain();
    last_event_id_ = event.id;
    last_event_time_ = event.event_time;
    if (row.snapshot_trigger.has_value()) {
      const absl::Time start = clock_.Now();
      SLUICE_RETURN_IF_ERROR(TakeSnapshot(*row.snapshot_trigger, std::move(row.anomaly_state),
                                          event.event_time, std::move(row.position)));
      result_.snapshot_pauses.push_back(row.anomaly_pause +
                                        absl::ToDoubleSeconds(clock_.Now() - start));
    }
    return absl::OkStatus();
  }

  static void CountNan(const core::Event& event, NanScores* nan) {
    if (nan->count++ == 0) {
      nan->first_event_id = event.id;
      nan->first_row = event.row;
    }
  }

  // Applies every resolved label, in scoring order.
  void Drain() {
    joiner_.Drain([this](const LabelJoiner::Resolved& r) {
      pipeline_.ApplyLabel(r.x, r.label, r.scores);
      const int64_t index = result_.labels++;
      if (options_.challengers != nullptr) {
        options_.challengers->ApplyLabel(r.x, r.label, r.extra);
        MaybePromote();
      }
      observer_.OnLabel(r.label, r.scores);
      if (options_.challengers != nullptr) observer_.OnChallengerLabel(r.label, r.extra);
      if (fraud_drift_.has_value() && !std::isnan(r.scores.fraud) &&
          fraud_drift_->Update(std::abs((r.label ? 1.0 : 0.0) - r.scores.fraud))) {
        Found(Drift::Signal::kFraudError, index, *fraud_drift_, last_event_id_, last_event_time_);
      }
    });
  }

  // A promotion decided, waiting for its snapshot.
  struct PendingPromotion {
    size_t challenger;
    double auc, champion_auc;
    int64_t labels;
    double event_time;
    int64_t at;  // Registered with the first snapshot after this many events.
  };

  // Which challengers were promoted, and the promotions waiting for their snapshot.
  void SavePromotions(core::StateWriter* w) const {
    w->Put<uint64_t>(promoted_.size());
    for (const bool p : promoted_) w->Put<uint8_t>(p ? 1 : 0);
    w->Put<uint64_t>(promotions_.size());
    for (const PendingPromotion& p : promotions_) {
      w->Put<uint64_t>(p.challenger);
      w->Put(p.auc);
      w->Put(p.champion_auc);
      w->Put(p.labels);
      w->Put(p.event_time);
      w->Put(p.at);
    }
    w->Put<uint64_t>(result_.promotions.size());
    for (const PromotionRecord& p : result_.promotions) {
      w->PutString(p.challenger);
      w->Put(p.version);
      w->Put(p.rolling_auc);
      w->Put(p.champion_rolling_auc);
      w->Put(p.labels);
      w->Put(p.events);
    }
  }

  bool LoadPromotions(core::StateReader* r) {
    uint64_t n = 0;
    if (!r->Get(&n) || n != promoted_.size()) return false;
    for (size_t i = 0; i < n; ++i) {
      uint8_t p = 0;
      if (!r->Get(&p)) return false;
      promoted_[i] = p != 0;
    }
    if (!r->Get(&n) || n > promoted_.size()) return false;
    promotions_.resize(n);
    for (PendingPromotion& p : promotions_) {
      uint64_t challenger = 0;
      if (!r->Get(&challenger) || challenger >= promoted_.size() || !r->Get(&p.auc) ||
          !r->Get(&p.champion_auc) || !r->Get(&p.labels) || !r->Get(&p.event_time) ||
          !r->Get(&p.at)) {
        return false;
      }
      p.challenger = challenger;
    }
    if (!r->Get(&n) || n > promoted_.size()) return false;
    result_.promotions.resize(n);
    for (PromotionRecord& p : result_.promotions) {
      if (!r->GetString(&p.challenger) || !r->Get(&p.version) || !r->Get(&p.rolling_auc) ||
          !r->Get(&p.champion_rolling_auc) || !r->Get(&p.labels) || !r->Get(&p.events)) {
        return false;
      }
    }
    return true;
  }

  // Challenger p.challenger as a version beside the champion's other model, alias "champion"
  // moved to it as it is written, saying why.
  Snapshot PromotionSnapshot(const PendingPromotion& p, const std::string& anomaly_state,
                             double event_time, const SourcePosition& position) {
    Snapshotter& snapshotter = *options_.snapshotter;
    const Challengers& c = *options_.challengers;
    Snapshot s;
    if (snapshotter.version() > 0) s.parent = snapshotter.version();
    s.version = snapshotter.TakeVersion();
    s.trigger = "promotion";
    if (std::isfinite(event_time)) s.event_time = event_time;
    Pipeline::Options o = pipeline_.options();
    const Pipeline::Options& mine = c.spec(p.challenger).options;
    const std::string state = c.SaveModel(p.challenger);
    if (c.anomaly(p.challenger)) {
      o.hst = mine.hst;
      s.models = PackModels(state, pipeline_.SaveFraud());
    } else {
      o.lr = mine.lr;
      o.fraud_scaler = mine.fraud_scaler;
      s.models = PackModels(anomaly_state, state);
    }
    s.config_json = options_.promote->config_json(o);
    s.alias = "champion";
    s.alias_reason = absl::StrCat(
        "challenger ", c.spec(p.challenger).text, " promoted: rolling AUC ",
        core::FormatDouble(p.auc), " vs the champion's ", core::FormatDouble(p.champion_auc),
        " over ", p.labels, " labels (at event time ", core::FormatDouble(p.event_time), ")");
    s.metrics_json =
        [json = absl::StrCat("{\"promoted\": ", core::JsonQuote(c.spec(p.challenger).text),
                             ", \"rolling_auc\": ", core::JsonNumber(p.auc),
                             ", \"champion_rolling_auc\": ", core::JsonNumber(p.champion_auc),
                             ", \"labels\": ", p.labels, "}")] { return json; };
    s.rows_read = position.records;
    s.input_sha256 = position.digest;
    s.events = result_.events;
    s.labels = result_.labels;
    s.first_event_id = checkpoint_.first_event_id;
    s.last_event_id = last_event_id_;
    if (std::isfinite(checkpoint_.first_event_time))
      s.first_event_time = checkpoint_.first_event_time;
    if (std::isfinite(last_event_time_)) s.last_event_time = last_event_time_;
    result_.promotions.push_back(
        {c.spec(p.challenger).text, s.version, p.auc, p.champion_auc, p.labels, result_.events});
    observer_.OnPromotion(result_.promotions.back());
    return s;
  }

  // Reports a drift `detector` found at update `index` of `signal` (the event scored last: `id`
  // at `time`), and asks for its snapshot.
  void Found(Drift::Signal signal, int64_t index, const metrics::Adwin& detector,
             const std::string& id, double time) {
    Drift d{signal, index, result_.events,        result_.labels,
            id,     time,  detector.estimation(), detector.width()};
    if (result_.drift_count++ < 1000) result_.drifts.push_back(d);
    observer_.OnDrift(d);
    if (sink_ != nullptr) sink_->WriteDrift(d);
    if (options_.snapshot_on_drift) RequestSnapshot("drift");
  }

  // Asks the parse stage for a snapshot after event result_.events + kDriftSnapshotLag, unless
  // one is asked for there already (two drifts this close share a version); returns its event
  // count. Without a snapshotter, or once the parse stage is done, none is taken.
  int64_t RequestSnapshot(const char* trigger) {
    const int64_t after = result_.events + kDriftSnapshotLag;
    if (options_.snapshotter != nullptr && parse_ != nullptr && after > requested_snapshot_) {
      parse_->RequestSnapshotAfter(after, trigger);
      requested_snapshot_ = after;
    }
    return after;
  }

  // After each label: a challenger that now beats its champion by RunOptions::promote's margin
  // is promoted at the snapshot asked for here.
  void MaybePromote() {
    if (!options_.promote.has_value() || options_.challengers == nullptr) return;
    const Challengers& c = *options_.challengers;
    for (size_t i = 0; i < c.size(); ++i) {
      if (promoted_[i]) continue;
      const ModelMetrics& mine = c.metrics(i);
      const ModelMetrics& champion =
          c.anomaly(i) ? pipeline_.anomaly_metrics() : pipeline_.fraud_metrics();
      if (mine.labels < options_.promote->min_labels) continue;
      const double auc = mine.rolling.Auc(), champion_auc = champion.rolling.Auc();
      if (!(auc - champion_auc >= options_.promote->delta)) continue;  // NaN: no.
      promoted_[i] = true;
      promotions_.push_back(
          {i, auc, champion_auc, mine.labels, last_event_time_, RequestSnapshot("promotion")});
    }
  }

  // Both stages' states after the source reached `position`, handed to the writer thread.
  absl::Status TakeSnapshot(const std::string& trigger, std::string anomaly_state,
                            double event_time, SourcePosition position) {
    Snapshotter& snapshotter = *options_.snapshotter;
    // Promotions due are registered first, with the checkpoint below in one transaction: it
    // stays the newest version.
    std::vector<Snapshot> group;
    while (!promotions_.empty() && promotions_.front().at <= result_.events) {
      group.push_back(PromotionSnapshot(promotions_.front(), anomaly_state, event_time, position));
      promotions_.pop_front();
    }
    Snapshot s;
    s.parent = snapshotter.version() > 0 && snapshotter.version() >= run_first_version_
                   ? std::optional<int64_t>(snapshotter.version())
                   : std::nullopt;
    if (options_.resume != nullptr && s.parent == std::nullopt) s.parent = options_.resume->version;
    s.version = snapshotter.TakeVersion();
    s.trigger = trigger;
    if (std::isfinite(event_time)) s.event_time = event_time;
    const std::string fraud_state = pipeline_.SaveFraud();
    // Frozen serving: this version serves from the next event on. Our own states load.
    pipeline_.PromoteFraud(fraud_state).IgnoreError();
    s.models = PackModels(anomaly_state, fraud_state);
    PredictionSink::Position written;
    if (sink_ != nullptr) {
      SLUICE_ASSIGN_OR_RETURN(written, sink_->Flush());
    }
    Checkpoint& c = checkpoint_;
    c.info.run_first_version = options_.whole_checkpoints ? s.version : run_first_version_;
    c.info.position = position;
    c.info.label_position = options_.labels != nullptr ? options_.labels->position() : 0;
    c.info.events = result_.events;
    c.info.labels = result_.labels;
    c.info.predictions = written;
    c.bad_records = result_.bad_records;
    c.bad_record_examples = result_.bad_record_examples;
    c.anomaly_nan = result_.anomaly_nan;
    c.fraud_nan = result_.fraud_nan;
    c.last_event_time = event_time;
    c.anomaly_drift = SaveDetector(anomaly_drift_);
    c.fraud_drift = SaveDetector(fraud_drift_);
    c.drift_count = result_.drift_count;
    c.drifts = result_.drifts;
    core::StateWriter w;
    WriteCheckpointHeader(c, &w);
    pipeline_.SaveMetrics(&w, options_.whole_checkpoints);
    if (options_.challengers != nullptr) {
      options_.challengers->SaveMetrics(&w, options_.whole_checkpoints);
    } else {
      w.Put<uint64_t>(0);  // No challengers.
    }
    joiner_.Save(&w);
    feed_.Save(&w);
    joiner_.SaveExtra(&w);
    if (options_.challengers != nullptr) options_.challengers->SaveModels(&w);
    SavePromotions(&w);
    s.checkpoint = core::SealState(kCheckpointKind, kCheckpointFormat, w.payload());
    s.metrics_json = MetricsJson(pipeline_, result_);
    s.rows_read = position.records;
    s.input_sha256 = std::move(position.digest);
    s.events = result_.events;
    s.labels = result_.labels;
    s.first_event_id = c.first_event_id;
    s.last_event_id = last_event_id_;
    if (std::isfinite(c.first_event_time)) s.first_event_time = c.first_event_time;
    if (std::isfinite(last_event_time_)) s.last_event_time = last_event_time_;
    group.push_back(std::move(s));
    snapshotter.Submit(std::move(group));
    if (sink_ != nullptr && sink_->CommitsWithCheckpoints()) {
      // The outputs so far become visible with this checkpoint, never before it is durable:
      // a restart finds the checkpoint of whatever was committed last.
      SLUICE_RETURN_IF_ERROR(snapshotter.WaitWritten(snapshotter.version()));
      SLUICE_RETURN_IF_ERROR(sink_->Commit(c.info.position, c.info.label_position));
    }
    served_ = Served{snapshotter.version(), 0};
    ++result_.snapshots;
    result_.last_version = snapshotter.version();
    return absl::OkStatus();
  }

  Source& source_;
  Pipeline& pipeline_;
  PredictionSink* sink_;
  RunObserver& observer_;
  const RunOptions& options_;
  const core::Clock& clock_;
  LabelJoiner joiner_;
  LabelFeed feed_;
  RunResult result_;
  Checkpoint checkpoint_;
  Served served_;
  int64_t records_ = 0;
  int64_t run_first_version_ = 0;
  struct {
    int64_t records = -1, labels = -1;
  } resumed_;  // Where the resume point stood.
  std::string last_event_id_;
  double last_event_time_ = core::kMissing;
  std::optional<metrics::Adwin> anomaly_drift_, fraud_drift_;  // RunOptions::drift
  ParseStage* parse_ = nullptr;  // While it runs: where drift snapshots are asked for.
  std::vector<double> shadow_;   // The challengers' scores of the event being processed.
  std::vector<bool> promoted_;   // By challenger: once only.
  std::deque<PendingPromotion> promotions_;
  int64_t requested_snapshot_ = 0;  // The last one asked for.
};

}  // namespace

std::unique_ptr<LabelSource> NewLabelVectorSource(const std::vector<LabelRecord>& labels) {
  return std::make_unique<LabelVectorSource>(labels);
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  const size_t index = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(absl::string_view checkpoint) {
  uint16_t format = 0;
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(checkpoint, kCheckpointKind, kCheckpointFormat, &format));
  core::StateReader r(payload);
  Checkpoint c;
  if (!ReadCheckpointHeader(format, &r, &c)) return absl::DataLossError("checkpoint is malformed");
  return c.info;
}

absl::StatusOr<RunResult> RunStream(Source& source, Pipeline& pipeline, PredictionSink* sink,
                                    RunObserver& observer, const RunOptions& options,
                                    const core::Clock& clock) {
  const bool needs_time = options.label_delay_seconds.has_value() || options.labels != nullptr ||
                          options.join.ttl_seconds.has_value();
  if (needs_time && !source.has_time()) {
    return absl::FailedPreconditionError(
        absl::StrCat(source.description(),
                     ": labels in event time (a delay in seconds, a labels file or a "
                     "TTL) need a time column"));
  }
  if (options.label_delay < 0 ||
      (options.label_delay_seconds.has_value() && !(*options.label_delay_seconds >= 0)) ||
      (options.join.ttl_seconds.has_value() && !(*options.join.ttl_seconds >= 0))) {
    return absl::InvalidArgumentError("label delays and TTLs must be >= 0");
  }
  const absl::Time start = clock.Now();
  Runner runner(source, pipeline, sink, observer, options, clock);
  if (options.resume != nullptr) SLUICE_RETURN_IF_ERROR(runner.Restore(*options.resume));
  SLUICE_ASSIGN_OR_RETURN(RunResult result, runner.Run());
  result.seconds = absl::ToDoubleSeconds(clock.Now() - start);
  return result;
}

}  // namespace sluice::engine
