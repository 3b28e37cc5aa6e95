// engine/text_file.cc
#include "engine/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sluice::engine {
namespace {

absl::Status ErrnoError(const std::string& path, const char* what, int err) {
  const std::string message = absl::StrCat(path, ": ", what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EROFS || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == EISDIR) return absl::InvalidArgumentError(message);
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

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Follows `path` while it is a symlink (dangling ones included, so that writing creates the
// link's target instead of replacing the link). Gives up after 40 hops, as the kernel does;
// opening the result then reports the loop.
std::string ResolveLinks(const std::string& path) {
  std::string p = path;
  for (int hop = 0; hop < 40; ++hop) {
    struct stat st {};
    if (lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    char target[PATH_MAX];
    const ssize_t n = readlink(p.c_str(), target, sizeof(target));
    if (n <= 0) return p;
    std::string next(target, static_cast<size_t>(n));
    if (next.front() != '/' && p.find('/') != std::string::npos) {
      next = absl::StrCat(Dirname(p), "/", next);
    }
    p = std::move(next);
  }
  return p;
}

// What an output path leads to: `target` (symlinks resolved), whether that exists as a regular
// file (*mode then holds its permission bits) or as something written in place.
struct OutputTarget {
  std::string target;
  bool exists = false;
  bool in_place = false;  // A device, FIFO or socket.
  mode_t mode = 0644;
};

absl::StatusOr<OutputTarget> ExamineOutput(const std::string& path) {
  OutputTarget out;
  out.target = ResolveLinks(path);
  struct stat st {};
  if (stat(out.target.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ELOOP) return out;  // Creating it reports what is wrong.
    return ErrnoError(path, "cannot examine", errno);
  }
  if (S_ISDIR(st.st_mode)) return ErrnoError(path, "cannot write", EISDIR);
  out.exists = true;
  out.in_place = !S_ISREG(st.st_mode);
  out.mode = st.st_mode & 07777;
  return out;
}

}  // namespace

std::string BufferedFile::PartialPath(const std::string& path) {
  return absl::StrCat(ResolveLinks(path), ".partial");
}

absl::StatusOr<std::unique_ptr<BufferedFile>> BufferedFile::Create(const std::string& path,
                                                                   Mode mode) {
  absl::StatusOr<OutputTarget> out = ExamineOutput(path);
  if (!out.ok()) return out.status();
  if (out->in_place || mode == Mode::kInPlace) {
    // O_TRUNC only for regular files: the target is never replaced, only rewritten.
    const int flags =
        out->in_place ? O_WRONLY | O_CLOEXEC : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    const int fd = open(out->target.c_str(), flags, 0644);
    if (fd < 0) return ErrnoError(path, "cannot create", errno);
    return std::unique_ptr<BufferedFile>(new BufferedFile(fd, out->target, "", 0));
  }
  std::string partial = absl::StrCat(out->target, ".partial");
  const int fd = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(path, "cannot create", errno);
  // The replacement keeps the old file's permissions. Best effort: a failure leaves 0644.
  if (out->exists) static_cast<void>(fchmod(fd, out->mode));
  return std::unique_ptr<BufferedFile>(
      new BufferedFile(fd, std::move(out->target), std::move(partial), 0));
}

absl::StatusOr<std::unique_ptr<BufferedFile>> BufferedFile::Resume(const std::string& path,
                                                                   int64_t length) {
  std::string target = ResolveLinks(path);
  std::string partial = absl::StrCat(target, ".partial");
  struct stat st {};
  if (lstat(partial.c_str(), &st) != 0) partial.clear();  // Resume the destination in place.
  const std::string& file = partial.empty() ? target : partial;
  const int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(file, "cannot open to resume", errno);
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size < length) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(file, " has ", size,
                                                      " bytes but the snapshot recorded ", length,
                                                      ": it was changed since; cannot resume it"));
  }
  if (ftruncate(fd, length) != 0 || lseek(fd, length, SEEK_SET) != length) {
    const int err = errno;
    close(fd);
    return ErrnoError(file, "cannot truncate to resume", err);
  }
  return std::unique_ptr<BufferedFile>(
      new BufferedFile(fd, std::move(target), std::move(partial), length));
}

BufferedFile::BufferedFile(int fd, std::string path, std::string partial, int64_t length)
    : fd_(fd), path_(std::move(path)), partial_(std::move(partial)), length_(length) {
  buffer_.reserve(kFlushBytes + 4096);
}

BufferedFile::~BufferedFile() { Abandon(); }

void BufferedFile::Append(absl::string_view text) {
  buffer_.append(text.data(), text.size());
  MaybeFlush();
}

int64_t BufferedFile::Flush() {
  if (status_.ok() && fd_ >= 0) {
    status_ = WriteAll(fd_, partial_.empty() ? path_ : partial_, buffer_);
  }
  length_ += static_cast<int64_t>(buffer_.size());
  buffer_.clear();
  return length_;
}

absl::Status BufferedFile::FlushAndClose(bool sync) {
  if (fd_ < 0) return status_;
  Flush();
  const std::string& file = partial_.empty() ? path_ : partial_;
  // Devices and FIFOs cannot be synced (EINVAL); only a file about to be renamed needs it.
  if (sync && !partial_.empty() && status_.ok() && fsync(fd_) != 0) {
    status_ = ErrnoError(file, "fsync failed", errno);
  }
  if (close(fd_) != 0 && status_.ok()) status_ = ErrnoError(file, "close failed", errno);
  fd_ = -1;
  return status_;
}

absl::Status BufferedFile::Commit() {
  FlushAndClose(/*sync=*/true).IgnoreError();  // Kept in status_.
  if (partial_.empty()) return status_;
  if (status_.ok() && rename(partial_.c_str(), path_.c_str()) != 0) {
    status_ = ErrnoError(path_, "rename failed", errno);
  }
  if (!status_.ok()) unlink(partial_.c_str());
  partial_.clear();
  return status_;
}

absl::Status BufferedFile::Suspend() {
  FlushAndClose(/*sync=*/false).IgnoreError();  // Kept in status_.
  partial_.clear();                             // Kept on disk for Resume().
  return status_;
}

void BufferedFile::Abandon() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (!partial_.empty()) unlink(partial_.c_str());
  partial_.clear();
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  absl::StatusOr<OutputTarget> out = ExamineOutput(path);
  if (!out.ok()) return out.status();
  if (out->in_place) {
    const int fd = open(out->target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(path, "cannot open", errno);
    absl::Status status = WriteAll(fd, path, contents);
    if (close(fd) != 0 && status.ok()) status = ErrnoError(path, "close failed", errno);
    return status;
  }
  const std::string temp = absl::StrCat(out->target, ".tmp.", getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(path, "cannot create", errno);
  if (out->exists) static_cast<void>(fchmod(fd, out->mode));  // Best effort, as above.
  absl::Status status = WriteAll(fd, temp, contents);
  if (status.ok() && fsync(fd) != 0) status = ErrnoError(temp, "fsync failed", errno);
  if (close(fd) != 0 && status.ok()) status = ErrnoError(temp, "close failed", errno);
  if (status.ok() && rename(temp.c_str(), out->target.c_str()) != 0) {
    status = ErrnoError(path, "rename failed", errno);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

namespace {

// Which file a path names, for CheckOutputsDistinct: an existing file by (st_dev, st_ino); a
// file still to be created by its directory's (st_dev, st_ino) and its name.
struct FileIdentity {
  bool known = false;
  bool exists = false;
  bool shareable = false;  // A character device: writing it twice destroys nothing.
  dev_t dev = 0;
  ino_t ino = 0;
  std::string leaf;

  bool SameAs(const FileIdentity& other) const {
    return known && other.known && !shareable && exists == other.exists && dev == other.dev &&
           ino == other.ino && leaf == other.leaf;
  }
};

FileIdentity Identify(const std::string& path) {
  FileIdentity id;
  if (path.empty()) return id;
  const std::string target = ResolveLinks(path);
  struct stat st {};
  if (stat(target.c_str(), &st) == 0) {
    id.known = id.exists = true;
    id.shareable = S_ISCHR(st.st_mode);
  } else if (errno == ENOENT && stat(Dirname(target).c_str(), &st) == 0) {
    id.known = true;
    id.leaf = Basename(target);
  } else {
    return id;
  }
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  return id;
}

}  // namespace

absl::Status CheckOutputsDistinct(const std::vector<NamedPath>& inputs,
                                  const std::vector<NamedPath>& outputs) {
  std::vector<FileIdentity> input_ids, output_ids;
  for (const NamedPath& input : inputs) input_ids.push_back(Identify(input.path));
  for (const NamedPath& output : outputs) output_ids.push_back(Identify(output.path));
  const auto clash = [](const NamedPath& output, const NamedPath& other) {
    return absl::InvalidArgumentError(absl::StrCat(output.name, " \"", output.path,
                                                   "\" is the same file as ", other.name, " \"",
                                                   other.path, "\"; refusing to overwrite it"));
  };
  for (size_t o = 0; o < outputs.size(); ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (output_ids[o].SameAs(input_ids[i])) return clash(outputs[o], inputs[i]);
    }
    for (size_t p = 0; p < o; ++p) {
      if (output_ids[o].SameAs(output_ids[p])) return clash(outputs[o], outputs[p]);
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::engine
