#include "core/flat_json.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/random.h"
#include "tests/support/test_util.h"

namespace sluice::core {
namespace {

// True if `s` is well-formed UTF-8 (RFC 3629), checked independently of flat_json.cc.
bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) {
      n = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// True if `quoted` is one JSON string literal by RFC 8259: no raw control character, only the
// defined escapes.
bool IsJsonString(const std::string& quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return false;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    const auto c = static_cast<unsigned char>(quoted[i]);
    if (c < 0x20 || c == '"') return false;
    if (c != '\\') continue;
    ++i;
    if (i + 1 >= quoted.size()) return false;
    if (std::string("\"\\/bfnrt").find(quoted[i]) != std::string::npos) continue;
    if (quoted[i] != 'u' || i + 4 >= quoted.size()) return false;
    for (int k = 1; k <= 4; ++k) {
      if (!std::isxdigit(static_cast<unsigned char>(quoted[i + k]))) return false;
    }
    i += 4;
  }
  return IsUtf8(quoted);
}

TEST(JsonQuote, EscapesAndUnescapesFeatureNamesExactly) {
  const std::vector<std::string> names = {"plain",
                                          "with \"quotes\"",
                                          "back\\slash",
                                          "tab\there",
                                          "new\nline",
                                          "cr\rlf",
                                          "\b\f",
                                          "bell\x07",
                                          "del\x7f",
                                          "é (U+00E9)",
                                          "€ and 😀",
                                          "\\u00e9 literal",
                                          "ends\\",
                                          std::string("nul\0inside", 10),
                                          "",
                                          "/slash/"};
  for (const std::string& name : names) {
    const std::string quoted = JsonQuote(name);
    EXPECT_TRUE(IsJsonString(quoted)) << quoted;
    EXPECT_EQ(JsonUnquote(quoted), name) << quoted;
  }
  EXPECT_EQ(JsonQuote("a\"b\\c\td\n"), R"("a\"b\\c\td\n")");
  EXPECT_EQ(JsonQuote(std::string("\x01\0", 2)), R"("\u0001\u0000")");
  EXPECT_EQ(JsonQuote("é😀"), "\"é😀\"");  // Valid UTF-8 is copied, not escaped.
}

TEST(JsonQuote, InvalidUtf8BecomesOneEscapePerByteAndRoundTrips) {
  // Latin-1 "café", a truncated 3-byte sequence, an overlong '/', a surrogate, > U+10FFFF.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"caf\xe9", R"("caf\u00e9")"},
      {"\xe2\x82", R"("\u00e2\u0082")"},
      {"\xc0\xaf", R"("\u00c0\u00af")"},
      {"\xed\xa0\x80", R"("\u00ed\u00a0\u0080")"},
      {"\xf4\x90\x80\x80", R"("\u00f4\u0090\u0080\u0080")"},
      {"ok\xff€", "\"ok\\u00ff€\""},
  };
  for (const auto& [raw, expected] : cases) {
    EXPECT_EQ(JsonQuote(raw), expected);
    EXPECT_TRUE(IsJsonString(JsonQuote(raw)));
    EXPECT_EQ(JsonUnquote(JsonQuote(raw)), raw);
  }
}

TEST(JsonQuote, RandomByteStringsRoundTripAndStayValidJson) {
  PyRandom rng(5);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string s(rng.RandBelow(12), '\0');
    for (char& c : s) c = static_cast<char>(rng.RandBelow(256));
    const std::string quoted = JsonQuote(s);
    ASSERT_TRUE(IsJsonString(quoted)) << quoted;
    ASSERT_EQ(JsonUnquote(quoted), s) << quoted;
  }
}

TEST(JsonUnquote, ReadsStandardEscapesAndRefusesBadOnes) {
  EXPECT_EQ(JsonUnquote(R"("\u20ac\/\ud83d\ude00")"), "€/😀");
  EXPECT_EQ(JsonUnquote(R"("\ud83d")"), "\xef\xbf\xbd");  // A lone surrogate: U+FFFD.
  EXPECT_EQ(JsonUnquote(R"("\u00e9")"), "\xe9");          // sluice's convention: the raw byte.
  EXPECT_EQ(JsonUnquote(R"("\x")"), std::nullopt);
  EXPECT_EQ(JsonUnquote(R"("\u12")"), std::nullopt);
  EXPECT_EQ(JsonUnquote(R"("a"b")"), std::nullopt);
  EXPECT_EQ(JsonUnquote(R"("trailing\")"), std::nullopt);
  EXPECT_EQ(JsonUnquote("unquoted"), std::nullopt);
}

TEST(ParseFlatJson, UnescapesKeysWrittenByWriteFlatJson) {
  const FlatJson object = {{"tab\tname", "1.5"}, {"quote\"d", JsonQuote("v\\1")}};
  const std::optional<FlatJson> parsed = ParseFlatJson(WriteFlatJson(object));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, object);
  EXPECT_EQ(JsonUnquote((*parsed)[1].second), "v\\1");
}

TEST(JsonNumber, WritesZeroForNegativeZeroAndNullForNonFinite) {
  EXPECT_EQ(JsonNumber(-0.0), "0");  // River's one-class ROCAUC; the double stays -0.0.
  EXPECT_EQ(JsonNumber(0.0), "0");
  EXPECT_EQ(JsonNumber(0.9115), "0.9115");
  EXPECT_EQ(JsonNumber(-1e-300), "-1e-300");
  EXPECT_EQ(JsonNumber(std::nan("")), "null");
}

TEST(FlatJsonWriter, WritesWhatWriteFlatJsonWritesForTheSameFields) {
  // The writer is the per-event path of the Kafka topics; WriteFlatJson the reference, fed the
  // values through JsonQuote, JsonNumber and StrCat. Random keys, strings and numbers (NaN,
  // -0.0 and huge ones among them), appended after text already in the buffer.
  PyRandom rng(11);
  const auto bytes = [&] {
    std::string s(rng.RandBelow(8), '\0');
    for (char& c : s) c = static_cast<char>(rng.RandBelow(256));
    return s;
  };
  for (int trial = 0; trial < 500; ++trial) {
    std::string out = "prefix";
    FlatJsonWriter writer(&out);
    FlatJson expected;
    for (int field = 0, n = static_cast<int>(rng.RandBelow(6)); field < n; ++field) {
      const std::string key = bytes();
      switch (rng.RandBelow(4)) {
        case 0: {
          const std::string s = bytes();
          writer.String(key, s);
          expected.emplace_back(key, JsonQuote(s));
          break;
        }
        case 1: {
          const double candidates[] = {std::nan(""), -0.0, 1e308, rng.Gauss(0, 1e6)};
          const double v = candidates[rng.RandBelow(4)];
          writer.Number(key, v);
          expected.emplace_back(key, JsonNumber(v));
          break;
        }
        case 2: {
          const auto v = static_cast<int64_t>(rng.NextUint32()) - (int64_t{1} << 31);
          writer.Int(key, v);
          expected.emplace_back(key, std::to_string(v));
          break;
        }
        default:
          writer.Raw(key, "true");
          expected.emplace_back(key, "true");
      }
    }
    writer.Close();
    ASSERT_EQ(out, "prefix" + WriteFlatJson(expected));
    ASSERT_EQ(ParseFlatJson(out.substr(6)), expected);
  }
}

}  // namespace
}  // namespace sluice::core
