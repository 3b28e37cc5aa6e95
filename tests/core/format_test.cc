#include "core/format.h"

#include <cmath>
#include <limits>

#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

TEST(FormatDouble, IsShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(0.49875000260416025), "0.49875000260416025");
  EXPECT_EQ(FormatDouble(1e-7), "1e-07");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
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

TEST(ParseDouble, RejectsWhatIsNotANumber) {
  EXPECT_EQ(ParseDouble(""), std::nullopt);
  EXPECT_EQ(ParseDouble("abc"), std::nullopt);
  EXPECT_EQ(ParseDouble("1.5x"), std::nullopt);
  EXPECT_EQ(ParseDouble(" 1"), std::nullopt);
  EXPECT_EQ(ParseDouble("+"), std::nullopt);
}

}  // namespace
}  // namespace sluice::core
