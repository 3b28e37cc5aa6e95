// core/flat_json.cc
#include "core/flat_json.h"

#include <cctype>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/format.h"

namespace sluice::core {
namespace {

void SkipSpace(absl::string_view text, size_t* i) {
  while (*i < text.size() && std::isspace(static_cast<unsigned char>(text[*i]))) ++*i;
}

// Reads a string literal at text[*i] (which is '"'), returning it still quoted.
std::optional<std::string> ReadString(absl::string_view text, size_t* i) {
  const size_t start = *i;
  for (++*i; *i < text.size(); ++*i) {
    if (text[*i] == '\\') {
      ++*i;
    } else if (text[*i] == '"') {
      ++*i;
      return std::string(text.substr(start, *i - start));
    }
  }
  return std::nullopt;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads the 4 hex digits at s[i, i + 4).
std::optional<uint32_t> Hex4(absl::string_view s, size_t i) {
  if (i + 4 > s.size()) return std::nullopt;
  uint32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return v;
}

}  // namespace

namespace {

// The length of the valid UTF-8 sequence at s[i] (a byte >= 0x80), or 0 if there is none.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint32_t lo = 0x80, hi = 0xBF;  // Allowed range of the second byte (RFC 3629, Table 3-7).
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // No overlong forms.
    if (b0 == 0xED) hi = 0x9F;  // No surrogates.
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // Nothing above U+10FFFF.
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

void AppendJsonQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // The common case first: a run of printable ASCII that needs no escape is copied at once.
    size_t plain = i;
    while (plain < s.size()) {
      const auto byte = static_cast<unsigned char>(s[plain]);
      if (byte < 0x20 || byte >= 0x7F || byte == '"' || byte == '\\') break;
      ++plain;
    }
    out->append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const char c = s[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        // Not UTF-8: the byte as \u00XX (see the header), so the output stays valid JSON.
        absl::StrAppendFormat(out, "\\u%04x", byte);
        ++i;
      } else {
        out->append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:  // Another control character or DEL.
        absl::StrAppendFormat(out, "\\u%04x", byte);
    }
    ++i;
  }
  out->push_back('"');
}

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonQuoted(s, &out);
  return out;
}

std::optional<std::string> JsonUnquote(absl::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
  const absl::string_view s = quoted.substr(1, quoted.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') return std::nullopt;  // An unescaped quote ends the literal early.
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    switch (s[i]) {
      case '"':
      case '\\':
      case '/':
        out += s[i];
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        const std::optional<uint32_t> unit = Hex4(s, i + 1);
        if (!unit.has_value()) return std::nullopt;
        i += 4;
        uint32_t cp = *unit;
        if (cp >= 0x80 && cp <= 0xFF) {
          out += static_cast<char>(cp);  // A raw byte (see the header).
          break;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF && s.substr(i + 1, 2) == "\\u") {
          const std::optional<uint32_t> low = Hex4(s, i + 3);
          if (low.has_value() && *low >= 0xDC00 && *low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // A lone surrogate has no UTF-8.
        AppendUtf8(cp, &out);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

void AppendJsonNumber(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  AppendDouble(v + 0.0, out);  // + 0.0 turns -0.0 into 0.0 and changes nothing else.
}

std::string JsonNumber(double v) {
  std::string out;
  AppendJsonNumber(v, &out);
  return out;
}

FlatJsonWriter& FlatJsonWriter::Raw(absl::string_view key, absl::string_view json) {
  Key(key);
  out_->append(json.data(), json.size());
  return *this;
}

FlatJsonWriter& FlatJsonWriter::Number(absl::string_view key, double v) {
  Key(key);
  AppendJsonNumber(v, out_);
  return *this;
}

FlatJsonWriter& FlatJsonWriter::Int(absl::string_view key, int64_t v) {
  Key(key);
  absl::StrAppend(out_, v);
  return *this;
}

FlatJsonWriter& FlatJsonWriter::String(absl::string_view key, absl::string_view s) {
  Key(key);
  AppendJsonQuoted(s, out_);
  return *this;
}

void FlatJsonWriter::Key(absl::string_view key) {
  if (!first_) out_->append(", ");
  first_ = false;
  AppendJsonQuoted(key, out_);
  out_->append(": ");
}

std::string WriteFlatJson(const FlatJson& object) {
  std::string out;
  FlatJsonWriter writer(&out);
  for (const auto& [key, value] : object) writer.Raw(key, value);
  writer.Close();
  return out;
}

std::optional<FlatJson> ParseFlatJson(absl::string_view text) {
  FlatJson out;
  size_t i = 0;
  SkipSpace(text, &i);
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  SkipSpace(text, &i);
  if (i < text.size() && text[i] == '}') return out;
  while (true) {
    SkipSpace(text, &i);
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    const std::optional<std::string> key = ReadString(text, &i);
    if (!key.has_value()) return std::nullopt;
    SkipSpace(text, &i);
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    SkipSpace(text, &i);
    std::string value;
    if (i < text.size() && text[i] == '"') {
      const std::optional<std::string> s = ReadString(text, &i);
      if (!s.has_value()) return std::nullopt;
      value = *s;
    } else {
      const size_t start = i;
      while (i < text.size() && text[i] != ',' && text[i] != '}' &&
             !std::isspace(static_cast<unsigned char>(text[i]))) {
        if (text[i] == '{' || text[i] == '[') return std::nullopt;  // Not flat.
        ++i;
      }
      value = std::string(text.substr(start, i - start));
      if (value.empty()) return std::nullopt;
    }
    std::optional<std::string> name = JsonUnquote(*key);
    if (!name.has_value()) return std::nullopt;
    out.emplace_back(std::move(*name), value);
    SkipSpace(text, &i);
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == '}') return out;
    return std::nullopt;
  }
}

std::vector<std::string> DiffFlatJson(const FlatJson& before, const FlatJson& after) {
  std::vector<std::string> out;
  const auto find = [](const FlatJson& object, const std::string& key) -> const std::string* {
    for (const auto& [k, v] : object) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  for (const auto& [key, value] : before) {
    const std::string* other = find(after, key);
    if (other == nullptr) {
      out.push_back(absl::StrCat(key, ": ", value, " -> (absent)"));
    } else if (*other != value) {
      out.push_back(absl::StrCat(key, ": ", value, " -> ", *other));
    }
  }
  for (const auto& [key, value] : after) {
    if (find(before, key) == nullptr) out.push_back(absl::StrCat(key, ": (absent) -> ", value));
  }
  return out;
}

}  // namespace sluice::core
