// learners/min_max_scaler.h. River's preprocessing.MinMaxScaler (window_size=None).
#pragma once

#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "learners/learner.h"

namespace sluice::learners {

// Scales each feature by its running min and max: (v - min) / (max - min), 0 when max == min.
// A feature never learned yields NaN, exactly as River's (-inf)/(-inf).
class MinMaxScaler final : public Transformer {
 public:
  // InvalidArgument if dimension < 1.
  static absl::StatusOr<std::unique_ptr<MinMaxScaler>> Create(int dimension);
  // The scaler that has seen what all of `scalers` saw: per feature, the least of their minima
  // and the greatest of their maxima (a feature none has seen stays unseen). Exact, commutative
  // and associative; of two equal extremes of opposite sign, -0.0 is the smaller. Merging one
  // scaler gives an equal one. InvalidArgument if `scalers` is empty or dimensions differ.
  static absl::StatusOr<std::unique_ptr<MinMaxScaler>> Merge(
      std::span<const MinMaxScaler* const> scalers);
  MinMaxScaler(const MinMaxScaler&) = delete;
  MinMaxScaler& operator=(const MinMaxScaler&) = delete;

  void TransformOne(Features x, std::span<double> out) const override;
  void LearnOne(Features x) override;
  void LearnAndTransform(Features x, std::span<double> out) override;
  void TransformLearnTransform(Features x, std::span<double> before,
                               std::span<double> after) override;
  int dimension() const override { return static_cast<int>(min_.size()); }
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;

 private:
  explicit MinMaxScaler(int dimension);
  void ScalarTransformLearnTransform(size_t i, Features x, std::span<double> before,
                                     std::span<double> after);
  double Transform(size_t i, double v) const {
    const double d = max_[i] - min_[i];
    // River: (x - min) / (max - min) if max != min else 0. A missing x stays NaN.
    return d != 0.0 ? (v - min_[i]) / d : (core::IsMissing(v) ? v : 0.0);
  }
  void Learn(size_t i, double v) {
    // Strict comparisons, as River's stats.Min/Max; NaN (missing) never updates.
    if (v < min_[i]) min_[i] = v;
    if (v > max_[i]) max_[i] = v;
  }

  std::vector<double> min_;
  std::vector<double> max_;
};

}  // namespace sluice::learners
