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

std::string Unquote(absl::string_view quoted) {
  std::string out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    if (quoted[i] == '\\' && i + 2 < quoted.size()) ++i;
    out += quoted[i];
  }
  return out;
}

}  // namespace

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  return std::isfinite(v) ? FormatDouble(v) : std::string("null");
}

std::string WriteFlatJson(const FlatJson& object) {
  std::string out = "{";
  for (const auto& [key, value] : object) {
    absl::StrAppend(&out, out.size() > 1 ? ", " : "", JsonQuote(key), ": ", value);
  }
  return out + "}";
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
    out.emplace_back(Unquote(*key), value);
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
