// tests/support/test_util.h. Status matchers, ASSERT_OK_AND_ASSIGN, the repository's data files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/flat_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") { return GetStatus(arg).ok(); }
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status: " << status;
  return status.code() == code;
}
MATCHER_P2(StatusIs, code, message_matcher, "has the code and a matching message") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status: " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

#define SLUICE_TEST_CONCAT_INNER(a, b) a##b
#define SLUICE_TEST_CONCAT(a, b) SLUICE_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SLUICE_TEST_CONCAT(statusor_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(statusor).value()
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::sluice::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::sluice::testing::IsOk())

// The repository root (tests run with it as working directory; SLUICE_SOURCE_DIR overrides).
inline std::filesystem::path SourceDir() {
  const char* dir = std::getenv("SLUICE_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::current_path();
}

// A data file checked into the repository, e.g. RepoFile("datasets/creditcard/README.md").
inline std::filesystem::path RepoFile(const std::string& relative_path) {
  return SourceDir() / relative_path;
}

// River's reference outputs, tests/data/oracle/<name> (see its README.md).
inline std::filesystem::path OracleFile(const std::string& name) {
  return RepoFile("tests/data/oracle/" + name);
}

// Fails the test (never skips it) when a data file it compares against is missing.
#define SLUICE_REQUIRE_FILE(path)                                                \
  ASSERT_TRUE(std::filesystem::is_regular_file(path))                            \
      << (path) << " is missing: golden tests need the data files checked into " \
      << "the repository (tests/data/, datasets/)"

inline std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CSV with a header, as rows of string fields (no quoting: the oracle files have none).
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Column(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }
  std::vector<double> Doubles(const std::string& name) const {
    const int c = Column(name);
    std::vector<double> out;
    for (const auto& row : rows)
      out.push_back(std::strtod(row[static_cast<size_t>(c)].c_str(), nullptr));
    return out;
  }
};

inline CsvTable ReadCsv(const std::filesystem::path& path) {
  CsvTable table;
  std::ifstream in(path);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    if (first) {
      table.header = fields;
      first = false;
    } else {
      table.rows.push_back(fields);
    }
  }
  return table;
}

// The value of `key` in a flat JSON object (its JSON text); a test failure if there is none.
inline std::string Field(const core::FlatJson& object, const std::string& key) {
  for (const auto& [k, v] : object) {
    if (k == key) return v;
  }
  ADD_FAILURE() << "no field " << key;
  return "";
}

}  // namespace sluice::testing
