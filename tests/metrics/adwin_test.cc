#include "metrics/adwin.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "tests/support/test_util.h"

namespace sluice::metrics {
namespace {

// Python's rng.choices(range(first, first + n), k=count): population[floor(random() * n)].
std::vector<double> Choices(core::PyRandom* rng, int first, int n, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(first + std::floor(rng->Random() * n));
  }
  return out;
}

std::vector<int> Detections(Adwin* adwin, const std::vector<double>& values) {
  std::vector<int> detections;
  for (size_t i = 0; i < values.size(); ++i) {
    if (adwin->Update(values[i])) detections.push_back(static_cast<int>(i));
  }
  return detections;
}

std::string Saved(const Adwin& adwin) {
  core::StateWriter w;
  adwin.Save(&w);
  return w.payload();
}

TEST(Adwin, ReproducesRiverDocstring) {
  core::PyRandom rng(12345);
  std::vector<double> stream = Choices(&rng, 0, 2, 1000);
  const std::vector<double> second = Choices(&rng, 4, 4, 1000);
  stream.insert(stream.end(), second.begin(), second.end());
  Adwin adwin;
  for (int i = 0; i < 1024; ++i) {
    EXPECT_EQ(adwin.Update(stream[static_cast<size_t>(i)]), i == 1023) << i;
  }
  EXPECT_EQ(stream[1023], 4.0);  // "Change detected at index 1023, input value: 4".
  // River's state after the detection: the 32 newest points are kept.
  EXPECT_TRUE(adwin.drift_detected());
  EXPECT_EQ(adwin.n_detections(), 1);
  EXPECT_EQ(adwin.width(), 32.0);
  EXPECT_EQ(adwin.total(), 144.0);
  EXPECT_EQ(adwin.variance(), 171.9999999999999);
  EXPECT_EQ(adwin.estimation(), 4.5);
  // The next update forgets the whole window, and River's n_detections with it.
  EXPECT_FALSE(adwin.Update(stream[1024]));
  EXPECT_EQ(adwin.n_detections(), 0);
  EXPECT_EQ(adwin.width(), 1.0);
  EXPECT_EQ(adwin.total(), stream[1024]);
  EXPECT_EQ(adwin.variance(), 0.0);
}

TEST(Adwin, VarianceIsTheSumOfSquaredDeviations) {
  Adwin adwin;
  EXPECT_EQ(adwin.estimation(), 0.0);
  for (const double x : {1.0, 2.0, 3.0, 4.0, 5.0}) adwin.Update(x);
  EXPECT_EQ(adwin.width(), 5.0);
  EXPECT_EQ(adwin.total(), 15.0);
  EXPECT_EQ(adwin.variance(), 10.0);  // 4 + 1 + 0 + 1 + 4, as River returns.
  EXPECT_EQ(adwin.estimation(), 3.0);
}

TEST(Adwin, ConstantStreamNeverDetects) {
  for (const Adwin::Options& options : {Adwin::Options{}, Adwin::Options{.delta = 0.5,
                                                          .clock = 1,
                                                          .max_buckets = 2,
                                                          .min_window_length = 1,
                                                          .grace_period = 0}}) {
    Adwin adwin(options);
    const std::vector<double> stream(20000, 0.7);
    EXPECT_TRUE(Detections(&adwin, stream).empty());
    EXPECT_EQ(adwin.width(), 20000.0);
    EXPECT_EQ(adwin.n_detections(), 0);
  }
}

// River 0.26.1 (checked by running it): ADWIN(clock=-32) on this stream detects at [1535] only,
// as ADWIN() does.
TEST(Adwin, NegativeClockActsAsItsAbsoluteValue) {
  core::PyRandom rng(1);
  std::vector<double> stream;
  for (int i = 0; i < 3000; ++i) stream.push_back(rng.Gauss(i < 1500 ? 0.0 : 2.0, 1.0));
  Adwin negative(Adwin::Options{.clock = -32});
  Adwin positive;
  EXPECT_EQ(Detections(&negative, stream), std::vector<int>{1535});
  EXPECT_EQ(Detections(&positive, stream), std::vector<int>{1535});
  EXPECT_EQ(negative.width(), positive.width());
  EXPECT_EQ(negative.variance(), positive.variance());
}

// River panics on clock 0 and max_buckets 0; here they act as 1.
TEST(Adwin, ClockZeroAndMaxBucketsBelowOneActAsOne) {
  Adwin clamped(Adwin::Options{.clock = 0, .max_buckets = -3});
  Adwin ones(Adwin::Options{.clock = 1, .max_buckets = 1});
  EXPECT_EQ(clamped.options().clock, 1);
  EXPECT_EQ(clamped.options().max_buckets, 1);
  core::PyRandom rng(3);
  std::vector<double> stream;
  for (int i = 0; i < 2000; ++i) stream.push_back(rng.Gauss((i / 400) % 2 == 0 ? 0.0 : 2.0, 1.0));
  const std::vector<int> detections = Detections(&clamped, stream);
  EXPECT_FALSE(detections.empty());
  EXPECT_EQ(detections, Detections(&ones, stream));
  EXPECT_EQ(Saved(clamped), Saved(ones));
}

// River's outputs on seeded series (tests/data/adwin/make_golden.py).
struct GoldenSeries {
  std::string name;
  Adwin::Options options;
  std::vector<double> values;
  int n_detections = 0;
};

std::filesystem::path AdwinFile(const std::string& name) {
  return testing::RepoFile("tests/data/adwin/" + name);
}

std::vector<GoldenSeries> ReadGoldenSeries() {
  const testing::CsvTable table = testing::ReadCsv(AdwinFile("series.csv"));
  std::vector<GoldenSeries> all;
  for (const auto& row : table.rows) {
    auto field = [&](const char* column) { return row[static_cast<size_t>(table.Column(column))]; };
    GoldenSeries series;
    series.name = field("name");
    series.options = {.delta = std::strtod(field("delta").c_str(), nullptr),
                      .clock = std::stoi(field("clock")),
                      .max_buckets = std::stoi(field("max_buckets")),
                      .min_window_length = std::stoi(field("min_window_length")),
                      .grace_period = std::stoi(field("grace_period"))};
    series.values = testing::ReadCsv(AdwinFile(series.name + ".csv")).Doubles("x");
    EXPECT_EQ(series.values.size(), std::stoul(field("length"))) << series.name;
    series.n_detections = std::stoi(field("n_detections"));
    all.push_back(std::move(series));
  }
  return all;
}

TEST(Adwin, MatchesRiverOnEveryGoldenSeries) {
  SLUICE_REQUIRE_FILE(AdwinFile("series.csv"));
  SLUICE_REQUIRE_FILE(AdwinFile("expected.csv"));
  const std::vector<GoldenSeries> all = ReadGoldenSeries();
  ASSERT_EQ(all.size(), 9u);
  const testing::CsvTable expected = testing::ReadCsv(AdwinFile("expected.csv"));
  const int series_column = expected.Column("series");
  const int index_column = expected.Column("index");
  const int detected_column = expected.Column("drift_detected");
  const std::vector<double> n_detections = expected.Doubles("n_detections");
  const std::vector<double> width = expected.Doubles("width");
  const std::vector<double> total = expected.Doubles("total");
  const std::vector<double> variance = expected.Doubles("variance");
  const std::vector<double> estimation = expected.Doubles("estimation");
  size_t row = 0;
  for (const GoldenSeries& series : all) {
    Adwin adwin(series.options);
    std::vector<int> detections;
    std::vector<int> river_detections;
    for (size_t i = 0; i < series.values.size(); ++i) {
      if (adwin.Update(series.values[i])) detections.push_back(static_cast<int>(i));
      const std::vector<std::string>* fields =
          row < expected.rows.size() ? &expected.rows[row] : nullptr;
      if (fields == nullptr || (*fields)[static_cast<size_t>(series_column)] != series.name ||
          std::stoul((*fields)[static_cast<size_t>(index_column)]) != i) {
        continue;
      }
      const bool river_detected = (*fields)[static_cast<size_t>(detected_column)] == "1";
      if (river_detected) river_detections.push_back(static_cast<int>(i));
      ASSERT_EQ(adwin.drift_detected(), river_detected) << series.name << " update " << i;
      ASSERT_EQ(adwin.n_detections(), n_detections[row]) << series.name << " update " << i;
      ASSERT_EQ(adwin.width(), width[row]) << series.name << " update " << i;
      ASSERT_EQ(adwin.total(), total[row]) << series.name << " update " << i;
      ASSERT_EQ(adwin.variance(), variance[row]) << series.name << " update " << i;
      ASSERT_EQ(adwin.estimation(), estimation[row]) << series.name << " update " << i;
      ++row;
    }
    EXPECT_EQ(detections, river_detections) << series.name;
    EXPECT_EQ(static_cast<int>(detections.size()), series.n_detections) << series.name;
  }
  EXPECT_EQ(row, expected.rows.size()) << "expected.csv rows left unchecked";
}

// A stream resumed from a checkpoint, including one taken right at a detection (whose reset is
// still pending), detects at the same later indices and ends in the same state.
TEST(Adwin, ResumedFromCheckpointMatchesUninterruptedRun) {
  SLUICE_REQUIRE_FILE(AdwinFile("series.csv"));
  for (const GoldenSeries& series : ReadGoldenSeries()) {
    if (series.name != "long" && series.name != "aggressive" &&
        series.name != "single_bucket_rows") {
      continue;
    }
    Adwin reference(series.options);
    const std::vector<int> detections = Detections(&reference, series.values);
    ASSERT_FALSE(detections.empty()) << series.name;
    const size_t n = series.values.size();
    for (const size_t split : {n / 3, static_cast<size_t>(detections.front()) + 1, n - 7}) {
      Adwin first(series.options);
      std::vector<int> resumed_detections;
      for (size_t i = 0; i < split; ++i) {
        if (first.Update(series.values[i])) resumed_detections.push_back(static_cast<int>(i));
      }
      const std::string state = Saved(first);
      Adwin resumed(series.options);
      core::StateReader r(state);
      ASSERT_TRUE(resumed.Load(&r)) << series.name << " split " << split;
      EXPECT_TRUE(r.done());
      EXPECT_EQ(resumed.drift_detected(), first.drift_detected());
      for (size_t i = split; i < n; ++i) {
        if (resumed.Update(series.values[i])) resumed_detections.push_back(static_cast<int>(i));
      }
      EXPECT_EQ(resumed_detections, detections) << series.name << " split " << split;
      EXPECT_EQ(Saved(resumed), Saved(reference)) << series.name << " split " << split;
    }
  }
}

TEST(Adwin, LoadRefusesOtherOptionsAndCorruptState) {
  core::PyRandom rng(9);
  Adwin adwin;
  for (int i = 0; i < 300; ++i) adwin.Update(rng.Gauss(0.0, 1.0));
  const std::string state = Saved(adwin);
  const auto refused = [](Adwin* target, const std::string& bytes) {
    core::StateReader r(bytes);
    return !target->Load(&r);
  };

  for (const Adwin::Options& other :
       {Adwin::Options{.delta = 0.001}, Adwin::Options{.clock = 16},
        Adwin::Options{.max_buckets = 6}, Adwin::Options{.min_window_length = 4},
        Adwin::Options{.grace_period = 11}}) {
    Adwin target(other);
    EXPECT_TRUE(refused(&target, state));
  }

  Adwin target;
  target.Update(1.0);
  const std::string before = Saved(target);
  for (size_t length = 0; length < state.size(); ++length) {
    EXPECT_TRUE(refused(&target, state.substr(0, length))) << "truncated to " << length;
  }
  // Layout: delta, 4 int32 options, drift flag (byte 24), tick, width (byte 29), total,
  // variance, row count (byte 53), then each row's bucket count and buckets.
  std::string bad_flag = state;
  bad_flag[24] = 2;
  EXPECT_TRUE(refused(&target, bad_flag));
  std::string bad_width = state;
  bad_width[29] ^= 1;  // No longer the number of points the buckets hold.
  EXPECT_TRUE(refused(&target, bad_width));
  for (const uint64_t rows : {uint64_t{0}, uint64_t{64}}) {
    std::string bad_rows = state;
    bad_rows.replace(53, sizeof(rows), reinterpret_cast<const char*>(&rows), sizeof(rows));
    EXPECT_TRUE(refused(&target, bad_rows)) << rows << " rows";
  }
  std::string full_row = state;
  const uint64_t six = 6;  // Row 0 claims max_buckets + 1 buckets.
  full_row.replace(61, sizeof(six), reinterpret_cast<const char*>(&six), sizeof(six));
  EXPECT_TRUE(refused(&target, full_row));
  EXPECT_EQ(Saved(target), before);  // A refused Load leaves the state as it was.

  core::StateReader r(state);
  ASSERT_TRUE(target.Load(&r));
  EXPECT_EQ(Saved(target), state);
}

}  // namespace
}  // namespace sluice::metrics
