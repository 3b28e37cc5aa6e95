// engine/text_file.h. Output files: a buffered appender for large streams (predictions), a
// whole-file atomic writer (summaries, reports), and the check that no output is an input.
//
// Outputs never replace what a path names unless it is a regular file (or nothing): a symlink
// is followed and its target written (the link stays a link), and a device, FIFO or socket
// (/dev/null, /dev/stdout) is written in place, never replaced by a regular file. A regular
// file is written beside its destination, in the same directory, and renamed over it only when
// complete, so a failed run leaves the old file as it was.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::engine {

// Appends to a new file through a 1 MiB buffer. Not thread-safe.
//
// kOnCommit: for a regular file (or a new one) the bytes go to PartialPath(destination) and
// Commit() renames that over the destination; Abandon() or the destructor without Commit()
// removes it; Suspend() keeps it for a later Resume(). kInPlace: the destination is truncated
// and written directly (a killed run leaves its prefix there). Either way a device or FIFO is
// written in place and Commit() only closes it, and symlinks are followed, never replaced.
class BufferedFile {
 public:
  enum class Mode { kInPlace, kOnCommit };
  // Starts a new file for `path` (following symlinks). Unavailable/PermissionDenied/NotFound
  // with the path on error; InvalidArgument if `path` is a directory.
  static absl::StatusOr<std::unique_ptr<BufferedFile>> Create(const std::string& path,
                                                              Mode mode = Mode::kInPlace);
  // Continues a suspended or interrupted output after its first `length` bytes, dropping
  // whatever follows them (a resumed run's output): PartialPath(path) if it exists (a run that
  // was killed or Suspend()ed), else `path` itself, in place. FailedPrecondition if that file is
  // shorter than `length`.
  static absl::StatusOr<std::unique_ptr<BufferedFile>> Resume(const std::string& path,
                                                              int64_t length);
  // Where the bytes for destination `path` are written until Commit(): "<target>.partial" in
  // the directory of the symlink-resolved target.
  static std::string PartialPath(const std::string& path);
  // Abandon()s a file that was neither committed nor suspended.
  ~BufferedFile();
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  // Buffers `text`; the first write error is kept and returned by Commit()/Close()/Suspend().
  void Append(absl::string_view text);
  std::string& buffer() { return buffer_; }  // Append directly, then call MaybeFlush().
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }
  // Hands what is buffered to the OS (it survives the process being killed); returns the file
  // length so far.
  int64_t Flush();
  // Writes what is buffered, syncs, closes and renames the file into place: the run succeeded.
  // The first error of any write, or of the rename (the partial file is then removed).
  absl::Status Commit();
  // The same as Commit() (kept for callers written before Commit existed).
  absl::Status Close() { return Commit(); }
  // Writes what is buffered and closes, leaving the partial file for a later Resume() (a run
  // that failed but can be resumed from a snapshot). The destination is not touched.
  absl::Status Suspend();
  // Closes and removes the partial file: the destination keeps its old contents (or stays
  // absent). Does nothing after Commit() or Suspend(); in place, only closes.
  void Abandon();

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  BufferedFile(int fd, std::string path, std::string partial, int64_t length);
  absl::Status FlushAndClose(bool sync);

  int fd_;
  std::string path_;     // The destination (symlinks resolved).
  std::string partial_;  // Where the bytes go until Commit(); empty when writing in place.
  std::string buffer_;
  int64_t length_;  // Bytes handed to the OS.
  absl::Status status_;
};

// Writes `contents` to `path` through a temporary file in the same directory (that of the
// symlink-resolved target) and a rename, so readers never see half and a failure leaves the old
// file; an existing file keeps its permission bits. A device or FIFO is written in place.
// InvalidArgument if `path` is a directory.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// A path and what messages call it, e.g. {"--input", "tx.csv"}.
struct NamedPath {
  std::string name;
  std::string path;
};

// InvalidArgument if an output is the same file as an input (after following symlinks and hard
// links: same st_dev and st_ino) or two outputs are the same file, e.g. `--summary "tx.csv" is
// the same file as --input "tx.csv"`; outputs that do not exist yet clash only if they name the
// same directory entry. Character devices (/dev/null, a terminal) may be shared. Empty paths
// and paths that cannot be examined are skipped (opening them reports the error).
absl::Status CheckOutputsDistinct(const std::vector<NamedPath>& inputs,
                                  const std::vector<NamedPath>& outputs);

}  // namespace sluice::engine
