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

}  // namespace
}  // namespace sluice::core
