// engine/text_file.h. Output files: a buffered appender for large streams (predictions) and a
// whole-file atomic writer (summaries, reports).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::engine {

// Appends to a new file through a 1 MiB buffer. Not thread-safe.
class BufferedFile {
 public:
  // Creates or truncates `path`. Unavailable/PermissionDenied/NotFound with the path on error.
  static absl::StatusOr<std::unique_ptr<BufferedFile>> Create(const std::string& path);
  // Opens `path` to append after its first `length` bytes, dropping whatever follows them
  // (a resumed run's output). FailedPrecondition if the file is shorter than `length`.
  static absl::StatusOr<std::unique_ptr<BufferedFile>> Resume(const std::string& path,
                                                              int64_t length);
  ~BufferedFile();
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // Buffers `text`; the first write error is kept and returned by Close().
  void Append(absl::string_view text);
  std::string& buffer() { return buffer_; }  // Append directly, then call MaybeFlush().
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  // Hands what is buffered to the OS (it survives the process being killed); returns the file
  // length so far.
  int64_t Flush();
  // Writes what is buffered and closes; the first error of any write.
  absl::Status Close();

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  BufferedFile(int fd, std::string path, int64_t length);

  int fd_;
  std::string path_;
  std::string buffer_;
  int64_t length_;  // Bytes handed to the OS.
  absl::Status status_;
};

// Writes `contents` to `path` through a temporary file and rename, so readers never see half.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace sluice::engine
