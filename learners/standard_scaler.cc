// learners/standard_scaler.cc
#include "learners/standard_scaler.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "StandardScaler";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

double PythonSqrt(double v) { return std::pow(v, 0.5); }

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
  const size_t n = mean_.size();
  for (size_t i = 0; i < n; ++i) {
    if (core::IsMissing(x[i])) {
      out[i] = x[i];
    } else {
      out[i] = var_[i] != 0.0 ? (x[i] - mean_[i]) / std_[i] : 0.0;
    }
  }
}

void StandardScaler::LearnOne(Features x) {
  const size_t n = mean_.size();
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i];
    if (core::IsMissing(v)) continue;
    // Welford, in River's exact operation order; the second factor uses the new mean.
    const int64_t count = ++count_[i];
    const double old_mean = mean_[i];
    mean_[i] = old_mean + (v - old_mean) / static_cast<double>(count);
    var_[i] = var_[i] + ((v - old_mean) * (v - mean_[i]) - var_[i]) / static_cast<double>(count);
    std_[i] = PythonSqrt(var_[i]);
  }
}

void StandardScaler::RefreshStd() {
  for (size_t i = 0; i < var_.size(); ++i) std_[i] = PythonSqrt(var_[i]);
}

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
  if (mean.size() != mean_.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "standard scaler state has dimension ", mean.size(), ", this model ", mean_.size()));
  }
  count_ = std::move(count);
  mean_ = std::move(mean);
  var_ = std::move(var);
  RefreshStd();
  return absl::OkStatus();
}

}  // namespace sluice::learners
