// engine/replay.cc
#include "engine/replay.h"

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
  };
  struct Batch {
    std::vector<Row> rows = std::vector<Row>(kBatchRows);  // Reused: buffers survive.
    size_t size = 0;                                       // Rows in use.
  };

  ParseStage(CsvReader& reader, int64_t max_rows, Pipeline& pipeline)
      : reader_(reader), max_rows_(max_rows), pipeline_(pipeline), storage_(kBatches) {
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
      while (n < kBatchRows && (max_rows_ < 0 || reader_.rows_read() < max_rows_)) {
        Row& row = batch->rows[n];
        absl::StatusOr<CsvReader::Result> result = reader_.Next(&row.event);
        if (!result.ok()) {
          status = result.status();
          break;
        }
        if (*result == CsvReader::Result::kEndOfStream) break;
        row.result = *result;
        if (row.result == CsvReader::Result::kBadRow) {
          row.bad_row_message = reader_.bad_row_message();
        } else {
          row.anomaly_score = pipeline_.ScoreAndLearnAnomaly(row.event.features);
        }
        ++n;
      }
      more = n == kBatchRows;
      batch->size = n;
      absl::MutexLock lock(&mu_);
      full_.push_back(batch);
    }
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  CsvReader& reader_;  // Used by the producer thread only.
  const int64_t max_rows_;
  Pipeline& pipeline_;  // Its unsupervised stage only.
  std::vector<Batch> storage_;
  absl::Mutex mu_;
  std::deque<Batch*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch*> full_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace

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
  ReplayResult result;
  LabelQueue labels(pipeline, observer, options);
  ParseStage rows(reader, options.max_rows, pipeline);
  int64_t rows_seen = 0;
  while (ParseStage::Batch* batch = rows.Next()) {
    for (size_t i = 0; i < batch->size; ++i) {
      ParseStage::Row& row = batch->rows[i];
      if ((++rows_seen & 16383) == 0) observer.OnProgress(rows_seen);
      if (row.result == CsvReader::Result::kBadRow) {
        if (!options.skip_bad_rows) return absl::InvalidArgumentError(row.bad_row_message);
        ++result.bad_rows;
        if (result.bad_row_examples.size() < 20) {
          result.bad_row_examples.push_back(row.bad_row_message);
        }
        observer.OnBadRow(row.bad_row_message);
        continue;
      }
      const core::Event& event = row.event;
      const int64_t index = result.events++;
      labels.RevealDue(index, event.event_time);
      const Pipeline::Scores scores{row.anomaly_score, pipeline.ScoreFraud(event.features)};
      observer.OnPrediction(event, scores);
      if (event.label.has_value()) labels.Push(index, event, scores);
    }
    rows.Recycle(batch);
  }
  SLUICE_RETURN_IF_ERROR(rows.status());
  labels.RevealAll();
  result.labels = labels.labels();
  result.seconds = absl::ToDoubleSeconds(clock.Now() - start);
  return result;
}

}  // namespace sluice::engine
