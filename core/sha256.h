// core/sha256.h. SHA-256 (FIPS 180-4), for content hashes of inputs and model blobs.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice::core {

// Incremental SHA-256. Copyable value type.
class Sha256 {
 public:
  Sha256();
  void Update(absl::string_view data);
  // The digest as 64 lower-case hex digits. Call once.
  std::string HexDigest();
  // Whether the CPU's SHA instructions are used (default: when present). Tests switch them
  // off to check the portable code. Not thread-safe.
  static bool use_extensions() { return use_extensions_; }
  static void set_use_extensions(bool use) { use_extensions_ = use; }

 private:
  void Compress(const unsigned char* block);

  static bool use_extensions_;

  std::array<uint32_t, 8> state_;
  unsigned char block_[64];
  size_t block_size_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string Sha256Hex(absl::string_view data);

}  // namespace sluice::core
