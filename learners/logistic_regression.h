// learners/logistic_regression.h. River's linear_model.LogisticRegression with plain SGD and
// log loss, bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/learner.h"

namespace sluice::learners {

// Binary logistic regression trained by one SGD step per example (River's defaults: constant
// learning rate 0.01, separately learned intercept, no regularisation). Weights start at 0 and
// keep River's insertion order, which fixes the dot product's summation order.
class LogisticRegression final : public Learner {
 public:
  struct Options {
    double learning_rate = 0.01;   // SGD step for the weights (constant schedule).
    double intercept_lr = 0.01;    // Step for the intercept; 0 freezes it.
    double intercept_init = 0.0;   // Starting intercept.
    double l2 = 0.0;               // L2 penalty added to each weight's gradient.
    double clip_gradient = 1e12;   // |dloss/dlogit| is clipped to this.
    double positive_weight = 1.0;  // Log-loss weight of label 1.
    double negative_weight = 1.0;  // Log-loss weight of label 0.
  };
  // InvalidArgument if an option is negative or not finite, or dimension < 1.
  static absl::StatusOr<std::unique_ptr<LogisticRegression>> Create(const Options& options,
                                                                    int dimension);
  LogisticRegression(const LogisticRegression&) = delete;
  LogisticRegression& operator=(const LogisticRegression&) = delete;

  // P(label = 1); 0.5 before any learning.
  double ScoreOne(Features x) const override;
  // One SGD step; does nothing without a label.
  void LearnOne(Features x, std::optional<bool> label) override;
  int dimension() const override { return static_cast<int>(weights_.size()); }
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;
  // The intercept or a weight is NaN or infinite. O(dimension).
  bool diverged() const override;

  double intercept() const { return intercept_; }
  // The weight of dense feature `i` (0 if never learned).
  double weight(int i) const { return weights_[static_cast<size_t>(i)]; }
  uint64_t iterations() const { return iterations_; }

 private:
  LogisticRegression(const Options& options, int dimension);
  double Gradient(bool label, double logit) const;

  Options options_;
  std::vector<double> weights_;  // Dense; 0 for features not yet learned.
  std::vector<uint8_t> known_;   // Whether feature i has a weight (River: key in the dict).
  std::vector<int> order_;       // Features in the order they were first learned.
  double intercept_;
  uint64_t iterations_ = 0;
};

// River's clamped sigmoid: 0 below -30, 1 above 30.
double Sigmoid(double z);

}  // namespace sluice::learners
