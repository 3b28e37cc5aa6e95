// tests/support/fake_clock.h. A Clock that starts at the epoch and moves only when told.
#pragma once

#include "absl/time/time.h"
#include "core/clock.h"

namespace sluice::testing {

class FakeClock final : public core::Clock {
 public:
  absl::Time Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Time now_ = absl::UnixEpoch();
};

}  // namespace sluice::testing
