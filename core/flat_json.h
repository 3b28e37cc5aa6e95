// core/flat_json.h. Flat JSON objects of scalar values ({"a": 1, "b": "x"}): the config that
// every registered version records, written and compared key by key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice::core {

// Keys in insertion order; values are kept as JSON text (strings quoted).
using FlatJson = std::vector<std::pair<std::string, std::string>>;

// A JSON string literal for the bytes `s`, always valid JSON in valid UTF-8 (pure ASCII apart
// from s's own valid UTF-8 sequences, which are copied). Escapes '"', '\\', \b \f \n \r \t,
// other control characters and DEL as \u00XX. A byte that is not part of valid UTF-8 (Latin-1
// text, a truncated sequence) is written as \u0080..\u00ff: sluice's convention is that such
// an escape stands for that single byte, which a standard reader shows as the Latin-1
// character. JsonQuote never escapes a valid character in that range, so
// JsonUnquote(JsonQuote(s)) == s for every byte string s, valid UTF-8 or not.
std::string JsonQuote(absl::string_view s);
// JsonQuote(s) appended to *out (the hot paths: no string of its own).
void AppendJsonQuoted(absl::string_view s, std::string* out);
// The bytes of the JSON string literal `quoted` (with its quotes): the inverse of JsonQuote.
// \u0080..\u00ff give the raw byte (the convention above); other escapes, surrogate pairs
// included, give UTF-8; a lone surrogate gives U+FFFD. nullopt if `quoted` is not one string
// literal or holds an invalid escape.
std::optional<std::string> JsonUnquote(absl::string_view quoted);
// A JSON number in shortest round-trip form, or null for NaN and infinities (an undefined AUC).
// -0.0 is written "0": JSON readers treat numbers as values and -0 == 0 (River's ROCAUC is -0.0
// until both classes were seen; the double itself is kept, only its text is normalised).
std::string JsonNumber(double v);
void AppendJsonNumber(double v, std::string* out);
// {"k": v, ...} on one line.
std::string WriteFlatJson(const FlatJson& object);

// Writes what WriteFlatJson writes, field by field into a caller's string, without building a
// FlatJson: the per-event messages of the Kafka topics. Keys are written with JsonQuote.
class FlatJsonWriter {
 public:
  // Appends '{' to *out, which must outlive the writer.
  explicit FlatJsonWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  FlatJsonWriter& Raw(absl::string_view key, absl::string_view json);  // Already JSON text.
  FlatJsonWriter& Number(absl::string_view key, double v);             // As JsonNumber.
  FlatJsonWriter& Int(absl::string_view key, int64_t v);
  FlatJsonWriter& String(absl::string_view key, absl::string_view s);  // As JsonQuote.
  void Close() { out_->push_back('}'); }

 private:
  void Key(absl::string_view key);
  std::string* out_;
  bool first_ = true;
};
// nullopt if `text` is not a flat object of scalars. Keys are unescaped (JsonUnquote); string
// values stay JSON text, quotes and escapes included: JsonUnquote them.
std::optional<FlatJson> ParseFlatJson(absl::string_view text);
// "key: a -> b" for every key whose value differs or exists on one side only.
std::vector<std::string> DiffFlatJson(const FlatJson& before, const FlatJson& after);

}  // namespace sluice::core
