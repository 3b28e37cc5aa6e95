#include "metrics/roc_auc.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "metrics/score_ranks.h"
#include "tests/support/test_util.h"

namespace sluice::metrics {
namespace {

// Mann-Whitney by enumerating every (positive, negative) pair.
double BruteForceAuc(const std::deque<std::pair<bool, double>>& items) {
  double credit = 0;
  double p = 0, n = 0;
  for (const auto& [label, score] : items) (label ? p : n) += 1;
  if (p == 0 || n == 0) return std::nan("");
  for (const auto& [a_label, a] : items) {
    if (!a_label) continue;
    for (const auto& [b_label, b] : items) {
      if (b_label) continue;
      credit += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
    }
  }
  return credit / (p * n);
}

// Scores on a coarse grid so that ties are frequent; about 1 in `rarity` labels positive.
std::vector<std::pair<bool, double>> RandomStream(uint64_t seed, int n, int grid, int rarity) {
  core::PyRandom rng(seed);
  std::vector<std::pair<bool, double>> out;
  for (int i = 0; i < n; ++i) {
    const bool label = rng.RandBelow(static_cast<uint64_t>(rarity)) == 0;
    double score = static_cast<double>(rng.RandBelow(static_cast<uint64_t>(grid))) / grid;
    if (label) score = std::min(1.0, score + 0.2);         // Positives score higher on average.
    if (score == 0.0 && rng.Random() < 0.5) score = -0.0;  // -0.0 ties with 0.0.
    out.emplace_back(label, score);
  }
  return out;
}

void ExpectSameAuc(double actual, double expected, const std::string& where) {
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << where;
  } else {
    // Both are a ratio of the same integers up to the brute force's 0.5 steps, which are exact
    // in double for these sizes; only the final division can differ by rounding.
    EXPECT_NEAR(actual, expected, 1e-12) << where;
  }
}

TEST(RollingRocAuc, MatchesBruteForceOverWindowWithTies) {
  // Scan limit 0: the rank tree from the first pair of labels on; the default: scans only.
  for (const uint64_t scan_limit : {uint64_t{0}, RollingRocAuc::kDefaultScanLimit})
    for (const int window : {1, 2, 7, 100}) {
      for (const int grid : {3, 20, 1000}) {
        RollingRocAuc metric(window, scan_limit);
        std::deque<std::pair<bool, double>> items;
        const auto stream =
            RandomStream(static_cast<uint64_t>(window * 1000 + grid), 1500, grid, 4);
        for (size_t i = 0; i < stream.size(); ++i) {
          metric.Update(stream[i].first, stream[i].second);
          items.push_back(stream[i]);
          if (items.size() > static_cast<size_t>(window)) items.pop_front();
          ExpectSameAuc(metric.Auc(), BruteForceAuc(items),
                        "window " + std::to_string(window) + " grid " + std::to_string(grid) +
                            " event " + std::to_string(i));
        }
      }
    }
}

// Rare positives, then as many as negatives, then rare again: the metric moves to the rank tree
// and back to scans, and matches the brute force at every event in both modes and across the
// switches.
TEST(RollingRocAuc, SwitchesBetweenScansAndTheRankTreeAsTheLabelMixChanges) {
  constexpr int kWindow = 200;
  RollingRocAuc metric(kWindow, /*scan_limit=*/64);
  std::deque<std::pair<bool, double>> items;
  std::vector<bool> modes;
  for (const int rarity : {100, 2, 100}) {
    for (const auto& item : RandomStream(static_cast<uint64_t>(rarity), 1500, 100, rarity)) {
      metric.Update(item.first, item.second);
      items.push_back(item);
      if (items.size() > kWindow) items.pop_front();
      ExpectSameAuc(metric.Auc(), BruteForceAuc(items),
                    "rarity " + std::to_string(rarity) + " event " + std::to_string(modes.size()));
      modes.push_back(metric.indexed());
    }
  }
  EXPECT_FALSE(modes[1000]);  // Rare positives: scans.
  EXPECT_TRUE(modes[2500]);   // Balanced: the rank tree.
  EXPECT_FALSE(modes[4400]);  // Rare again, more than a window later: scans.
}

// Found by tests/fuzz/metric_state_fuzz.cc: a saved label byte other than 0 or 1 was loaded
// into a bool (undefined behaviour) instead of being refused.
TEST(RollingRocAuc, LoadRefusesALabelByteOtherThanZeroOrOne) {
  RollingRocAuc metric(4);
  metric.Update(true, 0.75);
  metric.Update(false, 0.25);
  core::StateWriter w;
  metric.Save(&w);
  std::string payload = w.payload();
  // Layout: u64 window, u64 count, then 16-byte entries {double score; label byte; padding}.
  ASSERT_EQ(payload.size(), 8u + 8u + 2u * 16u);
  RollingRocAuc loaded(4);
  core::StateReader good(payload);
  ASSERT_TRUE(loaded.Load(&good));
  EXPECT_EQ(loaded.Auc(), 1.0);
  payload[8 + 8 + 8] = 2;  // The first entry's label.
  core::StateReader bad(payload);
  EXPECT_FALSE(loaded.Load(&bad));
}

TEST(RocAuc, MatchesBruteForceCumulatively) {
  for (const int grid : {2, 10, 100000}) {
    RocAuc metric;
    std::deque<std::pair<bool, double>> items;
    const auto stream = RandomStream(static_cast<uint64_t>(grid), 600, grid, 3);
    for (size_t i = 0; i < stream.size(); ++i) {
      metric.Update(stream[i].first, stream[i].second);
      items.push_back(stream[i]);
      if (i % 7 == 0 || i + 1 == stream.size()) {
        ExpectSameAuc(metric.Auc(), BruteForceAuc(items),
                      "grid " + std::to_string(grid) + " event " + std::to_string(i));
      }
    }
  }
}

// Tens of thousands of new scores sort by radix: signs, zeros, ties, subnormals and huge values
// must order as doubles do. The reference is the pairwise definition, sped up by a comparison
// sort (positives beating negatives below them, ties 0.5).
TEST(RocAuc, LargeBatchesMatchAComparisonSortReference) {
  core::PyRandom rng(17);
  RocAuc metric;
  std::vector<std::pair<double, bool>> all;
  const double kinds[] = {0.0, 1e-310, -1e-310, 1e300, -1e300, 3.5, -3.5};
  for (int batch = 0; batch < 3; ++batch) {
    for (int i = 0; i < 30000; ++i) {
      const bool label = rng.Random() < 0.3;
      double score = rng.Random() < 0.2 ? kinds[rng.RandBelow(7)] : rng.Gauss(label ? 1 : 0, 2);
      if (rng.Random() < 0.1) score = std::round(score);  // Ties.
      metric.Update(label, score);
      all.emplace_back(score + 0.0, label);
    }
    std::vector<std::pair<double, bool>> sorted = all;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    double twice_u = 0, negatives_below = 0, p = 0;
    for (size_t i = 0; i < sorted.size();) {
      size_t j = i;
      double pos = 0, neg = 0;
      for (; j < sorted.size() && sorted[j].first == sorted[i].first; ++j) {
        (sorted[j].second ? pos : neg) += 1;
      }
      twice_u += pos * (2 * negatives_below + neg);
      negatives_below += neg;
      p += pos;
      i = j;
    }
    EXPECT_EQ(metric.Auc(), twice_u / (2.0 * p * negatives_below)) << "batch " << batch;
  }
}

TEST(RocAuc, HandWorkedCases) {
  RocAuc auc;
  EXPECT_TRUE(std::isnan(auc.Auc()));
  // River's docstring example: labels 0,0,1,1, scores .1,.4,.35,.8 -> exact AUC 0.75.
  auc.Update(false, 0.1);
  auc.Update(false, 0.4);
  auc.Update(true, 0.35);
  auc.Update(true, 0.8);
  EXPECT_EQ(auc.Auc(), 0.75);
  RollingRocAuc tie(2);
  tie.Update(true, 0.5);
  tie.Update(false, 0.5);
  EXPECT_EQ(tie.Auc(), 0.5);  // A full half credit for a tie (River's rolling gives 0).
}

TEST(ScoreRanks, CountsMatchAMultiset) {
  ScoreRanks ranks;
  std::vector<std::pair<double, int>> present;
  core::PyRandom rng(77);
  for (int step = 0; step < 5000; ++step) {
    if (!present.empty() && rng.Random() < 0.45) {
      const size_t k = rng.RandBelow(present.size());
      ranks.Erase(present[k].first, present[k].second);
      present.erase(present.begin() + static_cast<std::ptrdiff_t>(k));
    } else {
      const double score = static_cast<double>(rng.RandBelow(50));
      const int label = static_cast<int>(rng.RandBelow(2));
      ranks.Insert(score, label);
      present.emplace_back(score, label);
    }
    const double probe = static_cast<double>(rng.RandBelow(52)) - 1;
    const ScoreRanks::Counts c = ranks.Query(probe);
    uint64_t below[2] = {0, 0}, equal[2] = {0, 0};
    for (const auto& [score, label] : present) {
      if (score < probe) ++below[label];
      if (score == probe) ++equal[label];
    }
    ASSERT_EQ(c.below[0], below[0]) << "step " << step;
    ASSERT_EQ(c.below[1], below[1]) << "step " << step;
    ASSERT_EQ(c.equal[0], equal[0]) << "step " << step;
    ASSERT_EQ(c.equal[1], equal[1]) << "step " << step;
    ASSERT_EQ(ranks.size(), present.size());
  }
}

}  // namespace
}  // namespace sluice::metrics
