// engine/pipeline.cc
#include "engine/pipeline.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "engine/snapshotter.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"

namespace sluice::engine {

Pipeline::Pipeline(const Options& options, std::vector<std::string> feature_names)
    : options_(options),
      feature_names_(std::move(feature_names)),
      anomaly_metrics_(options.metric_window),
      fraud_metrics_(options.metric_window) {}

absl::StatusOr<std::unique_ptr<learners::Learner>> Pipeline::MakeAnomaly() const {
  const int dimension = static_cast<int>(feature_names_.size());
  SLUICE_ASSIGN_OR_RETURN(auto scaler, learners::MinMaxScaler::Create(dimension));
  SLUICE_ASSIGN_OR_RETURN(auto hst, learners::HalfSpaceTrees::Create(options_.hst, feature_names_));
  return learners::ScaledLearner::Create(std::move(scaler), std::move(hst));
}

absl::StatusOr<std::unique_ptr<learners::Learner>> Pipeline::MakeFraud() const {
  const int dimension = static_cast<int>(feature_names_.size());
  std::unique_ptr<learners::Transformer> scaler;
  if (options_.fraud_scaler == FraudScaler::kStandard) {
    SLUICE_ASSIGN_OR_RETURN(scaler, learners::StandardScaler::Create(dimension));
  } else {
    SLUICE_ASSIGN_OR_RETURN(scaler, learners::MinMaxScaler::Create(dimension));
  }
  SLUICE_ASSIGN_OR_RETURN(auto lr, learners::LogisticRegression::Create(options_.lr, dimension));
  return learners::ScaledLearner::Create(std::move(scaler), std::move(lr));
}

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Create(const Options& options,
                                                           std::vector<std::string> feature_names) {
  if (!options.anomaly && !options.fraud) {
    return absl::InvalidArgumentError("pipeline: no model selected");
  }
  if (options.metric_window < 1) {
    return absl::InvalidArgumentError("pipeline: metric window must be >= 1");
  }
  std::unique_ptr<Pipeline> pipeline(new Pipeline(options, std::move(feature_names)));
  const bool frozen = options.serving == Serving::kFrozen;
  if (options.anomaly) {
    SLUICE_ASSIGN_OR_RETURN(pipeline->anomaly_, pipeline->MakeAnomaly());
    if (frozen) {
      SLUICE_ASSIGN_OR_RETURN(pipeline->anomaly_serving_, pipeline->MakeAnomaly());
    }
  }
  if (options.fraud) {
    SLUICE_ASSIGN_OR_RETURN(pipeline->fraud_, pipeline->MakeFraud());
    if (frozen) {
      SLUICE_ASSIGN_OR_RETURN(pipeline->fraud_serving_, pipeline->MakeFraud());
    }
  }
  return pipeline;
}

double Pipeline::ScoreAndLearnAnomaly(core::Features x) {
  if (anomaly_ == nullptr) return std::numeric_limits<double>::quiet_NaN();
  if (anomaly_serving_ == nullptr) return anomaly_->ScoreAndLearnOne(x, std::nullopt);
  const double score = anomaly_serving_->ScoreOne(x);
  anomaly_->LearnOne(x, std::nullopt);
  return score;
}

double Pipeline::ScoreAnomaly(core::Features x) const {
  if (anomaly_ == nullptr) return std::numeric_limits<double>::quiet_NaN();
  return anomaly_serving_ != nullptr ? anomaly_serving_->ScoreOne(x) : anomaly_->ScoreOne(x);
}

bool Pipeline::ExplainAnomaly(core::Features x, int top, Explanation* out) const {
  if (anomaly_ == nullptr) return false;
  const learners::Learner& model = anomaly_serving_ != nullptr ? *anomaly_serving_ : *anomaly_;
  thread_local std::vector<double> shares;
  const std::optional<double> rest = model.Explain(x, &shares);
  if (!rest.has_value()) return false;
  out->rest = *rest;
  out->top.clear();
  for (size_t f = 0; f < shares.size(); ++f) out->top.emplace_back(static_cast<int>(f), shares[f]);
  const size_t k = std::min(out->top.size(), static_cast<size_t>(std::max(top, 0)));
  std::partial_sort(out->top.begin(), out->top.begin() + static_cast<ptrdiff_t>(k), out->top.end(),
                    [](const auto& a, const auto& b) {
                      return a.second > b.second || (a.second == b.second && a.first < b.first);
                    });
  out->top.resize(k);
  return true;
}

double Pipeline::ScoreFraud(core::Features x) const {
  if (fraud_ == nullptr) return std::numeric_limits<double>::quiet_NaN();
  return fraud_serving_ != nullptr ? fraud_serving_->ScoreOne(x) : fraud_->ScoreOne(x);
}

void Pipeline::ApplyLabel(core::Features x, bool label, const Scores& scores) {
  if (anomaly_ != nullptr) anomaly_metrics_.Update(label, scores.anomaly);
  if (fraud_ != nullptr) {
    fraud_metrics_.Update(label, scores.fraud);
    fraud_->LearnOne(x, label);
  }
}

std::string Pipeline::SaveAnomaly() const {
  return anomaly_ != nullptr ? anomaly_->Save() : std::string();
}

std::string Pipeline::SaveFraud() const {
  return fraud_ != nullptr ? fraud_->Save() : std::string();
}

namespace {

// Loads `state` into `model` (a model that is off expects an empty state).
absl::Status LoadInto(learners::Learner* model, absl::string_view state, const char* which) {
  if (model == nullptr || state.empty()) {
    if ((model == nullptr) == state.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("the snapshot's ", which, " model is ", state.empty() ? "off" : "on",
                     " but this run's is ", model == nullptr ? "off" : "on"));
  }
  return model->Load(state);
}

}  // namespace

absl::Status Pipeline::PromoteAnomaly(absl::string_view state) {
  return anomaly_serving_ != nullptr ? LoadInto(anomaly_serving_.get(), state, "anomaly")
                                     : absl::OkStatus();
}

absl::Status Pipeline::PromoteFraud(absl::string_view state) {
  return fraud_serving_ != nullptr ? LoadInto(fraud_serving_.get(), state, "fraud")
                                   : absl::OkStatus();
}

absl::Status Pipeline::RestoreAnomaly(absl::string_view state) {
  SLUICE_RETURN_IF_ERROR(LoadInto(anomaly_.get(), state, "anomaly"));
  return PromoteAnomaly(state);
}

absl::Status Pipeline::RestoreFraud(absl::string_view state) {
  SLUICE_RETURN_IF_ERROR(LoadInto(fraud_.get(), state, "fraud"));
  return PromoteFraud(state);
}

absl::Status Pipeline::RestoreModels(absl::string_view blob) {
  std::string anomaly, fraud;
  SLUICE_RETURN_IF_ERROR(UnpackModels(blob, &anomaly, &fraud));
  SLUICE_RETURN_IF_ERROR(RestoreAnomaly(anomaly));
  return RestoreFraud(fraud);
}

void ModelMetrics::Save(core::StateWriter* w) const {
  w->Put<int64_t>(labels);
  rolling.Save(w);
  river.Save(w);
  river_rolling.Save(w);
}

bool ModelMetrics::Load(core::StateReader* r) {
  return r->Get(&labels) && rolling.Load(r) && river.Load(r) && river_rolling.Load(r);
}

void Pipeline::SaveMetrics(core::StateWriter* w, bool whole) {
  for (ModelMetrics* m : {&anomaly_metrics_, &fraud_metrics_}) {
    m->Save(w);
    if (whole) {
      m->auc.SaveAll(w);
    } else {
      m->auc.SaveDelta(w);
    }
  }
}

bool Pipeline::LoadMetrics(core::StateReader* r) {
  for (ModelMetrics* m : {&anomaly_metrics_, &fraud_metrics_}) {
    if (!m->Load(r) || !m->auc.LoadDelta(r)) return false;
  }
  return true;
}

}  // namespace sluice::engine
