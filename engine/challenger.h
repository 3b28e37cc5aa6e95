// engine/challenger.h. Challengers: other models that score and learn every event in shadow,
// beside the champion (the run's pipeline), with AUCs of their own, so that an analyst sees
// whether another configuration would do better on this very stream. Never served.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/event.h"
#include "core/features.h"
#include "core/state_codec.h"
#include "engine/pipeline.h"

namespace sluice::engine {

// One challenger as given on the command line:
//   hst:trees=25,height=15,window=250,seed=7            MinMaxScaler | HalfSpaceTrees
//   logreg:lr=0.05,intercept_lr=0.01,l2=0.001,clip=1e12,pos_weight=1,neg_weight=1,scaler=minmax
// (StandardScaler unless scaler=minmax). What a spec leaves out takes River's default.
struct ChallengerSpec {
  std::string text;           // As given: the challenger's name in outputs.
  Pipeline::Options options;  // One model on: the anomaly model (hst) or the fraud model.
};
// InvalidArgument naming the spec and the part that is wrong.
absl::StatusOr<ChallengerSpec> ParseChallengerSpec(absl::string_view text);

// The challengers of a run, each a Pipeline with one model on. Not thread-safe: the runner's
// thread owns them.
class Challengers {
 public:
  // InvalidArgument if a challenger cannot be built (its options, or no features).
  static absl::StatusOr<std::unique_ptr<Challengers>> Create(
      const std::vector<ChallengerSpec>& specs, const std::vector<std::string>& features,
      int metric_window);

  // Each challenger's score of the event, in spec order, into *scores: an anomaly challenger scores
  // and then learns x at once (as the champion's anomaly model does); a fraud challenger predicts.
  void Score(const core::Event& event, std::vector<double>* scores);
  // The label of an event they scored as `scores`: their metrics, then the fraud challengers
  // learn x.
  void ApplyLabel(core::Features x, bool label, const std::vector<double>& scores);

  size_t size() const { return specs_.size(); }
  const ChallengerSpec& spec(size_t i) const { return specs_[i]; }
  bool anomaly(size_t i) const { return specs_[i].options.anomaly; }
  // The four AUCs of challenger i (of its one model).
  const ModelMetrics& metrics(size_t i) const;
  // Its learner's state (a registry version's model).
  std::string SaveModel(size_t i) const;
  // Its NaN scores (a scaler that has learned nothing, a model that diverged).
  const NanScores& nan(size_t i) const { return nan_[i]; }

  // Checkpoints. SaveMetrics/LoadMetrics: their specs and metrics, as Pipeline's (deltas of the
  // cumulative AUCs, LoadMetrics once per checkpoint of the chain, oldest first); SaveModels/
  // LoadModels: their learners and NaN counts (the last checkpoint). FailedPrecondition if the
  // saved challengers are not these (other --challenger flags); DataLoss if malformed.
  void SaveMetrics(core::StateWriter* w, bool whole);
  absl::Status LoadMetrics(core::StateReader* r);
  void SaveModels(core::StateWriter* w) const;
  absl::Status LoadModels(core::StateReader* r);

 private:
  Challengers() = default;
  std::vector<ChallengerSpec> specs_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  std::vector<NanScores> nan_;
};

}  // namespace sluice::engine
