// core/format.cc
#include "core/format.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"

namespace sluice::core {

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("nan");  // to_chars would write "-nan" for a NaN with its sign bit set.
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

std::string FormatDouble(double v) {
  std::string s;
  AppendDouble(v, &s);
  return s;
}

std::string FormatFixed(double v, int digits) {
  if (!std::isfinite(v)) return FormatDouble(v);
  char buf[400];  // DBL_MAX has 309 integer digits.
  digits = std::clamp(digits, 0, 40);
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  std::string s(buf);
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

namespace {

// Exact powers of ten: every one up to 1e22 is a double.
constexpr double kPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Clinger's fast path for plain decimals ("-12.345"): when the digits form an integer m < 2^53
// and there are k <= 22 decimals, m and 10^k are exact doubles and one IEEE division gives the
// correctly rounded m / 10^k. That covers CSV numbers such as the credit-card file's; anything
// else (exponents, long mantissas, "inf") returns false and goes to from_chars.

// The digits are read 8 bytes at a time in a uint64_t (SWAR, "SIMD within a register"): loads,
// bit operations and three multiplications per 8 digits instead of a loop with a branch per digit.
// The text's first byte must be the word's lowest.
static_assert(std::endian::native == std::endian::little,
              "the SWAR digit scan loads little-endian");

constexpr uint64_t kEveryByte = 0x0101010101010101;  // kEveryByte * b repeats byte b 8 times.
constexpr uint64_t kUpTo8DigitPowers[] = {1,      10,      100,      1000,     10000,
                                          100000, 1000000, 10000000, 100000000};

// The 8 bytes at p. Requires: 8 bytes to read there.
uint64_t Load8(const char* p) {
  uint64_t word = 0;
  std::memcpy(&word, p, 8);
  return word;
}

// Bit 7 of every byte of `word` that is not an ASCII digit ('0'..'9', 0x30..0x39). Each byte on
// its own: its low 7 bits plus 0x46 reach bit 7 from 0x3A up, plus 0x50 from 0x30 up, and neither
// sum carries into the next byte; bit 7 of the byte itself marks the rest.
uint64_t NonDigitBits(uint64_t word) {
  const uint64_t low7 = word & (0x7F * kEveryByte);
  const uint64_t from_colon = low7 + 0x46 * kEveryByte;
  const uint64_t from_zero = low7 + 0x50 * kEveryByte;
  return (word | from_colon | ~from_zero) & (0x80 * kEveryByte);
}

// How many ASCII digits `word` starts with, 0..8.
int LeadingDigits(uint64_t word) {
  return std::countr_zero(NonDigitBits(word)) / 8;  // countr_zero(0) is 64.
}

// The number written by the first n (0..8) bytes of `word`, ASCII digits, the first most
// significant.
uint64_t DigitsValue(uint64_t word, int n) {
  // Shift the n digits up to the top bytes and the rest out; the zero bytes shifted in act as
  // leading zeros. (Twice by half: a shift by 64, for n = 0, would be undefined.)
  word = (word << (32 - 4 * n)) << (32 - 4 * n);
  // Each step adds to every lane 10^width times the lane below it (the digits before it), shifts
  // the sums down a lane, and the next step keeps every other one: pairs, quads, then all 8.
  word = ((word & (0x0F * kEveryByte)) * (1 + (10 << 8))) >> 8;
  word = ((word & 0x00FF00FF00FF00FF) * (1 + (100 << 16))) >> 16;
  return ((word & 0x0000FFFF0000FFFF) * (1 + (uint64_t{10000} << 32))) >> 32;
}

// A run of digits: where it ends, and the mantissa with its digits appended.
struct DigitRun {
  const char* end;
  uint64_t mantissa;
};

// Scans the run of ASCII digits at p, appending each to `mantissa` as mantissa * 10 + digit
// (modulo 2^64: only a run of more than 19 digits wraps, and the caller rejects those). Reads
// nothing at or after `end`.
DigitRun ScanDigits(const char* p, const char* end, uint64_t mantissa) {
  while (end - p >= 8) {
    const uint64_t word = Load8(p);
    const int n = LeadingDigits(word);
    mantissa = mantissa * kUpTo8DigitPowers[n] + DigitsValue(word, n);
    p += n;
    if (n < 8) return {p, mantissa};
  }
  while (p != end && static_cast<unsigned>(*p - '0') < 10) {  // The last 7 bytes.
    mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
  }
  return {p, mantissa};
}

}  // namespace

const char* ParseDecimalPrefix(const char* p, const char* end, double* value, bool* exact) {
  // Signs are random in data, so they are read without a branch (which would be mispredicted half
  // the time).
  const char first = p != end ? *p : '\0';
  const bool negative = first == '-';
  const int sign = static_cast<int>(negative | (first == '+'));
  uint64_t mantissa = 0;
  int integer_digits = 0;
  int decimals = 0;
  const char* stop = nullptr;
  // The usual CSV number ("-1.039008", "253.06", "0.0727811733098497") from the 16 bytes at p:
  // where it stops follows from two loads and bit operations, whatever its digits, which matters
  // because the CSV reader starts the next field there. The sign is read as a leading zero, and up
  // to 15 digits are spliced together without the point and converted in one or two words.
  if (end - p >= 16) {
    const uint64_t low = Load8(p);
    const uint64_t high = Load8(p + 8);
    const uint64_t sign_byte = static_cast<uint64_t>(sign) * 0xFF;
    const uint64_t low_non_digits = NonDigitBits(low) & ~sign_byte;
    const int leading = std::countr_zero(low_non_digits) / 8;  // The sign and integer digits.
    if (leading < 8) {
      integer_digits = leading - sign;
      int length = leading;  // From p to where the number stops.
      if (p[leading] == '.') {
        const uint64_t after_point = low_non_digits & (low_non_digits - 1);  // The point's bit off.
        length = after_point != 0 ? std::countr_zero(after_point) / 8 : 8 + LeadingDigits(high);
        decimals = length - leading - 1;
      }
      // The sign (as a zero) and the integer digits, then the bytes after the point moved down.
      const uint64_t integer_mask = (uint64_t{1} << (8 * leading)) - 1;
      const uint64_t first8 =
          (low & ~sign_byte & integer_mask) | (((low >> 8) | (high << 56)) & ~integer_mask);
      const int digits = leading + decimals;
      mantissa = digits <= 8 ? DigitsValue(first8, digits)
                             : DigitsValue(first8, 8) * kUpTo8DigitPowers[digits - 8] +
                                   DigitsValue(high >> 8, digits - 8);
      stop = p + length;
      if (length == 16) {  // The fraction goes on past the window.
        const DigitRun rest = ScanDigits(stop, end, mantissa);
        stop = rest.end;
        mantissa = rest.mantissa;
        decimals = static_cast<int>(stop - p) - leading - 1;
      }
    }
  }
  if (stop == nullptr) {  // Near `end`, or 8 integer digits or more: part by part.
    p += sign;
    DigitRun run = ScanDigits(p, end, 0);
    integer_digits = static_cast<int>(run.end - p);
    if (run.end != end && *run.end == '.') {
      const char* const fraction = run.end + 1;
      run = ScanDigits(fraction, end, run.mantissa);
      decimals = static_cast<int>(run.end - fraction);
    }
    stop = run.end;
    mantissa = run.mantissa;
  }
  // Up to 19 digits cannot overflow 64 bits; then Clinger's conditions.
  *exact = integer_digits + decimals > 0 && integer_digits + decimals <= 19 &&
           mantissa < (uint64_t{1} << 53) && decimals <= 22;
  if (*exact) {
    const double v = static_cast<double>(mantissa) / kPowersOfTen[decimals];
    // -v for a negative number, without a branch: v is +0 or positive.
    *value = std::bit_cast<double>(std::bit_cast<uint64_t>(v) | uint64_t{negative} << 63);
  }
  return stop;
}

namespace {

bool ParseSimpleDecimal(const char* p, const char* end, double* out) {
  bool exact = false;
  return ParseDecimalPrefix(p, end, out, &exact) == end && exact;
}

}  // namespace

std::optional<double> ParseDouble(absl::string_view text) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  double v = 0;
  if (ParseSimpleDecimal(begin, end, &v)) return v;
  // from_chars rejects a leading '+', which CSV writers sometimes emit.
  if (begin != end && *begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec == std::errc::result_out_of_range) {
    // Overflow to infinity or underflow to zero; from_chars leaves v untouched, strtod agrees
    // with Python's float() here.
    const std::string copy(begin, end);
    return std::strtod(copy.c_str(), nullptr);
  }
  if (ec != std::errc() || ptr != end || begin == end) return std::nullopt;
  return v;
}

}  // namespace sluice::core

namespace sluice::core {

std::string FormatPythonRepr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // Shortest digits and exponent from to_chars' scientific form, e.g. "-1.2345e-05".
  char buf[40];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (const char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exponent);
  const int decpt = exponent + 1;  // Python's position of the decimal point.
  const int n = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<size_t>(-decpt), '0');
      out += digits;
    } else if (decpt >= n) {
      out += digits;
      out.append(static_cast<size_t>(decpt - n), '0');
      out += ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt));
      out += '.';
      out += digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits[0];
  if (n > 1) {
    out += '.';
    out += digits.substr(1);
  }
  const int shown = decpt - 1;
  out += shown < 0 ? "e-" : "e+";
  const int magnitude = shown < 0 ? -shown : shown;
  if (magnitude < 10) out += '0';
  out += std::to_string(magnitude);
  return out;
}

std::string Count(int64_t n, absl::string_view singular, absl::string_view plural) {
  return absl::StrCat(n, " ", n == 1 ? singular : plural);
}

}  // namespace sluice::core

namespace sluice::core {
namespace {

constexpr uint64_t kPowersOfFive[] = {1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125};
constexpr uint64_t kIntegerPowersOfTen[] = {1,      10,      100,      1000,      10000,
                                            100000, 1000000, 10000000, 100000000, 1000000000};
static_assert(std::size(kPowersOfFive) == kMaxPythonRoundDigits + 1);
static_assert(std::size(kIntegerPowersOfTen) == kMaxPythonRoundDigits + 1);

// The fast paths below handle |v| * 10^digits < 10^15 only. There every decimal has at most 15
// significant digits, and by DBL_DIG two different such decimals never read back as the same
// double. So the double nearest to the rounded decimal N / 10^digits has that decimal (without
// trailing zeros) as its unique shortest round-trip form, which is what repr() prints, and
// "%.*f" with `digits` decimals prints N back (the double is within half an ulp, under 0.12 *
// 10^-digits, of N / 10^digits). And N < 2^53, so N / 10^digits in double arithmetic is
// correctly rounded (Clinger's fast path), as reading the decimal would be.
constexpr uint64_t kExactScaledLimit = 1000000000000000;

// Sets *scaled to |v| * 10^digits rounded to an integer, ties to even, and returns true when
// that is below kExactScaledLimit; returns false (leaving *scaled alone) otherwise and for NaN
// and infinities. Exact: v = mantissa * 2^exponent, so |v| * 10^digits = mantissa * 5^digits /
// 2^shift with shift = -(exponent + digits), an integer product (< 2^53 * 5^9 < 2^74) divided by
// a power of two, whose remainder decides the rounding with no floating-point error.
bool RoundScaledExactly(double v, int digits, uint64_t* scaled) {
  const auto bits = std::bit_cast<uint64_t>(v);
  const auto biased_exponent = static_cast<int>((bits >> 52) & 0x7ff);
  if (biased_exponent == 0x7ff) return false;
  uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
  int exponent = -1074;  // Zero and subnormals.
  if (biased_exponent != 0) {
    mantissa |= uint64_t{1} << 52;
    exponent = biased_exponent - 1075;
  }
  const int shift = -(exponent + digits);
  // shift <= 0 means |v| * 10^digits is an integer of at least 2^52 * 5^digits > 10^15.
  if (shift <= 0) return false;
  if (shift >= 100) {
    *scaled = 0;  // The product is below 2^74, far below half of 2^shift.
    return true;
  }
  const absl::uint128 product = absl::uint128(mantissa) * kPowersOfFive[digits];
  const absl::uint128 quotient = product >> shift;
  if (quotient >= kExactScaledLimit) return false;
  uint64_t rounded = absl::Uint128Low64(quotient);
  const absl::uint128 remainder = product - (quotient << shift);
  const absl::uint128 half = absl::uint128(1) << (shift - 1);
  if (remainder > half || (remainder == half && (rounded & 1) != 0)) ++rounded;
  if (rounded >= kExactScaledLimit) return false;
  *scaled = rounded;
  return true;
}

// The general path: the correctly rounded fixed-point text (round half to even, as CPython's
// dtoa mode 3 does), read back with a correctly rounded parse.
double SlowPythonRound(double v, int digits) {
  if (!std::isfinite(v)) return v;
  char buf[kMaxPythonFixedChars];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, digits);
  double rounded = 0;
  std::from_chars(buf, end, rounded);
  return rounded;
}

// "00", "01", ..., "99": two digits per division by 100.
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int n = 0; n < 100; ++n) {
    pairs[static_cast<size_t>(2 * n)] = static_cast<char>('0' + n / 10);
    pairs[static_cast<size_t>(2 * n + 1)] = static_cast<char>('0' + n % 10);
  }
  return pairs;
}();

// Writes `value` in decimal (no leading zeros) and returns the end. Requires: 20 bytes of room.
char* WriteUnsigned(uint64_t value, char* out) {
  if (value < 10) {
    *out = static_cast<char>('0' + value);
    return out + 1;
  }
  if (value < 100) {
    std::memcpy(out, &kDigitPairs[2 * value], 2);
    return out + 2;
  }
  return std::to_chars(out, out + 20, value).ptr;
}

// Writes exactly kDigits digits of `value` (< 10^kDigits), zero-padded on the left.
template <int kDigits>
char* WritePadded(uint64_t value, char* out) {
  int idx = kDigits;
  for (; idx >= 2; idx -= 2) {
    std::memcpy(out + idx - 2, &kDigitPairs[2 * (value % 100)], 2);
    value /= 100;
  }
  if (idx == 1) out[0] = static_cast<char>('0' + value);
  return out + kDigits;
}

// repr() of scaled / 10^digits when that is below 10^-4 (rare): d.ddde-XX.
char* WriteSmallRepr(uint64_t scaled, int digits, char* out) {
  char digit_buf[20] = {};  // Zeroed only to quiet a false -Wmaybe-uninitialized.
  char* digits_end = std::to_chars(digit_buf, digit_buf + sizeof(digit_buf), scaled).ptr;
  const auto decpt = static_cast<int>(digits_end - digit_buf) - digits;
  while (digits_end[-1] == '0') --digits_end;
  *out++ = digit_buf[0];
  if (digits_end - digit_buf > 1) {
    *out++ = '.';
    out = std::copy(digit_buf + 1, digits_end, out);
  }
  const int magnitude = 1 - decpt;  // The shown exponent, decpt - 1, is negative here.
  std::memcpy(out, "e-", 2);
  out += 2;
  if (magnitude < 10) *out++ = '0';
  return std::to_chars(out, out + 4, magnitude).ptr;
}

// One instance per digit count, so that every division below is by a constant.
template <int kDigits>
char* WriteRoundRepr(double v, char* out) {
  uint64_t scaled = 0;
  if (!RoundScaledExactly(v, kDigits, &scaled)) {
    const std::string text = FormatPythonRepr(SlowPythonRound(v, kDigits));
    return std::copy(text.begin(), text.end(), out);
  }
  if (std::signbit(v)) *out++ = '-';
  if (scaled == 0) {
    std::memcpy(out, "0.0", 3);
    return out + 3;
  }
  // FormatPythonRepr's layout for the value scaled / 10^kDigits. Its decimal point sits decpt =
  // (number of digits of scaled) - kDigits places after the first digit, and it is below 10^15,
  // so decpt <= 15 and Python's large-exponent form never applies.
  constexpr uint64_t kUnit = kIntegerPowersOfTen[kDigits];
  if (scaled * 10000 < kUnit) return WriteSmallRepr(scaled, kDigits, out);  // decpt <= -4.
  // Fixed notation, from "0.0001" up: the integer part, then the decimals without trailing
  // zeros, or "0" if there are none ("12.0").
  out = WriteUnsigned(scaled / kUnit, out);
  *out++ = '.';
  const uint64_t fraction = scaled % kUnit;
  if (fraction == 0) {
    *out++ = '0';
    return out;
  }
  char* end = WritePadded<kDigits>(fraction, out);
  while (end[-1] == '0') --end;  // Stops at the fraction's last nonzero digit.
  return end;
}

template <int kDigits>
char* WriteRoundFixed(double v, char* out) {
  uint64_t scaled = 0;
  if (!RoundScaledExactly(v, kDigits, &scaled)) {
    return std::to_chars(out, out + kMaxPythonFixedChars, SlowPythonRound(v, kDigits),
                         std::chars_format::fixed, kDigits)
        .ptr;
  }
  if (std::signbit(v)) *out++ = '-';
  constexpr uint64_t kUnit = kIntegerPowersOfTen[kDigits];
  out = WriteUnsigned(scaled / kUnit, out);
  if constexpr (kDigits == 0) {
    return out;
  } else {
    *out++ = '.';
    return WritePadded<kDigits>(scaled % kUnit, out);
  }
}

template <int... kDigits>
constexpr auto ReprWriters(std::integer_sequence<int, kDigits...> /*digits*/) {
  return std::array{&WriteRoundRepr<kDigits>...};
}
template <int... kDigits>
constexpr auto FixedWriters(std::integer_sequence<int, kDigits...> /*digits*/) {
  return std::array{&WriteRoundFixed<kDigits>...};
}
constexpr auto kReprWriters =
    ReprWriters(std::make_integer_sequence<int, kMaxPythonRoundDigits + 1>());
constexpr auto kFixedWriters =
    FixedWriters(std::make_integer_sequence<int, kMaxPythonRoundDigits + 1>());

}  // namespace

double PythonRound(double v, int digits) {
  uint64_t scaled = 0;
  if (!RoundScaledExactly(v, digits, &scaled)) return SlowPythonRound(v, digits);
  const double rounded = static_cast<double>(scaled) / kPowersOfTen[digits];
  return std::signbit(v) ? -rounded : rounded;
}

char* WritePythonRoundRepr(double v, int digits, char* out) {
  return kReprWriters[static_cast<size_t>(digits)](v, out);
}

char* WritePythonRoundFixed(double v, int digits, char* out) {
  return kFixedWriters[static_cast<size_t>(digits)](v, out);
}

}  // namespace sluice::core
