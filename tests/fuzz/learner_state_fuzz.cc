// tests/fuzz/learner_state_fuzz.cc. Learner and Transformer Load() over arbitrary bytes.
//
// Input: one selector byte, then the bytes to load. Selector bits 0-2 pick the model (see
// kModels), bit 3 seals the bytes first (core::SealState with the model's kind and format), so
// that the payload parser is fuzzed behind a valid envelope; otherwise the bytes are the whole
// blob. All models have 3 features. A failed Load must leave a usable model; a successful one
// must score, learn and save, and Save() must load back to the same blob.
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/features.h"
#include "core/state_codec.h"
#include "learners/half_space_trees.h"
#include "learners/logistic_regression.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice::fuzz {
namespace {

using learners::Learner;
using learners::Transformer;

constexpr int kDimension = 3;

std::unique_ptr<learners::HalfSpaceTrees> NewTrees() {
  const learners::HalfSpaceTrees::Options options{
      .num_trees = 3, .height = 4, .window_size = 16, .seed = 7};
  return learners::HalfSpaceTrees::Create(options, {"a", "b", "c"}).value();
}
std::unique_ptr<learners::LogisticRegression> NewLogistic() {
  return learners::LogisticRegression::Create({}, kDimension).value();
}

// Either a Learner or a Transformer, behind one interface.
struct Model {
  std::unique_ptr<Learner> learner;
  std::unique_ptr<Transformer> transformer;
  const char* kind;

  absl::Status Load(absl::string_view state) {
    return learner ? learner->Load(state) : transformer->Load(state);
  }
  std::string Save() const { return learner ? learner->Save() : transformer->Save(); }
  void Exercise(core::Features x, std::optional<bool> label) {
    if (learner) {
      const double score = learner->ScoreOne(x);
      SLUICE_FUZZ_CHECK(!(score < 0.0) && !(score > 1.0));  // In [0, 1] or NaN.
      learner->LearnOne(x, label);
    } else {
      std::array<double, kDimension> out;
      transformer->TransformOne(x, out);
      transformer->LearnOne(x);
    }
  }
};

Model NewModel(int which) {
  switch (which) {
    case 0:
      return {nullptr, learners::MinMaxScaler::Create(kDimension).value(), "MinMaxScaler"};
    case 1:
      return {nullptr, learners::StandardScaler::Create(kDimension).value(), "StandardScaler"};
    case 2:
      return {NewTrees(), nullptr, "HalfSpaceTrees"};
    case 3:
      return {NewLogistic(), nullptr, "LogisticRegression"};
    case 4:
      return {learners::ScaledLearner::Create(learners::MinMaxScaler::Create(kDimension).value(),
                                              NewTrees())
                  .value(),
              nullptr, "ScaledLearner"};
    default:
      return {learners::ScaledLearner::Create(learners::StandardScaler::Create(kDimension).value(),
                                              NewLogistic())
                  .value(),
              nullptr, "ScaledLearner"};
  }
}

const std::vector<std::vector<double>> kExamples = {
    {0.25, 0.5, 0.75}, {0.0, 1.0, 0.5}, {core::kMissing, 0.5, 0.1}, {-3.0, 1e9, 0.0}};

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::fuzz;  // NOLINT(google-build-using-namespace): a fuzz entry point.
  if (size < 1) return 0;
  const int which = (data[0] & 7) % 6;
  const bool seal = (data[0] & 8) != 0;
  Model model = NewModel(which);
  const std::string fresh = model.Save();
  const absl::string_view bytes = Bytes(data + 1, size - 1);
  const std::string blob =
      seal ? sluice::core::SealState(model.kind, 1, bytes) : std::string(bytes);

  if (!model.Load(blob).ok()) {
    SLUICE_FUZZ_CHECK(model.Save() == fresh);  // Unchanged on error.
    return 0;
  }
  const std::string loaded = model.Save();
  Model copy = NewModel(which);
  SLUICE_FUZZ_CHECK(copy.Load(loaded).ok());
  SLUICE_FUZZ_CHECK(copy.Save() == loaded);
  for (const std::vector<double>& x : kExamples) {
    model.Exercise(x, x[0] > 0.1);
  }
  SLUICE_FUZZ_CHECK(copy.Load(model.Save()).ok());
  return 0;
}
