// engine/byte_stream.h. Sequential bytes for the parsers: a file, a string, or a generator.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::engine {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Copies up to `size` bytes into `buffer`; returns how many, 0 at the end. Unavailable or
  // DataLoss on an I/O error.
  virtual absl::StatusOr<size_t> Read(char* buffer, size_t size) = 0;
};

// NotFound if `path` does not exist, PermissionDenied if it cannot be read.
absl::StatusOr<std::unique_ptr<ByteStream>> OpenFileStream(const std::string& path);
std::unique_ptr<ByteStream> NewStringStream(std::string data);

}  // namespace sluice::engine
