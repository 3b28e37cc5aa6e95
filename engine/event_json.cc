// engine/event_json.cc
#include "engine/event_json.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "engine/event_scan.h"
#include "simdjson.h"

namespace sluice::engine {
namespace {

namespace od = simdjson::ondemand;

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("event JSON: ", what));
}

std::string Error(simdjson::error_code code) { return simdjson::error_message(code); }

using FeatureIndex = absl::flat_hash_map<std::string, size_t>;

// A number value, read from its text by ReadJsonNumber: simdjson 3.0.1's get_double misreads
// numbers of 20 or more digits after "0." (see event_scan.h).
simdjson::error_code GetNumber(od::value value, double* out) {
  od::json_type type;
  if (auto e = value.type().get(type); e) return e;
  if (type != od::json_type::number) return simdjson::INCORRECT_TYPE;
  // The token runs to the next structural character: the number, then JSON white space only
  // (not \v or \f, which absl::StripTrailingAsciiWhitespace would take too).
  const std::string_view raw = value.raw_json_token();
  const char* end = raw.data() + raw.size();
  const char* stop = ReadJsonNumber(raw.data(), end, out);
  while (stop != nullptr && stop != end &&
         (*stop == ' ' || *stop == '\t' || *stop == '\n' || *stop == '\r')) {
    ++stop;
  }
  return stop == end ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
}

// The features of `object` into event->features (all kMissing on entry). Events of one producer
// name their features in one order, so the feature after the last one found is tried before the
// index. A feature seen twice is told by its slot: values are finite, kMissing is not.
absl::Status ParseFeatures(od::object object, const std::vector<std::string>& features,
                           const FeatureIndex& index, core::Event* event) {
  size_t next = 0;
  for (auto field : object) {
    size_t slot = next;
    // The expected name compared in place (a batch has tens of thousands of these), else the
    // name unescaped and looked up.
    std::string_view key;
    od::raw_json_string raw;
    if (auto e = field.key().get(raw); e) return Bad(Error(e));
    if (slot < features.size() && raw.is_equal(features[slot])) {
      key = features[slot];
    } else {
      if (auto e = field.unescaped_key().get(key); e) return Bad(Error(e));
      const auto it = index.find(absl::string_view(key.data(), key.size()));
      if (it == index.end()) {
        return Bad(
            absl::StrCat("feature \"", std::string(key), "\" is not in the version's schema"));
      }
      slot = it->second;
    }
    next = slot + 1;
    double& out = event->features[slot];
    if (!core::IsMissing(out)) {
      return Bad(absl::StrCat("feature \"", std::string(key), "\" appears twice"));
    }
    double value = 0;
    od::value token;
    if (auto e = field.value().get(token); e) return Bad(Error(e));
    if (auto e = GetNumber(token, &value); e) {
      return Bad(absl::StrCat("feature \"", features[slot], "\": not a number (", Error(e), ")"));
    }
    if (!std::isfinite(value))
      return Bad(absl::StrCat("feature \"", features[slot], "\": not finite"));
    out = value;
  }
  return absl::OkStatus();
}

absl::Status ParseId(od::value value, std::string* out) {
  od::json_type type;
  if (auto e = value.type().get(type); e) return Bad(Error(e));
  if (type == od::json_type::string) {
    std::string_view id;
    if (auto e = value.get_string().get(id); e) return Bad(absl::StrCat("id: ", Error(e)));
    out->assign(id.data(), id.size());
    return absl::OkStatus();
  }
  int64_t id = 0;
  if (auto e = value.get_int64().get(id); e) {
    return Bad("id must be a string or an integer");
  }
  *out = absl::StrCat(id);
  return absl::OkStatus();
}

absl::Status ParseTime(od::value value, double* out) {
  double time = 0;
  if (GetNumber(value, &time) || !std::isfinite(time)) {
    return Bad("time must be a finite number");
  }
  *out = time;
  return absl::OkStatus();
}

absl::Status ParseLabel(od::value value, std::optional<bool>* out) {
  od::json_type type;
  if (auto e = value.type().get(type); e) return Bad(Error(e));
  if (type == od::json_type::null) {
    // The type is told by the first character only: the literal itself must be checked.
    bool is_null = false;
    if (value.is_null().get(is_null) || !is_null) {
      return Bad("label must be 0, 1, true, false or null");
    }
    out->reset();
    return absl::OkStatus();
  }
  if (type == od::json_type::boolean) {
    bool label = false;
    if (auto e = value.get_bool().get(label); e) return Bad(Error(e));
    *out = label;
    return absl::OkStatus();
  }
  int64_t label = -1;
  if (value.get_int64().get(label) || (label != 0 && label != 1)) {
    return Bad("label must be 0, 1, true, false or null");
  }
  *out = label == 1;
  return absl::OkStatus();
}

absl::Status BadLabel(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("label JSON: ", absl::StripPrefix(what, "event JSON: ")));
}

}  // namespace

struct EventJsonParser::State {
  explicit State(std::vector<std::string> features) : schema(std::move(features)) {}
  ScanSchema schema;  // The features, their index, and what the fast path reads of them.
  bool fast_path = true;
  std::vector<core::Event> scanned;  // Parse()'s, through ScanEvents.
  od::parser parser;
  std::string buffer;  // The message and simdjson's padding.
};

EventJsonParser::EventJsonParser(std::vector<std::string> features, bool fast_path)
    : state_(std::make_unique<State>(std::move(features))) {
  state_->fast_path = fast_path;
}

EventJsonParser::~EventJsonParser() = default;

const std::vector<std::string>& EventJsonParser::features() const {
  return state_->schema.features;
}

namespace {

// Parses `json` into a document of `parser`, through `buffer` (simdjson reads past the end).
simdjson::simdjson_result<od::document> Iterate(absl::string_view json, od::parser& parser,
                                                std::string& buffer) {
  buffer.assign(json.data(), json.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  return parser.iterate(buffer.data(), json.size(), buffer.size());
}

// The object of `doc`; for an error, says what went wrong with `json`.
absl::Status GetObject(od::document& doc, absl::string_view json, od::object* object) {
  if (auto e = doc.get_object().get(*object); e) {
    // simdjson reports text after the object as an incomplete document: say what it is.
    // More '{' than '}' (strings aside, which is close enough for a message): cut short.
    const absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(json);
    if (std::count(json.begin(), json.end(), '{') > std::count(json.begin(), json.end(), '}')) {
      return Bad(absl::StrCat("unterminated object (a truncated message?): ", Error(e)));
    }
    return Bad(!trimmed.empty() && trimmed.back() != '}'
                   ? "trailing characters after the object"
                   : absl::StrCat("expected one object (", Error(e), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// The fields of one event object into *event (reset first).
absl::Status ParseEventObject(od::object object, const std::vector<std::string>& features,
                              const FeatureIndex& index, core::Event* event) {
  event->id.clear();
  event->event_time = core::kMissing;
  event->label.reset();
  event->features.assign(features.size(), core::kMissing);
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
      status = ParseFeatures(inner, features, index, event);
      has_features = true;
    } else if (key == "id") {
      status = ParseId(value, &event->id);
    } else if (key == "time") {
      status = ParseTime(value, &event->event_time);
    } else if (key == "label") {
      status = ParseLabel(value, &event->label);
    } else {
      return Bad(absl::StrCat("unknown field \"", std::string(key), "\""));
    }
    if (!status.ok()) return status;
  }
  if (!has_features) return Bad("no \"features\" object");
  return absl::OkStatus();
}

// At the end of the document the location is out of bounds; anything else is trailing.
absl::Status CheckEnd(od::document& doc) {
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Bad("trailing characters after the JSON value");
  }
  return absl::OkStatus();
}

// `doc` (the text `json`) as one event object with nothing after it.
absl::Status ParseEventDocument(od::document& doc, absl::string_view json,
                                const std::vector<std::string>& features, const FeatureIndex& index,
                                core::Event* event) {
  od::object object;
  SLUICE_RETURN_IF_ERROR(GetObject(doc, json, &object));
  SLUICE_RETURN_IF_ERROR(ParseEventObject(object, features, index, event));
  return CheckEnd(doc);
}

}  // namespace

absl::Status EventJsonParser::Parse(absl::string_view json, core::Event* event) {
  if (bool is_array = false; state_->fast_path &&
                             ScanEvents(json, state_->schema, &state_->scanned, &is_array) &&
                             !is_array) {
    // The fields Parse() sets, swapped: each keeps the other's buffers for next time.
    core::Event& scanned = state_->scanned[0];
    std::swap(event->id, scanned.id);
    std::swap(event->features, scanned.features);
    event->event_time = scanned.event_time;
    event->label = scanned.label;
    return absl::OkStatus();
  }
  od::document doc;
  if (auto e = Iterate(json, state_->parser, state_->buffer).get(doc); e) return Bad(Error(e));
  return ParseEventDocument(doc, json, state_->schema.features, state_->schema.index, event);
}

absl::Status EventJsonParser::ParseBatch(absl::string_view json, std::vector<core::Event>* events,
                                         bool* is_array) {
  if (state_->fast_path && ScanEvents(json, state_->schema, events, is_array)) {
    return absl::OkStatus();
  }
  od::document doc;
  if (auto e = Iterate(json, state_->parser, state_->buffer).get(doc); e) return Bad(Error(e));
  od::json_type type;
  if (auto e = doc.type().get(type); e) return Bad(Error(e));
  *is_array = type == od::json_type::array;
  if (!*is_array) {
    events->resize(1);
    return ParseEventDocument(doc, json, state_->schema.features, state_->schema.index,
                              &(*events)[0]);
  }
  od::array array;
  if (auto e = doc.get_array().get(array); e) return Bad(Error(e));
  size_t n = 0;
  for (auto element : array) {
    od::object object;
    if (auto e = element.get_object().get(object); e) {
      return Bad(absl::StrCat("event ", n, ": expected an object (", Error(e), ")"));
    }
    if (events->size() <= n) events->resize(n + 1);
    if (absl::Status s =
            ParseEventObject(object, state_->schema.features, state_->schema.index, &(*events)[n]);
        !s.ok()) {
      return Bad(absl::StrCat("event ", n, ": ", absl::StripPrefix(s.message(), "event JSON: ")));
    }
    ++n;
  }
  events->resize(n);
  return CheckEnd(doc);
}

absl::Status ParseEventJson(absl::string_view json, const std::vector<std::string>& features,
                            core::Event* event) {
  EventJsonParser parser(features);
  return parser.Parse(json, event);
}

namespace {

// Whether `s` is a number by JSON's grammar.
bool IsJsonNumber(absl::string_view s) {
  return !s.empty() && JsonNumberEnd(s.data(), s.data() + s.size()) == s.data() + s.size();
}

void AppendEvent(const core::Event& event, const std::vector<std::string>& features,
                 const std::vector<absl::string_view>* text, std::string* out) {
  out->append("{\"id\": ");
  core::AppendJsonQuoted(event.id, out);
  if (!core::IsMissing(event.event_time)) {
    out->append(", \"time\": ");
    core::AppendDouble(event.event_time, out);
  }
  out->append(", \"features\": {");
  bool first = true;
  for (size_t i = 0; i < features.size(); ++i) {
    if (core::IsMissing(event.features[i])) continue;
    if (!first) out->append(", ");
    core::AppendJsonQuoted(features[i], out);
    out->append(": ");
    if (text != nullptr && IsJsonNumber((*text)[i])) {
      out->append((*text)[i].data(), (*text)[i].size());
    } else {
      core::AppendDouble(event.features[i], out);
    }
    first = false;
  }
  out->append("}}");
}

}  // namespace

void AppendEventJson(const core::Event& event, const std::vector<std::string>& features,
                     std::string* out) {
  AppendEvent(event, features, nullptr, out);
}

void AppendEventJson(const core::Event& event, const std::vector<std::string>& features,
                     const std::vector<absl::string_view>& text, std::string* out) {
  AppendEvent(event, features, &text, out);
}

absl::Status ParseLabelJson(absl::string_view json, LabelRecord* label) {
  static thread_local od::parser parser;
  static thread_local std::string buffer;
  od::document doc;
  if (auto e = Iterate(json, parser, buffer).get(doc); e) return BadLabel(Error(e));
  od::object object;
  if (absl::Status s = GetObject(doc, json, &object); !s.ok()) return BadLabel(s.message());
  bool has_id = false, has_label = false, has_time = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key); e) return BadLabel(Error(e));
    od::value value;
    if (auto e = field.value().get(value); e) return BadLabel(Error(e));
    absl::Status status;
    if (key == "id") {
      status = ParseId(value, &label->id);
      has_id = true;
    } else if (key == "label") {
      std::optional<bool> l;
      status = ParseLabel(value, &l);
      if (status.ok() && !l.has_value()) status = Bad("label must be 0, 1, true or false");
      label->label = l.value_or(false);
      has_label = true;
    } else if (key == "time") {
      status = ParseTime(value, &label->time);
      has_time = true;
    } else {
      status = Bad(absl::StrCat("unknown field \"", std::string(key), "\""));
    }
    if (!status.ok()) return BadLabel(status.message());
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return BadLabel("trailing characters after the object");
  }
  if (!has_id || !has_label || !has_time) {
    return BadLabel(absl::StrCat("missing \"",
                                 !has_id      ? "id"
                                 : !has_label ? "label"
                                              : "time",
                                 "\""));
  }
  return absl::OkStatus();
}

void AppendLabelJson(const LabelRecord& label, std::string* out) {
  out->append("{\"id\": ");
  core::AppendJsonQuoted(label.id, out);
  out->append(label.label ? ", \"label\": 1, \"time\": " : ", \"label\": 0, \"time\": ");
  core::AppendDouble(label.time, out);
  out->append("}");
}

namespace {

// A recursive-descent reader of JSON's grammar that stops at the first error. Values nest
// through an explicit depth count; strings are checked for escapes and control characters
// (UTF-8 is the parser's concern).
class SyntaxScanner {
 public:
  explicit SyntaxScanner(absl::string_view s) : s_(s) {}

  std::optional<JsonSyntaxError> Run() {
    SkipSpace();
    if (!Value(0)) return error_;
    SkipSpace();
    if (i_ != s_.size()) {
      Fail("unexpected characters after the JSON value");
      return error_;
    }
    return std::nullopt;
  }

 private:
  bool Fail(absl::string_view what) {
    if (!error_) error_ = JsonSyntaxError{i_, std::string(what)};
    return false;
  }
  bool AtEnd() const { return i_ >= s_.size(); }
  void SkipSpace() {
    while (!AtEnd() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(i_, word.size()) != word) return Fail("invalid literal");
    i_ += word.size();
    return true;
  }
  bool Digits() {
    const size_t start = i_;
    while (!AtEnd() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start || Fail("expected a digit");
  }
  bool Number() {
    if (s_[i_] == '-') ++i_;
    if (!AtEnd() && s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (!AtEnd() && s_[i_] == '.' && (++i_, !Digits())) return false;
    if (!AtEnd() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!AtEnd() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!Digits()) return false;
    }
    return true;
  }
  bool String() {
    ++i_;  // The opening quote.
    while (!AtEnd()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        ++i_;
        continue;
      }
      ++i_;
      if (AtEnd()) break;
      if (s_[i_] == 'u') {
        for (int k = 1; k <= 4; ++k) {
          if (i_ + k >= s_.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(s_[i_ + k])))
            return i_ += static_cast<size_t>(k), Fail("bad \\u escape");
        }
        i_ += 5;
      } else if (absl::string_view("\"\\/bfnrt").find(s_[i_]) != absl::string_view::npos) {
        ++i_;
      } else {
        return Fail("bad escape in a string");
      }
    }
    return Fail("unterminated string");
  }
  // Object or array: '{' or '[' at i_.
  bool Container(int depth) {
    const char close = s_[i_] == '{' ? '}' : ']';
    ++i_;
    SkipSpace();
    if (!AtEnd() && s_[i_] == close) return ++i_, true;
    while (true) {
      if (close == '}') {
        if (AtEnd() || s_[i_] != '"') return Fail("expected a string key");
        if (!String()) return false;
        SkipSpace();
        if (AtEnd() || s_[i_] != ':') return Fail("expected ':'");
        ++i_;
        SkipSpace();
      }
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (AtEnd()) return Fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
      if (s_[i_] == close) return ++i_, true;
      if (s_[i_] != ',') return Fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
      ++i_;
      SkipSpace();
    }
  }
  bool Value(int depth) {
    if (depth > 512) return Fail("nested too deeply");
    if (AtEnd()) return Fail("expected a value, found the end");
    switch (s_[i_]) {
      case '{':
      case '[':
        return Container(depth);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (s_[i_] == '-' || (s_[i_] >= '0' && s_[i_] <= '9')) return Number();
        return Fail("expected a value");
    }
  }

  absl::string_view s_;
  size_t i_ = 0;
  std::optional<JsonSyntaxError> error_;
};

}  // namespace

std::optional<JsonSyntaxError> FindJsonSyntaxError(absl::string_view json) {
  return SyntaxScanner(json).Run();
}

}  // namespace sluice::engine
