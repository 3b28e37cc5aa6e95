// A command whose standard output cannot be written fails instead of exiting 0.
#include <cstdlib>
#include <string>

#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

// Runs `sluice <args>` with stdout on /dev/full; returns the exit code and fills *err.
int RunIntoDevFull(const std::string& args, std::string* err) {
  TempDir dir;
  const std::string command =
      ShellQuote(SluiceBinary()) + " " + args + " >/dev/full 2>" + ShellQuote(dir.File("err"));
  const int status = std::system(command.c_str());
  *err = ReadFileOrDie(dir.File("err"));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Stdout, AFullStdoutFailsTheCommand) {
  TempDir dir;
  const std::string db = dir.File("models.db");
  const std::string csv = dir.File("in.csv");
  ASSERT_EQ(RunSluice("gen --rows 600 --seed 1 --out " + ShellQuote(csv)).exit_code, 0);
  ASSERT_EQ(RunSluice("replay --quiet --input " + ShellQuote(csv) + " --registry " + ShellQuote(db))
                .exit_code,
            0);
  ASSERT_EQ(RunSluice("registry --registry " + ShellQuote(db) + " list").exit_code, 0);
  for (const std::string& args :
       {std::string("--help"), "registry --registry " + ShellQuote(db) + " list",
        "registry --registry " + ShellQuote(db) + " list --json",
        "replay --input " + ShellQuote(csv)}) {
    std::string err;
    EXPECT_EQ(RunIntoDevFull(args, &err), 1) << args;
    EXPECT_THAT(err, HasSubstr("sluice: error writing to standard output: No space left on device"))
        << args;
  }
  // gen writes its CSV to --out: through /dev/stdout it meets the full device too.
  std::string err;
  EXPECT_EQ(RunIntoDevFull("gen --rows 10 --seed 1 --out /dev/stdout", &err), 1);
  EXPECT_THAT(err, HasSubstr("No space left on device"));
}

}  // namespace
}  // namespace sluice::testing
