// metrics/latency_histogram.h. Latencies (seconds) in logarithmic buckets: quantiles within
// about 2 % of the true value, in constant memory, mergeable across partitions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::metrics {

// Buckets of 1/32 of an octave from 1 µs up; smaller values fall in the first bucket, values
// past about 36 hours in the last, negative ones (clocks apart) count as 0. Copyable value type;
// not thread-safe.
class LatencyHistogram {
 public:
  void Record(double seconds);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  // The q-quantile (0 <= q <= 1) as the upper edge of the bucket that holds it; 0 if empty.
  double Quantile(double q) const;
  double max() const { return max_; }
  // Calls f(upper_edge, count) for each bucket that holds values, in increasing order.
  template <typename F>
  void ForEachBucket(F f) const {
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
      if (buckets_[static_cast<size_t>(bucket)] != 0) {
        f(UpperEdge(bucket), buckets_[static_cast<size_t>(bucket)]);
      }
    }
  }

 private:
  static constexpr int kPerOctave = 32;
  static constexpr int kOctaves = 37;  // 1 µs * 2^37 s: about 38 hours.
  static constexpr int kBuckets = kPerOctave * kOctaves;
  static int BucketOf(double seconds);
  static double UpperEdge(int bucket);
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double max_ = 0;
};

}  // namespace sluice::metrics
