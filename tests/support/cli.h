// tests/support/cli.h. Runs the sluice binary as a user would and captures what it prints.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

// Starts `sluice <args>` (split on spaces; no quoting) as a child process with its output
// discarded (its stderr to `err_path` if given), and returns its pid: the binary itself, so
// that a signal reaches it.
inline pid_t SpawnSluice(const std::string& args, const std::string& err_path = "") {
  std::vector<std::string> words = {SluiceBinary()};
  std::string word;
  for (const char c : args + " ") {
    if (c != ' ') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen(err_path.empty() ? "/dev/null" : err_path.c_str(), "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

inline void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// A stream whose fraud pattern changes midway, written to `path`: `before` rows of `sluice gen
// --seed 5`, then `after` of seed 6 (later in time) where every event with V14 > 1 is a fraud. A
// LogisticRegression with a higher learning rate adapts faster and wins there.
inline void WriteChangingFraudStream(const TempDir& dir, const std::string& path, int before = 6000,
                                     int after = 10000) {
  ASSERT_EQ(
      RunSluice("gen --rows " + std::to_string(before) + " --seed 5 --out " + dir.File("a.csv"))
          .exit_code,
      0);
  ASSERT_EQ(
      RunSluice("gen --rows " + std::to_string(after) + " --seed 6 --out " + dir.File("b.csv"))
          .exit_code,
      0);
  std::string csv = ReadFileOrDie(dir.File("a.csv"));
  // Its times go on from the first part's (each part's starts at 0).
  const double offset = std::stod(ReadCsv(dir.File("a.csv")).rows.back()[0]) + 1;
  for (std::vector<std::string> row : ReadCsv(dir.File("b.csv")).rows) {
    row[0] = std::to_string(std::stod(row[0]) + offset);
    row.back() = std::stod(row[14]) > 1 ? "1" : "0";
    for (size_t i = 0; i < row.size(); ++i) csv += (i == 0 ? "" : ",") + row[i];
    csv += "\n";
  }
  WriteFile(path, csv);
}

}  // namespace sluice::testing
