#include "engine/synthetic_stream.h"

#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/format.h"
#include "core/random.h"
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

// The stream as engine/synthetic_stream.cc wrote it before its exact integer rounding path:
// gen_synth.py transcribed, each number rounded through to_chars' correctly rounded text and
// from_chars, then core::FormatPythonRepr. A reference to compare on many more seeds than the
// oracle digests cover.
std::string ReferenceCsv(uint64_t seed, int64_t rows) {
  constexpr double kSd[28] = {1.96,  1.65,  1.52,  1.42,  1.38,  1.33,  1.24,  1.19,  1.10,  1.09,
                              1.02,  1.00,  0.995, 0.96,  0.915, 0.876, 0.849, 0.838, 0.814, 0.771,
                              0.735, 0.726, 0.624, 0.606, 0.521, 0.482, 0.404, 0.330};
  const std::map<int, double> fraud_shift = {
      {1, -4.0}, {2, 3.0},   {3, -6.0},  {4, 4.0},   {7, -5.0},  {9, -2.5}, {10, -5.0},
      {11, 3.5}, {12, -6.0}, {14, -7.0}, {16, -4.0}, {17, -6.0}, {18, -2.0}};
  const auto round_text = [](double v, int digits) {
    char buf[64];
    return std::string(
        buf, std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, digits).ptr);
  };
  const auto python_round = [&](double v, int digits) {
    const std::string text = round_text(v, digits);
    double rounded = 0;
    std::from_chars(text.data(), text.data() + text.size(), rounded);
    return rounded;
  };
  core::PyRandom rng(seed);
  std::set<int64_t> frauds;
  for (int64_t b = 0; b < (rows + 499) / 500; ++b) {
    const int64_t i = b * 500 + static_cast<int64_t>(rng.RandBelow(500));
    if (i < rows) frauds.insert(i);
  }
  std::string out = "Time";
  for (int j = 1; j <= 28; ++j) out += ",V" + std::to_string(j);
  out += ",Amount,Class\n";
  int64_t t = 0;
  for (int64_t i = 0; i < rows; ++i) {
    if (i > 0) t += static_cast<int64_t>(std::floor(rng.ExpoVariate(1.0 / 0.6)));
    const bool fraud = frauds.count(i) != 0;
    out += round_text(static_cast<double>(t), 1);
    for (int j = 1; j <= 28; ++j) {
      const bool outlier = rng.Random() < 0.01;
      const auto shift = fraud_shift.find(j);
      const double mu = fraud && shift != fraud_shift.end() ? shift->second * 0.15 : 0.0;
      double sd = fraud ? kSd[j - 1] * 1.5 : kSd[j - 1];
      if (outlier) sd *= 4.0;
      out += ',' + core::FormatPythonRepr(python_round(rng.Gauss(mu, sd), 6));
    }
    const double amount = fraud ? rng.LogNormVariate(3.5, 1.8) : rng.LogNormVariate(3.0, 1.4);
    out += ',' + round_text(python_round(amount, 2), 2) + (fraud ? ",1\n" : ",0\n");
  }
  return out;
}

TEST(SyntheticStream, EqualsTheTextRoundTripReferenceOnManySeeds) {
  for (uint64_t seed = 100; seed < 140; ++seed) {
    const int64_t rows = 1 + static_cast<int64_t>(seed % 7) * 300;
    ASSERT_EQ(ReadAll(*NewSyntheticCsvStream(seed, rows)), ReferenceCsv(seed, rows)) << seed;
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

// SHA-256 of `python3 gen_synth.py --seed S --rows N` (../shared/reference/oracle/gen_synth.py,
// CPython 3.11): other seeds (a 64-bit one among them, which seeds from two key words), partial
// blocks, a single row and the 100,000 rows `sluice replay` reads by default.
TEST(SyntheticStream, IsByteIdenticalToTheOracleForOtherSeedsAndRowCounts) {
  struct Case {
    uint64_t seed;
    int64_t rows;
    const char* sha256;
  };
  for (const Case& c : {
           Case{0, 1000, "8b2b7c56a08b1ab55eaa9c1f16357a4efba7f45a099a8dd4687e4d1b97cfd766"},
           Case{2, 1, "b767ca2acdaf16da5e736b76ebd146beb8b74e1da90f25e8e9249baa77b42f88"},
           Case{7, 2001, "38795ad978d7c0ba05114a3fba12eb166db675d0b155c38b3c47a8c90358fff7"},
           Case{42, 5000, "276dfd6baf33a4aa6f379fcb0eab3c4bdd33b28a3f0abbede09a171d9ff08131"},
           Case{4294967301, 777,
                "f3f579e877580979b9dcdac21f8c72893a4ea7d338e02b4613755ce10ba97d42"},
           Case{123456789, 10000,
                "f0954b68bb5f326e41f4e844256d18fa9dd7e3ae7aad08a042d52504d02ae523"},
           Case{1, 100000, "fe63441bf052f74b106763607cb9b35be2a4cacd48c2e15c2f54286405c75d84"},
       }) {
    auto stream = NewSyntheticCsvStream(c.seed, c.rows);
    EXPECT_EQ(core::Sha256Hex(ReadAll(*stream)), c.sha256) << c.seed << " " << c.rows;
  }
}

// Reads in chunks of every size from 1 byte up, so that rows straddle reads at every offset;
// the text must not depend on how it is read.
TEST(SyntheticStream, ChunkSizeDoesNotChangeTheBytes) {
  const std::string whole = ReadAll(*NewSyntheticCsvStream(3, 600));
  for (size_t chunk = 1; chunk <= 5000; chunk += chunk < 64 ? 1 : 97) {
    auto stream = NewSyntheticCsvStream(3, 600);
    std::string text;
    std::vector<char> buf(chunk);
    while (const size_t n = stream->Read(buf.data(), buf.size()).value())
      text.append(buf.data(), n);
    ASSERT_EQ(text, whole) << "chunk " << chunk;
  }
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

// An injection moves one feature of every N-th row by its shift and leaves every other byte
// (and every later draw) as it was.
TEST(SyntheticStream, AnInjectionMovesOneFeatureOfEveryNthRowAndNothingElse) {
  const auto rows = [](const std::string& text) {
    std::vector<std::vector<std::string>> out;
    std::stringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> fields;
      std::stringstream cells(line);
      for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
      out.push_back(fields);
    }
    return out;
  };
  const auto base = rows(ReadAll(*NewSyntheticCsvStream(5, 1000)));
  const auto injected =
      rows(ReadAll(*NewSyntheticCsvStream(5, 1000, {.feature = 3, .shift_sd = 6, .every = 40})));
  ASSERT_EQ(base.size(), injected.size());
  int moved = 0;
  for (size_t line = 1; line < base.size(); ++line) {
    const bool chosen = line % 40 == 0;  // Row line - 1: rows 39, 79, ...
    for (size_t c = 0; c < base[line].size(); ++c) {
      if (chosen && c == 3) {
        // V3's normal standard deviation is 1.52; both values are rounded to 6 digits.
        EXPECT_NEAR(std::stod(injected[line][c]) - std::stod(base[line][c]), 6 * 1.52, 2e-6);
        ++moved;
      } else {
        ASSERT_EQ(injected[line][c], base[line][c]) << "line " << line << " column " << c;
      }
    }
  }
  EXPECT_EQ(moved, 25);
}

}  // namespace
}  // namespace sluice::engine
