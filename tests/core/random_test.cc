// Values from CPython 3 (reference/river-algorithms.md section 1) and hand derivations.
#include "core/random.h"

#include <cmath>
#include <vector>

#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

TEST(PyRandom, GetRandBitsMatchesCPythonForSeed42) {
  PyRandom rng(42);
  EXPECT_EQ(rng.GetRandBits(32), 2746317213U);
  EXPECT_EQ(rng.GetRandBits(32), 478163327U);
  EXPECT_EQ(rng.GetRandBits(32), 107420369U);
  EXPECT_EQ(rng.GetRandBits(32), 3184935163U);
}

TEST(PyRandom, RandomMatchesCPythonForSeed42) {
  PyRandom rng(42);
  EXPECT_EQ(rng.Random(), 0.6394267984578837);
  EXPECT_EQ(rng.Random(), 0.025010755222666936);
  EXPECT_EQ(rng.Random(), 0.27502931836911926);
}

TEST(PyRandom, RandomIsBuiltFromTwoWords) {
  PyRandom words(7);
  PyRandom doubles(7);
  for (int i = 0; i < 100; ++i) {
    const uint32_t a = words.NextUint32() >> 5;
    const uint32_t b = words.NextUint32() >> 6;
    EXPECT_EQ(doubles.Random(), (a * 67108864.0 + b) / 9007199254740992.0);
  }
}

TEST(PyRandom, WideGetRandBitsDrawsLowWordFirst) {
  PyRandom words(3);
  PyRandom bits(3);
  const uint64_t low = words.NextUint32();
  const uint64_t high = words.NextUint32() >> (64 - 40);
  EXPECT_EQ(bits.GetRandBits(40), low | (high << 32));
}

TEST(PyRandom, RandBelowRejectsOutOfRangeDraws) {
  // _randbelow(n) draws bit_length(n) bits until the value is < n.
  PyRandom words(5);
  PyRandom below(5);
  for (int i = 0; i < 200; ++i) {
    uint64_t r = words.NextUint32() >> (32 - 9);  // bit_length(500) = 9.
    while (r >= 500) r = words.NextUint32() >> (32 - 9);
    EXPECT_EQ(below.RandBelow(500), r);
  }
}

TEST(PyRandom, WeightedChoiceNeverPicksZeroWidthAndFollowsCumulativeSums) {
  PyRandom rng(9);
  PyRandom reference(9);
  const std::vector<double> weights = {0.5, 0.0, 1.5, 1.0};
  for (int i = 0; i < 1000; ++i) {
    const double target = reference.Random() * 3.0;
    const int expected = target < 0.5 ? 0 : (target < 2.0 ? 2 : 3);
    EXPECT_EQ(rng.WeightedChoice(weights), expected);
  }
}

TEST(PyRandom, SeedsAboveThirtyTwoBitsUseTwoKeyWords) {
  PyRandom small(1);
  PyRandom large((uint64_t{1} << 32) + 1);
  EXPECT_NE(small.NextUint32(), large.NextUint32());
}

TEST(PyRandom, GaussCachesTheSecondValue) {
  PyRandom rng(1);
  PyRandom reference(1);
  const double u1 = reference.Random();
  const double u2 = reference.Random();
  const double x2pi = u1 * 6.283185307179586;
  const double g2rad = std::sqrt(-2.0 * std::log(1.0 - u2));
  EXPECT_EQ(rng.Gauss(0, 1), std::cos(x2pi) * g2rad);
  EXPECT_EQ(rng.Gauss(0, 1), std::sin(x2pi) * g2rad);
  EXPECT_EQ(rng.Random(), reference.Random());  // The second value cost no draws.
}

}  // namespace
}  // namespace sluice::core
