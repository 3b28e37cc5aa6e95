// tests/support/streams.h. Seeded example streams for learner and metric tests.
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.h"

namespace sluice::testing {

// n examples of `dimension` features, uniform in [lo, hi), from Python's RNG with `seed`.
inline std::vector<std::vector<double>> UniformStream(uint64_t seed, int n, int dimension,
                                                      double lo = 0.0, double hi = 1.0) {
  core::PyRandom rng(seed);
  std::vector<std::vector<double>> out(static_cast<size_t>(n));
  for (auto& x : out) {
    x.resize(static_cast<size_t>(dimension));
    for (double& v : x) v = rng.Uniform(lo, hi);
  }
  return out;
}

}  // namespace sluice::testing
