// core/format.cc
#include "core/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <system_error>

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
}  // namespace

const char* ParseDecimalPrefix(const char* p, const char* end, double* value, bool* exact) {
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
  // Up to 19 digits cannot overflow 64 bits; then Clinger's conditions.
  *exact = integer_digits + decimals > 0 && integer_digits + decimals <= 19 &&
           mantissa < (uint64_t{1} << 53) && decimals <= 22;
  if (*exact) {
    const double v = static_cast<double>(mantissa) / kPowersOfTen[decimals];
    *value = negative ? -v : v;
  }
  return p;
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
