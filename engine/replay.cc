// engine/replay.cc
#include "engine/replay.h"

#include <deque>

#include "absl/strings/str_cat.h"
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
  core::Event event;
  while (options.max_rows < 0 || reader.rows_read() < options.max_rows) {
    SLUICE_ASSIGN_OR_RETURN(const CsvReader::Result read, reader.Next(&event));
    if (read == CsvReader::Result::kEndOfStream) break;
    if (read == CsvReader::Result::kBadRow) {
      if (!options.skip_bad_rows) return absl::InvalidArgumentError(reader.bad_row_message());
      ++result.bad_rows;
      if (result.bad_row_examples.size() < 20) {
        result.bad_row_examples.push_back(reader.bad_row_message());
      }
      observer.OnBadRow(reader.bad_row_message());
      continue;
    }
    const int64_t index = result.events++;
    labels.RevealDue(index, event.event_time);
    const Pipeline::Scores scores = pipeline.ScoreAndLearn(event.features);
    observer.OnPrediction(event, scores);
    if (event.label.has_value()) labels.Push(index, event, scores);
    if ((reader.rows_read() & 16383) == 0) observer.OnProgress(reader.rows_read());
  }
  labels.RevealAll();
  result.labels = labels.labels();
  result.seconds = absl::ToDoubleSeconds(clock.Now() - start);
  return result;
}

}  // namespace sluice::engine
