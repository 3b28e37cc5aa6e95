// learners/standard_scaler.h. River's preprocessing.StandardScaler (with_std=True).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/learner.h"

namespace sluice::learners {

// Python's `v ** 0.5`, which is C pow(v, 0.5) (not sqrt: they differ by one ulp on ~0.09 % of
// inputs). Bit-identical to pow, but takes sqrt's fast path whenever the two must agree.
double PythonSqrt(double v);
// out[i] = PythonSqrt(v[i]) for every i, the square roots two at a time (the scaler refreshes
// every feature's deviation per event). Requires: out.size() == v.size().
void PythonSqrtAll(std::span<const double> v, std::span<double> out);

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
  void LearnAndTransform(Features x, std::span<double> out) override;
  int dimension() const override { return static_cast<int>(mean_.size()); }
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;

 private:
  explicit StandardScaler(int dimension);
  void RefreshStd();
  void LearnAll(Features x);  // Learn(i, x[i]) for every feature.
  double Transform(size_t i, double v) const {
    if (core::IsMissing(v)) return v;
    return var_[i] != 0.0 ? (v - mean_[i]) / std_[i] : 0.0;
  }
  // Updates the moments of feature i; the caller refreshes std_ (RefreshStd) afterwards.
  void Learn(size_t i, double v) {
    if (core::IsMissing(v)) return;
    // Welford, in River's exact operation order; the second factor uses the new mean.
    // Saturates at kMaxCount (2^62 examples: no stream gets there), so that no loaded state
    // can overflow and every state it reaches loads again.
    count_[i] += count_[i] < kMaxCount ? 1 : 0;
    const auto count = static_cast<double>(count_[i]);
    const double old_mean = mean_[i];
    mean_[i] = old_mean + (v - old_mean) / count;
    var_[i] = var_[i] + ((v - old_mean) * (v - mean_[i]) - var_[i]) / count;
  }

  static constexpr int64_t kMaxCount = int64_t{1} << 62;
  std::vector<int64_t> count_;
  std::vector<double> mean_;
  std::vector<double> var_;
  // pow(var, 0.5), derived from var_: cached because pow costs ~12 ns and a transform would
  // otherwise call it once per feature.
  std::vector<double> std_;
};

}  // namespace sluice::learners
