// core/event.h. One input event as every source delivers it, parsed and validated at the edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/features.h"

namespace sluice::core {

struct Event {
  int64_t row = 0;               // 0-based position in the source (CSV data row).
  std::string id;                // The id column's value, or the row number.
  double event_time = kMissing;  // Seconds (the time column); kMissing if the source has none.
  std::vector<double> features;  // Schema order; kMissing where absent.
  std::optional<bool> label;     // Ground truth when the source carries it.
  // Wall-clock Unix seconds when the event entered the system (a Kafka message's CreateTime),
  // for latencies; kMissing when unknown (files).
  double arrival_time = kMissing;
  // Wall-clock Unix seconds when the source read it (a message consumed); kMissing for files.
  double consumed_time = kMissing;
};

}  // namespace sluice::core
