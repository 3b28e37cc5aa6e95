#include "metrics/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/random.h"
#include "tests/support/test_util.h"

namespace sluice::metrics {
namespace {

// Nearest rank over the sorted values: what Quantile() approximates.
double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<size_t>(std::max(1.0, std::ceil(q * static_cast<double>(values.size()))));
  return values[rank - 1];
}

TEST(LatencyHistogram, QuantilesAreWithinABucketAboveTheExactOnes) {
  core::PyRandom rng(9);
  std::vector<double> values;
  LatencyHistogram all, first, second;
  for (int i = 0; i < 200000; ++i) {
    // Log-uniform from 2 µs to 20 s, as latencies spread.
    const double v = 2e-6 * std::pow(10.0, 7.0 * rng.Random());
    values.push_back(v);
    all.Record(v);
    (i % 3 == 0 ? first : second).Record(v);
  }
  first.Merge(second);
  EXPECT_EQ(all.count(), 200000u);
  for (const double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double exact = ExactQuantile(values, q);
    const double approx = all.Quantile(q);
    EXPECT_GE(approx, exact) << q;
    EXPECT_LE(approx, exact * std::exp2(1.0 / 32)) << q;  // One bucket: about 2.2 %.
    EXPECT_EQ(first.Quantile(q), approx) << q;            // Merging loses nothing.
  }
  EXPECT_EQ(all.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogram, EdgesClampAndAnEmptyOneIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0.0);
  h.Record(-1);  // Clocks apart.
  h.Record(0);
  h.Record(1e9);  // Past the last bucket.
  EXPECT_EQ(h.count(), 3u);
  EXPECT_LE(h.Quantile(0.5), 1e-6);
  EXPECT_EQ(h.Quantile(1.0), 1e9);  // The max, not the last bucket's edge.
}

}  // namespace
}  // namespace sluice::metrics
