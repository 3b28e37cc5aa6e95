// NaN scores (a diverged LogisticRegression) in every metric: each call terminates with the
// documented value, and states holding NaN save and load exactly.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/state_codec.h"
#include "metrics/river_roc_auc.h"
#include "metrics/roc_auc.h"
#include "tests/support/test_util.h"

namespace sluice::metrics {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();  // Sign bit clear.
const double kNegativeNaN = -kNaN;  // Sign bit set: x86's default NaN (inf - inf, 0 * inf).

TEST(NanScores, RocAucIsNaNWhileANaNScoreIsCountedAndTerminates) {
  RocAuc auc;
  auc.Update(false, 0.1);
  auc.Update(true, 0.8);
  EXPECT_EQ(auc.Auc(), 1.0);
  auc.Update(true, kNaN);
  auc.Update(false, kNaN);
  EXPECT_TRUE(std::isnan(auc.Auc()));  // Used to loop forever: NaN never equals itself.
  EXPECT_EQ(auc.positives(), 2u);
  EXPECT_EQ(auc.negatives(), 2u);
}

TEST(NanScores, RocAucDeltasWithNaNLoadBackExactly) {
  RocAuc auc;
  auc.Update(false, 0.25);
  auc.Update(true, kNegativeNaN);
  core::StateWriter first;
  auc.SaveDelta(&first);
  auc.Update(true, 0.5);
  auc.Update(false, kNaN);
  core::StateWriter second;
  auc.SaveDelta(&second);

  RocAuc loaded;
  core::StateReader r1(first.payload());
  core::StateReader r2(second.payload());
  ASSERT_TRUE(loaded.LoadDelta(&r1));  // Used to be refused, making the checkpoint "malformed".
  ASSERT_TRUE(loaded.LoadDelta(&r2));
  EXPECT_TRUE(std::isnan(loaded.Auc()));
  EXPECT_EQ(loaded.positives(), 2u);
  EXPECT_EQ(loaded.negatives(), 2u);
  // A first SaveDelta writes everything, NaN scores with their bits unchanged.
  RocAuc whole;
  whole.Update(false, 0.25);
  whole.Update(true, kNegativeNaN);
  whole.Update(true, 0.5);
  whole.Update(false, kNaN);
  core::StateWriter w;
  whole.SaveDelta(&w);
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  core::StateReader raw(w.payload());
  ASSERT_TRUE(raw.GetVector(&scores));
  ASSERT_TRUE(raw.GetVector(&labels));
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(std::bit_cast<uint64_t>(scores[2]), std::bit_cast<uint64_t>(kNegativeNaN));
  EXPECT_EQ(std::bit_cast<uint64_t>(scores[3]), std::bit_cast<uint64_t>(kNaN));
  EXPECT_EQ(labels, (std::vector<uint8_t>{0, 1, 1, 0}));
}

TEST(NanScores, RollingRocAucIsNaNUntilTheNaNLeavesTheWindow) {
  RollingRocAuc rolling(3);
  rolling.Update(true, kNaN);
  rolling.Update(false, 0.2);
  rolling.Update(true, 0.6);
  EXPECT_TRUE(std::isnan(rolling.Auc()));
  rolling.Update(false, 0.7);  // Evicts the NaN: window {0.2-, 0.6+, 0.7-}.
  EXPECT_EQ(rolling.Auc(), 0.5);
  rolling.Update(true, kNegativeNaN);
  EXPECT_TRUE(std::isnan(rolling.Auc()));
  rolling.Update(true, 0.9);
  rolling.Update(false, 0.1);  // Window {NaN+, 0.9+, 0.1-}.
  EXPECT_TRUE(std::isnan(rolling.Auc()));
  rolling.Update(false, 0.95);  // Window {0.9+, 0.1-, 0.95-}.
  EXPECT_EQ(rolling.Auc(), 0.5);
  EXPECT_EQ(rolling.size(), 3u);
}

TEST(NanScores, RollingRocAucWithNaNSavesAndLoadsExactly) {
  RollingRocAuc rolling(4);
  const double scores[] = {0.3, kNaN, 0.5, kNegativeNaN, 0.1, 0.9};
  for (int i = 0; i < 6; ++i) rolling.Update(i % 2 == 0, scores[i]);
  core::StateWriter w;
  rolling.Save(&w);
  RollingRocAuc loaded(4);
  core::StateReader r(w.payload());
  ASSERT_TRUE(loaded.Load(&r));  // Used to be refused.
  core::StateWriter again;
  loaded.Save(&again);
  EXPECT_EQ(again.payload(), w.payload());
  EXPECT_TRUE(std::isnan(loaded.Auc()));
  // Both evict the NaNs in step: window {0.1+, 0.9-, 0.7+, 0.2-}: 0.7 beats 0.2 only.
  for (RollingRocAuc* m : {&rolling, &loaded}) {
    m->Update(true, 0.7);
    m->Update(false, 0.2);
  }
  EXPECT_EQ(rolling.Auc(), 0.25);
  EXPECT_EQ(loaded.Auc(), 0.25);
}

TEST(NanScores, RiverRocAucCountsNaNAsPredictedNegativeEverywhereAsRiver) {
  // River: `y_pred > t` is False for NaN, so NaN lands where a score below every threshold does.
  RiverRocAuc with_nan;
  RiverRocAuc with_low;
  const double scores[] = {0.9, 0.3, 0.55, 0.05};
  for (int i = 0; i < 4; ++i) {
    with_nan.Update(i % 2 == 0, scores[i]);
    with_low.Update(i % 2 == 0, scores[i]);
  }
  with_nan.Update(true, kNaN);
  with_low.Update(true, -1.0);
  with_nan.Update(false, kNegativeNaN);
  with_low.Update(false, -1.0);
  EXPECT_EQ(with_nan.Get(), with_low.Get());
  core::StateWriter w;
  with_nan.Save(&w);
  RiverRocAuc loaded;
  core::StateReader r(w.payload());
  ASSERT_TRUE(loaded.Load(&r));
  EXPECT_EQ(loaded.Get(), with_nan.Get());
}

TEST(NanScores, RiverRollingRocAucOrdersNaNByItsSignAsRiversRustCode) {
  // A NaN without the sign bit sorts above +inf: the positive outranks the negative.
  RiverRollingRocAuc high(4);
  high.Update(false, 0.5);
  high.Update(true, kNaN);
  EXPECT_EQ(high.Get(), 1.0);
  // With the sign bit it sorts below -inf.
  RiverRollingRocAuc low(4);
  low.Update(false, 0.5);
  low.Update(true, kNegativeNaN);
  EXPECT_EQ(low.Get(), 0.0);
  EXPECT_FALSE(std::signbit(low.Get()));
  // NaN == NaN is false, so NaNs never tie: descending walk over {NaN+, NaN-, 0.8+, 0.3-} gives
  // the NaN negative c = 1 and 0.3 c = 2: (1 + 2) / (2 * 2).
  RiverRollingRocAuc mixed(4);
  mixed.Update(true, 0.8);
  mixed.Update(false, 0.3);
  mixed.Update(true, kNaN);
  mixed.Update(false, kNaN);
  EXPECT_EQ(mixed.Get(), 0.75);
  core::StateWriter w;
  mixed.Save(&w);
  RiverRollingRocAuc loaded(4);
  core::StateReader r(w.payload());
  ASSERT_TRUE(loaded.Load(&r));
  EXPECT_EQ(loaded.Get(), 0.75);
  core::StateWriter again;
  loaded.Save(&again);
  EXPECT_EQ(again.payload(), w.payload());
}

}  // namespace
}  // namespace sluice::metrics
