// engine/http/prometheus.h. Counters, gauges and histograms, and a registry that renders them in
// the Prometheus text exposition format 0.0.4 (what `GET /metrics` serves).
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace sluice::engine::http {

// Label names and values of one time series, rendered in the given order. Names match
// [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; values are any UTF-8.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A value that only goes up (events seen, bytes written). Thread-safe and lock-free.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `by`. Requires: by >= 0 (a negative or NaN `by` is ignored in release builds).
  void Increment(double by = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, lag). Thread-safe and lock-free.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);  // `by` may be negative.
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets `v <= upper bound` (Prometheus' `le`, inclusive), plus an
// implicit +Inf bucket, and sums them. Thread-safe and lock-free. A NaN observation lands in the
// +Inf bucket only and makes the sum NaN, as in the Go client.
class Histogram {
 public:
  // Requires: `upper_bounds` strictly increasing and not NaN. A trailing +Inf is dropped (the
  // +Inf bucket is always there); in release builds unsorted bounds are sorted and deduplicated.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double v);
  // `times` observations of `v` at once (latencies kept in buckets elsewhere, passed on).
  void Observe(double v, uint64_t times);

  // The finite upper bounds, increasing.
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Cumulative counts, one per upper bound and then the +Inf bucket, whose count is the number
  // of observations. Each count is read once, so the result is consistent (non-decreasing) even
  // while other threads observe.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  // Per bucket, not cumulative: one increment per observation. The last is the +Inf bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;
  std::atomic<double> sum_{0};
};

// Upper bounds in seconds for latencies, from 5 µs to 10 s (1-2.5-5 steps).
std::vector<double> LatencyBuckets();

// One sample of a collected family (see MetricsRegistry::AddCollector).
struct Sample {
  Labels labels;
  double value = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

// Metric families by name, each with one HELP text and one type, and their children by labels.
// Thread-safe. It owns every metric; the references it returns stay valid for its lifetime, so
// hot paths look a metric up once and keep the reference.
//
// Misuse is a programmer error, fatal in debug builds: an invalid metric or label name, a name
// reused with another type (or for a histogram, other bounds), other HELP text, an `le` label on
// a histogram. In release builds /metrics must stay parseable, so such a metric works but is
// never rendered; other HELP text is ignored, and a collector whose name is taken is dropped.
class MetricsRegistry {
 public:
  // Appends the samples of a collected family to its argument.
  using Collect = std::function<void(std::vector<Sample>*)>;

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The child of family `name` with `labels`, created at zero on first use; the same name and
  // labels (same order) give the same object. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*. By
  // Prometheus convention a counter's name ends in "_total" and a unit is spelled out
  // ("_seconds"); this is not enforced, but `promtool check metrics` flags it.
  Counter& GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Gauge& GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {});
  // Requires: every child of family `name` is asked for with the same `upper_bounds`.
  Histogram& GetHistogram(absl::string_view name, absl::string_view help,
                          const std::vector<double>& upper_bounds, const Labels& labels = {});

  // Adds family `name` whose samples are computed when rendered (values that live elsewhere:
  // pending joins, lag per partition, rolling AUC per model and version). `collect` is called on
  // the rendering thread with no registry lock held, so it may use this registry; concurrent
  // renders call it concurrently. Its samples should have distinct labels; one with an invalid
  // label name is skipped. Requires: `name` is not used yet; `type` is kCounter or kGauge.
  void AddCollector(absl::string_view name, absl::string_view help, MetricType type,
                    Collect collect);

  // Every family in the text format 0.0.4, sorted by name: `# HELP`, `# TYPE`, then its samples
  // sorted by label values (as strings: "10" comes before "9"). A histogram renders cumulative
  // name_bucket{...,le="..."} lines ending with le="+Inf", then name_sum and name_count. Values
  // are integers without exponent when integral and below 2^53 in magnitude, else the shortest
  // digits that parse back to the same double, as Go's client prints them ("0.0001", "5e-05",
  // "1.5e+06", "1e+20"); +Inf, -Inf and NaN as Prometheus spells them.
  std::string Render() const;

 private:
  struct Child;
  struct Family;

  // The family's child (created if needed), or an unrendered one if the request is misuse.
  Child& FindOrAddChild(absl::string_view name, absl::string_view help, MetricType type,
                        const std::vector<double>& upper_bounds, const Labels& labels);
  Child& FindOrAddOrphan(absl::string_view name, MetricType type,
                         const std::vector<double>& upper_bounds, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // Families are only ever added, and children only added to them, so pointers to both stay
  // valid; Render() relies on that to format outside the lock.
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_ ABSL_GUARDED_BY(mu_);
  // Metrics handed out for misuse in release builds (see the class comment); never rendered.
  // Keyed like the request, so that repeating it does not grow the registry.
  std::map<std::tuple<std::string, MetricType, Labels>, std::unique_ptr<Child>> orphans_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::engine::http
