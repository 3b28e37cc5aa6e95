// core/flat_json.h. Flat JSON objects of scalar values ({"a": 1, "b": "x"}): the config that
// every registered version records, written and compared key by key.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice::core {

// Keys in insertion order; values are kept as JSON text (strings quoted).
using FlatJson = std::vector<std::pair<std::string, std::string>>;

// A JSON string literal for `s`.
std::string JsonQuote(absl::string_view s);
// A JSON number in shortest round-trip form, or null for NaN and infinities (an undefined AUC).
std::string JsonNumber(double v);
// {"k": v, ...} on one line.
std::string WriteFlatJson(const FlatJson& object);
// nullopt if `text` is not a flat object of scalars.
std::optional<FlatJson> ParseFlatJson(absl::string_view text);
// "key: a -> b" for every key whose value differs or exists on one side only.
std::vector<std::string> DiffFlatJson(const FlatJson& before, const FlatJson& after);

}  // namespace sluice::core
