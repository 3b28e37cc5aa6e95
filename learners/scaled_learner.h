// learners/scaled_learner.h. `scaler | model`, River's compose.Pipeline of one transformer and
// one learner, with River >= 0.19 semantics.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/learner.h"

namespace sluice::learners {

// Scores with the scaler's current statistics (nothing learns while scoring); learns by updating
// the scaler first, then the model on the example re-scaled with the updated statistics. Owns
// both parts. Not thread-safe (a scratch buffer is reused).
class ScaledLearner final : public Learner {
 public:
  // InvalidArgument if either part is null or their dimensions differ.
  static absl::StatusOr<std::unique_ptr<ScaledLearner>> Create(std::unique_ptr<Transformer> scaler,
                                                               std::unique_ptr<Learner> model);
  ScaledLearner(const ScaledLearner&) = delete;
  ScaledLearner& operator=(const ScaledLearner&) = delete;

  double ScoreOne(Features x) const override;
  void LearnOne(Features x, std::optional<bool> label) override;
  double ScoreThenLearn(Features scored, Features learned, std::optional<bool> label) override;
  int dimension() const override { return model_->dimension(); }
  // The model's explanation of x as it scores it (scaled), over the same features.
  std::optional<double> Explain(Features x, std::vector<double>* contributions) const override;
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;
  bool diverged() const override { return model_->diverged(); }

  const Transformer& scaler() const { return *scaler_; }
  const Learner& model() const { return *model_; }

 private:
  ScaledLearner(std::unique_ptr<Transformer> scaler, std::unique_ptr<Learner> model);

  std::unique_ptr<Transformer> scaler_;
  std::unique_ptr<Learner> model_;
  std::vector<double> scaled_;  // LearnOne's scratch; ScoreOne uses its own (thread-safe).
  std::vector<double> scored_;  // ScoreThenLearn's: scaled before the scaler learns.
};

}  // namespace sluice::learners
