// The defects found when sluice was tried as a new user would (issue #6), one test each, through
// the binary as a user meets it.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/support/cli.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class NewUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunSluice("gen --rows 3000 --seed 2 --out " + input_).exit_code, 0);
  }
  CliResult Replay(const std::string& flags) {
    return RunSluice("replay --quiet --input " + input_ + " " + flags);
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
};

// Defect 1: a diverging LogisticRegression ends, says so, writes nan, and stays resumable.
TEST_F(NewUserTest, ADivergedModelIsReportedAndEverythingTerminates) {
  const std::string p = dir_.File("p.csv"), s = dir_.File("s.json"), db = dir_.File("r.db");
  for (const char* flags : {"--lr-l2 1000", "--lr-learning-rate 1e308"}) {
    const CliResult r = Replay(std::string(flags) + " --predictions " + p + " --summary " + s +
                               " --registry " + db + " --snapshot-every-events 500");
    ASSERT_EQ(r.exit_code, 0) << flags << r.err;
    EXPECT_THAT(r.err, HasSubstr("the fraud model scored nan for ")) << flags;
    EXPECT_THAT(ReadFileOrDie(p), HasSubstr(",nan,")) << flags;
    EXPECT_THAT(ReadFileOrDie(s), HasSubstr("\"first_nan_event\": \"")) << flags;
    unlink(db.c_str());
  }
  // Checkpoints with NaN scores load: lose the last versions, resume, and get the same file.
  const std::string flags = "--lr-l2 1000 --summary-timing=false --predictions " + p +
                            " --summary " + s + " --registry " + db +
                            " --snapshot-every-events 500";
  ASSERT_EQ(Replay(flags).exit_code, 0);
  const std::string reference = ReadFileOrDie(p), summary = ReadFileOrDie(s);
  RawSql(db, "DELETE FROM versions WHERE version > 3");
  const CliResult resumed = Replay(flags + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(ReadFileOrDie(p) == reference);
  EXPECT_EQ(ReadFileOrDie(s), summary);
}

// Defect 2: outputs never destroy inputs, devices or symlinks.
TEST_F(NewUserTest, OutputsNeverReplaceInputsDevicesOrLinks) {
  const std::string db = dir_.File("r.db");
  for (const std::string flag : {"--predictions ", "--summary ", "--report "}) {
    const CliResult r = Replay(flag + input_);
    EXPECT_EQ(r.exit_code, 1) << flag;
    EXPECT_THAT(r.err, HasSubstr("is the same file as --input")) << flag;
  }
  ASSERT_EQ(Replay("--registry " + db).exit_code, 0);
  EXPECT_THAT(Replay("--registry " + db + " --summary " + db).err,
              HasSubstr("is the same file as --registry"));
  EXPECT_EQ(Replay("--summary /dev/null --predictions /dev/null").exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  const std::string target = dir_.File("target.json"), link = dir_.File("link.json");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(Replay("--summary " + link).exit_code, 0);
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_THAT(ReadFileOrDie(target), HasSubstr("\"events\": 3000"));
}

// Defect 11 (last part): a failed run leaves no half-written predictions file.
TEST_F(NewUserTest, AFailedRunLeavesNoPredictions) {
  const std::string bad = dir_.File("bad.csv"), p = dir_.File("p.csv");
  WriteFile(bad, "Time,V1,Class\n0,1,0\n1,2,0\n2,oops,1\n");
  EXPECT_EQ(RunSluice("replay --quiet --input " + bad + " --predictions " + p).exit_code, 1);
  struct stat st;
  EXPECT_NE(stat(p.c_str(), &st), 0);
}

// Defect 5: one column, two roles.
TEST_F(NewUserTest, AColumnWithTwoRolesIsRefused) {
  for (const char* flags : {"--id-column Class", "--time-column Class", "--id-column Time"}) {
    const CliResult r = Replay(flags);
    EXPECT_EQ(r.exit_code, 1) << flags;
    EXPECT_THAT(r.err, HasSubstr("cannot be both")) << flags;
  }
}

// Defect 8: sizes beyond memory are refused up front, naming the flags.
TEST_F(NewUserTest, SizesBeyondMemoryAreRefusedNamingTheFlags) {
  const CliResult r = Replay("--hst-height 24 --hst-trees 100");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--hst-trees 100 --hst-height 24 needs "));
  EXPECT_EQ(Replay("--metric-window 10000000").exit_code, 0);  // Grows with use.
  EXPECT_THAT(Replay("--metric-window 2147483647").err,
              HasSubstr("--metric-window 2147483647 (rolling AUCs of 2 models) needs "));
}

// Defect 12: audit --event parses real JSON: escapes decoded, trailing garbage refused.
TEST_F(NewUserTest, AuditEventParsesRealJson) {
  const std::string db = dir_.File("r.db");
  ASSERT_EQ(Replay("--registry " + db).exit_code, 0);
  const std::string audit = "audit --registry " + db + " --version latest --event ";
  CliResult r = RunSluice(audit + "'{\"features\": {\"V\\u0031\": 1.5}}'");  // "V1".
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"anomaly_score\": "));
  r = RunSluice(audit + "'{\"features\": {\"V1\": 1.5}} trailing'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("trailing"));
  r = RunSluice(audit + "'{\"features\": {\"V1\": \"x\"}}'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("feature \"V1\": not a number"));
}

// Defect 9: --rows applies to a resumed run too.
TEST_F(NewUserTest, RowsAppliesToAResumedRun) {
  const std::string db = dir_.File("r.db"), p = dir_.File("p.csv");
  const std::string flags = "--rows 2000 --registry " + db + " --predictions " + p;
  ASSERT_EQ(Replay(flags + " --snapshot-every-events 500").exit_code, 0);
  const std::string reference = ReadFileOrDie(p);
  RawSql(db, "DELETE FROM versions WHERE version > 2");
  ASSERT_EQ(Replay(flags + " --snapshot-every-events 500 --resume").exit_code, 0);
  EXPECT_TRUE(ReadFileOrDie(p) == reference);
  EXPECT_EQ(ReadCsv(p).rows.size(), 2000u);
}

}  // namespace
}  // namespace sluice::testing
