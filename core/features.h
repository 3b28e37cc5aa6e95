// core/features.h. The dense feature vector every learner works on, and how a missing feature
// is spelled in it.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace sluice::core {

// One event's features in schema order. Learners borrow it for the duration of a call.
using Features = std::span<const double>;

// A feature absent from an event (River: a key missing from the dict): this one NaN bit pattern.
// Sources reject NaN at the edge, so user data never holds it. Any other NaN is a value (River: a
// NaN in the dict), e.g. what MinMaxScaler makes of a feature it has not learned yet:
// (x - inf) / -inf, the CPU's default NaN, whose sign bit is set. Arithmetic on kMissing keeps
// its bit pattern (x86-64 propagates a NaN operand's payload), so a missing feature stays
// missing through a scaler, as in River.
inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
inline bool IsMissing(double v) {
  return std::bit_cast<uint64_t>(v) == std::bit_cast<uint64_t>(kMissing);
}

}  // namespace sluice::core
