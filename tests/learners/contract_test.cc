// Every learner passes the shared contract (tests/support/learner_contract.h).
#include <memory>

#include "learners/half_space_trees.h"
#include "learners/logistic_regression.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tests/support/learner_contract.h"

namespace sluice::testing {
namespace {

using learners::Learner;

const std::vector<std::string> kNames = {"a", "b", "c", "d"};

struct HstFactory {
  static std::unique_ptr<Learner> Make() {
    return learners::HalfSpaceTrees::Create(
               {.num_trees = 5, .height = 6, .window_size = 50, .seed = 3}, kNames)
        .value();
  }
};
struct LrFactory {
  static std::unique_ptr<Learner> Make() {
    return learners::LogisticRegression::Create({.learning_rate = 0.05}, 4).value();
  }
};
struct MinMaxHstFactory {
  static std::unique_ptr<Learner> Make() {
    return learners::ScaledLearner::Create(learners::MinMaxScaler::Create(4).value(),
                                           HstFactory::Make())
        .value();
  }
};
struct StandardLrFactory {
  static std::unique_ptr<Learner> Make() {
    return learners::ScaledLearner::Create(learners::StandardScaler::Create(4).value(),
                                           LrFactory::Make())
        .value();
  }
};

using Factories = ::testing::Types<HstFactory, LrFactory, MinMaxHstFactory, StandardLrFactory>;
INSTANTIATE_TYPED_TEST_SUITE_P(AllLearners, LearnerContract, Factories);

}  // namespace
}  // namespace sluice::testing
