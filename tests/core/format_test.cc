#include "core/format.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/random.h"
#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

TEST(FormatDouble, IsShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(0.49875000260416025), "0.49875000260416025");
  EXPECT_EQ(FormatDouble(1e-7), "1e-07");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
}

TEST(FormatDouble, WritesNanWhateverItsSignAndInfinities) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(FormatDouble(nan), "nan");
  EXPECT_EQ(FormatDouble(-nan), "nan");  // to_chars alone writes "-nan".
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::infinity()), "-inf");
  std::string out = "a,";
  AppendDouble(-nan, &out);
  EXPECT_EQ(out, "a,nan");
  ASSERT_TRUE(ParseDouble("nan").has_value());
  EXPECT_TRUE(std::isnan(*ParseDouble(FormatDouble(-nan))));
}

TEST(FormatFixed, NeverPrintsANegativeZero) {
  EXPECT_EQ(FormatFixed(-0.0, 4), "0.0000");  // River's one-class ROCAUC.
  EXPECT_EQ(FormatFixed(-0.00001, 4), "0.0000");
  EXPECT_EQ(FormatFixed(0.0, 0), "0");
  EXPECT_EQ(FormatFixed(-0.0, 0), "0");
  EXPECT_EQ(FormatFixed(-0.5, 2), "-0.50");
  EXPECT_EQ(FormatFixed(0.91152, 4), "0.9115");
  EXPECT_EQ(FormatFixed(std::nan(""), 4), "nan");
  EXPECT_EQ(FormatFixed(-std::numeric_limits<double>::infinity(), 4), "-inf");
}

TEST(FormatPythonRepr, MatchesPythonRepr) {
  // Values checked against CPython's repr().
  EXPECT_EQ(FormatPythonRepr(1.0), "1.0");
  EXPECT_EQ(FormatPythonRepr(-0.0), "-0.0");
  EXPECT_EQ(FormatPythonRepr(0.0001), "0.0001");
  EXPECT_EQ(FormatPythonRepr(0.00001), "1e-05");
  EXPECT_EQ(FormatPythonRepr(-1.5e-06), "-1.5e-06");
  EXPECT_EQ(FormatPythonRepr(123456.789), "123456.789");
  EXPECT_EQ(FormatPythonRepr(1e16), "1e+16");
  EXPECT_EQ(FormatPythonRepr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(FormatPythonRepr(-2.345678), "-2.345678");
  EXPECT_EQ(FormatPythonRepr(0.1234), "0.1234");
}

TEST(ParseDouble, ParsesCorrectlyRounded) {
  EXPECT_EQ(ParseDouble("0.1"), 0.1);
  EXPECT_EQ(ParseDouble("-1.3598071336738"), -1.3598071336738);
  EXPECT_EQ(ParseDouble("+2.5"), 2.5);
  EXPECT_EQ(ParseDouble("1e-07"), 1e-7);
  EXPECT_EQ(ParseDouble("1e400"), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*ParseDouble("nan")));
}

TEST(ParseDouble, FastPathEqualsFromChars) {
  // Every plain decimal the fast path takes must parse to from_chars' correctly rounded value.
  PyRandom rng(5);
  for (int i = 0; i < 200000; ++i) {
    const int decimals = static_cast<int>(rng.RandBelow(18));
    const uint64_t mantissa = rng.GetRandBits(static_cast<int>(rng.RandBelow(54)));
    std::string text = std::to_string(mantissa);
    if (decimals > 0) {
      if (static_cast<int>(text.size()) <= decimals) {
        text.insert(0, static_cast<size_t>(decimals - static_cast<int>(text.size()) + 1), '0');
      }
      text.insert(text.size() - static_cast<size_t>(decimals), ".");
    }
    if (i % 2 == 1) text.insert(0, "-");
    double expected = 0;
    std::from_chars(text.data(), text.data() + text.size(), expected);
    const std::optional<double> parsed = ParseDouble(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    ASSERT_EQ(std::bit_cast<uint64_t>(*parsed), std::bit_cast<uint64_t>(expected)) << text;
  }
  EXPECT_TRUE(std::signbit(*ParseDouble("-0.0")));
  EXPECT_EQ(ParseDouble("0.0986979012610507"), 0.0986979012610507);
  EXPECT_EQ(ParseDouble("12345678901234567890.5"), 12345678901234567890.5);
  EXPECT_EQ(ParseDouble(".5"), 0.5);
  EXPECT_EQ(ParseDouble("5."), 5.0);
}

TEST(ParseDouble, RejectsWhatIsNotANumber) {
  EXPECT_EQ(ParseDouble(""), std::nullopt);
  EXPECT_EQ(ParseDouble("abc"), std::nullopt);
  EXPECT_EQ(ParseDouble("1.5x"), std::nullopt);
  EXPECT_EQ(ParseDouble(" 1"), std::nullopt);
  EXPECT_EQ(ParseDouble("+"), std::nullopt);
  EXPECT_EQ(ParseDouble("."), std::nullopt);
  EXPECT_EQ(ParseDouble("-"), std::nullopt);
  EXPECT_EQ(ParseDouble("1.2.3"), std::nullopt);
}

// The general path, as engine/synthetic_stream.cc had it before the exact integer path: the
// correctly rounded "%.*f" text (to_chars), read back with from_chars. The references below.
double ReferenceRound(double v, int digits) {
  if (!std::isfinite(v)) return v;
  char buf[400];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, digits);
  double rounded = 0;
  std::from_chars(buf, end, rounded);
  return rounded;
}

std::string ReferenceRepr(double v, int digits) {
  return FormatPythonRepr(ReferenceRound(v, digits));
}

std::string ReferenceFixed(double v, int digits) {
  char buf[400];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), ReferenceRound(v, digits),
                                       std::chars_format::fixed, digits);
  return std::string(buf, end);
}

std::string RoundRepr(double v, int digits) {
  char buf[kMaxPythonReprChars];
  return std::string(buf, WritePythonRoundRepr(v, digits, buf));
}

std::string RoundFixed(double v, int digits) {
  char buf[kMaxPythonFixedChars];
  return std::string(buf, WritePythonRoundFixed(v, digits, buf));
}

// Checks PythonRound (bit for bit, so the sign of a zero counts), WritePythonRoundRepr and
// WritePythonRoundFixed against the references; returns false on the first difference.
bool MatchesReference(double v, int digits) {
  const double rounded = PythonRound(v, digits);
  const double expected = ReferenceRound(v, digits);
  EXPECT_TRUE(std::bit_cast<uint64_t>(rounded) == std::bit_cast<uint64_t>(expected) ||
              (std::isnan(rounded) && std::isnan(expected)))
      << v << " digits=" << digits;
  EXPECT_EQ(RoundRepr(v, digits), ReferenceRepr(v, digits)) << v << " digits=" << digits;
  EXPECT_EQ(RoundFixed(v, digits), ReferenceFixed(v, digits)) << v << " digits=" << digits;
  return !::testing::Test::HasFailure();
}

// Expected strings from CPython 3: repr(round(v, 6)) and f"{round(v, 2):.2f}".
TEST(PythonRound, MatchesCPythonByHand) {
  EXPECT_EQ(RoundRepr(-1.3598071336738, 6), "-1.359807");
  EXPECT_EQ(RoundRepr(0.0078125, 6), "0.007812");  // 1/128: an exact tie, to even.
  EXPECT_EQ(RoundRepr(0.0234375, 6), "0.023438");  // 3/128: an exact tie, to even.
  EXPECT_EQ(RoundRepr(-1e-7, 6), "-0.0");
  EXPECT_EQ(RoundRepr(0.0, 6), "0.0");
  EXPECT_EQ(RoundRepr(5e-6, 6), "5e-06");
  EXPECT_EQ(RoundRepr(-1.2e-5, 6), "-1.2e-05");
  EXPECT_EQ(RoundRepr(1e-4, 6), "0.0001");
  EXPECT_EQ(RoundRepr(0.99999951, 6), "1.0");
  EXPECT_EQ(RoundRepr(123.4560001, 6), "123.456");
  EXPECT_EQ(RoundRepr(1e300, 6), "1e+300");
  EXPECT_EQ(RoundFixed(2.675, 2), "2.67");  // 2.67499999999999982236431605997495353221893310546875
  EXPECT_EQ(RoundFixed(0.125, 2), "0.12");
  EXPECT_EQ(RoundFixed(0.375, 2), "0.38");
  EXPECT_EQ(RoundFixed(-0.001, 2), "-0.00");
  EXPECT_EQ(RoundFixed(20.0, 2), "20.00");
  EXPECT_EQ(RoundFixed(17.0, 1), "17.0");
  EXPECT_TRUE(std::signbit(PythonRound(-1e-7, 6)));
  EXPECT_EQ(PythonRound(2.675, 2), 2.67);
}

TEST(PythonRound, EqualsTheTextRoundTripOnEdgeCases) {
  const double inf = std::numeric_limits<double>::infinity();
  for (int digits = 0; digits <= kMaxPythonRoundDigits; ++digits) {
    for (const double v : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                           -std::numeric_limits<double>::max(), 1e15, 1e-15, 0.5, 1.5, 2.5}) {
      ASSERT_TRUE(MatchesReference(v, digits)) << v;
    }
    // Exact ties: v = k / 2^(digits + 1) with k odd gives v * 10^digits = k * 5^digits / 2, so
    // its decimals end in 5 right after the last kept one. And their neighbours.
    const double tie_unit = std::ldexp(1.0, -(digits + 1));
    for (int64_t k = -20001; k <= 20001; k += 2) {
      const double tie = static_cast<double>(k) * tie_unit;
      for (const double v : {tie, std::nextafter(tie, inf), std::nextafter(tie, -inf)}) {
        ASSERT_TRUE(MatchesReference(v, digits)) << v;
      }
    }
    // Near the decimal ties n.5 * 10^-digits (never exact in binary, but a few ulps away) and
    // near powers of ten, where the digit count changes, from the tiny to the huge.
    const double unit = std::pow(10.0, -digits);
    for (int64_t n = -3000; n <= 3000; ++n) {
      double v = (static_cast<double>(n) + 0.5) * unit;
      for (int step = 0; step < 3; ++step) v = std::nextafter(v, -inf);
      for (int step = 0; step < 7; ++step, v = std::nextafter(v, inf)) {
        ASSERT_TRUE(MatchesReference(v, digits)) << v;
      }
    }
    for (int exponent = -310; exponent <= 308; ++exponent) {
      for (const double p : {std::pow(10.0, exponent), 5 * std::pow(10.0, exponent - 1),
                             9.9999995 * std::pow(10.0, exponent - 1)}) {
        double v = p;
        for (int step = 0; step < 3; ++step) v = std::nextafter(v, 0.0);
        for (int step = 0; step < 7; ++step, v = std::nextafter(v, inf)) {
          ASSERT_TRUE(MatchesReference(v, digits)) << v;
          ASSERT_TRUE(MatchesReference(-v, digits)) << -v;
        }
      }
    }
  }
}

TEST(PythonRound, EqualsTheTextRoundTripOnSeededRandomDoubles) {
  PyRandom rng(11);
  for (int i = 0; i < 1000000; ++i) {
    double v = 0;
    switch (i % 4) {
      case 0:  // What the synthetic stream rounds: gaussians of sd up to about 12.
        v = rng.Gauss(0.0, 12.0 * rng.Random());
        break;
      case 1:  // Lognormal amounts.
        v = rng.LogNormVariate(3.5, 1.8);
        break;
      case 2:  // Any magnitude around the fast path's limit and below it.
        v = std::ldexp(rng.Random() - 0.5, static_cast<int>(rng.RandBelow(90)) - 40);
        break;
      default:  // Any bit pattern at all.
        v = std::bit_cast<double>(rng.GetRandBits(64));
        break;
    }
    const int digits = i % 2 == 0 ? 6 : static_cast<int>(rng.RandBelow(kMaxPythonRoundDigits + 1));
    ASSERT_TRUE(MatchesReference(v, digits)) << i;
  }
}

}  // namespace
}  // namespace sluice::core
