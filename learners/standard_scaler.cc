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
// 0.54 ulp of the exact root (its documented worst case) and sqrt within 0.5 ulp: when the exact
// root lies less than 0.45 ulp from s, the neighbours of s are more than 0.55 ulp away, so pow
// must return s too. Only near-ties, where the two may differ, pay for pow (~12 ns against ~4).
bool SqrtIsPow(double v, double s) {
  if (!(v >= 0x1p-1000 && v <= 0x1p1000)) return false;  // 0, tiny, huge, NaN.
  const auto bits = std::bit_cast<uint64_t>(s);
  if ((bits & 0x000FFFFFFFFFFFFFULL) == 0) return false;  // A power of two: uneven neighbours.
  const double ulp = std::bit_cast<double>(bits & 0x7FF0000000000000ULL) * 0x1p-52;
  // The residual v - s*s, exactly up to one rounding: Veltkamp splits s into 26-bit halves
  // whose products are exact, and v - hi*hi is exact by Sterbenz's lemma.
  const double split = s * 134217729.0;  // 2^27 + 1.
  const double hi = split - (split - s);
  const double lo = s - hi;
  const double residual = ((v - hi * hi) - 2.0 * hi * lo) - lo * lo;
  // The exact root is s + residual / (2 s), so its distance in ulps is residual / (2 s ulp).
  return std::fabs(residual) < 0.9 * s * ulp;
}

}  // namespace

double PythonSqrt(double v) {
  const double s = std::sqrt(v);
  return SqrtIsPow(v, s) ? s : std::pow(v, 0.5);
}

void PythonSqrtAll(std::span<const double> v, std::span<double> out) {
  size_t i = 0;
#if defined(__SSE2__)
  // sqrtpd: two correctly rounded roots per instruction, as sqrt gives them one at a time.
  for (; i + 2 <= v.size(); i += 2) {
    _mm_storeu_pd(out.data() + i, _mm_sqrt_pd(_mm_loadu_pd(v.data() + i)));
  }
#endif
  for (; i < v.size(); ++i) out[i] = std::sqrt(v[i]);
  for (i = 0; i < v.size(); ++i) {
    if (!SqrtIsPow(v[i], out[i])) out[i] = std::pow(v[i], 0.5);
  }
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

void StandardScaler::TransformOne(Features x, std::span<double> out) const {
  for (size_t i = 0; i < mean_.size(); ++i) out[i] = Transform(i, x[i]);
}

void StandardScaler::LearnOne(Features x) {
  for (size_t i = 0; i < mean_.size(); ++i) Learn(i, x[i]);
  RefreshStd();
}

void StandardScaler::LearnAndTransform(Features x, std::span<double> out) {
  for (size_t i = 0; i < mean_.size(); ++i) Learn(i, x[i]);
  RefreshStd();
  for (size_t i = 0; i < mean_.size(); ++i) out[i] = Transform(i, x[i]);
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
