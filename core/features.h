// core/features.h. The dense feature vector every learner works on, and how a missing feature
// is spelled in it.
#pragma once

#include <cmath>
#include <limits>
#include <span>

namespace sluice::core {

// One event's features in schema order. Learners borrow it for the duration of a call.
using Features = std::span<const double>;

// A feature absent from an event (River: a key missing from the dict). NaN never comes from
// user data: sources reject NaN at the edge, so inside the engine NaN means "missing".
inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
inline bool IsMissing(double v) { return std::isnan(v); }

}  // namespace sluice::core
