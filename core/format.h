// core/format.h. Doubles as text: shortest round-trip output and exact parsing, so that every
// number sluice writes reads back as the same binary64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice::core {

// Appends the shortest decimal that round-trips to `v` (std::to_chars), e.g. "0.1", "1e-07",
// "-0". Every NaN, whatever its sign or payload, is "nan"; infinities are "inf" and "-inf".
// ParseDouble reads each back (NaN as a quiet NaN).
void AppendDouble(double v, std::string* out);
std::string FormatDouble(double v);

// `v` with `digits` decimals ("%.*f") for tables, except that a value that rounds to zero
// prints without a sign ("0.0000", never "-0.0000": River's ROCAUC is -0.0 before both classes
// were seen) and non-finite values print as "nan", "inf", "-inf".
std::string FormatFixed(double v, int digits);

// Parses all of `text` as a decimal double, correctly rounded. nullopt if it is not a number.
// "nan" and "inf" parse (callers decide whether they are acceptable).
std::optional<double> ParseDouble(absl::string_view text);

// Parses the longest prefix of [p, end) that is a plain decimal ("-12.345", no exponent) and
// returns where it stopped. Sets *value and returns true in *exact only if that prefix is
// non-empty and converts exactly by Clinger's fast path; otherwise callers use ParseDouble on
// the whole field. Lets a CSV reader split and convert a field in one pass.
const char* ParseDecimalPrefix(const char* p, const char* end, double* value, bool* exact);

}  // namespace sluice::core

namespace sluice::core {

// Python's repr(float): shortest round-trip digits, fixed notation when the decimal exponent is
// in [-4, 16), else d.ddde+XX; integral values keep ".0". Used to write CSVs byte-identical to
// Python-made ones.
std::string FormatPythonRepr(double v);

// "1 version", "2 versions", "0 versions": a count and its noun, agreeing.
std::string Count(int64_t n, absl::string_view singular, absl::string_view plural);

// Python's round(v, digits) for a float: the decimal with `digits` decimals nearest to v's exact
// binary value (ties to even), read back as the nearest double. A value that rounds to zero keeps
// its sign (round(-1e-7, 6) is -0.0); NaN and infinities come back unchanged.
// Requires: 0 <= digits <= kMaxPythonRoundDigits.
inline constexpr int kMaxPythonRoundDigits = 9;
double PythonRound(double v, int digits);

// What Python writes for repr(round(v, digits)) and f"{round(v, digits):.{digits}f}": the bytes
// of FormatPythonRepr(PythonRound(v, digits)) and of "%.*f" of PythonRound(v, digits), written at
// `out`; each returns the end of what it wrote. When |v| * 10^digits < 10^15 the rounding is
// done in exact integer arithmetic and the digits are written directly, with no round trip
// through text; otherwise they take the general (slower) path.
// Requires: 0 <= digits <= kMaxPythonRoundDigits and room at `out` for kMaxPythonReprChars
// (respectively kMaxPythonFixedChars) bytes.
inline constexpr size_t kMaxPythonReprChars = 32;    // "-2.2250738585072014e-308" has 24.
inline constexpr size_t kMaxPythonFixedChars = 330;  // -DBL_MAX with 9 decimals has 320.
char* WritePythonRoundRepr(double v, int digits, char* out);
char* WritePythonRoundFixed(double v, int digits, char* out);

}  // namespace sluice::core
