// engine/event_json.h. The JSON formats every JSON source shares (audit --event, the Kafka
// topics, HTTP later): the event {"id": "t-1", "time": 1732240000.5, "features": {"V1": -1.35,
// ...}, "label": 0} (only "features" is required) and the label {"id": "t-1", "label": 1,
// "time": 1732240040.5}.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/event.h"
#include "engine/label_record.h"

namespace sluice::engine {

// Parses `json` (one object, nothing after it but white space) into *event, features in the
// order of `features`; a feature the event does not give is core::kMissing. "id" may be a string
// or an integer; "label" 0, 1, true, false or null. InvalidArgument, naming the field, for
// malformed JSON, a feature not in `features`, a non-finite or non-numeric value, or a duplicate
// feature. `event->row` is left as it is.
absl::Status ParseEventJson(absl::string_view json, const std::vector<std::string>& features,
                            core::Event* event);

// ParseEventJson for a stream of events of one schema: keeps the parser, its buffer and the
// feature index between calls (a topic's events). Not thread-safe.
class EventJsonParser {
 public:
  // `fast_path`: events in the plain form are read by ScanEvents (event_scan.h), the rest by
  // simdjson; false: simdjson alone (tests compare the two).
  explicit EventJsonParser(std::vector<std::string> features, bool fast_path = true);
  ~EventJsonParser();
  EventJsonParser(const EventJsonParser&) = delete;
  EventJsonParser& operator=(const EventJsonParser&) = delete;
  absl::Status Parse(absl::string_view json, core::Event* event);
  // One event object, or an array of them (a batch), into *events in order; *is_array says
  // which. Errors as Parse(), naming the event's index in a batch ("event 3: ...").
  absl::Status ParseBatch(absl::string_view json, std::vector<core::Event>* events, bool* is_array);
  const std::vector<std::string>& features() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// {"id": "t-1", "time": 1732240000.5, "features": {"V1": -1.35, ...}}: what ParseEventJson
// reads back. Missing features and a missing time are left out; the label is not written (labels
// travel on their own). Numbers in shortest round-trip form.
void AppendEventJson(const core::Event& event, const std::vector<std::string>& features,
                     std::string* out);
// The same, copying `text[i]` (the number as it was read, CsvReader::feature_text()) for each
// feature whose text is a JSON number: any reader then gets the same double, correctly rounded
// from the same digits, without the cost of formatting it again. Requires: text[i] is the text
// event.features[i] was read from, for every i.
void AppendEventJson(const core::Event& event, const std::vector<std::string>& features,
                     const std::vector<absl::string_view>& text, std::string* out);

// Where `json` first breaks JSON's grammar (RFC 8259), and what is wrong there; nullopt if it is
// one well-formed JSON value with only white space around it. A parser that rejects a document
// says why; this says where (the byte offset, from 0), for messages to people. Nesting deeper
// than 512 is an error.
struct JsonSyntaxError {
  size_t offset = 0;
  std::string message;
};
std::optional<JsonSyntaxError> FindJsonSyntaxError(absl::string_view json);

// A label message: {"id": "t-1", "label": 1, "time": 1732240040.5}, all three required ("id" a
// string or an integer, "label" 0, 1, true or false, "time" a finite number). InvalidArgument
// naming the field.
absl::Status ParseLabelJson(absl::string_view json, LabelRecord* label);
void AppendLabelJson(const LabelRecord& label, std::string* out);

}  // namespace sluice::engine
