#include "core/state_codec.h"

#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

std::string Sample() {
  StateWriter w;
  w.Put<int32_t>(-7);
  w.PutString("feature");
  w.PutVector(std::vector<double>{1.5, -2.25});
  return SealState("Sample", 3, w.payload());
}

TEST(StateCodec, RoundTripsValues) {
  const std::string blob = Sample();  // OpenState returns a view into it.
  ASSERT_OK_AND_ASSIGN(const absl::string_view payload, OpenState(blob, "Sample", 3));
  StateReader r(payload);
  int32_t i = 0;
  std::string s;
  std::vector<double> v;
  EXPECT_TRUE(r.Get(&i));
  EXPECT_TRUE(r.GetString(&s));
  EXPECT_TRUE(r.GetVector(&v));
  EXPECT_TRUE(r.done());
  EXPECT_EQ(i, -7);
  EXPECT_EQ(s, "feature");
  EXPECT_EQ(v, (std::vector<double>{1.5, -2.25}));
}

TEST(StateCodec, EveryFlippedByteIsDataLoss) {
  const std::string blob = Sample();
  for (size_t i = 0; i < blob.size(); ++i) {
    for (const int mask : {0x01, 0x80, 0xff}) {
      std::string corrupt = blob;
      corrupt[i] = static_cast<char>(corrupt[i] ^ mask);
      EXPECT_THAT(OpenState(corrupt, "Sample", 3), StatusIs(absl::StatusCode::kDataLoss))
          << "byte " << i << " mask " << mask;
    }
  }
}

TEST(StateCodec, TruncationIsDataLoss) {
  const std::string blob = Sample();
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_THAT(OpenState(blob.substr(0, n), "Sample", 3), StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST(StateCodec, OtherKindIsDataLossAndNewerVersionIsRefused) {
  EXPECT_THAT(OpenState(Sample(), "Other", 3),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("\"Sample\"")));
  EXPECT_THAT(OpenState(Sample(), "Sample", 2),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 3")));
}

// Found by tests/fuzz/state_codec_fuzz.cc: reading an empty vector (an untrained
// LogisticRegression's) called memcpy with a null pointer, which UBSan reports under clang.
TEST(StateReader, EmptyVectorReadsBackEmpty) {
  StateWriter w;
  w.PutVector(std::vector<double>{});
  w.PutVector(std::vector<int>{});
  StateReader r(w.payload());
  std::vector<double> doubles = {1.0};
  std::vector<int> ints = {1};
  EXPECT_TRUE(r.GetVector(&doubles));
  EXPECT_TRUE(r.GetVector(&ints));
  EXPECT_TRUE(r.done());
  EXPECT_TRUE(doubles.empty());
  EXPECT_TRUE(ints.empty());
}

TEST(StateReader, OverrunFailsWithoutReadingPastTheEnd) {
  StateWriter w;
  w.Put<uint64_t>(1000);  // Claims a 1000-element vector that is not there.
  StateReader r(w.payload());
  std::vector<double> v;
  EXPECT_FALSE(r.GetVector(&v));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace sluice::core
