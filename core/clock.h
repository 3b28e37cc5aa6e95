// core/clock.h. The only way code here learns the time (STYLE.md section 6).
#pragma once

#include "absl/time/time.h"

namespace sluice::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The system clock; thread-safe.
  static const Clock& Real();
};

}  // namespace sluice::core
