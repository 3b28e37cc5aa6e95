// engine/http/stream_state.h. What a stream running beside the API (replay, live) shows through
// it: a state it publishes about once a second, which GET /v1/state, /readyz and the collectors
// of GET /metrics read; and where POST /v1/labels sends a label.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/challenger.h"
#include "engine/http/api.h"
#include "engine/http/prometheus.h"
#include "engine/pipeline.h"
#include "engine/prediction_sink.h"
#include "engine/stream_runner.h"
#include "metrics/latency_histogram.h"

namespace sluice::engine::http {

// A stream's counts since it started, and how it stands.
// The drifts a stream found: how many per signal, and the last ones.
struct DriftLog {
  static constexpr size_t kRecent = 20;
  std::array<int64_t, 2> counts{};  // By Drift::Signal.
  std::deque<Drift> recent;         // The last kRecent, oldest first.
  void Add(const Drift& drift);
};

struct StreamState {
  int64_t events = 0;            // Scored.
  int64_t labels = 0;            // Applied to the metrics.
  LabelCounts label_counts;      // What became of the labels: joined, expired, duplicate, ...
  int64_t alerts = 0;            // Predictions over the alert threshold.
  int64_t bad_inputs = 0;        // Skipped (dead letters, bad rows).
  int64_t pending_joins = 0;     // Scored events waiting for their labels.
  double events_per_second = 0;  // Over the last interval.
  int64_t version = 0;           // The newest version it registered (0: none yet).
  std::optional<double> latency_p50_ms, latency_p99_ms;  // Prediction latency, last interval.
  std::optional<double> auc_anomaly, auc_fraud;          // Rolling; none before labels.
  // Each challenger's spec and rolling AUC (none before labels), in --challenger order.
  std::vector<std::pair<std::string, std::optional<double>>> challenger_aucs;
  struct Partition {
    int32_t partition = 0;
    int64_t position = -1;  // The next offset to read (-1: none read yet).
    int64_t events = 0;     // Scored here since this process took it.
    int64_t lag = 0;        // Messages behind the end.
  };
  std::vector<Partition> partitions;
  DriftLog drifts;
  bool ready = false;  // Running: partitions assigned, or the file open.
};

// Takes labels for the stream (POST /v1/labels); called on the server's threads.
using LabelSubmitter = std::function<absl::Status(const LabelRecord&)>;

// The StreamView the API reads, which the stream's watcher thread publishes into. Thread-safe.
class PublishedStream final : public StreamView {
 public:
  // Registers the stream's families in `metrics` (which must outlive it). `submit` may be null:
  // labels are then refused with the reason `no_labels_reason`.
  PublishedStream(std::string mode, MetricsRegistry& metrics, LabelSubmitter submit,
                  std::string no_labels_reason = "");
  void Publish(StreamState state);
  // Latencies of the events handled since the last call, for the histograms of /metrics (each
  // value at its bucket's upper edge).
  void ObserveLatencies(const metrics::LatencyHistogram& prediction,
                        const metrics::LatencyHistogram& processing);

  void AppendState(core::FlatJsonWriter& json) const override;
  absl::Status SubmitLabel(const LabelRecord& label) override;
  bool ready() const override;
  std::string mode() const override { return mode_; }

 private:
  StreamState Get() const;

  const std::string mode_;
  MetricsRegistry& metrics_;
  const LabelSubmitter submit_;
  const std::string no_labels_reason_;
  Histogram& prediction_latency_;
  Histogram& processing_latency_;
  mutable absl::Mutex mu_;
  StreamState state_ ABSL_GUARDED_BY(mu_);
};

// A RunObserver that counts what RunStream does, passes every call on to `next`, and publishes
// the counts into `stream` about once a second and at Finish() (replay: the file's run).
// Called on the run's threads; the counts are atomics, the AUCs are read on the thread that
// applies labels (the pipeline's metrics are updated there).
class PublishingObserver final : public RunObserver {
 public:
  // All must outlive it. `version` says which version the AUCs belong to (for /metrics).
  PublishingObserver(RunObserver& next, const Pipeline& pipeline, PublishedStream& stream,
                     const PredictionFormat& format, double alert_threshold,
                     std::function<int64_t()> version);
  void OnPrediction(const core::Event& event, const Pipeline::Scores& scores,
                    const Served& served) override;
  void OnLabel(bool label, const Pipeline::Scores& scores) override;
  void OnBadRecord(const std::string& message) override;
  void OnProgress(int64_t records_read) override;
  void OnPending(int64_t pending_joins) override;
  void OnLabelCounts(const LabelCounts& counts) override;
  void OnDrift(const Drift& drift) override;
  // The run's challengers (may be null), whose AUCs are published too; before the run.
  void SetChallengers(const Challengers* challengers) { challengers_ = challengers; }
  // Publishes the final counts.
  void Finish();

 private:
  // At most once a second unless `force`.
  void Publish(bool force);

  RunObserver& next_;
  const Pipeline& pipeline_;
  PublishedStream& stream_;
  const PredictionFormat format_;
  const double alert_threshold_;
  const std::function<int64_t()> version_;
  std::atomic<int64_t> events_{0}, labels_{0}, alerts_{0}, bad_{0}, pending_{0};
  absl::Mutex mu_;
  LabelCounts label_counts_ ABSL_GUARDED_BY(mu_);
  DriftLog drifts_ ABSL_GUARDED_BY(mu_);
  std::optional<double> auc_anomaly_ ABSL_GUARDED_BY(mu_), auc_fraud_ ABSL_GUARDED_BY(mu_);
  const Challengers* challengers_ = nullptr;  // Read on the thread that applies labels.
  std::vector<std::pair<std::string, std::optional<double>>> challenger_aucs_ ABSL_GUARDED_BY(mu_);
  absl::Time last_publish_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t last_events_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::engine::http
