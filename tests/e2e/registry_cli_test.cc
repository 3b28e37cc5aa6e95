// The registry half of sluice as a user meets it: snapshots, audit, resume, registry commands
// and the faults they must survive.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/clock.h"
#include "core/random.h"
#include "registry/registry.h"
#include "tests/support/cli.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunSluice("gen --rows 6000 --seed 3 --out " + input_).exit_code, 0);
  }
  CliResult Replay(const std::string& flags) {
    return RunSluice("replay --quiet --input " + input_ + " --registry " + registry_ + " " + flags);
  }
  CliResult Audit(const std::string& predictions) {
    return RunSluice("audit --registry " + registry_ + " --predictions " + predictions +
                     " --input " + input_);
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
  const std::string registry_ = dir_.File("registry.db");
};

TEST_F(RegistryCliTest, FrozenServingAuditReproducesEveryPrediction) {
  const std::string p = dir_.File("p.csv");
  CliResult r = Replay(
      "--serving frozen --snapshot-every-events 1000 --label-delay 200 "
      "--predictions " +
      p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CsvTable predictions = ReadCsv(p);
  ASSERT_EQ(predictions.header.back(), "model_version");
  EXPECT_EQ(predictions.rows[999].back(), "1");   // Served by the untrained version 1.
  EXPECT_EQ(predictions.rows[1000].back(), "2");  // Version 2 (after 1,000 events) from here.
  r = Audit(p);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("reproduced 6000 of 6000 predictions bit-for-bit"));
  EXPECT_THAT(r.out, HasSubstr("version 2 of \"default\": every 1000 events"));
  EXPECT_THAT(r.out, HasSubstr("\"input_sha256\": \""));
}

TEST_F(RegistryCliTest, ContinuousServingAuditRestoresAndReplays) {
  const std::string p = dir_.File("p.csv");
  CliResult r = Replay("--snapshot-every-events 1500 --label-delay 300 --predictions " + p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CsvTable predictions = ReadCsv(p);
  ASSERT_EQ(predictions.header.back(), "events_since_snapshot");
  EXPECT_EQ(predictions.rows[1501][6], "2");
  EXPECT_EQ(predictions.rows[1501][7], "1");
  r = Audit(p);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("reproduced 6000 of 6000 predictions bit-for-bit"));
}

TEST_F(RegistryCliTest, AuditCatchesATamperedPrediction) {
  const std::string p = dir_.File("p.csv");
  ASSERT_EQ(Replay("--serving frozen --snapshot-every-events 1000 --predictions " + p).exit_code,
            0);
  std::string text = ReadFileOrDie(p);
  const size_t line = text.find("\n3000,");
  const size_t comma = text.find(",0.", line + 1);  // The anomaly score of row 3000.
  ASSERT_NE(comma, std::string::npos);
  text[comma + 3] = text[comma + 3] == '1' ? '2' : '1';
  WriteFile(p, text);
  const CliResult r = Audit(p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("MISMATCH row 3000"));
  EXPECT_THAT(r.out, HasSubstr("reproduced 5999 of 6000"));
}

TEST_F(RegistryCliTest, AuditScoresOneEventWithOneVersion) {
  ASSERT_EQ(Replay("--snapshot-every-events 2000").exit_code, 0);
  const CliResult r = RunSluice("audit --registry " + registry_ +
                                " --version 2 --event '{\"id\": \"t-1\", \"features\": "
                                "{\"V14\": -6.5, \"Amount\": 950.0}}'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("{\"version\": 2, \"anomaly_score\": 0."));
  EXPECT_THAT(r.out, HasSubstr("version 2 of \"default\": every 2000 events"));
  const CliResult bad = RunSluice("audit --registry " + registry_ +
                                  " --version 2 --event '{\"features\": {\"Nope\": 1}}'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("feature \"Nope\" is not in the version's schema"));
}

// SIGKILL at seeded points (when the predictions file has grown past a target size), then
// --resume: the predictions and the summary equal those of a run that was never killed.
TEST_F(RegistryCliTest, KilledAtRandomPointsResumesByteIdentical) {
  const std::string big = dir_.File("big.csv");
  ASSERT_EQ(RunSluice("gen --rows 200000 --seed 5 --out " + big).exit_code, 0);
  const std::string flags = " --input " + big +
                            " --snapshot-every-events 2000 --label-delay 500"
                            " --summary-timing=false --quiet";
  const std::string ref_p = dir_.File("ref.csv"), ref_s = dir_.File("ref.json");
  ASSERT_EQ(RunSluice("replay" + flags + " --registry " + dir_.File("ref.db") + " --predictions " +
                      ref_p + " --summary " + ref_s)
                .exit_code,
            0);
  const std::string reference = ReadFileOrDie(ref_p);
  const std::string reference_summary = ReadFileOrDie(ref_s);
  core::PyRandom rng(11);
  int killed = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::string db = dir_.File("k" + std::to_string(attempt) + ".db");
    const std::string p = dir_.File("k.csv"), s = dir_.File("k.json");
    const std::string args =
        flags + " --registry " + db + " --predictions " + p + " --summary " + s;
    const auto target = static_cast<off_t>(rng.Uniform(0.05, 0.9) * reference.size());
    const pid_t pid = SpawnSluice("replay" + args);
    // Kill when the output passed the target size (or the run ended first).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      struct stat st;
      if (stat(p.c_str(), &st) == 0 && st.st_size >= target) {
        kill(pid, SIGKILL);
        ++killed;
        break;
      }
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    waitpid(pid, &status, 0);
    const CliResult resumed = RunSluice("replay" + args + " --resume");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_TRUE(ReadFileOrDie(p) == reference) << "attempt " << attempt;  // Not printed: MBs.
    EXPECT_EQ(ReadFileOrDie(s), reference_summary) << "attempt " << attempt;
  }
  EXPECT_GE(killed, 3);  // Nearly every attempt stops the run midway.
}

TEST_F(RegistryCliTest, ResumeWithNothingToResumeStartsFresh) {
  const std::string p = dir_.File("p.csv");
  const CliResult r = RunSluice("replay --input " + input_ + " --registry " + registry_ +
                                " --resume --predictions " + p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nothing to resume; starting fresh"));
  EXPECT_EQ(ReadCsv(p).rows.size(), 6000u);
}

TEST_F(RegistryCliTest, ResumingIntoAnotherConfigIsRefusedWithWhatDiffers) {
  ASSERT_EQ(Replay("--snapshot-every-events 2000").exit_code, 0);
  const CliResult r = Replay("--snapshot-every-events 2000 --hst-trees 20 --resume");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("refusing to resume it: hst_trees: 10 -> 20"));
}

TEST_F(RegistryCliTest, AFlippedByteInAStateBlobIsRefusedNamingTheVersion) {
  const std::string p = dir_.File("p.csv");
  ASSERT_EQ(Replay("--serving frozen --snapshot-every-events 2000 --predictions " + p).exit_code,
            0);
  RawSql(registry_,
         "UPDATE versions SET state = CAST(substr(state, 1, 100) || 'X' || substr(state, 102) AS "
         "BLOB) WHERE version = 2");
  CliResult r = Audit(p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("version 2 of model \"default\" in " + registry_ +
                               ": state blob does not match"));
  r = RunSluice("registry --registry " + registry_ + " show 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("version 2"));
}

TEST_F(RegistryCliTest, RegistryCommandsListShowDiffAliasExportImportGc) {
  ASSERT_EQ(Replay("--snapshot-every-events 2000").exit_code, 0);  // Versions 1..5.
  const std::string reg = "registry --registry " + registry_ + " ";
  CliResult r = RunSluice(reg + "list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("5 versions of \"default\""));
  EXPECT_THAT(r.out, HasSubstr("every 2000 events"));
  r = RunSluice(reg + "--json list");
  EXPECT_THAT(r.out, HasSubstr("\"version\": 5, \"parent\": 4"));
  r = RunSluice(reg + "show latest");
  EXPECT_THAT(r.out, HasSubstr("trigger      end of stream"));
  r = RunSluice(reg + "diff 2 3");
  EXPECT_THAT(r.out, HasSubstr("parameters (state)"));
  EXPECT_THAT(r.out, HasSubstr("\"rows\": [0, 4000]"));
  ASSERT_EQ(RunSluice(reg + "alias champion 2").exit_code, 0);
  ASSERT_EQ(RunSluice(reg + "alias champion 4").exit_code, 0);
  ASSERT_EQ(RunSluice(reg + "alias champion 2").exit_code, 0);  // Rollback.
  r = RunSluice(reg + "history champion");
  EXPECT_THAT(r.out, HasSubstr("champion -> 4 (was 2)"));
  EXPECT_THAT(r.out, HasSubstr("champion -> 2 (was 4)"));
  r = RunSluice(reg + "show champion");
  EXPECT_THAT(r.out, HasSubstr("version      2"));
  const std::string exported = dir_.File("v4.db");
  ASSERT_EQ(RunSluice(reg + "export 4 " + exported).exit_code, 0);
  const std::string other = dir_.File("other.db");
  r = RunSluice("registry --registry " + other + " import " + exported);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported \"default\" version 4 as version 1"));
  r = RunSluice(reg + "gc --keep 1");
  EXPECT_THAT(r.out, HasSubstr("deleted 3 versions"));  // 1, 3, 4 go; 2 (champion), 5 stay.
}

TEST_F(RegistryCliTest, UnknownVersionsAliasesAndFilesFailClearly) {
  ASSERT_EQ(Replay("").exit_code, 0);
  const std::string reg = "registry --registry " + registry_ + " ";
  CliResult r = RunSluice(reg + "show 99");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has no version 99"));
  r = RunSluice(reg + "show champion");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no version or alias \"champion\""));
  WriteFile(dir_.File("not.db"), "hello, this is not a registry at all................");
  r = RunSluice("registry --registry " + dir_.File("not.db") + " list");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not a sluice registry"));
  r = RunSluice(reg + "frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown registry command \"frobnicate\""));
}

TEST_F(RegistryCliTest, TwoProcessesShareOneRegistry) {
  const std::string a = "replay --quiet --input " + input_ + " --registry " + registry_ +
                        " --snapshot-every-events 500 --model-name ";
  const pid_t pid = SpawnSluice(a + "first");
  const CliResult second = RunSluice(a + "second");
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (const char* model : {"first", "second"}) {
    const CliResult r =
        RunSluice("registry --registry " + registry_ + " --model-name " + model + " list");
    EXPECT_THAT(r.out, HasSubstr("14 versions of")) << model;  // start + 12 + end.
  }
}

// Issue: two runs of one model at once interleaved their versions; one failed with "UNIQUE
// constraint failed" after its predictions had named the other's versions. This process holds
// the model's writer lease, as a running replay does: a second replay of that model is refused
// before it writes anything, while other models go on.
TEST_F(RegistryCliTest, ASecondRunOfTheSameModelIsRefusedBeforeItStarts) {
  auto holder = registry::Registry::Open(registry_, core::Clock::Real()).value();
  ASSERT_TRUE(holder->AcquireWriter("default").ok());
  const std::string p = dir_.File("p.csv");
  CliResult r = Replay("--snapshot-every-events 1000 --predictions " + p);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("model \"default\" in ", registry_,
                                            " is being written by another run (process ", getpid(),
                                            ", since ")));
  r = RunSluice("registry --registry " + registry_ + " list");
  EXPECT_THAT(r.out, HasSubstr("0 versions of \"default\""));
  r = Replay("--snapshot-every-events 1000 --model-name other");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  ASSERT_TRUE(holder->ReleaseWriter("default").ok());
  r = Replay("--serving frozen --snapshot-every-events 1000 --predictions " + p);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CsvTable predictions = ReadCsv(p);
  EXPECT_EQ(predictions.rows[0].back(), "1");
  EXPECT_EQ(predictions.rows[1000].back(), "2");
  EXPECT_EQ(predictions.rows[5999].back(), "6");  // 7 is taken after the last event.
  const auto versions = holder->List("default").value();
  ASSERT_EQ(versions.size(), 8u);  // start + 6 + end.
  for (size_t i = 1; i < versions.size(); ++i)
    EXPECT_EQ(versions[i].parent, versions[i - 1].version);
}

// Issue: `registry import` of a registry into itself doubled it; imported chains lost their
// parents.
TEST_F(RegistryCliTest, ImportRefusesItsOwnFileAndKeepsParents) {
  ASSERT_EQ(Replay("--snapshot-every-events 2000").exit_code, 0);  // Versions 1..5.
  const std::string reg = "registry --registry " + registry_ + " ";
  CliResult r = RunSluice(reg + "import " + registry_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(registry_ + ": import " + registry_ +
                               ": it is this registry's own file; refusing to import it into "
                               "itself"));
  EXPECT_THAT(RunSluice(reg + "list").out, HasSubstr("5 versions of \"default\""));
  const std::string other = dir_.File("other.db");
  r = RunSluice("registry --registry " + other + " import " + registry_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunSluice("registry --registry " + other + " --json list");
  EXPECT_THAT(r.out, HasSubstr("\"version\": 1, \"parent\": null"));
  EXPECT_THAT(r.out, HasSubstr("\"version\": 5, \"parent\": 4"));
}

// Issue: `registry list --json` left out the aliases that the table shows.
TEST_F(RegistryCliTest, ListJsonHasTheAliases) {
  ASSERT_EQ(Replay("--snapshot-every-events 3000").exit_code, 0);  // Versions 1..4.
  const std::string reg = "registry --registry " + registry_ + " ";
  ASSERT_EQ(RunSluice(reg + "alias champion 2").exit_code, 0);
  ASSERT_EQ(RunSluice(reg + "alias challenger 2").exit_code, 0);
  ASSERT_EQ(RunSluice(reg + "alias previous 3").exit_code, 0);
  const CliResult r = RunSluice(reg + "--json list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_THAT(lines[0], ::testing::EndsWith("\"aliases\": []},"));
  EXPECT_THAT(lines[1], ::testing::EndsWith("\"aliases\": [\"challenger\", \"champion\"]},"));
  EXPECT_THAT(lines[2], ::testing::EndsWith("\"aliases\": [\"previous\"]},"));
  EXPECT_THAT(lines[3], ::testing::EndsWith("\"aliases\": []}]"));
}

// Issue: the trigger column of `registry list` was cut ("every 4 s of event tim").
TEST_F(RegistryCliTest, ListShowsTriggersWhole) {
  ASSERT_EQ(Replay("--snapshot-every-seconds 4 --snapshot-every-events 2500").exit_code, 0);
  const CliResult r = RunSluice("registry --registry " + registry_ + " list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 4u) << r.out;
  // Every row's code version starts under the header's "code": the columns line up.
  const size_t code = lines[0].find("code");
  ASSERT_NE(code, std::string::npos);
  int whole = 0;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i][code - 1], ' ') << lines[i];
    EXPECT_NE(lines[i][code], ' ') << lines[i];
    if (lines[i].find("every 4 s of event time ") != std::string::npos) ++whole;
  }
  EXPECT_GT(whole, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("every 2500 events "));
}

// Issue: `registry list` of a missing file did not name it; a failed `registry alias` on a
// missing path left an empty registry behind. Only import may create a registry file, and a
// failed import leaves none.
TEST_F(RegistryCliTest, CommandsOnAMissingFileNameItAndCreateNothing) {
  const std::string missing = dir_.File("missing.db");
  const std::string reg = "registry --registry " + missing + " ";
  const std::vector<std::string> commands = {"list",
                                             "show 1",
                                             "diff 1 2",
                                             "history champion",
                                             "alias champion 1",
                                             "gc --keep 1",
                                             "export 1 " + dir_.File("out.db")};
  for (const std::string& command : commands) {
    const CliResult r = RunSluice(reg + command);
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_EQ(r.err, "sluice registry: " + missing + ": no such registry file\n") << command;
    struct stat st;
    EXPECT_NE(stat(missing.c_str(), &st), 0) << command;
    EXPECT_NE(stat(dir_.File("out.db").c_str(), &st), 0) << command;
  }
  WriteFile(dir_.File("text.db"), "hello, this is not a registry at all................");
  CliResult r = RunSluice(reg + "import " + dir_.File("text.db"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir_.File("text.db") + " is not a sluice registry"));
  struct stat st;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_NE(stat((missing + suffix).c_str(), &st), 0) << suffix;
  }
  r = RunSluice(reg + "import " + dir_.File("absent.db"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir_.File("absent.db") + ": no such registry file"));
  EXPECT_NE(stat(missing.c_str(), &st), 0);
}

// Issue: wrong arguments exited 1 like run-time failures, and some were not caught at all.
// Every usage error exits 2, names the problem, and opens no file (so creates none).
TEST_F(RegistryCliTest, WrongArgumentsExitTwoNamingTheProblem) {
  const std::string missing = dir_.File("missing.db");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no command given"},
      {"frobnicate", "unknown registry command \"frobnicate\""},
      {"list extra", "\"list\" takes no arguments, not 1: extra \"extra\""},
      {"show", "\"show\" takes 1 argument (V), not 0"},
      {"show 1 2", "\"show\" takes 1 argument (V), not 2: extra \"2\""},
      {"diff 1", "\"diff\" takes 2 arguments (V1 V2), not 1"},
      {"diff 1 2 3", "\"diff\" takes 2 arguments (V1 V2), not 3: extra \"3\""},
      {"export 1", "\"export\" takes 2 arguments (V FILE), not 1"},
      {"import", "\"import\" takes 1 argument (FILE), not 0"},
      {"import a.db b.db", "\"import\" takes 1 argument (FILE), not 2: extra \"b.db\""},
      {"alias champion", "\"alias\" takes 2 arguments (NAME V), not 1"},
      {"alias 12 1", "alias name \"12\" is reserved or a number; choose a name"},
      {"alias latest 1", "alias name \"latest\" is reserved or a number; choose a name"},
      {"history", "\"history\" takes 1 argument (NAME), not 0"},
      {"gc", "gc needs --keep N (N >= 1)"},
      {"gc --keep 0", "gc --keep must be at least 1, not 0"},
      {"gc --keep many", "--keep takes a whole number, not \"many\""},
      {"gc --keep 1 extra", "\"gc\" takes no arguments, not 1: extra \"extra\""},
      {"list --keep 3", "--keep applies to gc only, not to \"list\""},
      {"--model-name= list", "--model-name must not be empty"},
  };
  for (const auto& [args, message] : cases) {
    const CliResult r = RunSluice("registry --registry " + missing + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_THAT(r.err, ::testing::StartsWith("sluice registry: " + message + "\n")) << args;
  }
  CliResult r = RunSluice("registry list");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--registry FILE is required"));
  struct stat st;
  EXPECT_NE(stat(missing.c_str(), &st), 0);

  // Run-time failures exit 1.
  ASSERT_EQ(Replay("").exit_code, 0);
  const std::string reg = "registry --registry " + registry_ + " ";
  for (const std::string args : {"show 99", "diff 1 99", "history champion", "alias champion 99",
                                 "export 99 x.db", "import absent.db"}) {
    r = RunSluice(reg + args);
    EXPECT_EQ(r.exit_code, 1) << args;
  }
}

// Issue: "1 versions". Counts agree with their nouns.
TEST_F(RegistryCliTest, CountsAreSingularForOne) {
  ASSERT_EQ(Replay("--snapshot-every-events 3000").exit_code, 0);  // Versions 1..4.
  const std::string reg = "registry --registry " + registry_ + " ";
  const std::string exported = dir_.File("v1.db");
  ASSERT_EQ(RunSluice(reg + "export 1 " + exported).exit_code, 0);
  CliResult r = RunSluice("registry --registry " + exported + " list");
  EXPECT_THAT(r.out, HasSubstr("\n1 version of \"default\" in " + exported + "\n"));
  r = RunSluice(reg + "diff 2 2");
  EXPECT_THAT(r.out, HasSubstr("version 2 -> 2: 0 differences\n"));
  r = RunSluice(reg + "diff 3 4");  // Both after the last event: only the trigger differs.
  EXPECT_EQ(r.out, "version 3 -> 4: 1 difference\n  trigger: every 3000 events -> end of stream\n");
  r = RunSluice(reg + "gc --keep 3");
  EXPECT_EQ(r.out, "deleted 1 version of \"default\" in " + registry_ + "\n");
  r = RunSluice(reg + "gc --keep 2");
  EXPECT_EQ(r.out, "deleted 1 version of \"default\" in " + registry_ + "\n");
  r = RunSluice(reg + "list");
  EXPECT_THAT(r.out, HasSubstr("\n2 versions of \"default\""));
}

// `sluice live` registers partition P's versions as model "<name>.pP"; two replays under such
// names stand in for two partitions here.
TEST_F(RegistryCliTest, PartitionedModelsListMergeAndMoveAliasesTogether) {
  const std::string other_input = dir_.File("in2.csv");
  ASSERT_EQ(RunSluice("gen --rows 3000 --seed 4 --out " + other_input).exit_code, 0);
  CliResult r = Replay("--snapshot-every-events 2000 --model-name default.p0");  // 1..5
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunSluice("replay --quiet --input " + other_input + " --registry " + registry_ +
                " --snapshot-every-events 2000 --model-name default.p1");  // 1..3
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string reg = "registry --registry " + registry_ + " ";

  r = RunSluice(reg + "--model-name default list --partition 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 versions of \"default.p1\""));
  r = RunSluice(reg + "list --partition 0");  // Every partitioned model's partition 0.
  EXPECT_THAT(r.out, HasSubstr("5 versions of \"default.p0\""));
  r = RunSluice(reg + "list");
  EXPECT_THAT(r.out,
              HasSubstr("\"default\" is partitioned into 2 partitions: see list --partition P"));
  r = RunSluice(reg + "show 1 --partition 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--partition applies to list only"));
  r = RunSluice(reg + "list --as x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--as applies to merge only"));
  r = RunSluice(reg + "list --partition 7");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no model has a partition 7"));

  r = RunSluice(reg + "merge default.p*:latest --as global");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "merged default.p0:5 default.p1:3 into version 1 of \"global\"\n");
  r = RunSluice(reg + "--model-name global show 1");
  EXPECT_THAT(r.out, HasSubstr("trigger      merge"));
  EXPECT_THAT(r.out, HasSubstr("\"merged\": [{\"model\": \"default.p0\", \"version\": 5"));
  EXPECT_THAT(r.out, HasSubstr("\"hst_window\": 500"));
  EXPECT_THAT(r.out, HasSubstr("\"fraud_model\": false"));
  // It serves as an anomaly-only model.
  r = RunSluice("audit --registry " + registry_ +
                " --model-name global --version 1 --event '{\"id\": \"t\", \"features\": "
                "{\"V1\": -3.5, \"Amount\": 900}}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("{\"version\": 1, \"anomaly_score\": 0."));
  EXPECT_THAT(r.out, HasSubstr("\"fraud_probability\": null}"));
  r = RunSluice(reg + "merge default.p0:2 default.p1:latest global:1 --as global");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("into version 2 of \"global\""));
  r = RunSluice(reg + "merge default.p0:9 default.p1:1 --as global");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("model \"default.p0\" has no version 9"));
  r = RunSluice(reg + "merge default.p0:1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("merge needs --as NAME"));

  // "default" has no versions of its own: the alias moves in every partition at once.
  r = RunSluice(reg + "alias champion latest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "champion -> version 5 of \"default.p0\"\nchampion -> version 3 of \"default.p1\"\n");
  r = RunSluice(reg + "alias champion 4");  // default.p1 has no version 4: nothing moves.
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("model \"default.p1\" has no version 4"));
  r = RunSluice(reg + "alias champion 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunSluice(reg + "--model-name default.p1 history champion");
  EXPECT_THAT(r.out, HasSubstr("champion -> 3 (was null)"));
  EXPECT_THAT(r.out, HasSubstr("champion -> 2 (was 3)"));
  r = RunSluice(reg + "--model-name nothing alias champion 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has no versions and no partitions"));
}

}  // namespace
}  // namespace sluice::testing
