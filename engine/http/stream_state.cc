// engine/http/stream_state.cc
#include "engine/http/stream_state.h"

#include <cmath>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice::engine::http {
namespace {

// {"key": number or null, ...}
std::string OptionalNumbers(
    const std::vector<std::pair<std::string, std::optional<double>>>& fields) {
  std::string out;
  core::FlatJsonWriter json(&out);
  for (const auto& [key, v] : fields) {
    if (v.has_value()) {
      json.Number(key, *v);
    } else {
      json.Raw(key, "null");
    }
  }
  json.Close();
  return out;
}

}  // namespace

PublishedStream::PublishedStream(std::string mode, MetricsRegistry& metrics, LabelSubmitter submit,
                                 std::string no_labels_reason)
    : mode_(std::move(mode)),
      metrics_(metrics),
      submit_(std::move(submit)),
      no_labels_reason_(std::move(no_labels_reason)),
      prediction_latency_(metrics.GetHistogram(
          "sluice_prediction_latency_seconds",
          "Time from an event entering the system (its message's timestamp) to its prediction.",
          LatencyBuckets())),
      processing_latency_(metrics.GetHistogram(
          "sluice_processing_latency_seconds",
          "Time from an event being read to its prediction being handed on.", LatencyBuckets())) {
  const auto counter = [this](const char* name, const char* help, int64_t StreamState::*field) {
    metrics_.AddCollector(name, help, MetricType::kCounter,
                          [this, field](std::vector<Sample>* out) {
                            out->push_back({{}, static_cast<double>(Get().*field)});
                          });
  };
  counter("sluice_events_total", "Events scored by the stream.", &StreamState::events);
  metrics_.AddCollector(
      "sluice_labels_total",
      "Labels by outcome: joined to their event; expired (the event's TTL ran out); duplicate; "
      "late (for an event already expired or applied); unknown (no such event); evicted (the "
      "event dropped unlabelled at the bound on pending joins).",
      MetricType::kCounter, [this](std::vector<Sample>* out) {
        const LabelCounts c = Get().label_counts;
        for (const auto& [outcome, n] :
             {std::pair{"joined", c.joined}, std::pair{"expired", c.expired},
              std::pair{"duplicate", c.duplicate}, std::pair{"late", c.late},
              std::pair{"unknown", c.unknown}, std::pair{"evicted", c.evicted}}) {
          out->push_back({{{"outcome", outcome}}, static_cast<double>(n)});
        }
      });
  counter("sluice_alerts_total", "Predictions over the alert threshold.", &StreamState::alerts);
  counter("sluice_bad_inputs_total", "Malformed inputs skipped (dead letters, bad rows).",
          &StreamState::bad_inputs);
  metrics_.AddCollector(
      "sluice_drifts_total",
      "Drifts ADWIN found, by signal: the anomaly scores, the fraud model's |label - probability|.",
      MetricType::kCounter, [this](std::vector<Sample>* out) {
        const StreamState s = Get();
        for (const Drift::Signal signal :
             {Drift::Signal::kAnomalyScore, Drift::Signal::kFraudError}) {
          out->push_back({{{"signal", SignalName(signal)}},
                          static_cast<double>(s.drifts.counts[static_cast<size_t>(signal)])});
        }
      });
  metrics_.AddCollector("sluice_pending_joins", "Scored events waiting for their labels.",
                        MetricType::kGauge, [this](std::vector<Sample>* out) {
                          out->push_back({{}, static_cast<double>(Get().pending_joins)});
                        });
  metrics_.AddCollector(
      "sluice_lag_messages", "Messages of an input partition not read yet.", MetricType::kGauge,
      [this](std::vector<Sample>* out) {
        for (const StreamState::Partition& p : Get().partitions) {
          out->push_back({{{"partition", absl::StrCat(p.partition)}}, static_cast<double>(p.lag)});
        }
      });
  metrics_.AddCollector(
      "sluice_rolling_auc", "Exact ROC-AUC over the last labelled predictions, per model.",
      MetricType::kGauge, [this](std::vector<Sample>* out) {
        const StreamState s = Get();
        const std::string version = absl::StrCat(s.version);
        for (const auto& [model, auc] :
             {std::pair{"anomaly", s.auc_anomaly}, std::pair{"fraud", s.auc_fraud}}) {
          if (auc.has_value()) out->push_back({{{"model", model}, {"version", version}}, *auc});
        }
        for (const auto& [spec, auc] : s.challenger_aucs) {
          if (auc.has_value()) {
            out->push_back({{{"model", "challenger " + spec}, {"version", "shadow"}}, *auc});
          }
        }
      });
}

void DriftLog::Add(const Drift& drift) {
  ++counts[static_cast<size_t>(drift.signal)];
  recent.push_back(drift);
  if (recent.size() > kRecent) recent.pop_front();
}

void PublishedStream::Publish(StreamState state) {
  absl::MutexLock lock(&mu_);
  state_ = std::move(state);
}

StreamState PublishedStream::Get() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void PublishedStream::ObserveLatencies(const metrics::LatencyHistogram& prediction,
                                       const metrics::LatencyHistogram& processing) {
  prediction.ForEachBucket([&](double edge, uint64_t n) { prediction_latency_.Observe(edge, n); });
  processing.ForEachBucket([&](double edge, uint64_t n) { processing_latency_.Observe(edge, n); });
}

void PublishedStream::AppendState(core::FlatJsonWriter& json) const {
  const StreamState s = Get();
  json.Int("events", s.events).Int("labels", s.labels).Int("alerts", s.alerts);
  json.Int("bad_inputs", s.bad_inputs).Int("pending_joins", s.pending_joins);
  json.Number("events_per_second", s.events_per_second).Int("stream_version", s.version);
  std::string outcomes;
  core::FlatJsonWriter(&outcomes)
      .Int("joined", s.label_counts.joined)
      .Int("expired", s.label_counts.expired)
      .Int("duplicate", s.label_counts.duplicate)
      .Int("late", s.label_counts.late)
      .Int("unknown", s.label_counts.unknown)
      .Int("evicted", s.label_counts.evicted)
      .Close();
  json.Raw("label_outcomes", outcomes);
  json.Raw("latency",
           OptionalNumbers({{"p50_ms", s.latency_p50_ms}, {"p99_ms", s.latency_p99_ms}}));
  json.Raw("auc", OptionalNumbers({{"anomaly", s.auc_anomaly}, {"fraud", s.auc_fraud}}));
  json.Raw("challenger_auc", OptionalNumbers(s.challenger_aucs));
  std::vector<std::string> partitions;
  for (const StreamState::Partition& p : s.partitions) {
    std::string item;
    core::FlatJsonWriter(&item)
        .Int("partition", p.partition)
        .Raw("position", p.position < 0 ? "null" : absl::StrCat(p.position))
        .Int("events", p.events)
        .Int("lag", p.lag)
        .Close();
    partitions.push_back(std::move(item));
  }
  json.Raw("partitions", absl::StrCat("[", absl::StrJoin(partitions, ", "), "]"));
  std::vector<std::string> recent;
  for (const Drift& d : s.drifts.recent) {
    std::string item;
    core::FlatJsonWriter writer(&item);
    AppendDriftJson(d, writer);
    writer.Close();
    recent.push_back(std::move(item));
  }
  std::string drifts;
  core::FlatJsonWriter(&drifts)
      .Int("anomaly_score", s.drifts.counts[0])
      .Int("fraud_error", s.drifts.counts[1])
      .Raw("recent", absl::StrCat("[", absl::StrJoin(recent, ", "), "]"))
      .Close();
  json.Raw("drifts", drifts);
}

absl::Status PublishedStream::SubmitLabel(const LabelRecord& label) {
  if (submit_ == nullptr) return absl::FailedPreconditionError(no_labels_reason_);
  return submit_(label);
}

bool PublishedStream::ready() const { return Get().ready; }

PublishingObserver::PublishingObserver(RunObserver& next, const Pipeline& pipeline,
                                       PublishedStream& stream, const PredictionFormat& format,
                                       double alert_threshold, std::function<int64_t()> version)
    : next_(next),
      pipeline_(pipeline),
      stream_(stream),
      format_(format),
      alert_threshold_(alert_threshold),
      version_(std::move(version)) {}

void PublishingObserver::OnPrediction(const core::Event& event, const Pipeline::Scores& scores,
                                      const Served& served) {
  const int64_t n = events_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (IsAlert(scores, format_, alert_threshold_)) alerts_.fetch_add(1, std::memory_order_relaxed);
  next_.OnPrediction(event, scores, served);
  if (n % 4096 == 0) Publish(/*force=*/false);
}

void PublishingObserver::OnLabel(bool label, const Pipeline::Scores& scores) {
  labels_.fetch_add(1, std::memory_order_relaxed);
  next_.OnLabel(label, scores);
  if (labels_.load(std::memory_order_relaxed) % 256 == 1) {
    absl::MutexLock lock(&mu_);
    if (pipeline_.options().anomaly) auc_anomaly_ = pipeline_.anomaly_metrics().rolling.Auc();
    if (pipeline_.options().fraud) auc_fraud_ = pipeline_.fraud_metrics().rolling.Auc();
    challenger_aucs_.clear();
    for (size_t i = 0; challengers_ != nullptr && i < challengers_->size(); ++i) {
      challenger_aucs_.emplace_back(challengers_->spec(i).text,
                                    challengers_->metrics(i).rolling.Auc());
    }
  }
}

void PublishingObserver::OnBadRecord(const std::string& message) {
  bad_.fetch_add(1, std::memory_order_relaxed);
  next_.OnBadRecord(message);
}

void PublishingObserver::OnProgress(int64_t records_read) { next_.OnProgress(records_read); }

void PublishingObserver::OnPending(int64_t pending_joins) {
  pending_.store(pending_joins, std::memory_order_relaxed);
  next_.OnPending(pending_joins);
}

void PublishingObserver::OnLabelCounts(const LabelCounts& counts) {
  {
    absl::MutexLock lock(&mu_);
    label_counts_ = counts;
  }
  next_.OnLabelCounts(counts);
}

void PublishingObserver::OnDrift(const Drift& drift) {
  {
    absl::MutexLock lock(&mu_);
    drifts_.Add(drift);
  }
  next_.OnDrift(drift);
}

void PublishingObserver::Finish() { Publish(/*force=*/true); }

void PublishingObserver::Publish(bool force) {
  StreamState state;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    const double seconds = absl::ToDoubleSeconds(now - last_publish_);
    state.events = events_.load(std::memory_order_relaxed);
    if (!force && seconds < 1) return;
    state.events_per_second =
        std::isfinite(seconds) && seconds > 0 ? (state.events - last_events_) / seconds : 0;
    last_publish_ = now;
    last_events_ = state.events;
    state.auc_anomaly = auc_anomaly_;
    state.auc_fraud = auc_fraud_;
    state.challenger_aucs = challenger_aucs_;
    state.label_counts = label_counts_;
    state.drifts = drifts_;
  }
  state.labels = labels_.load(std::memory_order_relaxed);
  state.alerts = alerts_.load(std::memory_order_relaxed);
  state.bad_inputs = bad_.load(std::memory_order_relaxed);
  state.pending_joins = pending_.load(std::memory_order_relaxed);
  state.version = version_ ? version_() : 0;
  state.ready = true;
  stream_.Publish(std::move(state));
}

}  // namespace sluice::engine::http
