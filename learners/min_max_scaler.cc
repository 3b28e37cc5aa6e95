// learners/min_max_scaler.cc
#include "learners/min_max_scaler.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

#if defined(__SSE2__)
// Transform() of two present values: (v - min) / (max - min), or 0 where max == min.
__m128d Scale(__m128d v, __m128d min, __m128d max) {
  const __m128d d = _mm_sub_pd(max, min);
  return _mm_and_pd(_mm_cmpneq_pd(d, _mm_setzero_pd()), _mm_div_pd(_mm_sub_pd(v, min), d));
}
#endif

constexpr absl::string_view kKind = "MinMaxScaler";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<MinMaxScaler>> MinMaxScaler::Create(int dimension) {
  if (dimension < 1) {
    return absl::InvalidArgumentError(absl::StrCat("min-max scaler: dimension ", dimension));
  }
  return std::unique_ptr<MinMaxScaler>(new MinMaxScaler(dimension));
}

namespace {

// a < b, with -0.0 < +0.0, so that min and max pick the same bits whatever the order. Scalers
// never hold NaN (a missing value never updates them).
bool Less(double a, double b) { return a < b || (a == b && std::signbit(a) && !std::signbit(b)); }

}  // namespace

absl::StatusOr<std::unique_ptr<MinMaxScaler>> MinMaxScaler::Merge(
    std::span<const MinMaxScaler* const> scalers) {
  if (scalers.empty()) return absl::InvalidArgumentError("min-max scaler merge: no scalers");
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<MinMaxScaler> merged, Create(scalers[0]->dimension()));
  for (size_t k = 0; k < scalers.size(); ++k) {
    const MinMaxScaler& scaler = *scalers[k];
    if (scaler.dimension() != merged->dimension()) {
      return absl::InvalidArgumentError(absl::StrCat("min-max scaler merge: scaler ", k,
                                                     " has dimension ", scaler.dimension(),
                                                     ", scaler 0 ", merged->dimension()));
    }
    for (size_t i = 0; i < merged->min_.size(); ++i) {
      if (Less(scaler.min_[i], merged->min_[i])) merged->min_[i] = scaler.min_[i];
      if (Less(merged->max_[i], scaler.max_[i])) merged->max_[i] = scaler.max_[i];
    }
  }
  return merged;
}

MinMaxScaler::MinMaxScaler(int dimension)
    : min_(static_cast<size_t>(dimension), std::numeric_limits<double>::infinity()),
      max_(static_cast<size_t>(dimension), -std::numeric_limits<double>::infinity()) {}

void MinMaxScaler::TransformOne(Features x, std::span<double> out) const {
  for (size_t i = 0; i < min_.size(); ++i) out[i] = Transform(i, x[i]);
}

void MinMaxScaler::LearnOne(Features x) {
  for (size_t i = 0; i < min_.size(); ++i) Learn(i, x[i]);
}

void MinMaxScaler::LearnAndTransform(Features x, std::span<double> out) {
  for (size_t i = 0; i < min_.size(); ++i) {
    Learn(i, x[i]);
    out[i] = Transform(i, x[i]);
  }
}

void MinMaxScaler::TransformLearnTransform(Features x, std::span<double> before,
                                           std::span<double> after) {
  size_t i = 0;
#if defined(__SSE2__)
  // Two features per step with the scalar loop's operations in its order: minpd(v, min) is
  // exactly `v < min ? v : min` (NaN and signed zeros included), maxpd likewise. A pair with a
  // missing value takes the scalar path.
  for (; i + 2 <= min_.size(); i += 2) {
    if (core::IsMissing(x[i]) || core::IsMissing(x[i + 1])) {
      ScalarTransformLearnTransform(i, x, before, after);
      ScalarTransformLearnTransform(i + 1, x, before, after);
      continue;
    }
    const __m128d v = _mm_loadu_pd(x.data() + i);
    const __m128d min = _mm_loadu_pd(min_.data() + i);
    const __m128d max = _mm_loadu_pd(max_.data() + i);
    const __m128d scaled = Scale(v, min, max);
    _mm_storeu_pd(before.data() + i, scaled);
    const __m128d new_min = _mm_min_pd(v, min);
    const __m128d new_max = _mm_max_pd(v, max);
    _mm_storeu_pd(min_.data() + i, new_min);
    _mm_storeu_pd(max_.data() + i, new_max);
    const __m128d moved = _mm_or_pd(_mm_cmpneq_pd(new_min, min), _mm_cmpneq_pd(new_max, max));
    // Once the range stops moving, most examples leave it as it was: one division, not two.
    _mm_storeu_pd(after.data() + i,
                  _mm_movemask_pd(moved) == 0 ? scaled : Scale(v, new_min, new_max));
  }
#endif
  for (; i < min_.size(); ++i) ScalarTransformLearnTransform(i, x, before, after);
}

void MinMaxScaler::ScalarTransformLearnTransform(size_t i, Features x, std::span<double> before,
                                                 std::span<double> after) {
  before[i] = Transform(i, x[i]);
  const double min = min_[i];
  const double max = max_[i];
  Learn(i, x[i]);
  after[i] = min == min_[i] && max == max_[i] ? before[i] : Transform(i, x[i]);
}

std::string MinMaxScaler::Save() const {
  core::StateWriter w;
  w.PutVector(min_);
  w.PutVector(max_);
  return core::SealState(kKind, kFormatVersion, w.payload());
}

absl::Status MinMaxScaler::Load(absl::string_view state) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(state, kKind, kFormatVersion));
  core::StateReader r(payload);
  std::vector<double> min, max;
  r.GetVector(&min);
  r.GetVector(&max);
  if (!r.done()) return absl::DataLossError("min-max scaler state: malformed payload");
  if (min.size() != min_.size() || max.size() != max_.size()) {
    return absl::FailedPreconditionError(absl::StrCat("min-max scaler state has dimension ",
                                                      min.size(), ", this model ", min_.size()));
  }
  min_ = std::move(min);
  max_ = std::move(max);
  return absl::OkStatus();
}

}  // namespace sluice::learners
