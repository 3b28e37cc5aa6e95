// HalfSpaceTrees::ExplainOne against a brute force over River's score formula, term by term.
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/features.h"
#include "learners/half_space_trees.h"
#include "tests/support/streams.h"
#include "tests/support/test_util.h"

namespace sluice::learners {
namespace {

std::unique_ptr<HalfSpaceTrees> Make(const HalfSpaceTrees::Options& options,
                                     std::vector<std::string> names) {
  auto hst = HalfSpaceTrees::Create(options, std::move(names));
  EXPECT_TRUE(hst.ok()) << hst.status();
  return std::move(hst).value();
}

struct Shares {
  std::vector<double> features;
  double rest = 0;
};

// The score's terms (W * 2^d - s(d)) / max_score one depth at a time, through the public node
// view: at a depth the walk reached, the mass missing there (W - r_mass(n_d)) is split among the
// steps above it in proportion to what each lost; below the stop, the whole W * 2^d is missing,
// of which r_mass(n_k) * 2^d (what the walk still held) belongs to no feature. Quadratic in the
// height, and routed by the header's rule (x[f] < threshold goes left, a missing feature to the
// heavier current window), independently of the model's own walk.
Shares BruteForce(const HalfSpaceTrees& hst, const std::vector<double>& x) {
  const HalfSpaceTrees::Options& o = hst.options();
  const double max_score =
      static_cast<double>(o.num_trees) * o.window_size * (std::ldexp(1.0, o.height + 1) - 1);
  Shares shares{std::vector<double>(x.size(), 0.0), 0.0};
  if (hst.completed_windows() == 0) return shares;  // Scores are 0 in the first window.
  const auto add = [&](int feature, double amount) {
    (feature < 0 ? shares.rest : shares.features[feature]) += amount / max_score;
  };
  for (int t = 0; t < o.num_trees; ++t) {
    std::vector<double> mass;  // r_mass(n_d) along the path until the stop
    std::vector<int> feature;  // the split feature of each step, -1 for a missing value
    uint32_t node = 1;
    for (int d = 0;; ++d) {
      const HalfSpaceTrees::NodeView v = hst.node(t, node);
      mass.push_back(v.r_mass);
      if (v.r_mass < 0.1 * o.window_size || d == o.height) break;
      const HalfSpaceTrees::NodeView l = hst.node(t, 2 * node), r = hst.node(t, 2 * node + 1);
      const bool missing = core::IsMissing(x[v.feature]);
      feature.push_back(missing ? -1 : v.feature);
      node = 2 * node +
             (missing ? (l.l_mass >= r.l_mass ? 0 : 1) : (x[v.feature] < v.threshold ? 0 : 1));
    }
    const size_t k = mass.size() - 1;
    for (int d = 0; d <= o.height; ++d) {
      const double scale = std::ldexp(1.0, d);
      const size_t reached = std::min<size_t>(static_cast<size_t>(d), k);
      for (size_t j = 0; j < reached; ++j) add(feature[j], (mass[j] - mass[j + 1]) * scale);
      if (static_cast<size_t>(d) > k) add(-1, mass[k] * scale);
    }
  }
  return shares;
}

TEST(HalfSpaceTreesExplain, SharesEqualTheBruteForceAndSumToTheScore) {
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  for (const auto& options : std::vector<HalfSpaceTrees::Options>{
           {.num_trees = 3, .height = 4, .window_size = 20, .seed = 1},
           {.num_trees = 10, .height = 8, .window_size = 50, .seed = 42},
           {.num_trees = 5, .height = 12, .window_size = 250, .seed = 7}}) {
    auto hst = Make(options, names);
    auto stream = testing::UniformStream(3, 3000, 4);
    for (size_t i = 0; i < stream.size(); ++i) {
      if (i % 7 == 3) stream[i][i % 4] = core::kMissing;  // Routed by the masses, not by x.
      if (i % 11 == 5) stream[i][1] = 1.5;                // Beyond the scaled range.
      std::vector<double> shares;
      const double rest = hst->ExplainOne(stream[i], &shares);
      const double score = hst->ScoreOne(stream[i]);
      const Shares expected = BruteForce(*hst, stream[i]);
      double sum = rest;
      for (size_t f = 0; f < shares.size(); ++f) {
        ASSERT_NEAR(shares[f], expected.features[f], 1e-12) << "event " << i << " feature " << f;
        ASSERT_GE(shares[f], 0.0);
        sum += shares[f];
      }
      ASSERT_NEAR(rest, expected.rest, 1e-12) << "event " << i;
      ASSERT_NEAR(sum, score, 1e-12) << "event " << i;
      if (core::IsMissing(stream[i][i % 4]) && hst->completed_windows() > 0) {
        EXPECT_EQ(shares[i % 4], 0.0) << "a feature the event lacks explains nothing";
      }
      hst->LearnOne(stream[i], std::nullopt);
    }
  }
}

TEST(HalfSpaceTreesExplain, NothingDuringTheFirstWindowAndOneFeatureTakesAllButTheStop) {
  auto hst = Make({.num_trees = 5, .height = 3, .window_size = 3, .seed = 42}, {"x"});
  std::vector<double> shares;
  EXPECT_EQ(hst->ExplainOne(std::vector<double>{0.5}, &shares), 0.0);
  EXPECT_EQ(shares, std::vector<double>{0.0});
  for (const double v : {0.5, 0.45, 0.43}) hst->LearnOne(std::vector<double>{v}, std::nullopt);
  // River's docstring model: 0.0 is far from the window {0.5, 0.45, 0.43} and scores
  // 0.8533333333333333 after learning it (ReproducesRiverDocstring).
  const std::vector<double> x = {0.0};
  const double rest = hst->ExplainOne(x, &shares);
  EXPECT_NEAR(shares[0] + rest, hst->ScoreOne(x), 1e-15);
  EXPECT_GT(shares[0], rest);
}

TEST(HalfSpaceTreesExplain, ThreadsMayExplainOneModelAtOnce) {
  auto hst = Make({.num_trees = 4, .height = 6, .window_size = 30, .seed = 3}, {"a", "b"});
  const auto stream = testing::UniformStream(9, 200, 2);
  for (const auto& x : stream) hst->LearnOne(x, std::nullopt);
  std::vector<double> want;
  const double want_rest = hst->ExplainOne(stream[0], &want);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<double> got;
      for (int i = 0; i < 500; ++i) {
        EXPECT_EQ(hst->ExplainOne(stream[0], &got), want_rest);
        EXPECT_EQ(got, want);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace sluice::learners
