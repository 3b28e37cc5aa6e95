// engine/text_file.cc
#include "engine/text_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sluice::engine {
namespace {

absl::Status ErrnoError(const std::string& path, const char* what, int err) {
  const std::string message = absl::StrCat(path, ": ", what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EROFS) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

absl::Status WriteAll(int fd, const std::string& path, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(path, "write failed", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BufferedFile>> BufferedFile::Create(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(path, "cannot create", errno);
  return std::unique_ptr<BufferedFile>(new BufferedFile(fd, path, 0));
}

absl::StatusOr<std::unique_ptr<BufferedFile>> BufferedFile::Resume(const std::string& path,
                                                                   int64_t length) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, "cannot open to resume", errno);
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size < length) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(path, " has ", size,
                                                      " bytes but the snapshot recorded ", length,
                                                      ": it was changed since; cannot resume it"));
  }
  if (ftruncate(fd, length) != 0 || lseek(fd, length, SEEK_SET) != length) {
    const int err = errno;
    close(fd);
    return ErrnoError(path, "cannot truncate to resume", err);
  }
  return std::unique_ptr<BufferedFile>(new BufferedFile(fd, path, length));
}

BufferedFile::BufferedFile(int fd, std::string path, int64_t length)
    : fd_(fd), path_(std::move(path)), length_(length) {
  buffer_.reserve(kFlushBytes + 4096);
}

BufferedFile::~BufferedFile() {
  if (fd_ >= 0) close(fd_);
}

void BufferedFile::Append(absl::string_view text) {
  buffer_.append(text.data(), text.size());
  MaybeFlush();
}

int64_t BufferedFile::Flush() {
  if (status_.ok()) status_ = WriteAll(fd_, path_, buffer_);
  length_ += static_cast<int64_t>(buffer_.size());
  buffer_.clear();
  return length_;
}

absl::Status BufferedFile::Close() {
  Flush();
  if (close(fd_) != 0 && status_.ok()) status_ = ErrnoError(path_, "close failed", errno);
  fd_ = -1;
  return status_;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(path, "cannot create", errno);
  absl::Status status = WriteAll(fd, temp, contents);
  if (status.ok() && fsync(fd) != 0) status = ErrnoError(temp, "fsync failed", errno);
  close(fd);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError(path, "rename failed", errno);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

}  // namespace sluice::engine
