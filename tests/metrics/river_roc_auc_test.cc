#include "metrics/river_roc_auc.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace sluice::metrics {
namespace {

TEST(RiverRocAuc, ReproducesRiverDocstring) {
  const bool labels[] = {false, false, true, true};
  const double scores[] = {0.1, 0.4, 0.35, 0.8};
  RiverRocAuc ten;
  RiverRocAuc twenty(20);
  for (int i = 0; i < 4; ++i) {
    ten.Update(labels[i], scores[i]);
    twenty.Update(labels[i], scores[i]);
  }
  EXPECT_EQ(ten.Get(), 0.875);
  EXPECT_EQ(twenty.Get(), 0.75);
}

TEST(RiverRocAuc, IsNegativeZeroBeforeBothClasses) {
  RiverRocAuc auc;
  auc.Update(false, 0.3);
  EXPECT_EQ(auc.Get(), 0.0);
  EXPECT_TRUE(std::signbit(auc.Get()));
}

// Found by tests/fuzz/metric_state_fuzz.cc: Load accepted any counts, and Get() then overflowed
// int64 adding two huge ones (undefined behaviour).
TEST(RiverRocAuc, LoadRefusesNegativeOrHugeCounts) {
  RiverRocAuc metric(2);
  metric.Update(true, 0.75);
  metric.Update(false, 0.25);
  for (const int64_t bad : {int64_t{-1}, int64_t{1} << 62}) {
    core::StateWriter w;
    w.PutVector(std::vector<std::array<int64_t, 4>>{{1, 0, 0, 1}, {bad, 1, 0, 1}});
    RiverRocAuc loaded(2);
    core::StateReader r(w.payload());
    EXPECT_FALSE(loaded.Load(&r)) << bad;
  }
  core::StateWriter w;
  metric.Save(&w);
  RiverRocAuc loaded(2);
  core::StateReader r(w.payload());
  ASSERT_TRUE(loaded.Load(&r));
  EXPECT_EQ(loaded.Get(), metric.Get());
}

TEST(RiverRollingRocAuc, ReproducesRiverDocstring) {
  const int labels[] = {0, 1, 0, 1, 0, 1, 0, 0, 1, 1};
  const double scores[] = {0.3, 0.5, 0.5, 0.7, 0.1, 0.3, 0.1, 0.4, 0.35, 0.8};
  RiverRollingRocAuc auc(4);
  for (int i = 0; i < 10; ++i) auc.Update(labels[i] == 1, scores[i]);
  EXPECT_EQ(auc.Get(), 0.75);
}

TEST(RiverRollingRocAuc, TruncatesTieCreditAndGivesZeroForOneClass) {
  RiverRollingRocAuc auc(10);
  auc.Update(true, 0.5);
  EXPECT_EQ(auc.Get(), 0.0);  // One class only.
  auc.Update(false, 0.5);
  EXPECT_EQ(auc.Get(), 0.0);  // (1 + 0) / 2 truncates to 0.
  auc.Update(true, 0.5);
  EXPECT_EQ(auc.Get(), 0.5);  // (2 + 0) / 2 = 1 of 2 pairs.
}

// Feeds River's own per-event scores and labels to both River metrics and compares every value
// with the oracle's columns (tests/data/oracle/*.csv), with ==.
void CheckOracleColumns(const std::string& file, const std::string& score,
                        const std::string& rocauc, const std::string& rolling) {
  SLUICE_REQUIRE_FILE(testing::OracleFile(file));
  const auto table = testing::ReadCsv(testing::OracleFile(file));
  const auto labels = table.Doubles("label");
  const auto scores = table.Doubles(score);
  const auto expected_rocauc = table.Doubles(rocauc);
  const auto expected_rolling = table.Doubles(rolling);
  ASSERT_EQ(labels.size(), 20000u);
  RiverRocAuc river;
  RiverRollingRocAuc river_rolling(1000);
  for (size_t i = 0; i < labels.size(); ++i) {
    river.Update(labels[i] == 1, scores[i]);
    river_rolling.Update(labels[i] == 1, scores[i]);
    ASSERT_EQ(river.Get(), expected_rocauc[i]) << file << " " << score << " event " << i;
    if (i % 10 == 0 || i + 1 == labels.size()) {  // Get is O(W log W): sample it.
      ASSERT_EQ(river_rolling.Get(), expected_rolling[i]) << file << " " << score << " event " << i;
    }
  }
}

TEST(RiverMetrics, EqualTheOracleOnEveryEvent) {
  CheckOracleColumns("hst_scores_seed1.csv", "score_with_time", "rocauc_with_time",
                     "rolling_rocauc_with_time");
  CheckOracleColumns("hst_scores_seed1.csv", "score_no_time", "rocauc_no_time",
                     "rolling_rocauc_no_time");
  CheckOracleColumns("lr_probs_seed1.csv", "p_immediate", "rocauc_immediate",
                     "rolling_rocauc_immediate");
  CheckOracleColumns("lr_probs_seed1.csv", "p_delay500", "rocauc_delay500",
                     "rolling_rocauc_delay500");
}

}  // namespace
}  // namespace sluice::metrics
