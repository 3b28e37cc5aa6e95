// Outputs never destroy inputs, devices or symlinks, and replace regular files only on success.
#include "engine/text_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::sluice::testing::ReadFileOrDie;
using ::sluice::testing::StatusIs;
using ::sluice::testing::TempDir;
using ::testing::HasSubstr;

void Write(const std::string& path, const std::string& contents) {
  ASSERT_OK(WriteFileAtomically(path, contents));
}

bool IsSymlink(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

TEST(CheckOutputsDistinct, RefusesAnOutputThatIsAnInputNamingBoth) {
  TempDir dir;
  const std::string input = dir.File("tx.csv");
  Write(input, "a,Class\n1,0\n");
  const std::string link = dir.File("link.csv");
  ASSERT_EQ(symlink(input.c_str(), link.c_str()), 0);
  const std::string hard = dir.File("hard.csv");
  ASSERT_EQ(::link(input.c_str(), hard.c_str()), 0);
  const std::string registry = dir.File("models.db");
  Write(registry, "sqlite");
  const std::vector<NamedPath> inputs = {{"--input", input}, {"--registry", registry}};
  EXPECT_THAT(CheckOutputsDistinct(inputs, {{"--summary", input}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--summary \"" + input + "\" is the same file as --input \"" + input +
                           "\"; refusing to overwrite it"));
  EXPECT_THAT(CheckOutputsDistinct(inputs, {{"--predictions", link}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--input")));
  EXPECT_THAT(CheckOutputsDistinct(inputs, {{"--report", hard}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--input")));
  const std::string dotted = dir.File(".") + "/models.db";
  EXPECT_THAT(CheckOutputsDistinct(inputs, {{"--report", dotted}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is the same file as --registry \"" + registry + "\"")));
  EXPECT_OK(CheckOutputsDistinct(inputs, {{"--summary", dir.File("s.json")},
                                          {"--report", dir.File("r.html")},
                                          {"--predictions", ""}}));
}

TEST(CheckOutputsDistinct, RefusesTwoOutputsThatAreOneFileButSharesDevices) {
  TempDir dir;
  // Neither exists yet: the same directory entry is still the same file.
  EXPECT_THAT(CheckOutputsDistinct(
                  {}, {{"--summary", dir.File("out")}, {"--report", dir.File(".") + "/out"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--report \"" + dir.File(".") +
                                                                     "/out\" is the same file as "
                                                                     "--summary \"" +
                                                                     dir.File("out") + "\"")));
  EXPECT_OK(CheckOutputsDistinct({{"--input", "/dev/null"}},
                                 {{"--summary", "/dev/null"}, {"--report", "/dev/null"}}));
}

TEST(WriteFileAtomically, WritesThroughASymlinkAndKeepsTheLink) {
  TempDir dir;
  const std::string target = dir.File("target.json");
  Write(target, "old");
  ASSERT_EQ(chmod(target.c_str(), 0600), 0);
  const std::string link = dir.File("link.json");
  ASSERT_EQ(symlink("target.json", link.c_str()), 0);  // Relative, as users make them.
  Write(link, "new");
  EXPECT_TRUE(IsSymlink(link));
  EXPECT_EQ(ReadFileOrDie(target), "new");
  struct stat st {};
  ASSERT_EQ(stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // The replacement keeps the permissions.
  // A dangling link gets its target created.
  const std::string dangling = dir.File("dangling.json");
  ASSERT_EQ(symlink(dir.File("created.json").c_str(), dangling.c_str()), 0);
  Write(dangling, "made");
  EXPECT_TRUE(IsSymlink(dangling));
  EXPECT_EQ(ReadFileOrDie(dir.File("created.json")), "made");
}

TEST(WriteFileAtomically, WritesDevicesInPlaceAndRefusesDirectories) {
  // Used to rename a regular file over /dev/null (as root: over the device node).
  struct stat before {};
  ASSERT_EQ(stat("/dev/null", &before), 0);
  EXPECT_OK(WriteFileAtomically("/dev/null", "summary"));
  struct stat after {};
  ASSERT_EQ(stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_THAT(WriteFileAtomically("/dev/full", "x"), StatusIs(absl::StatusCode::kUnavailable));
  TempDir dir;
  ASSERT_TRUE(std::filesystem::create_directory(dir.File("d")));
  EXPECT_THAT(WriteFileAtomically(dir.File("d"), "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Is a directory")));
}

TEST(BufferedFile, OnCommitReplacesTheFileOnlyWhenCommitted) {
  TempDir dir;
  const std::string path = dir.File("predictions.csv");
  Write(path, "previous run\n");
  {
    ASSERT_OK_AND_ASSIGN(auto file, BufferedFile::Create(path, BufferedFile::Mode::kOnCommit));
    file->Append("row 1\n");
    EXPECT_EQ(file->Flush(), 6);
    EXPECT_EQ(ReadFileOrDie(path), "previous run\n");
    EXPECT_EQ(ReadFileOrDie(BufferedFile::PartialPath(path)), "row 1\n");
    // Destroyed without Commit(): a failed run.
  }
  EXPECT_EQ(ReadFileOrDie(path), "previous run\n");
  EXPECT_FALSE(std::filesystem::exists(BufferedFile::PartialPath(path)));
  ASSERT_OK_AND_ASSIGN(auto file, BufferedFile::Create(path, BufferedFile::Mode::kOnCommit));
  file->Append("row 1\n");
  file->Abandon();
  EXPECT_EQ(ReadFileOrDie(path), "previous run\n");
  ASSERT_OK_AND_ASSIGN(file, BufferedFile::Create(path, BufferedFile::Mode::kOnCommit));
  file->Append("row 1\nrow 2\n");
  ASSERT_OK(file->Commit());
  EXPECT_EQ(ReadFileOrDie(path), "row 1\nrow 2\n");
  EXPECT_FALSE(std::filesystem::exists(BufferedFile::PartialPath(path)));
}

TEST(BufferedFile, SuspendedOutputResumesAndCommits) {
  TempDir dir;
  const std::string path = dir.File("p.csv");
  ASSERT_OK_AND_ASSIGN(auto file, BufferedFile::Create(path, BufferedFile::Mode::kOnCommit));
  file->Append("a\nb\npartial line");
  ASSERT_OK(file->Suspend());
  file.reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_OK_AND_ASSIGN(file, BufferedFile::Resume(path, 4));  // After "a\nb\n".
  file->Append("c\n");
  ASSERT_OK(file->Commit());
  EXPECT_EQ(ReadFileOrDie(path), "a\nb\nc\n");
  // Without a partial file, Resume continues the destination in place, as before.
  ASSERT_OK_AND_ASSIGN(file, BufferedFile::Resume(path, 2));
  file->Append("z\n");
  ASSERT_OK(file->Close());
  EXPECT_EQ(ReadFileOrDie(path), "a\nz\n");
  EXPECT_THAT(BufferedFile::Resume(path, 100), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(BufferedFile, WritesThroughSymlinksAndDevicesInEitherMode) {
  TempDir dir;
  const std::string target = dir.File("t.csv");
  const std::string link = dir.File("l.csv");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  for (const auto mode : {BufferedFile::Mode::kInPlace, BufferedFile::Mode::kOnCommit}) {
    ASSERT_OK_AND_ASSIGN(auto file, BufferedFile::Create(link, mode));
    file->Append("x\n");
    ASSERT_OK(file->Commit());
    EXPECT_TRUE(IsSymlink(link));
    EXPECT_EQ(ReadFileOrDie(target), "x\n");
    ASSERT_OK_AND_ASSIGN(auto null, BufferedFile::Create("/dev/null", mode));
    null->Append("x\n");
    ASSERT_OK(null->Commit());
    struct stat st {};
    ASSERT_EQ(stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    ASSERT_OK_AND_ASSIGN(auto full, BufferedFile::Create("/dev/full", mode));
    full->Append("x\n");
    EXPECT_THAT(full->Commit(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("/dev/full")));
  }
}

}  // namespace
}  // namespace sluice::engine
