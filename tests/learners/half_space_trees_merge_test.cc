// HalfSpaceTrees::Merge and MinMaxScaler::Merge: the merged (global) anomaly model's parts.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "learners/half_space_trees.h"
#include "learners/min_max_scaler.h"
#include "tests/support/streams.h"
#include "tests/support/test_util.h"

namespace sluice::learners {
namespace {

using ::sluice::testing::StatusIs;
using Models = std::vector<const HalfSpaceTrees*>;

const std::vector<std::string> kNames = {"a", "b", "c"};

HalfSpaceTrees::Options Opts(int window_size) {
  return {.num_trees = 4, .height = 5, .window_size = window_size, .seed = 11};
}

// A model of window `window_size` that learned `n` examples of a seeded uniform stream.
std::unique_ptr<HalfSpaceTrees> Trained(int window_size, int n, uint64_t stream_seed) {
  auto model = HalfSpaceTrees::Create(Opts(window_size), kNames);
  EXPECT_TRUE(model.ok()) << model.status();
  for (const auto& x : testing::UniformStream(stream_seed, n, 3)) {
    (*model)->LearnOne(x, std::nullopt);
  }
  return std::move(model).value();
}

std::string MergedState(const Models& models) {
  auto merged = HalfSpaceTrees::Merge(models);
  EXPECT_TRUE(merged.ok()) << merged.status();
  return merged.ok() ? (*merged)->Save() : "";
}

TEST(HalfSpaceTreesMerge, OneModelMergesToItself) {
  // Unbuilt, first window, exactly at a pivot, mid-window after several pivots.
  for (const int n : {0, 7, 40, 133}) {
    auto model = Trained(20, n, 1);
    EXPECT_EQ(MergedState({model.get()}), model->Save()) << n << " examples";
  }
}

TEST(HalfSpaceTreesMerge, IsCommutativeAndAssociativeBitForBit) {
  auto a = Trained(20, 133, 1);
  auto b = Trained(30, 71, 2);
  auto c = Trained(50, 219, 3);
  const std::string abc = MergedState({a.get(), b.get(), c.get()});
  EXPECT_EQ(MergedState({c.get(), a.get(), b.get()}), abc);
  EXPECT_EQ(MergedState({a.get(), b.get()}), MergedState({b.get(), a.get()}));
  ASSERT_OK_AND_ASSIGN(auto ab, HalfSpaceTrees::Merge(Models{a.get(), b.get()}));
  ASSERT_OK_AND_ASSIGN(auto bc, HalfSpaceTrees::Merge(Models{b.get(), c.get()}));
  EXPECT_EQ(MergedState({ab.get(), c.get()}), abc);
  EXPECT_EQ(MergedState({a.get(), bc.get()}), abc);
  ASSERT_OK_AND_ASSIGN(auto merged, HalfSpaceTrees::Merge(Models{a.get(), b.get(), c.get()}));
  EXPECT_EQ(merged->options().window_size, 100);
  EXPECT_EQ(merged->completed_windows(), 6u);  // max(6, 2, 4)
  EXPECT_EQ(merged->current_window_count(), 13u + 11u + 19u);
}

// River's score (river-algorithms.md section 4.4) evaluated directly on the inputs' masses,
// summed per node: S = sum over trees and path nodes of r_mass * 2^depth, a tree's walk stopping
// after the first node whose r_mass < 0.1 * window_size; score = 1 - S / max_score.
double BruteForceMergedScore(const Models& models, const std::vector<double>& x) {
  const HalfSpaceTrees::Options& o = models[0]->options();
  double window_size = 0;
  for (const HalfSpaceTrees* m : models) window_size += m->options().window_size;
  const double max_score = o.num_trees * window_size * (std::pow(2.0, o.height + 1) - 1);
  double s = 0;
  for (int tree_idx = 0; tree_idx < o.num_trees; ++tree_idx) {
    uint32_t node_idx = 1;
    for (int depth = 0; depth <= o.height; ++depth) {
      double r_mass = 0;
      for (const HalfSpaceTrees* m : models) r_mass += m->node(tree_idx, node_idx).r_mass;
      s += r_mass * std::pow(2.0, depth);
      if (r_mass < 0.1 * window_size || depth == o.height) break;
      const HalfSpaceTrees::NodeView split = models[0]->node(tree_idx, node_idx);
      node_idx = x[split.feature] < split.threshold ? 2 * node_idx : 2 * node_idx + 1;
    }
  }
  return 1 - s / max_score;
}

TEST(HalfSpaceTreesMerge, ScoresAreRiversFormulaOverSummedMasses) {
  auto a = Trained(20, 133, 1);
  auto b = Trained(30, 71, 2);
  auto c = Trained(50, 219, 3);
  const Models inputs = {a.get(), b.get(), c.get()};
  ASSERT_OK_AND_ASSIGN(auto merged, HalfSpaceTrees::Merge(inputs));
  // Probes inside [0, 1] and a little outside, as a scaler yields for unseen extremes.
  for (const auto& x : testing::UniformStream(9, 2000, 3, -0.1, 1.1)) {
    ASSERT_EQ(merged->ScoreOne(x), BruteForceMergedScore(inputs, x));
  }
}

TEST(HalfSpaceTreesMerge, AModelMergedWithItselfScoresAsItDoes) {
  // Masses and window double, and r < 0.1 * 2w exactly when r / 2 < 0.1 * w: same walk, and
  // S / max_score scales both terms by 2, which is exact in binary.
  auto a = Trained(25, 260, 4);
  ASSERT_OK_AND_ASSIGN(auto twice, HalfSpaceTrees::Merge(Models{a.get(), a.get()}));
  for (const auto& x : testing::UniformStream(5, 500, 3)) {
    ASSERT_EQ(twice->ScoreOne(x), a->ScoreOne(x));
  }
}

// A stream split round-robin over P models of window w / P: after n events (n a multiple of P)
// each partition completed floor(n / w) windows, each covering the same w events of the stream
// as the single model's window, so the summed masses are the single model's, node for node.
TEST(HalfSpaceTreesMerge, RoundRobinPartitionsMergeIntoTheSingleModel) {
  for (const int partitions : {2, 4}) {
    ASSERT_OK_AND_ASSIGN(auto single, HalfSpaceTrees::Create(Opts(64), kNames));
    std::vector<std::unique_ptr<HalfSpaceTrees>> parts;
    Models models;
    for (int p = 0; p < partitions; ++p) {
      ASSERT_OK_AND_ASSIGN(auto part, HalfSpaceTrees::Create(Opts(64 / partitions), kNames));
      models.push_back(part.get());
      parts.push_back(std::move(part));
    }
    const auto stream = testing::UniformStream(3, 1000, 3);
    for (size_t i = 0; i < stream.size(); ++i) {
      single->LearnOne(stream[i], std::nullopt);
      parts[i % partitions]->LearnOne(stream[i], std::nullopt);
      if ((i + 1) % partitions == 0) {
        ASSERT_EQ(MergedState(models), single->Save()) << "P=" << partitions << " after " << i;
      }
    }
  }
}

TEST(HalfSpaceTreesMerge, MergedStateLoadsAndLearnsOn) {
  auto a = Trained(20, 133, 1);
  auto b = Trained(30, 71, 2);
  ASSERT_OK_AND_ASSIGN(auto merged, HalfSpaceTrees::Merge(Models{a.get(), b.get()}));
  ASSERT_OK_AND_ASSIGN(auto loaded, HalfSpaceTrees::Create(Opts(50), kNames));
  ASSERT_OK(loaded->Load(merged->Save()));
  EXPECT_EQ(loaded->Save(), merged->Save());
  // 13 + 11 examples are in the current window: 26 more complete it.
  const auto more = testing::UniformStream(6, 26, 3);
  for (const auto& x : more) loaded->LearnOne(x, std::nullopt);
  EXPECT_EQ(loaded->completed_windows(), merged->completed_windows() + 1);
  EXPECT_EQ(loaded->current_window_count(), 0u);
  EXPECT_EQ(loaded->node(0, 1).r_mass, 50u);
}

TEST(HalfSpaceTreesMerge, OnlyTheMostAdvancedModelsCount) {
  auto trained = Trained(20, 45, 1);
  auto first_window = Trained(20, 7, 2);
  auto unbuilt = Trained(20, 0, 3);
  // A model still in its first window (or unbuilt) adds nothing to one that has a reference.
  EXPECT_EQ(MergedState({trained.get(), first_window.get(), unbuilt.get()}), trained->Save());
  EXPECT_EQ(MergedState({first_window.get(), unbuilt.get()}), first_window->Save());
  // Models in their first window sum: still in the first window, scoring 0.
  auto other_first = Trained(30, 12, 4);
  ASSERT_OK_AND_ASSIGN(auto firsts,
                       HalfSpaceTrees::Merge(Models{first_window.get(), other_first.get()}));
  EXPECT_EQ(firsts->completed_windows(), 0u);
  EXPECT_EQ(firsts->current_window_count(), 19u);
  EXPECT_EQ(firsts->options().window_size, 50);
  EXPECT_EQ(firsts->node(0, 1).l_mass, 19u);
  EXPECT_EQ(firsts->ScoreOne(std::vector<double>{0.5, 0.5, 0.5}), 0.0);
  // Only unbuilt models: an unbuilt model with the summed window.
  ASSERT_OK_AND_ASSIGN(auto unbuilts, HalfSpaceTrees::Merge(Models{unbuilt.get(), unbuilt.get()}));
  EXPECT_FALSE(unbuilts->trees_built());
  EXPECT_EQ(unbuilts->options().window_size, 40);
}

TEST(HalfSpaceTreesMerge, RefusesModelsThatDiffer) {
  auto a = Trained(20, 45, 1);
  EXPECT_THAT(HalfSpaceTrees::Merge(Models{}), StatusIs(absl::StatusCode::kInvalidArgument));
  HalfSpaceTrees::Options seed = Opts(20);
  seed.seed = 12;
  ASSERT_OK_AND_ASSIGN(auto other_seed, HalfSpaceTrees::Create(seed, kNames));
  EXPECT_THAT(HalfSpaceTrees::Merge(Models{a.get(), other_seed.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("seed 11 vs 12")));
  ASSERT_OK_AND_ASSIGN(auto other_names,
                       HalfSpaceTrees::Create(Opts(20), std::vector<std::string>{"a", "b", "d"}));
  EXPECT_THAT(HalfSpaceTrees::Merge(Models{a.get(), other_names.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("feature names")));
  // Same options, but the first example lacked feature b: its trees never split on b.
  ASSERT_OK_AND_ASSIGN(auto other_trees, HalfSpaceTrees::Create(Opts(20), kNames));
  for (int i = 0; i < 20; ++i) {
    other_trees->LearnOne(std::vector<double>{0.3, core::kMissing, 0.6}, std::nullopt);
  }
  EXPECT_THAT(HalfSpaceTrees::Merge(Models{a.get(), other_trees.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("trees differ")));
  // 65535 is the largest window a 16-bit mass holds.
  auto big = Trained(40000, 0, 1);
  EXPECT_THAT(HalfSpaceTrees::Merge(Models{big.get(), big.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("80000")));
}

TEST(MinMaxScalerMerge, TakesTheWidestRangeInAnyOrder) {
  ASSERT_OK_AND_ASSIGN(auto a, MinMaxScaler::Create(3));
  ASSERT_OK_AND_ASSIGN(auto b, MinMaxScaler::Create(3));
  ASSERT_OK_AND_ASSIGN(auto c, MinMaxScaler::Create(3));
  a->LearnOne(std::vector<double>{1.0, 0.0, core::kMissing});
  a->LearnOne(std::vector<double>{2.0, 5.0, core::kMissing});
  b->LearnOne(std::vector<double>{-1.0, -0.0, core::kMissing});
  ASSERT_OK_AND_ASSIGN(auto ab,
                       MinMaxScaler::Merge(std::vector<const MinMaxScaler*>{a.get(), b.get()}));
  ASSERT_OK_AND_ASSIGN(auto ba,
                       MinMaxScaler::Merge(std::vector<const MinMaxScaler*>{b.get(), a.get()}));
  EXPECT_EQ(ab->Save(), ba->Save());
  ASSERT_OK_AND_ASSIGN(auto alone, MinMaxScaler::Merge(std::vector<const MinMaxScaler*>{a.get()}));
  EXPECT_EQ(alone->Save(), a->Save());
  // An unseen scaler adds nothing.
  ASSERT_OK_AND_ASSIGN(
      auto abc, MinMaxScaler::Merge(std::vector<const MinMaxScaler*>{a.get(), b.get(), c.get()}));
  EXPECT_EQ(abc->Save(), ab->Save());
  // Feature 0 spans [-1, 2], feature 1 [-0.0, 5], feature 2 was never seen (NaN).
  std::vector<double> out(3);
  ab->TransformOne(std::vector<double>{0.5, 2.5, 0.5}, out);
  EXPECT_EQ(out[0], 0.5);
  EXPECT_EQ(out[1], 0.5);
  EXPECT_TRUE(std::isnan(out[2]));
  ASSERT_OK_AND_ASSIGN(auto wide, MinMaxScaler::Create(4));
  EXPECT_THAT(MinMaxScaler::Merge(std::vector<const MinMaxScaler*>{a.get(), wide.get()}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace sluice::learners
