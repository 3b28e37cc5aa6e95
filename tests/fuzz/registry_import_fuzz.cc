// tests/fuzz/registry_import_fuzz.cc. registry::Registry::Import of an arbitrary file.
//
// Input: the bytes of the file to import (an exported registry is an SQLite file). It is
// written to a temporary directory and imported into a fresh in-memory registry. Garbage must
// fail with a status; an import that succeeds must give versions whose blobs verify.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "registry/registry.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/support/fake_clock.h"

namespace sluice::fuzz {
namespace {

// One directory per process, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-fuzz-XXXXXX").string();
    SLUICE_FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string File(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;  // NOLINT(google-build-using-namespace): a fuzz entry point.
  static const fuzz::ScratchDir* const dir = new fuzz::ScratchDir();  // Lives until exit.
  static const std::string path = dir->File("import.db");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    SLUICE_FUZZ_CHECK(out.good());
  }
  const testing::FakeClock clock;
  auto registry = registry::Registry::Open(":memory:", clock);
  SLUICE_FUZZ_CHECK(registry.ok());
  const auto imported = (*registry)->Import(path);
  if (imported.ok()) {
    for (const auto& [model, old_version, new_version] : *imported) {
      const auto version = (*registry)->Get(model, new_version);
      SLUICE_FUZZ_CHECK(version.ok());
      SLUICE_FUZZ_CHECK(version->checkpoint.empty());
    }
    const auto listed = (*registry)->List("");
    SLUICE_FUZZ_CHECK(listed.ok() && listed->size() == imported->size());
  } else {
    SLUICE_FUZZ_CHECK(!imported.status().message().empty());
  }
  // SQLite may have left a journal, WAL or shared-memory file beside the input.
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  return 0;
}
