#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/random.h"
#include "core/state_codec.h"
#include "learners/min_max_scaler.h"
#include "learners/standard_scaler.h"
#include "tests/support/streams.h"
#include "tests/support/test_util.h"

namespace sluice::learners {
namespace {

using ::sluice::testing::StatusIs;

TEST(MinMaxScaler, ScalesByRunningRange) {
  auto s = MinMaxScaler::Create(2).value();
  std::vector<double> out(2);
  s->TransformOne(std::vector<double>{1.0, 1.0}, out);
  EXPECT_TRUE(std::isnan(out[0]));  // Never learned: River's (-inf) / (-inf).
  s->LearnOne(std::vector<double>{1.0, 5.0});
  s->TransformOne(std::vector<double>{2.0, 7.0}, out);
  EXPECT_EQ(out[0], 0.0);  // min == max.
  s->LearnOne(std::vector<double>{3.0, 5.0});
  s->TransformOne(std::vector<double>{2.0, 7.0}, out);
  EXPECT_EQ(out[0], 0.5);
  EXPECT_EQ(out[1], 0.0);  // A constant feature stays 0.
  s->TransformOne(std::vector<double>{5.0, core::kMissing}, out);
  EXPECT_EQ(out[0], 2.0);           // Outside the seen range: outside [0, 1].
  EXPECT_TRUE(std::isnan(out[1]));  // Missing stays missing.
}

// The one-pass TransformLearnTransform (two features per step) against TransformOne then
// LearnAndTransform on a twin, bit for bit: 5 features, missing values, a NaN that is not
// missing, signed zeros, constant features and a range that keeps moving.
TEST(MinMaxScaler, TransformLearnTransformEqualsTransformThenLearn) {
  constexpr int kDim = 5;
  auto fused = MinMaxScaler::Create(kDim).value();
  auto twin = MinMaxScaler::Create(kDim).value();
  core::PyRandom rng(41);
  const double nan = std::bit_cast<double>(uint64_t{0x7FF8000000000001});
  for (int e = 0; e < 3000; ++e) {
    std::vector<double> x(kDim);
    for (double& v : x) v = rng.Uniform(-1, 1) * (1 + e / 100.0);
    x[2] = 3.0;  // Constant.
    if (rng.Random() < 0.1) x[rng.RandBelow(kDim)] = core::kMissing;
    if (rng.Random() < 0.05) x[rng.RandBelow(kDim)] = rng.Random() < 0.5 ? -0.0 : 0.0;
    if (e % 97 == 0) x[rng.RandBelow(kDim)] = nan;
    std::vector<double> before(kDim), after(kDim), expected_before(kDim), expected_after(kDim);
    fused->TransformLearnTransform(x, before, after);
    twin->TransformOne(x, expected_before);
    twin->LearnAndTransform(x, expected_after);
    for (int i = 0; i < kDim; ++i) {
      ASSERT_EQ(std::bit_cast<uint64_t>(before[i]), std::bit_cast<uint64_t>(expected_before[i]))
          << "event " << e << " feature " << i;
      ASSERT_EQ(std::bit_cast<uint64_t>(after[i]), std::bit_cast<uint64_t>(expected_after[i]))
          << "event " << e << " feature " << i;
    }
  }
  EXPECT_EQ(fused->Save(), twin->Save());
}

TEST(StandardScaler, MatchesTwoPassStatistics) {
  auto s = StandardScaler::Create(1).value();
  const auto stream = testing::UniformStream(3, 1000, 1, -5, 5);
  for (const auto& x : stream) s->LearnOne(x);
  double mean = 0, var = 0;
  for (const auto& x : stream) mean += x[0];
  mean /= 1000;
  for (const auto& x : stream) var += (x[0] - mean) * (x[0] - mean);
  var /= 1000;
  std::vector<double> out(1);
  s->TransformOne(std::vector<double>{1.0}, out);
  // Welford and two-pass agree to rounding (~1e-13 relative for 1000 values).
  EXPECT_NEAR(out[0], (1.0 - mean) / std::sqrt(var), 1e-12);
}

// River's StandardScaler written out per feature (Welford in its operation order, var ** 0.5),
// against the scaler's paired loops: 5 features (two pairs and a tail), missing values in some
// pairs, a NaN value, constant features (variance 0) and a late jump in scale.
TEST(StandardScaler, EqualsRiversPerFeatureFormulaBitForBit) {
  constexpr int kDim = 5;
  auto scaler = StandardScaler::Create(kDim).value();
  std::vector<double> count(kDim, 0), mean(kDim, 0), var(kDim, 0);
  core::PyRandom rng(31);
  auto stream = testing::UniformStream(32, 3000, kDim, -3, 3);
  for (size_t e = 0; e < stream.size(); ++e) {
    auto& x = stream[e];
    x[1] = 7.0;  // Constant.
    if (rng.Random() < 0.1) x[rng.RandBelow(kDim)] = core::kMissing;
    if (e >= 2000) x[3] *= 1e6;                                                 // A jump in scale.
    if (e == 2500) x[0] = std::bit_cast<double>(uint64_t{0x7FF8000000000001});  // NaN, not missing.
    std::vector<double> out(kDim);
    scaler->LearnAndTransform(x, out);
    for (int i = 0; i < kDim; ++i) {
      double expected = x[i];
      if (!core::IsMissing(x[i])) {
        count[i] += 1;
        const double old_mean = mean[i];
        mean[i] = old_mean + (x[i] - old_mean) / count[i];
        var[i] = var[i] + ((x[i] - old_mean) * (x[i] - mean[i]) - var[i]) / count[i];
        expected = var[i] != 0.0 ? (x[i] - mean[i]) / std::pow(var[i], 0.5) : 0.0;
      }
      ASSERT_EQ(std::bit_cast<uint64_t>(out[i]), std::bit_cast<uint64_t>(expected))
          << "event " << e << " feature " << i;
    }
  }
}

TEST(StandardScaler, FirstExampleScalesToZero) {
  auto s = StandardScaler::Create(2).value();
  std::vector<double> out(2);
  s->TransformOne(std::vector<double>{4.0, -1.0}, out);
  EXPECT_EQ(out, (std::vector<double>{0.0, 0.0}));
  s->LearnOne(std::vector<double>{4.0, -1.0});
  s->TransformOne(std::vector<double>{4.0, 3.0}, out);
  EXPECT_EQ(out, (std::vector<double>{0.0, 0.0}));  // Variance still 0.
}

TEST(StandardScaler, TwoValuesByHand) {
  auto s = StandardScaler::Create(1).value();
  s->LearnOne(std::vector<double>{1.0});
  s->LearnOne(std::vector<double>{3.0});  // mean 2, population variance 1.
  std::vector<double> out(1);
  s->TransformOne(std::vector<double>{4.0}, out);
  EXPECT_EQ(out[0], 2.0);
}

TEST(PythonSqrt, IsBitIdenticalToPow) {
  // glibc's pow(x, 0.5) and sqrt(x) differ by one ulp on ~0.09 % of inputs; Python uses pow.
  // Random bit patterns cover every exponent; a dense range covers typical variances.
  core::PyRandom rng(21);
  int differ_from_sqrt = 0;
  for (int i = 0; i < 2000000; ++i) {
    const double x = i % 2 == 0 ? std::bit_cast<double>(rng.GetRandBits(63)) : rng.Uniform(0, 10);
    ASSERT_EQ(std::bit_cast<uint64_t>(PythonSqrt(x)), std::bit_cast<uint64_t>(std::pow(x, 0.5)))
        << x;
    if (std::pow(x, 0.5) != std::sqrt(x)) ++differ_from_sqrt;
  }
  EXPECT_GT(differ_from_sqrt, 100);  // The test does meet the cases that matter.
  for (const double x : {0.0, -0.0, 1.0, 4.0, 0x1p-1074, 1e308, -1.0}) {
    EXPECT_EQ(std::bit_cast<uint64_t>(PythonSqrt(x)), std::bit_cast<uint64_t>(std::pow(x, 0.5)));
  }
}

// The vectorised PythonSqrtAll on the inputs where sqrt and pow part: squares of midpoints
// between neighbouring doubles and the values a few ulps around them, at every scale of the
// range SqrtIsPow accepts and at its edges; an odd count, so the scalar tail runs too.
TEST(PythonSqrt, AllIsBitIdenticalToPowNearTies) {
  core::PyRandom rng(22);
  std::vector<double> x;
  for (int i = 0; i < 20000; ++i) {
    const int exponent = static_cast<int>(rng.RandBelow(1000)) - 500;
    const double s = std::ldexp(rng.Uniform(1.0, 2.0), exponent);
    const double ulp = std::nextafter(s, INFINITY) - s;
    double tie = s * s + s * ulp;  // About (s + ulp / 2)^2.
    for (int k = 0; k < 12; ++k) tie = std::nextafter(tie, 0.0);
    for (int k = 0; k < 25; ++k) x.push_back(tie = std::nextafter(tie, INFINITY));
  }
  for (const double edge : {0x1p-1000, 0x1p1000, 0x1p-1001, 0x1p1001, 0.0, -0.0, -4.0, std::nan(""),
                            double{INFINITY}, 0x1p-1074, 2.0, 0x1p-1000 * 1.5}) {
    x.push_back(edge);
  }
  if (x.size() % 2 == 0) x.push_back(3.0);
  std::vector<double> out(x.size());
  PythonSqrtAll(x, out);
  int differ_from_sqrt = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint64_t>(out[i]), std::bit_cast<uint64_t>(std::pow(x[i], 0.5)))
        << x[i];
    if (std::pow(x[i], 0.5) != std::sqrt(x[i])) ++differ_from_sqrt;
  }
  EXPECT_GT(differ_from_sqrt, 200);  // About 400: the cases that matter are met.
}

// Found by tests/fuzz/learner_state_fuzz.cc: Load accepted any count, and a count of INT64_MAX
// overflowed (undefined behaviour) at the next LearnOne.
TEST(StandardScaler, LoadRefusesNegativeOrHugeCounts) {
  for (const int64_t bad : {int64_t{-1}, std::numeric_limits<int64_t>::max()}) {
    core::StateWriter w;
    w.PutVector(std::vector<int64_t>{bad});
    w.PutVector(std::vector<double>{0.5});
    w.PutVector(std::vector<double>{0.25});
    auto s = StandardScaler::Create(1).value();
    EXPECT_THAT(s->Load(core::SealState("StandardScaler", 1, w.payload())),
                StatusIs(absl::StatusCode::kDataLoss))
        << bad;
  }
}

// Found by the fuzz target in CI: a count just below the limit, learned on, reached it and the
// model refused its own Save(). The count now saturates at the limit, which loads.
TEST(StandardScaler, ACountAtTheLimitSaturatesAndStillLoads) {
  core::StateWriter w;
  w.PutVector(std::vector<int64_t>{(int64_t{1} << 62) - 1});
  w.PutVector(std::vector<double>{0.5});
  w.PutVector(std::vector<double>{0.25});
  auto s = StandardScaler::Create(1).value();
  ASSERT_OK(s->Load(core::SealState("StandardScaler", 1, w.payload())));
  for (int i = 0; i < 3; ++i) s->LearnOne(std::vector<double>{1.0});
  auto t = StandardScaler::Create(1).value();
  EXPECT_OK(t->Load(s->Save()));
}

TEST(Scalers, LoadRefusesOtherDimension) {
  auto a = MinMaxScaler::Create(2).value();
  auto b = MinMaxScaler::Create(3).value();
  EXPECT_THAT(b->Load(a->Save()), StatusIs(absl::StatusCode::kFailedPrecondition));
  auto c = StandardScaler::Create(2).value();
  auto d = StandardScaler::Create(3).value();
  EXPECT_THAT(d->Load(c->Save()), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(c->Load(a->Save()), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace sluice::learners
