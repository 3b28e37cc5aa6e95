// engine/http/prometheus.cc. The metrics and the text exposition format 0.0.4.
#include "engine/http/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::engine::http {
namespace {

// Programmer errors (STYLE.md section 5). core/ has no SLUICE_DCHECK, hence this function: fatal
// in debug builds, so that tests catch the misuse; in release builds it returns false and the
// caller degrades instead, because a metric must never take the server down.
bool Check(bool ok, [[maybe_unused]] const char* what, [[maybe_unused]] absl::string_view subject) {
#ifndef NDEBUG
  if (!ok) {
    std::fprintf(stderr, "prometheus: %s: \"%.*s\"\n", what, static_cast<int>(subject.size()),
                 subject.data());
    std::abort();
  }
#endif
  return ok;
}

// Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names the same without ':'.
bool IsValidName(absl::string_view name, bool allow_colon) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool valid = absl::ascii_isalpha(c) || c == '_' || (allow_colon && c == ':') ||
                       (i > 0 && absl::ascii_isdigit(c));
    if (!valid) {
      return false;
    }
  }
  return true;
}

// Names starting with "__" are reserved for Prometheus itself; `le` is the histogram's own.
bool CheckLabels(const Labels& labels, MetricType type) {
  for (size_t label_idx = 0; label_idx < labels.size(); ++label_idx) {
    const std::string& name = labels[label_idx].first;
    if (!Check(IsValidName(name, /*allow_colon=*/false) && !absl::StartsWith(name, "__"),
               "invalid label name", name) ||
        !Check(type != MetricType::kHistogram || name != "le", "a histogram has its own le",
               name)) {
      return false;
    }
    for (size_t earlier_idx = 0; earlier_idx < label_idx; ++earlier_idx) {
      if (!Check(labels[earlier_idx].first != name, "duplicate label name", name)) {
        return false;
      }
    }
  }
  return true;
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Integral values print without exponent ("1000000", not "1e+06") below 2^53, where doubles hold
// every integer; past it the digits would claim a precision they lack. Everything else prints as
// Go's client does (strconv 'g', -1): the shortest digits that parse back to the same double, with
// an exponent below 1e-4 or from 1e6 on. That is std::to_chars' general format; its default,
// scientific when shorter, would print `le` values that differ from every other client's ("1e-04"
// for "0.0001").
std::string FormatValue(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  constexpr double kTwoToThe53 = 9007199254740992.0;
  char buffer[32];  // The longest shortest double, "-2.2250738585072014e-308", has 24.
  const std::to_chars_result result =
      v == std::trunc(v) && std::abs(v) < kTwoToThe53
          ? std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(v))
          : std::to_chars(buffer, buffer + sizeof(buffer), v, std::chars_format::general);
  return std::string(buffer, result.ptr);
}

// The spec escapes backslash and newline in HELP text, and also double quotes in label values.
void AppendEscaped(std::string* out, absl::string_view text, bool escape_quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quotes) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

void AppendHeader(std::string* out, absl::string_view name, absl::string_view help,
                  MetricType type) {
  absl::StrAppend(out, "# HELP ", name, " ");
  AppendEscaped(out, help, /*escape_quotes=*/false);
  absl::StrAppend(out, "\n# TYPE ", name, " ", TypeName(type), "\n");
}

// One line: name+suffix{labels,le="le"} value. An empty `le` means no le label.
void AppendSample(std::string* out, absl::string_view name, absl::string_view suffix,
                  const Labels& labels, absl::string_view le, absl::string_view value) {
  absl::StrAppend(out, name, suffix);
  if (!labels.empty() || !le.empty()) {
    out->push_back('{');
    absl::string_view separator;
    for (const auto& [label_name, label_value] : labels) {
      absl::StrAppend(out, separator, label_name, "=\"");
      AppendEscaped(out, label_value, /*escape_quotes=*/true);
      out->push_back('"');
      separator = ",";
    }
    if (!le.empty()) {
      absl::StrAppend(out, separator, "le=\"", le, "\"");
    }
    out->push_back('}');
  }
  absl::StrAppend(out, " ", value, "\n");
}

// _count is the +Inf bucket's count, so the two always agree; _sum is read separately and may
// include an observation that a concurrent Observe() has not counted yet (Prometheus tolerates
// that).
void AppendHistogram(std::string* out, absl::string_view name, const Labels& labels,
                     const Histogram& histogram) {
  const std::vector<uint64_t> counts = histogram.CumulativeCounts();
  const std::vector<double>& upper_bounds = histogram.upper_bounds();
  for (size_t bucket_idx = 0; bucket_idx < upper_bounds.size(); ++bucket_idx) {
    AppendSample(out, name, "_bucket", labels, FormatValue(upper_bounds[bucket_idx]),
                 absl::StrCat(counts[bucket_idx]));
  }
  AppendSample(out, name, "_bucket", labels, "+Inf", absl::StrCat(counts.back()));
  AppendSample(out, name, "_sum", labels, "", FormatValue(histogram.sum()));
  AppendSample(out, name, "_count", labels, "", absl::StrCat(counts.back()));
}

}  // namespace

void Counter::Increment(double by) {
  // `!(by >= 0)` also catches NaN, which would poison the counter for good.
  if (!Check(by >= 0, "a counter only goes up", "")) {
    return;
  }
  value_.fetch_add(by, std::memory_order_relaxed);
}

void Gauge::Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (!upper_bounds_.empty() && upper_bounds_.back() == kInf) {
    upper_bounds_.pop_back();
  }
  const bool increasing =
      std::none_of(upper_bounds_.begin(), upper_bounds_.end(),
                   [](double bound) { return std::isnan(bound); }) &&
      std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end(),
                         [](double a, double b) { return !(a < b); }) == upper_bounds_.end();
  if (!Check(increasing, "histogram upper bounds must increase strictly", "")) {
    std::erase_if(upper_bounds_, [](double bound) { return std::isnan(bound); });
    std::sort(upper_bounds_.begin(), upper_bounds_.end());
    upper_bounds_.erase(std::unique(upper_bounds_.begin(), upper_bounds_.end()),
                        upper_bounds_.end());
    std::erase(upper_bounds_, kInf);
  }
  // Value-initialized: every count starts at zero.
  bucket_counts_ = std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1);
}

void Histogram::Observe(double v) { Observe(v, 1); }

void Histogram::Observe(double v, uint64_t times) {
  // The first bucket with v <= bound (le is inclusive). Written with <= rather than bound < v so
  // that NaN, for which every comparison is false, falls through to the +Inf bucket.
  const auto bucket = std::partition_point(upper_bounds_.begin(), upper_bounds_.end(),
                                           [v](double bound) { return !(v <= bound); });
  bucket_counts_[bucket - upper_bounds_.begin()].fetch_add(times, std::memory_order_relaxed);
  sum_.fetch_add(v * static_cast<double>(times), std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> counts(upper_bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t bucket_idx = 0; bucket_idx < counts.size(); ++bucket_idx) {
    total += bucket_counts_[bucket_idx].load(std::memory_order_relaxed);
    counts[bucket_idx] = total;
  }
  return counts;
}

std::vector<double> LatencyBuckets() {
  return {5e-6, 1e-5,   2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
          1e-2, 2.5e-2, 5e-2,   0.1,  0.25, 0.5,    1,    2.5,  5,      10};
}

// A counter, gauge or histogram. The variant holds it in place: none of them can move.
struct MetricsRegistry::Child {
  Child(MetricType type, const std::vector<double>& upper_bounds) {
    switch (type) {
      case MetricType::kCounter:
        metric.emplace<Counter>();
        break;
      case MetricType::kGauge:
        metric.emplace<Gauge>();
        break;
      case MetricType::kHistogram:
        metric.emplace<Histogram>(upper_bounds);
        break;
    }
  }
  std::variant<std::monostate, Counter, Gauge, Histogram> metric;
};

// Everything but `children` is fixed when the family is added, so Render() reads it unlocked.
struct MetricsRegistry::Family {
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<double> upper_bounds;  // As first asked for; histograms only.
  Collect collect;                   // Set for a collected family, which has no children.
  std::map<Labels, std::unique_ptr<Child>> children;  // Guarded by the registry's mu_.
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

Counter& MetricsRegistry::GetCounter(absl::string_view name, absl::string_view help,
                                     const Labels& labels) {
  return std::get<Counter>(FindOrAddChild(name, help, MetricType::kCounter, {}, labels).metric);
}

Gauge& MetricsRegistry::GetGauge(absl::string_view name, absl::string_view help,
                                 const Labels& labels) {
  return std::get<Gauge>(FindOrAddChild(name, help, MetricType::kGauge, {}, labels).metric);
}

Histogram& MetricsRegistry::GetHistogram(absl::string_view name, absl::string_view help,
                                         const std::vector<double>& upper_bounds,
                                         const Labels& labels) {
  return std::get<Histogram>(
      FindOrAddChild(name, help, MetricType::kHistogram, upper_bounds, labels).metric);
}

MetricsRegistry::Child& MetricsRegistry::FindOrAddChild(absl::string_view name,
                                                        absl::string_view help, MetricType type,
                                                        const std::vector<double>& upper_bounds,
                                                        const Labels& labels) {
  absl::MutexLock lock(&mu_);
  auto family_it = families_.find(name);
  if (family_it == families_.end()) {
    // Labels too, so that a family is never added without a child (it would render bare).
    if (!Check(IsValidName(name, /*allow_colon=*/true), "invalid metric name", name) ||
        !CheckLabels(labels, type)) {
      return FindOrAddOrphan(name, type, upper_bounds, labels);
    }
    auto family = std::make_unique<Family>();
    family->help = std::string(help);
    family->type = type;
    family->upper_bounds = upper_bounds;
    family_it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = *family_it->second;
  if (!Check(family.type == type && !family.collect, "metric name used with another type", name) ||
      !Check(family.upper_bounds == upper_bounds, "histogram used with other bounds", name)) {
    return FindOrAddOrphan(name, type, upper_bounds, labels);
  }
  // Harmless in release: the first text stays.
  Check(family.help == help, "metric name used with other help", name);
  auto child_it = family.children.find(labels);
  if (child_it == family.children.end()) {
    if (!CheckLabels(labels, type)) {
      return FindOrAddOrphan(name, type, upper_bounds, labels);
    }
    child_it =
        family.children.emplace(labels, std::make_unique<Child>(type, family.upper_bounds)).first;
  }
  return *child_it->second;
}

MetricsRegistry::Child& MetricsRegistry::FindOrAddOrphan(absl::string_view name, MetricType type,
                                                         const std::vector<double>& upper_bounds,
                                                         const Labels& labels) {
  std::unique_ptr<Child>& orphan = orphans_[{std::string(name), type, labels}];
  if (orphan == nullptr) {
    orphan = std::make_unique<Child>(type, upper_bounds);
  }
  return *orphan;
}

void MetricsRegistry::AddCollector(absl::string_view name, absl::string_view help, MetricType type,
                                   Collect collect) {
  if (!Check(IsValidName(name, /*allow_colon=*/true), "invalid metric name", name) ||
      !Check(type != MetricType::kHistogram, "a collector is a counter or a gauge", name)) {
    return;
  }
  auto family = std::make_unique<Family>();
  family->help = std::string(help);
  family->type = type;
  family->collect = std::move(collect);
  absl::MutexLock lock(&mu_);
  const bool added = families_.try_emplace(std::string(name), std::move(family)).second;
  Check(added, "metric name already used", name);
}

std::string MetricsRegistry::Render() const {
  // Pointers to the families and children, taken under the lock; formatting and collectors run
  // after it is released (pointers stay valid, see families_).
  struct FamilyToRender {
    const std::string* name;
    const Family* family;
    std::vector<std::pair<const Labels*, const Child*>> children;
  };
  std::vector<FamilyToRender> to_render;
  {
    absl::MutexLock lock(&mu_);
    to_render.reserve(families_.size());
    for (const auto& [name, family] : families_) {
      FamilyToRender& entry = to_render.emplace_back();
      entry.name = &name;
      entry.family = family.get();
      for (const auto& [labels, child] : family->children) {
        entry.children.emplace_back(&labels, child.get());
      }
    }
  }
  std::string out;
  for (const FamilyToRender& entry : to_render) {
    const Family& family = *entry.family;
    AppendHeader(&out, *entry.name, family.help, family.type);
    for (const auto& [labels, child] : entry.children) {
      if (const auto* histogram = std::get_if<Histogram>(&child->metric)) {
        AppendHistogram(&out, *entry.name, *labels, *histogram);
      } else if (const auto* counter = std::get_if<Counter>(&child->metric)) {
        AppendSample(&out, *entry.name, "", *labels, "", FormatValue(counter->value()));
      } else if (const auto* gauge = std::get_if<Gauge>(&child->metric)) {
        AppendSample(&out, *entry.name, "", *labels, "", FormatValue(gauge->value()));
      }
    }
    if (family.collect) {
      std::vector<Sample> samples;
      family.collect(&samples);
      // The children's order (std::map over Labels): by label values, for one label-name set.
      std::stable_sort(samples.begin(), samples.end(),
                       [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
      for (const Sample& sample : samples) {
        if (CheckLabels(sample.labels, family.type)) {
          AppendSample(&out, *entry.name, "", sample.labels, "", FormatValue(sample.value));
        }
      }
    }
  }
  return out;
}

}  // namespace sluice::engine::http
