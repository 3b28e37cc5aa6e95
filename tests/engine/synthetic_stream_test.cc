#include "engine/synthetic_stream.h"

#include <regex>
#include <string>

#include "core/sha256.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

std::string ReadAll(ByteStream& stream) {
  std::string out;
  char buf[4096];
  while (true) {
    const size_t n = stream.Read(buf, sizeof(buf)).value();
    if (n == 0) return out;
    out.append(buf, n);
  }
}

// The oracle's input: gen_synth.py --seed 1 --rows 20000, whose SHA-256 summary.json records.
TEST(SyntheticStream, IsByteIdenticalToTheOracleGenerator) {
  SLUICE_REQUIRE_FILE(testing::OracleFile("summary.json"));
  const std::string summary = testing::ReadFileOrDie(testing::OracleFile("summary.json"));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(summary, match,
                                std::regex("\"sha256_uncompressed_csv\": \"([0-9a-f]{64})\"")));
  auto stream = NewSyntheticCsvStream(1, 20000);
  EXPECT_EQ(core::Sha256Hex(ReadAll(*stream)), match[1].str());
}

TEST(SyntheticStream, HasOneFraudPerBlockAndIsDeterministic) {
  auto a = NewSyntheticCsvStream(7, 2000);
  auto b = NewSyntheticCsvStream(7, 2000);
  const std::string text = ReadAll(*a);
  EXPECT_EQ(text, ReadAll(*b));
  int frauds = 0, rows = 0;
  size_t start = text.find('\n') + 1;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ++rows;
    if (text.compare(end - 2, 2, ",1") == 0) ++frauds;
    start = end + 1;
  }
  EXPECT_EQ(rows, 2000);
  EXPECT_EQ(frauds, 4);
  EXPECT_EQ(ReadAll(*NewSyntheticCsvStream(1, 0)).find('\n'), text.find('\n'));
}

}  // namespace
}  // namespace sluice::engine
