// engine/event_json.cc
#include "engine/event_json.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace sluice::engine {
namespace {

namespace od = simdjson::ondemand;

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("event JSON: ", what));
}

std::string Error(simdjson::error_code code) { return simdjson::error_message(code); }

absl::Status ParseFeatures(od::object object, const std::vector<std::string>& features,
                           core::Event* event) {
  absl::flat_hash_map<absl::string_view, size_t> index;
  for (size_t i = 0; i < features.size(); ++i) index.emplace(features[i], i);
  std::vector<bool> seen(features.size(), false);
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return Bad(Error(e));
    const std::string name(key);
    const auto it = index.find(name);
    if (it == index.end()) {
      return Bad(absl::StrCat("feature \"", name, "\" is not in the version's schema"));
    }
    if (seen[it->second]) return Bad(absl::StrCat("feature \"", name, "\" appears twice"));
    seen[it->second] = true;
    double value = 0;
    if (auto e = field.value().get_double().get(value); e) {
      return Bad(absl::StrCat("feature \"", name, "\": not a number (", Error(e), ")"));
    }
    if (!std::isfinite(value)) return Bad(absl::StrCat("feature \"", name, "\": not finite"));
    event->features[it->second] = value;
  }
  return absl::OkStatus();
}

absl::Status ParseId(od::value value, core::Event* event) {
  od::json_type type;
  if (auto e = value.type().get(type); e) return Bad(Error(e));
  if (type == od::json_type::string) {
    std::string_view id;
    if (auto e = value.get_string().get(id); e) return Bad(absl::StrCat("id: ", Error(e)));
    event->id.assign(id.data(), id.size());
    return absl::OkStatus();
  }
  int64_t id = 0;
  if (auto e = value.get_int64().get(id); e) {
    return Bad("id must be a string or an integer");
  }
  event->id = absl::StrCat(id);
  return absl::OkStatus();
}

absl::Status ParseLabel(od::value value, core::Event* event) {
  od::json_type type;
  if (auto e = value.type().get(type); e) return Bad(Error(e));
  if (type == od::json_type::null) {
    event->label.reset();
    return absl::OkStatus();
  }
  if (type == od::json_type::boolean) {
    bool label = false;
    if (auto e = value.get_bool().get(label); e) return Bad(Error(e));
    event->label = label;
    return absl::OkStatus();
  }
  int64_t label = -1;
  if (value.get_int64().get(label) || (label != 0 && label != 1)) {
    return Bad("label must be 0, 1, true, false or null");
  }
  event->label = label == 1;
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseEventJson(absl::string_view json, const std::vector<std::string>& features,
                            core::Event* event) {
  event->id.clear();
  event->event_time = core::kMissing;
  event->label.reset();
  event->features.assign(features.size(), core::kMissing);
  const simdjson::padded_string padded(json.data(), json.size());
  od::parser parser;
  od::document doc;
  if (auto e = parser.iterate(padded).get(doc); e) return Bad(Error(e));
  od::object object;
  if (auto e = doc.get_object().get(object); e) {
    // simdjson reports text after the object as an incomplete document: say what it is.
    const absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(json);
    return Bad(!trimmed.empty() && trimmed.back() != '}'
                   ? "trailing characters after the object"
                   : absl::StrCat("expected one object (", Error(e), ")"));
  }
  bool has_features = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return Bad(Error(e));
    od::value value;
    if (auto e = field.value().get(value); e) return Bad(Error(e));
    absl::Status status;
    if (key == "features") {
      od::object inner;
      if (auto e = value.get_object().get(inner); e) return Bad("features must be an object");
      status = ParseFeatures(inner, features, event);
      has_features = true;
    } else if (key == "id") {
      status = ParseId(value, event);
    } else if (key == "time") {
      double time = 0;
      if (value.get_double().get(time) || !std::isfinite(time)) {
        return Bad("time must be a finite number");
      }
      event->event_time = time;
    } else if (key == "label") {
      status = ParseLabel(value, event);
    } else {
      return Bad(absl::StrCat("unknown field \"", std::string(key), "\""));
    }
    if (!status.ok()) return status;
  }
  // At the end of the document the location is out of bounds; anything else is trailing.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Bad("trailing characters after the object");
  }
  if (!has_features) return Bad("no \"features\" object");
  return absl::OkStatus();
}

}  // namespace sluice::engine
