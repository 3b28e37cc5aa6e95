// tests/support/learner_contract.h. The typed suite every Learner passes (STYLE.md section 7).
// A test file defines a factory struct with `static std::unique_ptr<learners::Learner> Make()`
// (dimension 4) and instantiates the suite with it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/random.h"
#include "learners/learner.h"
#include "tests/support/streams.h"
#include "tests/support/test_util.h"

namespace sluice::testing {

template <typename Factory>
class LearnerContract : public ::testing::Test {};
TYPED_TEST_SUITE_P(LearnerContract);

inline std::optional<bool> LabelOf(size_t i) { return i % 7 == 3; }

TYPED_TEST_P(LearnerContract, ScoringLeavesLaterScoresUnchanged) {
  auto scored = TypeParam::Make();
  auto plain = TypeParam::Make();
  const auto stream = UniformStream(11, 800, 4);
  for (size_t i = 0; i < stream.size(); ++i) {
    const double a = scored->ScoreOne(stream[i]);
    scored->ScoreOne(stream[(i * 31) % stream.size()]);  // Extra scoring must change nothing.
    EXPECT_EQ(a, plain->ScoreOne(stream[i])) << "event " << i;
    scored->LearnOne(stream[i], LabelOf(i));
    plain->LearnOne(stream[i], LabelOf(i));
  }
}

TYPED_TEST_P(LearnerContract, SameStreamGivesSameScores) {
  auto a = TypeParam::Make();
  auto b = TypeParam::Make();
  const auto stream = UniformStream(12, 800, 4);
  double total = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    const double score = a->ScoreOne(stream[i]);
    ASSERT_EQ(score, b->ScoreOne(stream[i])) << "event " << i;
    total += score;
    a->LearnOne(stream[i], LabelOf(i));
    b->LearnOne(stream[i], LabelOf(i));
  }
  EXPECT_GT(total, 0.0);  // The model did learn something.
}

// The one-pass ScoreAndLearnOne gives ScoreOne's score and leaves LearnOne's state, through
// the first window, examples that move a scaler's range (the fused path falls back) and missing
// features (a tree walk then reads the children's masses).
TYPED_TEST_P(LearnerContract, ScoreAndLearnOneEqualsScoreThenLearn) {
  auto fused = TypeParam::Make();
  auto plain = TypeParam::Make();
  auto stream = UniformStream(15, 1500, 4);
  core::PyRandom rng(16);
  for (size_t i = 0; i < stream.size(); ++i) {
    if (rng.Random() < 0.05) stream[i][rng.RandBelow(4)] = core::kMissing;
    if (i % 100 == 99) stream[i][rng.RandBelow(4)] = 1.0 + static_cast<double>(i) / 1000;
  }
  for (size_t i = 0; i < stream.size(); ++i) {
    const double expected = plain->ScoreOne(stream[i]);
    plain->LearnOne(stream[i], LabelOf(i));
    ASSERT_EQ(fused->ScoreAndLearnOne(stream[i], LabelOf(i)), expected) << "event " << i;
    if (i % 250 == 0) {
      ASSERT_EQ(fused->Save(), plain->Save()) << "event " << i;
    }
  }
  EXPECT_EQ(fused->Save(), plain->Save());
}

TYPED_TEST_P(LearnerContract, LoadOfSaveContinuesIdentically) {
  auto original = TypeParam::Make();
  const auto stream = UniformStream(13, 1200, 4);
  for (size_t i = 0; i < 600; ++i) original->LearnOne(stream[i], LabelOf(i));
  const std::string blob = original->Save();
  auto restored = TypeParam::Make();
  ASSERT_OK(restored->Load(blob));
  EXPECT_EQ(restored->Save(), blob);
  for (size_t i = 600; i < stream.size(); ++i) {
    ASSERT_EQ(original->ScoreOne(stream[i]), restored->ScoreOne(stream[i])) << "event " << i;
    original->LearnOne(stream[i], LabelOf(i));
    restored->LearnOne(stream[i], LabelOf(i));
  }
  EXPECT_EQ(original->Save(), restored->Save());
}

TYPED_TEST_P(LearnerContract, CorruptOrTruncatedStateIsDataLossAndChangesNothing) {
  auto model = TypeParam::Make();
  const auto stream = UniformStream(14, 300, 4);
  for (size_t i = 0; i < stream.size(); ++i) model->LearnOne(stream[i], LabelOf(i));
  const std::string blob = model->Save();
  auto target = TypeParam::Make();
  const std::string before = target->Save();
  // Every flipped byte and every truncation is refused.
  const size_t step = blob.size() > 4000 ? blob.size() / 997 : 1;
  for (size_t i = 0; i < blob.size(); i += step) {
    std::string corrupt = blob;
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
    EXPECT_THAT(target->Load(corrupt), StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
    EXPECT_THAT(target->Load(blob.substr(0, i)), StatusIs(absl::StatusCode::kDataLoss))
        << "truncated to " << i;
  }
  EXPECT_THAT(target->Load(""), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(target->Save(), before);
}

REGISTER_TYPED_TEST_SUITE_P(LearnerContract, ScoringLeavesLaterScoresUnchanged,
                            SameStreamGivesSameScores, ScoreAndLearnOneEqualsScoreThenLearn,
                            LoadOfSaveContinuesIdentically,
                            CorruptOrTruncatedStateIsDataLossAndChangesNothing);

}  // namespace sluice::testing
