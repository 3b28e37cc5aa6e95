// engine/event_json.h. The JSON event format every JSON source shares (audit --event now, the
// Kafka topic and HTTP later): {"id": "t-1", "time": 1732240000.5, "features": {"V1": -1.35,
// ...}, "label": 0}. Only "features" is required.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/event.h"

namespace sluice::engine {

// Parses `json` (one object, nothing after it but white space) into *event, features in the
// order of `features`; a feature the event does not give is core::kMissing. "id" may be a string
// or an integer; "label" 0, 1, true, false or null. InvalidArgument, naming the field, for
// malformed JSON, a feature not in `features`, a non-finite or non-numeric value, or a duplicate
// feature. `event->row` is left as it is.
absl::Status ParseEventJson(absl::string_view json, const std::vector<std::string>& features,
                            core::Event* event);

}  // namespace sluice::engine
