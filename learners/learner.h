// learners/learner.h. The two online-model interfaces: a Learner scores one example before
// learning it (progressive validation), a Transformer rescales features. Neither does I/O,
// reads a clock or starts threads; one pipeline thread owns each instance.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/features.h"

namespace sluice::learners {

using core::Features;

// A model that learns from one example at a time. ScoreOne() is const: scoring never changes
// what later calls return.
class Learner {
 public:
  virtual ~Learner() = default;
  // Anomaly score (HalfSpaceTrees) or P(label = 1) (LogisticRegression).
  // Requires: x.size() == dimension(); missing features are core::kMissing.
  virtual double ScoreOne(Features x) const = 0;
  // Updates the model. `label` is used by supervised learners only.
  virtual void LearnOne(Features x, std::optional<bool> label) = 0;
  // ScoreOne(scored), then LearnOne(learned, label): the same score and the same state
  // afterwards. Models override it to do both in one pass. (A pipeline scores with its scaler's
  // statistics before it learns, and learns with them after: two inputs that mostly agree.)
  virtual double ScoreThenLearn(Features scored, Features learned, std::optional<bool> label) {
    const double score = ScoreOne(scored);
    LearnOne(learned, label);
    return score;
  }
  double ScoreAndLearnOne(Features x, std::optional<bool> label) {
    return ScoreThenLearn(x, x, label);
  }
  virtual int dimension() const = 0;
  // Why ScoreOne(x) is what it is, for models that can say (HalfSpaceTrees::ExplainOne): sets
  // (*contributions)[f] for every feature f and returns the share of no feature, which together
  // sum to ScoreOne(x). nullopt (and *contributions untouched) for the others.
  virtual std::optional<double> Explain(Features /*x*/,
                                        std::vector<double>* /*contributions*/) const {
    return std::nullopt;
  }
  // The whole model state. Load(Save()) reproduces every later score exactly, and equal states
  // give byte-identical blobs.
  virtual std::string Save() const = 0;
  // Replaces the state. DataLoss if `state` is corrupt, truncated or of another kind;
  // FailedPrecondition if it was saved with different options or dimension. On error the
  // learner is unchanged.
  virtual absl::Status Load(absl::string_view state) = 0;
  // True once the model's parameters are no longer all finite (e.g. SGD with a huge learning
  // rate or L2 penalty overflowed): its scores are then NaN or stuck at 0 or 1, and will stay
  // so. O(dimension) at most; meant for a check per snapshot or at the end of a run, while the
  // per-event check is std::isnan(score). Never changes what the model computes.
  virtual bool diverged() const { return false; }
};

// An online feature transformer (River's MinMaxScaler, StandardScaler).
class Transformer {
 public:
  virtual ~Transformer() = default;
  // Writes the transformed x into `out` using the current statistics (missing stays missing).
  // Requires: x.size() == out.size() == dimension().
  virtual void TransformOne(Features x, std::span<double> out) const = 0;
  // Updates the running statistics with x.
  virtual void LearnOne(Features x) = 0;
  // LearnOne(x), then TransformOne(x, out) with the updated statistics: what a pipeline does
  // when it learns. Scalers override it with one pass over the features.
  virtual void LearnAndTransform(Features x, std::span<double> out) {
    LearnOne(x);
    TransformOne(x, out);
  }
  // TransformOne(x, before), then LearnAndTransform(x, after): what a pipeline that scores and
  // then learns needs.
  virtual void TransformLearnTransform(Features x, std::span<double> before,
                                       std::span<double> after) {
    TransformOne(x, before);
    LearnAndTransform(x, after);
  }
  virtual int dimension() const = 0;
  virtual std::string Save() const = 0;
  // Same contract as Learner::Load.
  virtual absl::Status Load(absl::string_view state) = 0;
};

}  // namespace sluice::learners
