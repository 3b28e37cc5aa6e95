// learners/standard_scaler.cc
#include "learners/standard_scaler.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <bit>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "StandardScaler";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

namespace {

// Whether s = sqrt(v), correctly rounded, is also what pow(v, 0.5) returns. glibc's pow is within
// 0.509 ulp plus 2^-15 ulp per unit of |0.5 log v| of the exact root (its source's error
// analysis: exp's 0.509 ulp and log's relative error 1.3 * 2^-68), so below 0.523 ulp for v in
// [2^-1000, 2^1000]; sqrt is within 0.5 ulp. When the exact root lies less than 0.475 ulp from s,
// the neighbours of s are more than 0.525 ulp away, so pow must return s too. Only near-ties
// (about 5 % of roots), where the two may differ, pay for pow (~20 ns against ~2).
constexpr double kLowest = 0x1p-1000;
constexpr double kHighest = 0x1p1000;
constexpr double kTwiceTieDistance = 0.95;  // 2 * 0.475 ulp.
constexpr uint64_t kExponentBits = 0x7FF0000000000000ULL;

bool SqrtIsPow(double v, double s) {
  if (!(v >= kLowest && v <= kHighest)) return false;  // 0, tiny, huge, NaN.
  // 2^e, the power of two at or below s; s itself if it is one (uneven neighbours: refused).
  const double power = std::bit_cast<double>(std::bit_cast<uint64_t>(s) & kExponentBits);
  if (power == s) return false;
  const double ulp = power * 0x1p-52;
  // The residual v - s*s, exactly up to one rounding: Veltkamp splits s into 26-bit halves
  // whose products are exact, and v - hi*hi is exact by Sterbenz's lemma.
  const double split = s * 134217729.0;  // 2^27 + 1.
  const double hi = split - (split - s);
  const double lo = s - hi;
  const double residual = ((v - hi * hi) - 2.0 * hi * lo) - lo * lo;
  // The exact root is s + residual / (2 s), so its distance in ulps is residual / (2 s ulp).
  return std::fabs(residual) < kTwiceTieDistance * s * ulp;
}

}  // namespace

double PythonSqrt(double v) {
  const double s = std::sqrt(v);
  return SqrtIsPow(v, s) ? s : std::pow(v, 0.5);
}

void PythonSqrtAll(std::span<const double> v, std::span<double> out) {
  size_t i = 0;
#if defined(__SSE2__)
  // SqrtIsPow two lanes at a time, the same operations in the same order; sqrtpd gives the
  // correctly rounded roots sqrt gives one at a time.
  const __m128d lowest = _mm_set1_pd(kLowest);
  const __m128d highest = _mm_set1_pd(kHighest);
  const __m128i exponent_bits = _mm_set1_epi64x(static_cast<int64_t>(kExponentBits));
  const __m128d abs_bits = _mm_castsi128_pd(_mm_set1_epi64x(INT64_MAX));
  for (; i + 2 <= v.size(); i += 2) {
    const __m128d x = _mm_loadu_pd(v.data() + i);
    const __m128d s = _mm_sqrt_pd(x);
    const __m128d power = _mm_castsi128_pd(_mm_and_si128(_mm_castpd_si128(s), exponent_bits));
    const __m128d ulp = _mm_mul_pd(power, _mm_set1_pd(0x1p-52));
    const __m128d split = _mm_mul_pd(s, _mm_set1_pd(134217729.0));
    const __m128d hi = _mm_sub_pd(split, _mm_sub_pd(split, s));
    const __m128d lo = _mm_sub_pd(s, hi);
    const __m128d residual =
        _mm_sub_pd(_mm_sub_pd(_mm_sub_pd(x, _mm_mul_pd(hi, hi)),
                              _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(2.0), hi), lo)),
                   _mm_mul_pd(lo, lo));
    const __m128d bound = _mm_mul_pd(_mm_mul_pd(_mm_set1_pd(kTwiceTieDistance), s), ulp);
    __m128d ok = _mm_cmplt_pd(_mm_and_pd(residual, abs_bits), bound);
    ok = _mm_and_pd(ok, _mm_and_pd(_mm_cmpge_pd(x, lowest), _mm_cmple_pd(x, highest)));
    ok = _mm_and_pd(ok, _mm_cmpneq_pd(power, s));
    _mm_storeu_pd(out.data() + i, s);
    const int agree = _mm_movemask_pd(ok);
    if (agree != 3) {
      if ((agree & 1) == 0) out[i] = std::pow(v[i], 0.5);
      if ((agree & 2) == 0) out[i + 1] = std::pow(v[i + 1], 0.5);
    }
  }
#endif
  for (; i < v.size(); ++i) out[i] = PythonSqrt(v[i]);
}

absl::StatusOr<std::unique_ptr<StandardScaler>> StandardScaler::Create(int dimension) {
  if (dimension < 1) {
    return absl::InvalidArgumentError(absl::StrCat("standard scaler: dimension ", dimension));
  }
  return std::unique_ptr<StandardScaler>(new StandardScaler(dimension));
}

StandardScaler::StandardScaler(int dimension)
    : count_(static_cast<size_t>(dimension), 0),
      mean_(static_cast<size_t>(dimension), 0.0),
      var_(static_cast<size_t>(dimension), 0.0),
      std_(static_cast<size_t>(dimension), 0.0) {}

// Both loops below run two features per step with the very operations, in the same order, of
// Learn and Transform on each (IEEE results do not depend on the lane): a pipeline spends most
// of its time in these divisions, and divpd does two for the price of one. A pair with a missing
// value or a saturated count takes the scalar path.

void StandardScaler::TransformOne(Features x, std::span<double> out) const {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= mean_.size(); i += 2) {
    if (core::IsMissing(x[i]) || core::IsMissing(x[i + 1])) {
      out[i] = Transform(i, x[i]);
      out[i + 1] = Transform(i + 1, x[i + 1]);
      continue;
    }
    const __m128d v = _mm_loadu_pd(x.data() + i);
    const __m128d scaled =
        _mm_div_pd(_mm_sub_pd(v, _mm_loadu_pd(mean_.data() + i)), _mm_loadu_pd(std_.data() + i));
    // 0 where the variance is 0 (the mask clears those lanes).
    const __m128d nonzero = _mm_cmpneq_pd(_mm_loadu_pd(var_.data() + i), _mm_setzero_pd());
    _mm_storeu_pd(out.data() + i, _mm_and_pd(nonzero, scaled));
  }
#endif
  for (; i < mean_.size(); ++i) out[i] = Transform(i, x[i]);
}

void StandardScaler::LearnAll(Features x) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 2 <= mean_.size(); i += 2) {
    if (core::IsMissing(x[i]) || core::IsMissing(x[i + 1]) || count_[i] >= kMaxCount ||
        count_[i + 1] >= kMaxCount) {
      Learn(i, x[i]);
      Learn(i + 1, x[i + 1]);
      continue;
    }
    ++count_[i];
    ++count_[i + 1];
    const __m128d count =
        _mm_set_pd(static_cast<double>(count_[i + 1]), static_cast<double>(count_[i]));
    const __m128d v = _mm_loadu_pd(x.data() + i);
    const __m128d old_mean = _mm_loadu_pd(mean_.data() + i);
    const __m128d mean = _mm_add_pd(old_mean, _mm_div_pd(_mm_sub_pd(v, old_mean), count));
    const __m128d var = _mm_loadu_pd(var_.data() + i);
    const __m128d spread = _mm_mul_pd(_mm_sub_pd(v, old_mean), _mm_sub_pd(v, mean));
    _mm_storeu_pd(mean_.data() + i, mean);
    _mm_storeu_pd(var_.data() + i, _mm_add_pd(var, _mm_div_pd(_mm_sub_pd(spread, var), count)));
  }
#endif
  for (; i < mean_.size(); ++i) Learn(i, x[i]);
}

void StandardScaler::LearnOne(Features x) {
  LearnAll(x);
  RefreshStd();
}

void StandardScaler::LearnAndTransform(Features x, std::span<double> out) {
  LearnAll(x);
  RefreshStd();
  TransformOne(x, out);
}

void StandardScaler::RefreshStd() { PythonSqrtAll(var_, std_); }

std::string StandardScaler::Save() const {
  core::StateWriter w;
  w.PutVector(count_);
  w.PutVector(mean_);
  w.PutVector(var_);
  return core::SealState(kKind, kFormatVersion, w.payload());
}

absl::Status StandardScaler::Load(absl::string_view state) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(state, kKind, kFormatVersion));
  core::StateReader r(payload);
  std::vector<int64_t> count;
  std::vector<double> mean, var;
  r.GetVector(&count);
  r.GetVector(&mean);
  r.GetVector(&var);
  if (!r.done() || count.size() != mean.size() || mean.size() != var.size()) {
    return absl::DataLossError("standard scaler state: malformed payload");
  }
  // A count is at most the number of examples learned, and saturates at kMaxCount.
  for (const int64_t c : count) {
    if (c < 0 || c > kMaxCount) {
      return absl::DataLossError("standard scaler state: count out of range");
    }
  }
  if (mean.size() != mean_.size()) {
    return absl::FailedPreconditionError(absl::StrCat("standard scaler state has dimension ",
                                                      mean.size(), ", this model ", mean_.size()));
  }
  count_ = std::move(count);
  mean_ = std::move(mean);
  var_ = std::move(var);
  RefreshStd();
  return absl::OkStatus();
}

}  // namespace sluice::learners
