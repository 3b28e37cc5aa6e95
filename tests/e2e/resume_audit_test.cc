// Resume and audit must not be fooled: another input, an edited predictions file, a log that is
// a suffix or has lines deleted, repeated or edited (issue #6, defects 3 and 7).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/cli.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

class ResumeAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunSluice("gen --rows 6000 --seed 3 --out " + input_).exit_code, 0);
  }
  CliResult Replay(const std::string& flags) {
    return RunSluice("replay --quiet --summary-timing=false --input " + input_ + " --registry " +
                     registry_ + " --predictions " + predictions_ + " " + flags);
  }
  CliResult Audit(const std::string& predictions) {
    return RunSluice("audit --registry " + registry_ + " --predictions " + predictions +
                     " --input " + input_);
  }
  // The predictions file's lines, header first.
  std::vector<std::string> Lines() {
    return absl::StrSplit(ReadFileOrDie(predictions_), '\n', absl::SkipEmpty());
  }
  std::string Write(const std::vector<std::string>& lines) {
    const std::string path = dir_.File("edited.csv");
    WriteFile(path, absl::StrJoin(lines, "\n") + "\n");
    return path;
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
  const std::string registry_ = dir_.File("registry.db");
  const std::string predictions_ = dir_.File("p.csv");
};

TEST_F(ResumeAuditTest, ResumeRefusesAnotherInputWithAsManyRows) {
  ASSERT_EQ(Replay("--snapshot-every-events 1000").exit_code, 0);
  RawSql(registry_, "DELETE FROM versions WHERE version > 3");
  ASSERT_EQ(RunSluice("gen --rows 6000 --seed 4 --out " + input_).exit_code, 0);
  const CliResult r = Replay("--snapshot-every-events 1000 --resume");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot resume version 3: "));
  EXPECT_THAT(r.err, HasSubstr("its first 2000 rows have SHA-256 "));
  EXPECT_THAT(r.err, HasSubstr("this is another input"));
}

TEST_F(ResumeAuditTest, ResumeRefusesAnEditedPredictionsFile) {
  ASSERT_EQ(Replay("--snapshot-every-events 1000").exit_code, 0);
  RawSql(registry_, "DELETE FROM versions WHERE version > 3");
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin() + 500);
  WriteFile(predictions_, absl::StrJoin(lines, "\n") + "\n");
  const CliResult r = Replay("--snapshot-every-events 1000 --resume");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("the file was edited or replaced since"));
}

// The joiner's whole state is in every checkpoint: losing the last versions (as a kill -9 would)
// and resuming gives the uninterrupted run's outputs, with labels from a file and a TTL.
TEST_F(ResumeAuditTest, ResumeWithAFileOfLabelsAndATtlIsByteIdentical) {
  const CsvTable table = ReadCsv(input_);
  std::string labels = "id,label,time\n";
  for (size_t i = 0; i < table.rows.size(); ++i) {
    if (table.rows[i].back() != "1") continue;
    absl::StrAppend(&labels, i, ",1,", std::stod(table.rows[i].front()) + 30, "\n");
  }
  const std::string labels_file = dir_.File("labels.csv");
  WriteFile(labels_file, labels);
  const std::string flags = "--snapshot-every-events 700 --labels " + labels_file +
                            " --label-ttl 30 --expired-labels negative --summary " +
                            dir_.File("s.json");
  ASSERT_EQ(Replay(flags).exit_code, 0);
  const std::string reference = ReadFileOrDie(predictions_);
  const std::string summary = ReadFileOrDie(dir_.File("s.json"));
  RawSql(registry_, "DELETE FROM versions WHERE version > 4");
  const CliResult r = Replay(flags + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(ReadFileOrDie(predictions_) == reference);
  EXPECT_EQ(ReadFileOrDie(dir_.File("s.json")), summary);
  // And the continuous audit replays each version's checkpoint with the same labels.
  const CliResult audit = Audit(predictions_);
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("reproduced 6000 of 6000 predictions bit-for-bit"));
}

TEST_F(ResumeAuditTest, AuditOfASuffixReproducesIt) {
  for (const char* serving : {"frozen", "continuous"}) {
    ASSERT_EQ(Replay(absl::StrCat("--snapshot-every-events 1000 --serving ", serving)).exit_code,
              0);
    std::vector<std::string> lines = Lines();
    lines.erase(lines.begin() + 1, lines.begin() + 2501);  // Rows 0..2499 go.
    const CliResult r = Audit(Write(lines));
    EXPECT_EQ(r.exit_code, 0) << serving << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("reproduced 3500 of 3500 predictions bit-for-bit")) << serving;
  }
}

TEST_F(ResumeAuditTest, AuditSaysPreciselyWhatDiffers) {
  ASSERT_EQ(Replay("--snapshot-every-events 1000 --serving frozen").exit_code, 0);
  const std::vector<std::string> lines = Lines();
  std::vector<std::string> deleted = lines;
  deleted.erase(deleted.begin() + 101);  // Row 100.
  CliResult r = Audit(Write(deleted));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("MISSING row 100 (id 100) was scored but has no line"));
  EXPECT_THAT(r.out, HasSubstr("reproduced 5999 of 5999"));

  std::vector<std::string> repeated = lines;
  repeated.insert(repeated.begin() + 11, lines[10]);
  r = Audit(Write(repeated));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("REPEATED line 12 repeats row 9 of line 11"));

  // row,id,event_time,label,...: edit the id, the time and the label of three rows.
  std::vector<std::string> edited = lines;
  for (const int row : {20, 30, 40}) {
    std::vector<std::string> fields = absl::StrSplit(edited[row + 1], ',');
    const int column = row == 20 ? 1 : row == 30 ? 2 : 3;
    fields[column] = column == 3 ? (fields[3] == "1" ? "0" : "1") : fields[column] + "9";
    edited[row + 1] = absl::StrJoin(fields, ",");
  }
  r = Audit(Write(edited));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("MISMATCH row 20 (line 22, version 1): id 209 recomputed as 20"));
  EXPECT_THAT(r.out, HasSubstr("MISMATCH row 30 (line 32, version 1): event_time "));
  EXPECT_THAT(r.out, HasSubstr("MISMATCH row 40 (line 42, version 1): label 1 recomputed as 0"));
  EXPECT_THAT(r.out, HasSubstr("reproduced 5997 of 6000"));

  std::vector<std::string> extra = lines;
  extra.push_back("7000,7000,1,0,0.5,0.5,99");
  r = Audit(Write(extra));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("version 99"));  // Not in the registry: named.
}

TEST_F(ResumeAuditTest, AuditNeedsARegularInputFile) {
  ASSERT_EQ(Replay("--snapshot-every-events 1000 --serving frozen").exit_code, 0);
  const CliResult r = RunSluice("audit --registry " + registry_ + " --predictions " + predictions_ +
                                " --input /dev/stdin < " + input_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("must be a regular file (not a pipe or a device)"));
}

}  // namespace
}  // namespace sluice::testing
