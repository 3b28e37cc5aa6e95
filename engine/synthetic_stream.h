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

}  // namespace sluice::engine
