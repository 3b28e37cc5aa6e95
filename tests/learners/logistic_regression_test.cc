#include "learners/logistic_regression.h"

#include <cmath>
#include <limits>
#include <vector>

#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tests/support/streams.h"
#include "tests/support/test_util.h"

namespace sluice::learners {
namespace {

using ::sluice::testing::StatusIs;

std::unique_ptr<LogisticRegression> Make(const LogisticRegression::Options& options, int dim) {
  return LogisticRegression::Create(options, dim).value();
}

TEST(LogisticRegression, PredictsOneHalfBeforeLearning) {
  auto lr = Make({}, 3);
  EXPECT_EQ(lr->ScoreOne(std::vector<double>{1, 2, 3}), 0.5);
}

TEST(LogisticRegression, OneSgdStepByHand) {
  auto lr = Make({}, 2);
  lr->LearnOne(std::vector<double>{1.0, 2.0}, true);
  // logit 0 -> gradient -1 / (exp(0) + 1) = -0.5; w = 0 - 0.01 * (x * -0.5); b = 0.005.
  EXPECT_EQ(lr->weight(0), 0.005);
  EXPECT_EQ(lr->weight(1), 0.01);
  EXPECT_EQ(lr->intercept(), 0.005);
  const double logit = (0.0 + 0.005 * 3.0 + 0.01 * -1.0) + 0.005;
  EXPECT_EQ(lr->ScoreOne(std::vector<double>{3.0, -1.0}), 1.0 / (1.0 + std::exp(-logit)));
}

TEST(LogisticRegression, GradientMatchesFiniteDifferenceOfLogLoss) {
  // The step moves the weights along -lr * dloss/dw; compare with a central difference.
  const std::vector<double> x = {0.3, -1.2, 2.0};
  auto lr = Make({}, 3);
  for (int i = 0; i < 20; ++i) lr->LearnOne(testing::UniformStream(4, 20, 3, -1, 1)[i], i % 3 == 0);
  const auto loss = [&](const std::vector<double>& w, double b) {
    double z = b;
    for (int i = 0; i < 3; ++i) z += w[i] * x[i];
    return std::log1p(std::exp(-z));  // Label 1.
  };
  std::vector<double> w = {lr->weight(0), lr->weight(1), lr->weight(2)};
  const double b = lr->intercept();
  lr->LearnOne(x, true);
  for (int i = 0; i < 3; ++i) {
    std::vector<double> plus = w, minus = w;
    plus[i] += 1e-6;
    minus[i] -= 1e-6;
    const double numeric = (loss(plus, b) - loss(minus, b)) / 2e-6;
    // Central differences are accurate to ~1e-9 here; the step is 0.01 * gradient.
    EXPECT_NEAR((w[i] - lr->weight(i)) / 0.01, numeric, 1e-7) << "weight " << i;
  }
}

TEST(LogisticRegression, ClampsTheSigmoid) {
  EXPECT_EQ(Sigmoid(-30.5), 0.0);
  EXPECT_EQ(Sigmoid(30.5), 1.0);
  EXPECT_EQ(Sigmoid(0.0), 0.5);
}

TEST(LogisticRegression, GradientClipAndClassWeightsApply) {
  auto clipped = Make({.clip_gradient = 0.1}, 1);
  clipped->LearnOne(std::vector<double>{1.0}, true);  // Gradient -0.5 clipped to -0.1.
  EXPECT_EQ(clipped->weight(0), 0.001);
  auto weighted = Make({.positive_weight = 4.0}, 1);
  weighted->LearnOne(std::vector<double>{1.0}, true);  // Gradient 4 * -1 / 2 = -2.
  EXPECT_EQ(weighted->weight(0), 0.02);
}

TEST(LogisticRegression, L2ShrinksTheWeights) {
  auto plain = Make({}, 1);
  auto ridge = Make({.l2 = 0.5}, 1);
  for (int i = 0; i < 50; ++i) {
    plain->LearnOne(std::vector<double>{1.0}, true);
    ridge->LearnOne(std::vector<double>{1.0}, true);
  }
  EXPECT_LT(ridge->weight(0), plain->weight(0));
  EXPECT_GT(ridge->weight(0), 0.0);
}

TEST(LogisticRegression, MissingFeaturesNeitherLearnNorScore) {
  auto lr = Make({}, 2);
  lr->LearnOne(std::vector<double>{1.0, core::kMissing}, true);
  EXPECT_EQ(lr->weight(1), 0.0);
  EXPECT_EQ(lr->ScoreOne(std::vector<double>{core::kMissing, 5.0}), Sigmoid(0.0 + lr->intercept()));
}

TEST(LogisticRegression, DivergedReportsNonFiniteParametersWithoutChangingResults) {
  // --lr-l2 1000: w <- w - 0.01 (x g + 1000 w) = -9 w - 0.01 x g, so |w| grows 9x a step until it
  // overflows to inf, and inf - inf then gives NaN.
  auto lr = Make({.l2 = 1000}, 1);
  auto same = Make({.l2 = 1000}, 1);
  EXPECT_FALSE(lr->diverged());
  lr->LearnOne(std::vector<double>{1.0}, true);  // Gradient -0.5: w = 0.005, as without l2.
  EXPECT_EQ(lr->weight(0), 0.005);
  EXPECT_FALSE(lr->diverged());
  int steps = 1;
  while (!lr->diverged() && steps < 1000) {
    lr->LearnOne(std::vector<double>{1.0}, steps % 2 == 0);
    ++steps;
  }
  EXPECT_TRUE(lr->diverged());
  EXPECT_GT(steps, 300);  // 9^k overflows near k = 323.
  EXPECT_LT(steps, 340);
  EXPECT_FALSE(std::isfinite(lr->weight(0)));
  for (int i = 0; i < 5; ++i) lr->LearnOne(std::vector<double>{1.0}, i % 2 == 0);
  EXPECT_TRUE(std::isnan(lr->weight(0)));
  EXPECT_TRUE(std::isnan(lr->ScoreOne(std::vector<double>{1.0})));
  // A diverged state saves and loads like any other.
  ASSERT_OK(same->Load(lr->Save()));
  EXPECT_TRUE(same->diverged());
  EXPECT_EQ(same->Save(), lr->Save());
  // Through a scaler pipeline too.
  ASSERT_OK_AND_ASSIGN(auto scaler, StandardScaler::Create(1));
  ASSERT_OK_AND_ASSIGN(auto pipeline,
                       ScaledLearner::Create(std::move(scaler), Make({.l2 = 1000}, 1)));
  EXPECT_FALSE(pipeline->diverged());
  for (int i = 0; i < 1000; ++i) pipeline->LearnOne(std::vector<double>{i % 3 * 1.0}, i % 2 == 0);
  EXPECT_TRUE(pipeline->diverged());
}

TEST(LogisticRegression, RejectsBadOptions) {
  EXPECT_THAT(LogisticRegression::Create({.learning_rate = -1}, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LogisticRegression::Create({.l2 = NAN}, 2),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LogisticRegression::Create({}, 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LogisticRegression, LoadRefusesOtherHyperparameters) {
  auto a = Make({}, 2);
  a->LearnOne(std::vector<double>{1.0, 2.0}, false);
  auto b = Make({.learning_rate = 0.1}, 2);
  EXPECT_THAT(b->Load(a->Save()), StatusIs(absl::StatusCode::kFailedPrecondition));
  auto c = Make({}, 3);
  EXPECT_THAT(c->Load(a->Save()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// River 0.26.1 walks x's keys, multiplying even by unknown weights (0.0): a NaN value (what a
// fresh MinMaxScaler makes of every feature) makes the score NaN, while a missing feature
// (core::kMissing) is skipped. Found by the differential test against River (issue #6).
TEST(LogisticRegression, ANanValueMakesTheScoreNanButAMissingFeatureIsSkipped) {
  auto model = Make({}, 2);
  const double value_nan = -std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(core::IsMissing(value_nan));
  EXPECT_TRUE(std::isnan(model->ScoreOne(std::vector<double>{value_nan, 1.0})));
  EXPECT_EQ(model->ScoreOne(std::vector<double>{core::kMissing, 1.0}), 0.5);
  auto scaled = ScaledLearner::Create(MinMaxScaler::Create(2).value(), Make({}, 2)).value();
  EXPECT_TRUE(std::isnan(scaled->ScoreOne(std::vector<double>{3.0, 4.0})));  // Nothing learned.
  EXPECT_TRUE(core::IsMissing(0.0 * core::kMissing + 1.0));  // Missing stays missing.
  scaled->LearnOne(std::vector<double>{3.0, 4.0}, true);
  EXPECT_FALSE(std::isnan(scaled->ScoreOne(std::vector<double>{3.0, 4.0})));
}

}  // namespace
}  // namespace sluice::learners
