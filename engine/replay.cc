// engine/replay.cc
#include "engine/replay.h"

#include <algorithm>
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

// An event scored but not yet labelled.
struct Pending {
  int64_t index;  // Position among scored events.
  double expiry;  // Event time + delay, for delays in seconds.
  bool label;
  Pipeline::Scores scores;
  std::vector<double> x;
};

// The delayed-label queue. Labels are revealed oldest first, stopping at the first one not yet
// due, exactly as simulate_qa does for a constant delay.
class LabelQueue {
 public:
  LabelQueue(Pipeline& pipeline, ReplayObserver& observer, const ReplayOptions& options)
      : pipeline_(pipeline), observer_(observer), options_(options) {}

  void Push(int64_t index, const core::Event& event, const Pipeline::Scores& scores) {
    if (!options_.label_delay_seconds.has_value() && options_.label_delay == 0) {
      Apply(event.features, *event.label, scores);  // Immediate: no copy needed.
      return;
    }
    std::vector<double> x;
    if (!free_.empty()) {
      x = std::move(free_.back());
      free_.pop_back();
    }
    x.assign(event.features.begin(), event.features.end());
    const double expiry = options_.label_delay_seconds.has_value()
                              ? event.event_time + *options_.label_delay_seconds
                              : 0.0;
    queue_.push_back(Pending{index, expiry, *event.label, scores, std::move(x)});
  }

  // Reveals every label due before event `index` (at time `time`) is scored.
  void RevealDue(int64_t index, double time) {
    while (!queue_.empty()) {
      const Pending& front = queue_.front();
      const bool due = options_.label_delay_seconds.has_value()
                           ? front.expiry <= time
                           : front.index + options_.label_delay <= index;
      if (!due) break;
      PopFront();
    }
  }

  void RevealAll() {
    while (!queue_.empty()) PopFront();
  }

  int64_t labels() const { return labels_; }

  void Save(core::StateWriter* w) const {
    w->Put<int64_t>(labels_);
    w->Put<uint64_t>(queue_.size());
    for (const Pending& p : queue_) {
      w->Put(p.index);
      w->Put(p.expiry);
      w->Put<uint8_t>(p.label ? 1 : 0);
      w->Put(p.scores.anomaly);
      w->Put(p.scores.fraud);
      w->PutVector(p.x);
    }
  }

  bool Load(core::StateReader* r, size_t dimension) {
    uint64_t n = 0;
    if (!r->Get(&labels_) || !r->Get(&n)) return false;
    queue_.clear();
    for (uint64_t i = 0; i < n; ++i) {
      Pending p;
      uint8_t label = 0;
      if (!r->Get(&p.index) || !r->Get(&p.expiry) || !r->Get(&label) ||
          !r->Get(&p.scores.anomaly) || !r->Get(&p.scores.fraud) || !r->GetVector(&p.x) ||
          p.x.size() != dimension) {
        return false;
      }
      p.label = label != 0;
      queue_.push_back(std::move(p));
    }
    return true;
  }

 private:
  void PopFront() {
    Pending& front = queue_.front();
    Apply(front.x, front.label, front.scores);
    free_.push_back(std::move(front.x));
    queue_.pop_front();
  }

  void Apply(core::Features x, bool label, const Pipeline::Scores& scores) {
    pipeline_.ApplyLabel(x, label, scores);
    ++labels_;
    observer_.OnLabel(label, scores);
  }

  Pipeline& pipeline_;
  ReplayObserver& observer_;
  const ReplayOptions& options_;
  std::deque<Pending> queue_;
  std::vector<std::vector<double>> free_;  // Recycled feature buffers.
  int64_t labels_ = 0;
};

// The first half of the replay, on a second thread: parses rows a batch at a time and runs the
// pipeline's unsupervised stage (the anomaly model) on each, while the calling thread runs the
// supervised stage. Rows reach it in file order and each stage sees every event in that order,
// so results do not depend on the threading.
class ParseStage {
  static constexpr size_t kBatchRows = 1024;
  static constexpr size_t kBatches = 4;  // In flight: bounds memory and read-ahead.

 public:
  struct Row {
    CsvReader::Result result;
    core::Event event;
    std::string bad_row_message;
    double anomaly_score;
    // Set when a snapshot is due after this row: the trigger and the anomaly model's state,
    // taken by this stage at this very boundary.
    std::optional<std::string> snapshot_trigger;
    std::string anomaly_state;
    std::string input_sha256;  // Of the input up to this row.
    double anomaly_pause = 0;  // Seconds this stage spent capturing it.
  };
  struct Batch {
    std::vector<Row> rows = std::vector<Row>(kBatchRows);  // Reused: buffers survive.
    size_t size = 0;                                       // Rows in use.
  };

  ParseStage(CsvReader& reader, int64_t max_rows, int64_t max_events, int64_t events,
             Pipeline& pipeline, Snapshotter* snapshotter, const core::Clock& clock)
      : reader_(reader),
        clock_(clock),
        max_rows_(max_rows),
        max_events_(max_events),
        events_(events),
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

 private:
  void Produce() {
    absl::Status status;
    bool more = true;
    while (more) {
      Batch* batch = nullptr;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](ParseStage* self) { return !self->free_.empty() || self->cancelled_; }, this));
        if (cancelled_) break;
        batch = free_.front();
        free_.pop_front();
      }
      size_t n = 0;
      while (n < kBatchRows && (max_rows_ < 0 || reader_.rows_read() < max_rows_) &&
             (max_events_ < 0 || events_ < max_events_)) {
        Row& row = batch->rows[n];
        absl::StatusOr<CsvReader::Result> result = reader_.Next(&row.event);
        if (!result.ok()) {
          status = result.status();
          break;
        }
        if (*result == CsvReader::Result::kEndOfStream) break;
        row.result = *result;
        row.snapshot_trigger.reset();
        if (row.result == CsvReader::Result::kBadRow) {
          row.bad_row_message = reader_.bad_row_message();
        } else {
          row.anomaly_score = pipeline_.ScoreAndLearnAnomaly(row.event.features);
          ++events_;
          if (snapshotter_ != nullptr) {
            row.snapshot_trigger = snapshotter_->Due(events_, row.event.event_time);
            if (row.snapshot_trigger.has_value()) {
              const absl::Time start = clock_.Now();
              row.anomaly_state = pipeline_.SaveAnomaly();
              row.input_sha256 = reader_.ConsumedSha256();
              status = pipeline_.PromoteAnomaly(row.anomaly_state);
              row.anomaly_pause = absl::ToDoubleSeconds(clock_.Now() - start);
              if (!status.ok()) break;
            }
          }
        }
        ++n;
      }
      more = n == kBatchRows && status.ok();
      batch->size = n;
      absl::MutexLock lock(&mu_);
      full_.push_back(batch);
    }
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  CsvReader& reader_;  // Used by the producer thread only.
  const core::Clock& clock_;
  const int64_t max_rows_;
  const int64_t max_events_;
  int64_t events_;            // Events through this stage.
  Pipeline& pipeline_;        // Its unsupervised stage only.
  Snapshotter* snapshotter_;  // Its schedule only.
  std::vector<Batch> storage_;
  absl::Mutex mu_;
  std::deque<Batch*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch*> full_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

constexpr absl::string_view kCheckpointKind = "ReplayCheckpoint";

// Everything a replay needs to continue exactly where a snapshot was taken, except the models
// (in the version's state) and the cumulative AUC pairs before this snapshot (in the earlier
// checkpoints of the run).
struct Checkpoint {
  CheckpointInfo info;
  int64_t bad_rows = 0;
  std::vector<std::string> bad_row_examples;
  double last_event_time = core::kMissing;
  std::string first_event_id;
  double first_event_time = core::kMissing;
};

void WriteCheckpointHeader(const Checkpoint& c, core::StateWriter* w) {
  w->Put(c.info.run_first_version);
  w->Put(c.info.rows_read);
  w->Put(c.info.events);
  w->Put(c.info.labels);
  w->Put(c.info.predictions_bytes);
  w->Put(c.info.predictions_rows);
  w->Put(c.bad_rows);
  w->Put<uint64_t>(c.bad_row_examples.size());
  for (const std::string& m : c.bad_row_examples) w->PutString(m);
  w->Put(c.last_event_time);
  w->PutString(c.first_event_id);
  w->Put(c.first_event_time);
}

bool ReadCheckpointHeader(core::StateReader* r, Checkpoint* c) {
  uint64_t examples = 0;
  if (!r->Get(&c->info.run_first_version) || !r->Get(&c->info.rows_read) ||
      !r->Get(&c->info.events) || !r->Get(&c->info.labels) || !r->Get(&c->info.predictions_bytes) ||
      !r->Get(&c->info.predictions_rows) || !r->Get(&c->bad_rows) || !r->Get(&examples) ||
      examples > 1000) {
    return false;
  }
  c->bad_row_examples.resize(examples);
  for (std::string& m : c->bad_row_examples) r->GetString(&m);
  return r->Get(&c->last_event_time) && r->GetString(&c->first_event_id) &&
         r->Get(&c->first_event_time);
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

std::function<std::string()> MetricsJson(const Pipeline& pipeline, const ReplayResult& result) {
  return [anomaly = MetricWindows(pipeline.options().anomaly, pipeline.anomaly_metrics()),
          fraud = MetricWindows(pipeline.options().fraud, pipeline.fraud_metrics()),
          events = result.events, labels = result.labels, bad_rows = result.bad_rows] {
    return absl::StrCat("{\"events\": ", events, ", \"labels\": ", labels,
                        ", \"bad_rows\": ", bad_rows, ", \"anomaly\": ", anomaly.Json(),
                        ", \"fraud\": ", fraud.Json(), "}");
  };
}

// The supervised half of a replay and its bookkeeping, on the calling thread.
class Replayer {
 public:
  Replayer(CsvReader& reader, const ReplayOptions& options, Pipeline& pipeline,
           ReplayObserver& observer, const core::Clock& clock)
      : reader_(reader),
        clock_(clock),
        options_(options),
        pipeline_(pipeline),
        observer_(observer),
        labels_(pipeline, observer, options) {}

  absl::Status Restore(const ResumePoint& resume) {
    std::string anomaly, fraud;
    SLUICE_RETURN_IF_ERROR(UnpackModels(resume.models, &anomaly, &fraud));
    SLUICE_RETURN_IF_ERROR(pipeline_.RestoreAnomaly(anomaly));
    SLUICE_RETURN_IF_ERROR(pipeline_.RestoreFraud(fraud));
    if (resume.checkpoints.empty()) {
      return absl::DataLossError(absl::StrCat("version ", resume.version, " has no checkpoint"));
    }
    Checkpoint last;
    for (size_t i = 0; i < resume.checkpoints.size(); ++i) {
      SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                              core::OpenState(resume.checkpoints[i], kCheckpointKind, 1));
      core::StateReader r(payload);
      Checkpoint c;
      const bool last_one = i + 1 == resume.checkpoints.size();
      if (!ReadCheckpointHeader(&r, &c) || !pipeline_.LoadMetrics(&r) ||
          (last_one && !labels_.Load(&r, pipeline_.feature_names().size()))) {
        return absl::DataLossError(
            absl::StrCat("checkpoint of version ", resume.version, " is malformed"));
      }
      if (last_one) last = std::move(c);
    }
    checkpoint_ = last;
    result_.events = last.info.events;
    result_.bad_rows = last.bad_rows;
    result_.bad_row_examples = last.bad_row_examples;
    served_.version = resume.version;
    run_first_version_ = last.info.run_first_version;
    SLUICE_ASSIGN_OR_RETURN(const int64_t skipped, reader_.SkipRows(last.info.rows_read));
    if (skipped != last.info.rows_read) {
      return absl::FailedPreconditionError(
          absl::StrCat(reader_.name(), " has ", skipped, " rows; the snapshot was taken after row ",
                       last.info.rows_read, ": is this the input the run started with?"));
    }
    rows_seen_ = last.info.rows_read;
    if (options_.snapshotter != nullptr) {
      options_.snapshotter->ContinueAfter(resume.version, last.last_event_time);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ReplayResult> Run() {
    if (options_.snapshotter != nullptr && options_.resume == nullptr) {
      run_first_version_ = options_.snapshotter->version() + 1;
      TakeSnapshot("start", pipeline_.SaveAnomaly(), core::kMissing, reader_.ConsumedSha256(),
                   rows_seen_);
    }
    ParseStage rows(reader_, options_.max_rows, options_.max_events, result_.events, pipeline_,
                    options_.snapshotter, clock_);
    while (ParseStage::Batch* batch = rows.Next()) {
      for (size_t i = 0; i < batch->size; ++i) {
        SLUICE_RETURN_IF_ERROR(Process(batch->rows[i]));
      }
      rows.Recycle(batch);
    }
    SLUICE_RETURN_IF_ERROR(rows.status());
    labels_.RevealAll();
    result_.labels = labels_.labels();
    if (options_.snapshotter != nullptr) {
      // The unsupervised stage has finished, so its state may be read here.
      TakeSnapshot("end of stream", pipeline_.SaveAnomaly(), last_event_time_,
                   reader_.ConsumedSha256(), rows_seen_);
      result_.snapshot_errors = options_.snapshotter->Finish();
    }
    return result_;
  }

 private:
  absl::Status Process(ParseStage::Row& row) {
    if ((++rows_seen_ & 16383) == 0) observer_.OnProgress(rows_seen_);
    if (row.result == CsvReader::Result::kBadRow) {
      if (!options_.skip_bad_rows) return absl::InvalidArgumentError(row.bad_row_message);
      ++result_.bad_rows;
      if (result_.bad_row_examples.size() < 20) {
        result_.bad_row_examples.push_back(row.bad_row_message);
      }
      observer_.OnBadRow(row.bad_row_message);
      return absl::OkStatus();
    }
    const core::Event& event = row.event;
    const int64_t index = result_.events++;
    if (checkpoint_.first_event_id.empty() && index == 0) {
      checkpoint_.first_event_id = event.id;
      checkpoint_.first_event_time = event.event_time;
    }
    labels_.RevealDue(index, event.event_time);
    const Pipeline::Scores scores{row.anomaly_score, pipeline_.ScoreFraud(event.features)};
    observer_.OnPrediction(event, scores, served_);
    ++served_.events_since_snapshot;
    if (event.label.has_value()) labels_.Push(index, event, scores);
    last_event_id_ = event.id;
    last_event_time_ = event.event_time;
    if (row.snapshot_trigger.has_value()) {
      const absl::Time start = clock_.Now();
      TakeSnapshot(*row.snapshot_trigger, std::move(row.anomaly_state), event.event_time,
                   std::move(row.input_sha256), /*rows_read=*/event.row + 1);
      result_.snapshot_pauses.push_back(row.anomaly_pause +
                                        absl::ToDoubleSeconds(clock_.Now() - start));
    }
    return absl::OkStatus();
  }

  // Both stages' states after source row `rows_read` - 1, handed to the writer thread.
  void TakeSnapshot(const std::string& trigger, std::string anomaly_state, double event_time,
                    std::string input_sha256, int64_t rows_read) {
    Snapshotter& snapshotter = *options_.snapshotter;
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
    const auto [bytes, lines] = observer_.OnSnapshot(s.version);
    Checkpoint& c = checkpoint_;
    c.info.run_first_version = run_first_version_;
    c.info.rows_read = rows_read;
    c.info.events = result_.events;
    c.info.labels = labels_.labels();
    c.info.predictions_bytes = bytes;
    c.info.predictions_rows = lines;
    c.bad_rows = result_.bad_rows;
    c.bad_row_examples = result_.bad_row_examples;
    c.last_event_time = event_time;
    core::StateWriter w;
    WriteCheckpointHeader(c, &w);
    pipeline_.SaveMetrics(&w);
    labels_.Save(&w);
    s.checkpoint = core::SealState(kCheckpointKind, 1, w.payload());
    result_.labels = labels_.labels();
    s.metrics_json = MetricsJson(pipeline_, result_);
    s.rows_read = c.info.rows_read;
    s.input_sha256 = std::move(input_sha256);
    s.events = result_.events;
    s.labels = labels_.labels();
    s.first_event_id = c.first_event_id;
    s.last_event_id = last_event_id_;
    if (std::isfinite(c.first_event_time)) s.first_event_time = c.first_event_time;
    if (std::isfinite(last_event_time_)) s.last_event_time = last_event_time_;
    snapshotter.Submit(std::move(s));
    served_ = Served{snapshotter.version(), 0};
    ++result_.snapshots;
    result_.last_version = snapshotter.version();
  }

  CsvReader& reader_;
  const core::Clock& clock_;
  const ReplayOptions& options_;
  Pipeline& pipeline_;
  ReplayObserver& observer_;
  LabelQueue labels_;
  ReplayResult result_;
  Checkpoint checkpoint_;
  Served served_;
  int64_t rows_seen_ = 0;
  int64_t run_first_version_ = 0;
  std::string last_event_id_;
  double last_event_time_ = core::kMissing;
};

}  // namespace

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  const size_t index = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(absl::string_view checkpoint) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(checkpoint, kCheckpointKind, 1));
  core::StateReader r(payload);
  Checkpoint c;
  if (!ReadCheckpointHeader(&r, &c)) return absl::DataLossError("checkpoint is malformed");
  return c.info;
}

absl::StatusOr<ReplayResult> RunReplay(CsvReader& reader, const ReplayOptions& options,
                                       Pipeline& pipeline, ReplayObserver& observer,
                                       const core::Clock& clock) {
  if (options.label_delay_seconds.has_value() && !reader.has_time()) {
    return absl::FailedPreconditionError(
        absl::StrCat(reader.name(), ": a label delay in seconds needs a time column"));
  }
  if (options.label_delay < 0 ||
      (options.label_delay_seconds.has_value() && !(*options.label_delay_seconds >= 0))) {
    return absl::InvalidArgumentError("label delay must be >= 0");
  }
  const absl::Time start = clock.Now();
  Replayer replayer(reader, options, pipeline, observer, clock);
  if (options.resume != nullptr) SLUICE_RETURN_IF_ERROR(replayer.Restore(*options.resume));
  SLUICE_ASSIGN_OR_RETURN(ReplayResult result, replayer.Run());
  result.seconds = absl::ToDoubleSeconds(clock.Now() - start);
  return result;
}

}  // namespace sluice::engine
