// engine/synthetic_stream.h. The built-in credit-card-like stream: byte for byte the CSV that
// ../shared/reference/oracle/gen_synth.py writes for the same seed and row count.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/byte_stream.h"

namespace sluice::engine {

// Columns Time, V1..V28, Amount, Class. One fraud per block of 500 rows at a seeded offset
// (0.2 %), frauds shifted on 13 components with a wider spread and larger amounts: learnable
// but far from trivial. Generated lazily, so any row count streams in constant memory.
// Requires: rows >= 0.
std::unique_ptr<ByteStream> NewSyntheticCsvStream(uint64_t seed, int64_t rows);

// Anomalies whose cause is known, for testing explanations: every `every`-th row (rows
// every - 1, 2 * every - 1, ...) has feature V`feature` moved up by `shift_sd` of that feature's
// normal standard deviation, after it was drawn, so every other value and every draw stays as
// without the injection. Its Class is left as drawn.
struct Injection {
  int feature = 14;  // 1..28: V1..V28.
  double shift_sd = 6.0;
  int64_t every = 100;  // >= 1.
};
// Requires: rows >= 0; injection.feature in [1, 28]; injection.every >= 1.
std::unique_ptr<ByteStream> NewSyntheticCsvStream(uint64_t seed, int64_t rows,
                                                  const Injection& injection);

}  // namespace sluice::engine
