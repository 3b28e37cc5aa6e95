// learners/min_max_scaler.cc
#include "learners/min_max_scaler.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "MinMaxScaler";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<MinMaxScaler>> MinMaxScaler::Create(int dimension) {
  if (dimension < 1) {
    return absl::InvalidArgumentError(absl::StrCat("min-max scaler: dimension ", dimension));
  }
  return std::unique_ptr<MinMaxScaler>(new MinMaxScaler(dimension));
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
  for (size_t i = 0; i < min_.size(); ++i) {
    before[i] = Transform(i, x[i]);
    const double min = min_[i];
    const double max = max_[i];
    Learn(i, x[i]);
    // Once the range stops moving, most examples leave it as it was: one division, not two.
    after[i] = min == min_[i] && max == max_[i] ? before[i] : Transform(i, x[i]);
  }
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
