// metrics/latency_histogram.cc
#include "metrics/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace sluice::metrics {

constexpr double kSmallest = 1e-6;  // The first bucket's upper edge, seconds.

int LatencyHistogram::BucketOf(double seconds) {
  if (!(seconds > kSmallest)) return 0;  // NaN and negative too.
  const double octaves = std::log2(seconds / kSmallest);
  const auto bucket = static_cast<int64_t>(std::ceil(octaves * kPerOctave));
  return static_cast<int>(std::clamp<int64_t>(bucket, 0, kBuckets - 1));
}

double LatencyHistogram::UpperEdge(int bucket) {
  return kSmallest * std::exp2(static_cast<double>(bucket) / kPerOctave);
}

void LatencyHistogram::Record(double seconds) {
  ++buckets_[static_cast<size_t>(BucketOf(seconds))];
  ++count_;
  if (seconds > max_) max_ = seconds;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const auto rank = static_cast<uint64_t>(
      std::max(1.0, std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[static_cast<size_t>(b)];
    // The last bucket has no upper edge: its values are at most the max.
    if (seen >= rank) return b == kBuckets - 1 ? max_ : std::min(UpperEdge(b), max_);
  }
  return max_;
}

}  // namespace sluice::metrics
