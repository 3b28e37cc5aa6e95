#include "core/format.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>

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

// ParseDecimalPrefix as it was before it scanned 8 digits at a time: one byte per step.
const char* ReferenceParseDecimalPrefix(const char* p, const char* end, double* value,
                                        bool* exact) {
  constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  bool negative = false;
  if (p != end && (*p == '-' || *p == '+')) negative = *p++ == '-';
  uint64_t mantissa = 0;
  const char* start = p;
  while (p != end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  const auto integer_digits = static_cast<int>(p - start);
  int decimals = 0;
  if (p != end && *p == '.') {
    const char* fraction = ++p;
    while (p != end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
    }
    decimals = static_cast<int>(p - fraction);
  }
  *exact = integer_digits + decimals > 0 && integer_digits + decimals <= 19 &&
           mantissa < (uint64_t{1} << 53) && decimals <= 22;
  if (*exact) {
    const double v = static_cast<double>(mantissa) / kPowersOfTen[decimals];
    *value = negative ? -v : v;
  }
  return p;
}

// Same end, same exact flag and the same bits in *value (left alone unless exact) as the
// reference, with `text` first alone in a buffer of its exact size (so that AddressSanitizer
// catches any read at or past `end`), then followed by digits that a parser reading past `end`
// would take.
::testing::AssertionResult ParsesAsTheReference(std::string_view text) {
  for (const std::string_view after : {"", "1234567890123456789.25"}) {
    const size_t size = text.size() + after.size();
    const std::unique_ptr<char[]> buffer(new char[size]);
    std::memcpy(buffer.get(), text.data(), text.size());
    std::memcpy(buffer.get() + text.size(), after.data(), after.size());
    const char* const begin = buffer.get();
    const char* const end = begin + text.size();
    double value = -123.25;
    double expected_value = value;
    bool exact = false;
    bool expected_exact = true;
    const char* stop = ParseDecimalPrefix(begin, end, &value, &exact);
    const char* expected_stop =
        ReferenceParseDecimalPrefix(begin, end, &expected_value, &expected_exact);
    if (stop != expected_stop || exact != expected_exact ||
        std::bit_cast<uint64_t>(value) != std::bit_cast<uint64_t>(expected_value)) {
      return ::testing::AssertionFailure()
             << '"' << text << "\" followed by \"" << after << "\": stop " << stop - begin
             << " exact " << exact << " value " << value << ", expected stop "
             << expected_stop - begin << " exact " << expected_exact << " value " << expected_value;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(ParseDecimalPrefix, EqualsTheByteLoopOnEdgeCases) {
  const auto expect_all = [](std::initializer_list<std::string_view> texts) {
    for (const std::string_view text : texts) EXPECT_TRUE(ParsesAsTheReference(text));
  };
  // Signs and points alone, and CSV numbers.
  expect_all({"",    "-",   "+",        ".",         "-.",     "1.",        ".5",
              "-.5", "+.5", "-0.0",     "0",         "-0",     "1.2.3",     "12.5x",
              "1e5", "--1", "0.486498", "-1.039008", "253.06", "-0.004706", "12345.0"});
  // Digit runs of one word (8 bytes) and a byte more, also split by the point.
  expect_all({"12345678", "123456789", "1234567.8", "12345678.9", "-12345678,", ".12345678"});
  // 19 and 20 digits (the limit); 2^53 - 1, 2^53 and 2^53 + 1; 2^64 - 1 and 2^64.
  expect_all({"1234567890123456789", "12345678901234567890", "0000000000000000001",
              "00000000000000000001", "0.000000000000000001", "0.0000000000000000001",
              ".0000000000000000001", ".00000000000000000001", "9007199254740991",
              "9007199254740992", "9007199254740993", "900719925474099.3", "18446744073709551615",
              "18446744073709551616", "99999999999999999999999"});
  // 22, 23 and 25 decimals.
  expect_all(
      {"0.0000000000000000000001", "0.00000000000000000000001", ".0000000000000000000000001"});
  // Fields followed by more, so that 16 bytes can be read: fractions ending within the first
  // word, the second, exactly at the end of the window and past it; 8 integer digits.
  expect_all({"-1.039008,0.486498", "253.06,0.004706,1", "0.0727811733098497,1",
              "-1.3598071336738,-0.07", "1234567.1234567,12", "1234567.12345678,9",
              "0.1234567890123,5", "0.12345678901234,5", "0.123456789012345,5",
              ".12345678901234567,8", "12345678.5,1234567", "1.,23456789012345",
              "7,123456789012345", "1234567,.123456789", "-.,12345678901234",
              "0.00000000000000000001,2,3"});
  // Bytes either side of '0'..'9', and ones with bit 7 set, also where 8 or 16 bytes are read at
  // once (octal escapes, which end after 3 digits: \372 is 0xFA).
  expect_all({"\200", "1\377", "1\3721", "/", ":", "0:", "9/", "1234567:", "1234567/1",
              "12345678:", "12:45678901", "0.123456/89", "0.1234567?9", "0.1\372345678",
              "0.\3772345678", "0.1234\2705678901,2", "0.123456789\272123,2",
              "12\2564.123456789012", "0.12345678901/3,4"});
  EXPECT_TRUE(ParsesAsTheReference(std::string_view("123\0005678", 8)));  // A NUL byte.
  // And by hand.
  double value = 0;
  bool exact = false;
  const std::string_view digits19 = "0000000000000000001";
  ParseDecimalPrefix(digits19.data(), digits19.data() + digits19.size(), &value, &exact);
  EXPECT_TRUE(exact);
  EXPECT_EQ(value, 1.0);
  const std::string_view digits20 = "00000000000000000001";
  ParseDecimalPrefix(digits20.data(), digits20.data() + digits20.size(), &value, &exact);
  EXPECT_FALSE(exact);
  const std::string_view field = "-1.039008,0.5";
  EXPECT_EQ(ParseDecimalPrefix(field.data(), field.data() + field.size(), &value, &exact),
            field.data() + 9);
  EXPECT_TRUE(exact);
  EXPECT_EQ(value, -1.039008);
}

TEST(ParseDecimalPrefix, EqualsTheByteLoopOnSeededRandomText) {
  std::mt19937_64 rng(20240601);
  const std::string_view alphabet = "0123456789.-+e,x";
  for (int i = 0; i < 300000; ++i) {
    std::string text(rng() % 41, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    ASSERT_TRUE(ParsesAsTheReference(text));
  }
}

TEST(ParseDecimalPrefix, EqualsTheByteLoopOnSeededRandomBytes) {
  // Half digits, half any byte at all (so also '/' and ':', either side of the digits).
  std::mt19937_64 rng(20240603);
  for (int i = 0; i < 300000; ++i) {
    std::string text(rng() % 41, ' ');
    for (char& c : text) c = static_cast<char>(rng() % 2 == 0 ? '0' + rng() % 10 : rng() % 256);
    ASSERT_TRUE(ParsesAsTheReference(text));
  }
}

TEST(ParseDecimalPrefix, EqualsTheByteLoopOnSeededRandomDecimalsAndTheirPrefixes) {
  std::mt19937_64 rng(20240602);
  for (int i = 0; i < 30000; ++i) {
    const auto sign = rng() % 8;
    std::string text = sign < 3 ? "-" : sign == 3 ? "+" : "";
    // 0..25 digits either side, half the time 0..8 (the usual CSV number's counts).
    const auto digit_count = [&rng] { return static_cast<int>(rng() % (rng() % 2 == 0 ? 9 : 26)); };
    const int integer_digits = digit_count();
    const int decimals = digit_count();
    for (int d = 0; d < integer_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    if (decimals > 0 || rng() % 2 == 0) text += '.';
    for (int d = 0; d < decimals; ++d) text += static_cast<char>('0' + rng() % 10);
    // What may follow: another field (so that 8 bytes can be read beyond the fraction), or text
    // that makes it no plain decimal.
    const std::string_view suffixes[] = {"",  ",",        ",0.5", ",-0.123456,1", "\n",
                                         "x", "e-5,1.25", ".",    ".5,7",         "12"};
    text += suffixes[rng() % std::size(suffixes)];
    for (size_t length = 0; length <= text.size(); ++length) {
      ASSERT_TRUE(ParsesAsTheReference(std::string_view(text).substr(0, length)));
    }
  }
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
