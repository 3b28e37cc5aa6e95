// tests/support/raw_sql.h. Runs SQL on a registry file behind the registry's back, to corrupt
// blobs, hold locks or fake old schemas in tests.
#pragma once

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"

namespace sluice::testing {

inline void RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

}  // namespace sluice::testing
