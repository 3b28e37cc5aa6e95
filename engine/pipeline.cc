// engine/pipeline.cc
#include "engine/pipeline.h"

#include <limits>

#include "core/status_macros.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"

namespace sluice::engine {

Pipeline::Pipeline(const Options& options, std::vector<std::string> feature_names)
    : options_(options),
      feature_names_(std::move(feature_names)),
      anomaly_metrics_(options.metric_window),
      fraud_metrics_(options.metric_window) {}

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(const Options& options,
                                                           std::vector<std::string> feature_names) {
  if (!options.anomaly && !options.fraud) {
    return absl::InvalidArgumentError("pipeline: no model selected");
  }
  if (options.metric_window < 1) {
    return absl::InvalidArgumentError("pipeline: metric window must be >= 1");
  }
  const int dimension = static_cast<int>(feature_names.size());
  std::unique_ptr<Pipeline> pipeline(new Pipeline(options, feature_names));
  if (options.anomaly) {
    SLUICE_ASSIGN_OR_RETURN(auto scaler, learners::MinMaxScaler::Create(dimension));
    SLUICE_ASSIGN_OR_RETURN(auto hst, learners::HalfSpaceTrees::Create(options.hst, feature_names));
    SLUICE_ASSIGN_OR_RETURN(pipeline->anomaly_,
                            learners::ScaledLearner::Create(std::move(scaler), std::move(hst)));
  }
  if (options.fraud) {
    std::unique_ptr<learners::Transformer> scaler;
    if (options.fraud_scaler == FraudScaler::kStandard) {
      SLUICE_ASSIGN_OR_RETURN(scaler, learners::StandardScaler::Create(dimension));
    } else {
      SLUICE_ASSIGN_OR_RETURN(scaler, learners::MinMaxScaler::Create(dimension));
    }
    SLUICE_ASSIGN_OR_RETURN(auto lr, learners::LogisticRegression::Create(options.lr, dimension));
    SLUICE_ASSIGN_OR_RETURN(pipeline->fraud_,
                            learners::ScaledLearner::Create(std::move(scaler), std::move(lr)));
  }
  return pipeline;
}

double Pipeline::ScoreAndLearnAnomaly(core::Features x) {
  if (anomaly_ == nullptr) return std::numeric_limits<double>::quiet_NaN();
  const double score = anomaly_->ScoreOne(x);
  anomaly_->LearnOne(x, std::nullopt);
  return score;
}

double Pipeline::ScoreFraud(core::Features x) const {
  if (fraud_ == nullptr) return std::numeric_limits<double>::quiet_NaN();
  return fraud_->ScoreOne(x);
}

void Pipeline::ApplyLabel(core::Features x, bool label, const Scores& scores) {
  if (anomaly_ != nullptr) anomaly_metrics_.Update(label, scores.anomaly);
  if (fraud_ != nullptr) {
    fraud_metrics_.Update(label, scores.fraud);
    fraud_->LearnOne(x, label);
  }
}

}  // namespace sluice::engine
