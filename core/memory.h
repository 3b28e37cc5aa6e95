// core/memory.h. How much memory this process may use, and byte counts as text. Sizes that
// users choose (tree height, metric windows) are checked against it before anything is
// allocated, so a typo gives a message instead of std::bad_alloc or the OOM killer.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::core {

// The smallest of the physical memory and the RLIMIT_AS and RLIMIT_DATA soft limits, in bytes.
// Thread-safe.
uint64_t AvailableMemoryBytes();

// a * b, or UINT64_MAX if that overflows: sizes computed from user options never wrap.
uint64_t SaturatingMul(uint64_t a, uint64_t b);
uint64_t SaturatingAdd(uint64_t a, uint64_t b);

// Decimal units, three significant digits: "512 B", "1.5 kB", "53.7 GB", "5.37 TB".
std::string FormatBytes(uint64_t bytes);

// OK if `bytes` <= `available`; otherwise ResourceExhausted "<what> needs 53.7 GB but at most
// 8.00 GB of memory is available".
absl::Status CheckMemory(absl::string_view what, uint64_t bytes,
                         uint64_t available = AvailableMemoryBytes());

}  // namespace sluice::core
