#include "core/memory.h"

#include <cstdint>
#include <limits>

#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

using ::sluice::testing::StatusIs;

TEST(FormatBytes, UsesDecimalUnitsWithThreeDigits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1500), "1.5 kB");
  EXPECT_EQ(FormatBytes(999'600), "1 MB");
  EXPECT_EQ(FormatBytes(uint64_t{100} * (uint64_t{2} << 24) * 16), "53.7 GB");
  EXPECT_EQ(FormatBytes(std::numeric_limits<uint64_t>::max()), "18.4 EB");
}

TEST(SaturatingMul, NeverWraps) {
  EXPECT_EQ(SaturatingMul(3, 5), 15u);
  EXPECT_EQ(SaturatingMul(uint64_t{1} << 40, uint64_t{1} << 40),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(SaturatingAdd(std::numeric_limits<uint64_t>::max(), 1),
            std::numeric_limits<uint64_t>::max());
}

TEST(CheckMemory, NamesWhatAndBothSizes) {
  EXPECT_OK(CheckMemory("x", 1000, 1000));
  EXPECT_THAT(CheckMemory("--metric-window 2147483647", 2'000'000'000, 1'000'000'000),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "--metric-window 2147483647 needs 2 GB but at most 1 GB of memory is "
                       "available"));
  EXPECT_GT(AvailableMemoryBytes(), uint64_t{1} << 20);
}

}  // namespace
}  // namespace sluice::core
