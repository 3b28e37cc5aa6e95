// engine/label_record.h. A label as external sources deliver it (a labels file, a labels topic).
#pragma once

#include <string>

namespace sluice::engine {

// A label from outside the event stream: it arrives just before the first event whose time is
// >= `time` (in the events' time units).
struct LabelRecord {
  std::string id;
  bool label = false;
  double time = 0;
};

}  // namespace sluice::engine
