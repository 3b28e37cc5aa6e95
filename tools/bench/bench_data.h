// tools/bench/bench_data.h. Inputs shared by the benchmarks: the built-in synthetic stream.
#pragma once

#include <string>
#include <vector>

namespace sluice::bench {

struct Stream {
  std::vector<std::string> names;  // Time, V1..V28, Amount: 30 features.
  std::vector<std::vector<double>> x;
  std::vector<bool> labels;
};

// The first `rows` events of the built-in stream (seed 1), parsed once and cached.
const Stream& SyntheticStream(int rows = 100000);

}  // namespace sluice::bench
