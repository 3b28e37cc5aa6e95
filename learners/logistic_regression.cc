// learners/logistic_regression.cc
#include "learners/logistic_regression.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "LogisticRegression";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

double Sigmoid(double z) {
  if (z < -30) return 0.0;
  if (z > 30) return 1.0;
  return 1.0 / (1.0 + std::exp(-z));
}

absl::StatusOr<std::unique_ptr<LogisticRegression>> LogisticRegression::Create(
    const Options& options, int dimension) {
  const std::pair<const char*, double> checks[] = {{"learning_rate", options.learning_rate},
                                                   {"intercept_lr", options.intercept_lr},
                                                   {"l2", options.l2},
                                                   {"clip_gradient", options.clip_gradient},
                                                   {"positive_weight", options.positive_weight},
                                                   {"negative_weight", options.negative_weight}};
  for (const auto& [name, value] : checks) {
    if (!std::isfinite(value) || value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("logistic regression: ", name, " must be finite and >= 0, got ", value));
    }
  }
  if (!std::isfinite(options.intercept_init)) {
    return absl::InvalidArgumentError("logistic regression: intercept_init must be finite");
  }
  if (dimension < 1) {
    return absl::InvalidArgumentError(absl::StrCat("logistic regression: dimension ", dimension));
  }
  return std::unique_ptr<LogisticRegression>(new LogisticRegression(options, dimension));
}

LogisticRegression::LogisticRegression(const Options& options, int dimension)
    : options_(options),
      weights_(static_cast<size_t>(dimension), 0.0),
      known_(static_cast<size_t>(dimension), 0),
      intercept_(options.intercept_init) {}

double LogisticRegression::ScoreOne(Features x) const {
  // River's dot product iterates the smaller of (weights, x), the weights on a tie, adding
  // left to right from 0; the intercept comes last.
  size_t present = 0;
  bool finite = true;
  for (const double v : x) {
    const bool missing = core::IsMissing(v);
    present += missing ? 0 : 1;
    finite = finite && (missing || std::isfinite(v));
  }
  double dot = 0.0;
  if (!finite) {
    // River 0.26.1 walks x's keys, multiplying even by the weights it does not know yet (0.0):
    // a NaN or infinite value (a feature MinMaxScaler has not learned yet) makes the score NaN.
    for (size_t i = 0; i < x.size(); ++i) {
      if (!core::IsMissing(x[i])) dot = dot + weights_[i] * x[i];
    }
    return Sigmoid(dot + intercept_);
  }
  if (present < order_.size()) {
    for (size_t i = 0; i < x.size(); ++i) {
      if (known_[i] != 0 && !core::IsMissing(x[i])) dot = dot + weights_[i] * x[i];
    }
  } else {
    for (const int i : order_) {
      if (!core::IsMissing(x[i])) dot = dot + weights_[i] * x[i];
    }
  }
  return Sigmoid(dot + intercept_);
}

double LogisticRegression::Gradient(bool label, double logit) const {
  // River's optim.losses.Log().gradient with the label mapped to +1/-1.
  const double sign = label ? 1.0 : -1.0;
  const double weight = label ? options_.positive_weight : options_.negative_weight;
  const double z = logit * sign;
  if (z > 18) return weight * std::exp(-z) * -sign;
  if (z < -18) return weight * -sign;
  return weight * -sign / (std::exp(z) + 1.0);
}

void LogisticRegression::LearnOne(Features x, std::optional<bool> label) {
  if (!label.has_value()) return;
  const size_t old_size = order_.size();
  // The learning-time dot: known features in insertion order, then new ones in x's order (their
  // weights are 0, but the additions still happen, as in River).
  double dot = 0.0;
  for (size_t k = 0; k < old_size; ++k) {
    const int i = order_[k];
    if (!core::IsMissing(x[i])) dot = dot + weights_[i] * x[i];
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (known_[i] == 0 && !core::IsMissing(x[i])) {
      dot = dot + weights_[i] * x[i];
      known_[i] = 1;
      order_.push_back(static_cast<int>(i));
    }
  }
  double g = Gradient(*label, dot + intercept_);
  g = std::max(std::min(g, options_.clip_gradient), -options_.clip_gradient);
  intercept_ = intercept_ - options_.intercept_lr * g;
  for (const int i : order_) {
    if (core::IsMissing(x[i])) continue;
    double grad = x[i] * g;
    if (options_.l2 != 0) grad += options_.l2 * weights_[i];
    weights_[i] = weights_[i] - options_.learning_rate * grad;
  }
  ++iterations_;
}

bool LogisticRegression::diverged() const {
  if (!std::isfinite(intercept_)) return true;
  return std::any_of(weights_.begin(), weights_.end(), [](double w) { return !std::isfinite(w); });
}

std::string LogisticRegression::Save() const {
  core::StateWriter w;
  w.Put(options_.learning_rate);
  w.Put(options_.intercept_lr);
  w.Put(options_.intercept_init);
  w.Put(options_.l2);
  w.Put(options_.clip_gradient);
  w.Put(options_.positive_weight);
  w.Put(options_.negative_weight);
  w.Put<uint64_t>(weights_.size());
  w.PutVector(order_);
  std::vector<double> weights;  // Learned weights in insertion order.
  for (const int i : order_) weights.push_back(weights_[i]);
  w.PutVector(weights);
  w.Put(intercept_);
  w.Put(iterations_);
  return core::SealState(kKind, kFormatVersion, w.payload());
}

absl::Status LogisticRegression::Load(absl::string_view state) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(state, kKind, kFormatVersion));
  core::StateReader r(payload);
  Options o;
  uint64_t dimension = 0;
  std::vector<int> order;
  std::vector<double> weights;
  double intercept = 0;
  uint64_t iterations = 0;
  r.Get(&o.learning_rate);
  r.Get(&o.intercept_lr);
  r.Get(&o.intercept_init);
  r.Get(&o.l2);
  r.Get(&o.clip_gradient);
  r.Get(&o.positive_weight);
  r.Get(&o.negative_weight);
  r.Get(&dimension);
  r.GetVector(&order);
  r.GetVector(&weights);
  r.Get(&intercept);
  r.Get(&iterations);
  if (!r.done() || order.size() != weights.size()) {
    return absl::DataLossError("logistic regression state: malformed payload");
  }
  // Options compare bitwise: a model trained with other hyperparameters is another model.
  const auto same = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  if (!same(o.learning_rate, options_.learning_rate) ||
      !same(o.intercept_lr, options_.intercept_lr) ||
      !same(o.intercept_init, options_.intercept_init) || !same(o.l2, options_.l2) ||
      !same(o.clip_gradient, options_.clip_gradient) ||
      !same(o.positive_weight, options_.positive_weight) ||
      !same(o.negative_weight, options_.negative_weight)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "logistic regression state was saved with learning_rate=", o.learning_rate,
        " intercept_lr=", o.intercept_lr, " l2=", o.l2, "; this model has learning_rate=",
        options_.learning_rate, " intercept_lr=", options_.intercept_lr, " l2=", options_.l2));
  }
  if (dimension != weights_.size()) {
    return absl::FailedPreconditionError(absl::StrCat("logistic regression state has dimension ",
                                                      dimension, ", this model ", weights_.size()));
  }
  std::vector<double> dense(dimension, 0.0);
  std::vector<uint8_t> known(dimension, 0);
  for (size_t k = 0; k < order.size(); ++k) {
    const int i = order[k];
    if (i < 0 || static_cast<uint64_t>(i) >= dimension || known[i] != 0) {
      return absl::DataLossError("logistic regression state: bad feature order");
    }
    known[i] = 1;
    dense[i] = weights[k];
  }
  weights_ = std::move(dense);
  known_ = std::move(known);
  order_ = std::move(order);
  intercept_ = intercept;
  iterations_ = iterations;
  return absl::OkStatus();
}

}  // namespace sluice::learners
