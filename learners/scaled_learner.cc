// learners/scaled_learner.cc
#include "learners/scaled_learner.h"

#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "ScaledLearner";
constexpr uint16_t kFormatVersion = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<ScaledLearner>> ScaledLearner::Create(
    std::unique_ptr<Transformer> scaler, std::unique_ptr<Learner> model) {
  if (scaler == nullptr || model == nullptr) {
    return absl::InvalidArgumentError("scaled learner: scaler and model are required");
  }
  if (scaler->dimension() != model->dimension()) {
    return absl::InvalidArgumentError(absl::StrCat("scaled learner: scaler has dimension ",
                                                   scaler->dimension(), ", model ",
                                                   model->dimension()));
  }
  return std::unique_ptr<ScaledLearner>(new ScaledLearner(std::move(scaler), std::move(model)));
}

ScaledLearner::ScaledLearner(std::unique_ptr<Transformer> scaler, std::unique_ptr<Learner> model)
    : scaler_(std::move(scaler)),
      model_(std::move(model)),
      scaled_(static_cast<size_t>(model_->dimension())),
      scored_(static_cast<size_t>(model_->dimension())) {}

double ScaledLearner::ScoreOne(Features x) const {
  // A buffer of its own, on the stack for the usual widths, so that many threads may score one
  // immutable model at once.
  absl::InlinedVector<double, 64> scaled(x.size());
  scaler_->TransformOne(x, scaled);
  return model_->ScoreOne(scaled);
}

std::optional<double> ScaledLearner::Explain(Features x, std::vector<double>* contributions) const {
  absl::InlinedVector<double, 64> scaled(x.size());
  scaler_->TransformOne(x, scaled);
  return model_->Explain(scaled, contributions);
}

void ScaledLearner::LearnOne(Features x, std::optional<bool> label) {
  scaler_->LearnAndTransform(x, scaled_);
  model_->LearnOne(scaled_, label);
}

double ScaledLearner::ScoreThenLearn(Features scored, Features learned, std::optional<bool> label) {
  if (scored.data() == learned.data()) {
    scaler_->TransformLearnTransform(scored, scored_, scaled_);
  } else {
    scaler_->TransformOne(scored, scored_);
    scaler_->LearnAndTransform(learned, scaled_);
  }
  // Mostly the scaler's statistics did not move: one input tells the model both are the same.
  const bool moved =
      std::memcmp(scored_.data(), scaled_.data(), scaled_.size() * sizeof(double)) != 0;
  return model_->ScoreThenLearn(moved ? scored_ : scaled_, scaled_, label);
}

std::string ScaledLearner::Save() const {
  core::StateWriter w;
  w.PutString(scaler_->Save());
  w.PutString(model_->Save());
  return core::SealState(kKind, kFormatVersion, w.payload());
}

absl::Status ScaledLearner::Load(absl::string_view state) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(state, kKind, kFormatVersion));
  core::StateReader r(payload);
  std::string scaler_state, model_state;
  r.GetString(&scaler_state);
  r.GetString(&model_state);
  if (!r.done()) return absl::DataLossError("scaled learner state: malformed payload");
  // Load into the model last only after the scaler succeeded; restore the scaler on failure so
  // that an error leaves this learner unchanged.
  const std::string old_scaler = scaler_->Save();
  SLUICE_RETURN_IF_ERROR(scaler_->Load(scaler_state));
  if (absl::Status status = model_->Load(model_state); !status.ok()) {
    scaler_->Load(old_scaler).IgnoreError();  // Our own blob: it loads.
    return status;
  }
  return absl::OkStatus();
}

}  // namespace sluice::learners
