// tests/support/cli.h. Runs the sluice binary as a user would and captures what it prints.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/test_util.h"

namespace sluice::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A fresh directory under the test temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string SluiceBinary() {
  const char* binary = std::getenv("SLUICE_BINARY");
  return binary != nullptr ? binary : "build/tools/sluice";
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs `sluice <args>` (args already shell-quoted where needed) with stdout/stderr captured.
inline CliResult RunSluice(const std::string& args) {
  TempDir dir;
  const std::string command = ShellQuote(SluiceBinary()) + " " + args + " >" +
                              ShellQuote(dir.File("out")) + " 2>" + ShellQuote(dir.File("err")) +
                              " </dev/null";
  const int status = std::system(command.c_str());
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFileOrDie(dir.File("out"));
  result.err = ReadFileOrDie(dir.File("err"));
  return result;
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

}  // namespace sluice::testing
