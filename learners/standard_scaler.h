// learners/standard_scaler.h. River's preprocessing.StandardScaler (with_std=True).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/learner.h"

namespace sluice::learners {

// Standardises each feature with its running mean and population variance (Welford's update in
// River's operation order): (v - mean) / var**0.5, or 0 while the variance is 0.
class StandardScaler final : public Transformer {
 public:
  // InvalidArgument if dimension < 1.
  static absl::StatusOr<std::unique_ptr<StandardScaler>> Create(int dimension);
  StandardScaler(const StandardScaler&) = delete;
  StandardScaler& operator=(const StandardScaler&) = delete;

  void TransformOne(Features x, std::span<double> out) const override;
  void LearnOne(Features x) override;
  int dimension() const override { return static_cast<int>(mean_.size()); }
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;

 private:
  explicit StandardScaler(int dimension);
  void RefreshStd();

  std::vector<int64_t> count_;
  std::vector<double> mean_;
  std::vector<double> var_;
  // pow(var, 0.5), derived from var_: cached because pow costs ~12 ns and a transform would
  // otherwise call it once per feature.
  std::vector<double> std_;
};

// Python's `v ** 0.5`, which is C pow(v, 0.5) (not sqrt: they differ by one ulp on ~0.09 % of
// inputs). Exact, but faster than pow on the common path.
double PythonSqrt(double v);

}  // namespace sluice::learners
