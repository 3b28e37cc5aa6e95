#include "registry/registry.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/sha256.h"
#include "tests/support/cli.h"
#include "tests/support/fake_clock.h"
#include "tests/support/raw_sql.h"
#include "tests/support/test_util.h"

namespace sluice::registry {
namespace {

using ::sluice::testing::FakeClock;
using ::sluice::testing::RawSql;
using ::sluice::testing::StatusIs;
using ::sluice::testing::TempDir;
using ::testing::HasSubstr;

NewVersion Sample(const std::string& state, std::optional<int64_t> parent = std::nullopt) {
  NewVersion v;
  v.model = "default";
  v.parent = parent;
  v.created_event_time = 42.5;
  v.trigger = "every 1000 events";
  v.config_json = R"({"hst": {"trees": 10}})";
  v.lineage_json = R"({"input": "x.csv"})";
  v.metrics_json = R"({"auc": 0.9})";
  v.state = state;
  v.checkpoint = "run state";
  return v;
}

class RegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Registry> OpenOrDie(const Registry::Options& options = {}) {
    auto registry = Registry::Open(path_, clock_, options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return std::move(registry).value();
  }
  TempDir dir_;
  const std::string path_ = dir_.File("registry.db");
  FakeClock clock_;
};

TEST_F(RegistryTest, PutAndGetRoundTripEverything) {
  auto registry = OpenOrDie();
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(const int64_t v1, registry->Put(Sample(std::string("blob\0one", 8))));
  ASSERT_OK_AND_ASSIGN(const int64_t v2, registry->Put(Sample("blob two", v1)));
  EXPECT_EQ(v1, 1);
  EXPECT_EQ(v2, 2);
  ASSERT_OK_AND_ASSIGN(const Version got, registry->Get("default", 1));
  EXPECT_EQ(got.state, std::string("blob\0one", 8));
  EXPECT_EQ(got.checkpoint, "run state");
  EXPECT_EQ(got.created_wall_ms, 10000);
  EXPECT_EQ(got.created_event_time, 42.5);
  EXPECT_EQ(got.trigger, "every 1000 events");
  EXPECT_EQ(got.config_json, R"({"hst": {"trees": 10}})");
  EXPECT_EQ(got.lineage_json, R"({"input": "x.csv"})");
  EXPECT_EQ(got.metrics_json, R"({"auc": 0.9})");
  EXPECT_EQ(got.state_sha256, core::Sha256Hex(std::string("blob\0one", 8)));
  EXPECT_EQ(got.state_bytes, 8);
  EXPECT_FALSE(got.code_version.empty());
  ASSERT_OK_AND_ASSIGN(const std::string checkpoint, registry->Checkpoint("default", 2));
  EXPECT_EQ(checkpoint, "run state");
  EXPECT_THAT(registry->Checkpoint("default", 9), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(const Version latest, registry->Latest("default"));
  EXPECT_EQ(latest.version, 2);
  EXPECT_EQ(latest.parent, 1);
  ASSERT_OK_AND_ASSIGN(const std::vector<Version> listed, registry->List(""));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].state.empty());  // Listing reads no blobs.
}

TEST_F(RegistryTest, ReopensWhatItWrote) {
  {
    auto registry = OpenOrDie();
    ASSERT_OK(registry->Put(Sample("kept")).status());
  }
  auto again = OpenOrDie();
  ASSERT_OK_AND_ASSIGN(const Version v, again->Get("default", 1));
  EXPECT_EQ(v.state, "kept");
}

TEST_F(RegistryTest, FlippedByteInAStateBlobIsDataLossNamingTheVersion) {
  {
    auto registry = OpenOrDie();
    ASSERT_OK(registry->Put(Sample("abcdefgh")).status());
    ASSERT_OK(registry->Put(Sample("ijklmnop")).status());
  }
  RawSql(path_, "UPDATE versions SET state = CAST('abcdXfgh' AS BLOB) WHERE version = 2");
  auto registry = OpenOrDie();
  EXPECT_THAT(registry->Get("default", 2),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("version 2 of model \"default\" in " + path_ + ": state blob")));
  EXPECT_OK(registry->Get("default", 1).status());
  EXPECT_THAT(registry->Export("default", 2, dir_.File("out.db")),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RegistryTest, UnknownVersionsAndAliasesAreNotFound) {
  auto registry = OpenOrDie();
  EXPECT_THAT(registry->Latest("default"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(registry->Put(Sample("x")).status());
  EXPECT_THAT(registry->Get("default", 7),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("has no version 7")));
  EXPECT_THAT(registry->Resolve("default", "champion"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no version or alias \"champion\"")));
  EXPECT_THAT(registry->Resolve("other", "latest"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry->SetAlias("default", "champion", 9), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(registry->AliasHistory("default", "champion"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryTest, AliasesKeepAHistoryThatAnswersWhatServedWhen) {
  auto registry = OpenOrDie();
  for (int i = 0; i < 3; ++i) ASSERT_OK(registry->Put(Sample("v" + std::to_string(i))).status());
  clock_.Advance(absl::Seconds(100));
  ASSERT_OK(registry->SetAlias("default", "champion", 1));
  clock_.Advance(absl::Seconds(100));
  ASSERT_OK(registry->SetAlias("default", "champion", 3));
  clock_.Advance(absl::Seconds(100));
  ASSERT_OK(registry->SetAlias("default", "champion", 1));  // Rollback.
  ASSERT_OK_AND_ASSIGN(const int64_t now, registry->Resolve("default", "champion"));
  EXPECT_EQ(now, 1);
  ASSERT_OK_AND_ASSIGN(const auto history, registry->AliasHistory("default", "champion"));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].version, 3);
  EXPECT_EQ(history[1].previous, 1);
  EXPECT_EQ(history[2].changed_wall_ms, 300000);
  ASSERT_OK_AND_ASSIGN(auto at, registry->AliasAt("default", "champion", 50000));
  EXPECT_EQ(at, std::nullopt);
  ASSERT_OK_AND_ASSIGN(at, registry->AliasAt("default", "champion", 250000));
  EXPECT_EQ(at, 3);
  EXPECT_THAT(registry->SetAlias("default", "12", 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry->SetAlias("default", "latest", 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// `sluice live` registers partition P's versions as model "<name>.p<P>".
TEST_F(RegistryTest, PartitionsAreTheModelsNamedDotPNumber) {
  auto registry = OpenOrDie();
  for (const char* model : {"m.p10", "m.p2", "m.p0", "m.px", "m.p01", "m.p", "mm.p1", "m_p3"}) {
    NewVersion v = Sample("s");
    v.model = model;
    ASSERT_OK(registry->Put(v).status());
  }
  ASSERT_OK_AND_ASSIGN(const auto partitions, registry->Partitions("m"));
  using P = std::pair<int32_t, std::string>;
  EXPECT_EQ(partitions, (std::vector<P>{{0, "m.p0"}, {2, "m.p2"}, {10, "m.p10"}}));
  // A LIKE wildcard in the name matches only itself.
  ASSERT_OK_AND_ASSIGN(const auto none, registry->Partitions("m_"));
  EXPECT_TRUE(none.empty());
}

TEST_F(RegistryTest, SetAliasesMovesEveryModelInOneTransactionOrNone) {
  auto registry = OpenOrDie();
  const std::vector<std::string> models = {"m.p0", "m.p1"};
  for (int i = 0; i < 3; ++i) {
    for (const std::string& model : models) {
      NewVersion v = Sample("s");
      v.model = model;
      if (model == "m.p1" || i < 2) {
        ASSERT_OK(registry->Put(v).status());
      }
    }
  }
  // m.p0 has versions 1-2, m.p1 1-3: "latest" is 2 in one and 3 in the other.
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(auto versions, registry->SetAliases(models, "champion", "latest"));
  EXPECT_EQ(versions, (std::vector<int64_t>{2, 3}));
  ASSERT_OK_AND_ASSIGN(versions, registry->SetAliases(models, "rollback", "champion"));
  EXPECT_EQ(versions, (std::vector<int64_t>{2, 3}));
  ASSERT_OK_AND_ASSIGN(versions, registry->SetAliases(models, "champion", "1"));
  EXPECT_EQ(versions, (std::vector<int64_t>{1, 1}));
  // Version 3 exists in m.p1 only: nothing moves, and the error names m.p0.
  EXPECT_THAT(registry->SetAliases(models, "champion", "3"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("\"m.p0\" has no version 3")));
  for (const std::string& model : models) {
    ASSERT_OK_AND_ASSIGN(const int64_t champion, registry->Resolve(model, "champion"));
    EXPECT_EQ(champion, 1) << model;
    ASSERT_OK_AND_ASSIGN(const auto history, registry->AliasHistory(model, "champion"));
    ASSERT_EQ(history.size(), 2u) << model;
    EXPECT_EQ(history[1].previous, model == "m.p0" ? 2 : 3);
    EXPECT_EQ(history[1].changed_wall_ms, 5000);
  }
  EXPECT_THAT(registry->SetAliases(models, "7", "1"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry->SetAliases({}, "champion", "1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RegistryTest, ExportAndImportMoveOneVersionWithItsMetadata) {
  auto registry = OpenOrDie();
  ASSERT_OK(registry->Put(Sample("first")).status());
  ASSERT_OK(registry->Put(Sample("second", 1)).status());
  const std::string exported = dir_.File("v2.db");
  ASSERT_OK(registry->Export("default", 2, exported));
  EXPECT_THAT(registry->Export("default", 2, exported), StatusIs(absl::StatusCode::kAlreadyExists));
  auto single = Registry::Open(exported, clock_).value();
  ASSERT_OK_AND_ASSIGN(const auto listed, single->List(""));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].version, 2);

  TempDir elsewhere;
  auto other = Registry::Open(elsewhere.File("other.db"), clock_).value();
  ASSERT_OK(other->Put(Sample("unrelated")).status());
  ASSERT_OK_AND_ASSIGN(const auto mapping, other->Import(exported));
  ASSERT_EQ(mapping.size(), 1u);
  EXPECT_EQ(std::get<1>(mapping[0]), 2);
  EXPECT_EQ(std::get<2>(mapping[0]), 2);  // Next free number there.
  ASSERT_OK_AND_ASSIGN(const Version imported, other->Get("default", 2));
  EXPECT_EQ(imported.state, "second");
  EXPECT_EQ(imported.config_json, R"({"hst": {"trees": 10}})");
  EXPECT_THAT(imported.lineage_json, HasSubstr("imported_from"));
  EXPECT_THAT(imported.lineage_json, HasSubstr(R"({"input": "x.csv"})"));
}

// A failed export (here: the file size limit, as a full disk would) leaves no half-written file
// behind, and an existing file is never touched.
TEST_F(RegistryTest, AFailedExportLeavesNoFile) {
  auto registry = OpenOrDie();
  ASSERT_OK(registry->Put(Sample(std::string(1 << 20, 'x'))).status());
  const std::string out = dir_.File("out.db");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);  // Writes past the limit fail with EFBIG instead.
    const rlimit limit{64 << 10, 64 << 10};
    setrlimit(RLIMIT_FSIZE, &limit);
    auto in_child = Registry::Open(path_, clock_, {.read_only = true});
    if (!in_child.ok()) _exit(3);
    const absl::Status status = (*in_child)->Export("default", 1, out);
    if (status.ok()) _exit(1);
    _exit(std::filesystem::exists(out) || std::filesystem::exists(out + "-wal") ? 2 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: export succeeded; 2: it left a file; 3: no open";
  testing::WriteFile(out, "precious");
  EXPECT_THAT(
      registry->Export("default", 1, out),
      StatusIs(absl::StatusCode::kAlreadyExists, out + " already exists; not overwriting it"));
  EXPECT_EQ(testing::ReadFileOrDie(out), "precious");
  EXPECT_THAT(registry->Export("default", 1, dir_.File("no/such/dir.db")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot create the export file")));
}

// Issue: importing a registry into itself doubled it.
TEST_F(RegistryTest, ImportingARegistryIntoItselfIsRefused) {
  auto registry = OpenOrDie();
  ASSERT_OK(registry->Put(Sample("first")).status());
  ASSERT_OK(registry->Put(Sample("second", 1)).status());
  EXPECT_THAT(registry->Import(path_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(path_, ": import ", path_,
                                              ": it is this registry's own file"))));
  // Another name for the same file: a hard link, and a path with a detour.
  const std::string link = dir_.File("link.db");
  ASSERT_EQ(::link(path_.c_str(), link.c_str()), 0);
  EXPECT_THAT(registry->Import(link), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("refusing to import it into itself")));
  EXPECT_THAT(registry->Import(dir_.File("../") +
                               std::filesystem::path(path_).parent_path().filename().string() +
                               "/registry.db"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(const auto listed, registry->List(""));
  EXPECT_EQ(listed.size(), 2u);
}

// Issue: imported chains lost their parent links. Parents that come along are renumbered with
// their children; a parent left behind is dropped.
TEST_F(RegistryTest, ImportKeepsParentLinksInTheNewNumbers) {
  {
    auto source = OpenOrDie();
    ASSERT_OK(source->Put(Sample("a1")).status());
    ASSERT_OK(source->Put(Sample("a2", 1)).status());
    ASSERT_OK(source->Put(Sample("a3", 2)).status());
    ASSERT_OK(source->Put(Sample("a4")).status());  // A second run: no parent.
    NewVersion other = Sample("o1");
    other.model = "other";
    ASSERT_OK(source->Put(other).status());
    other.state = "o2";
    other.parent = 1;
    ASSERT_OK(source->Put(other).status());
    ASSERT_OK(source->Export("default", 3, dir_.File("v3.db")));
  }
  TempDir elsewhere;
  auto target = Registry::Open(elsewhere.File("target.db"), clock_).value();
  ASSERT_OK(target->Put(Sample("t1")).status());
  ASSERT_OK(target->Put(Sample("t2", 1)).status());
  ASSERT_OK_AND_ASSIGN(const auto mapping, target->Import(path_));
  using Row = std::tuple<std::string, int64_t, int64_t>;
  EXPECT_THAT(mapping, ::testing::ElementsAre(Row{"default", 1, 3}, Row{"default", 2, 4},
                                              Row{"default", 3, 5}, Row{"default", 4, 6},
                                              Row{"other", 1, 1}, Row{"other", 2, 2}));
  ASSERT_OK_AND_ASSIGN(const auto listed, target->List(""));
  std::vector<std::tuple<std::string, int64_t, std::optional<int64_t>>> parents;
  for (const Version& v : listed) parents.emplace_back(v.model, v.version, v.parent);
  using Parent = std::tuple<std::string, int64_t, std::optional<int64_t>>;
  EXPECT_THAT(parents,
              ::testing::ElementsAre(Parent{"default", 1, std::nullopt}, Parent{"default", 2, 1},
                                     Parent{"default", 3, std::nullopt}, Parent{"default", 4, 3},
                                     Parent{"default", 5, 4}, Parent{"default", 6, std::nullopt},
                                     Parent{"other", 1, std::nullopt}, Parent{"other", 2, 1}));
  // An export holds one version: its parent stayed behind.
  ASSERT_OK_AND_ASSIGN(const auto single, target->Import(dir_.File("v3.db")));
  ASSERT_EQ(single.size(), 1u);
  ASSERT_OK_AND_ASSIGN(const Version v7, target->Get("default", 7));
  EXPECT_EQ(v7.parent, std::nullopt);
  EXPECT_EQ(v7.state, "a3");
}

TEST_F(RegistryTest, GcKeepsTheNewestAndTheAliased) {
  auto registry = OpenOrDie();
  for (int i = 0; i < 6; ++i) ASSERT_OK(registry->Put(Sample("v")).status());
  ASSERT_OK(registry->SetAlias("default", "champion", 2));
  ASSERT_OK_AND_ASSIGN(const int64_t deleted, registry->Gc("default", 2));
  EXPECT_EQ(deleted, 3);  // 1, 3, 4 go; 2 (champion), 5 and 6 stay.
  ASSERT_OK_AND_ASSIGN(const auto listed, registry->List("default"));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].version, 2);
  EXPECT_EQ(listed[2].version, 6);
  ASSERT_OK_AND_ASSIGN(const int64_t next, registry->Put(Sample("v")));
  EXPECT_EQ(next, 7);  // Numbers are never reused while newer versions remain.
}

// A run's checkpoints whose Kafka transaction never committed go; the next version takes the
// first dropped number. An alias pointing at one of them (a promotion that never happened)
// moves back to where it pointed before, or is removed, the history saying why.
TEST_F(RegistryTest, DropNewerDeletesTheVersionsAfterOneAndMovesAliasesBack) {
  auto registry = OpenOrDie();
  for (int i = 0; i < 5; ++i) ASSERT_OK(registry->Put(Sample("v")).status());
  NewVersion other_model = Sample("v");
  other_model.model = "other";
  ASSERT_OK(registry->Put(other_model).status());
  ASSERT_OK(registry->SetAlias("default", "champion", 2));
  ASSERT_OK(registry->SetAlias("default", "champion", 4, "promoted"));
  ASSERT_OK(registry->SetAlias("default", "canary", 5));
  ASSERT_OK_AND_ASSIGN(int64_t dropped, registry->DropNewer("default", 3, "never committed"));
  EXPECT_EQ(dropped, 2);
  ASSERT_OK_AND_ASSIGN(const auto listed, registry->List("default"));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed.back().version, 3);
  EXPECT_EQ(registry->Resolve("default", "champion").value_or(-1), 2);
  EXPECT_THAT(registry->Resolve("default", "canary"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(const auto history, registry->AliasHistory("default", "champion"));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].version, 2);
  EXPECT_EQ(history[2].previous, 4);
  EXPECT_EQ(history[2].reason, "never committed");
  ASSERT_OK_AND_ASSIGN(const auto canary, registry->AliasHistory("default", "canary"));
  ASSERT_EQ(canary.size(), 2u);
  EXPECT_EQ(canary[1].version, std::nullopt);
  EXPECT_EQ(canary[1].previous, 5);
  ASSERT_OK_AND_ASSIGN(const int64_t next, registry->Put(Sample("v")));
  EXPECT_EQ(next, 4);
  ASSERT_OK_AND_ASSIGN(dropped, registry->DropNewer("default", 0, "all"));
  EXPECT_EQ(dropped, 4);
  ASSERT_OK_AND_ASSIGN(const auto other, registry->List("other"));
  EXPECT_EQ(other.size(), 1u);  // Other models are untouched.
}

// A promotion and the checkpoint after it go in one transaction, the alias move with them:
// all or nothing.
TEST_F(RegistryTest, SeveralVersionsAndAnAliasArePutAtomically) {
  auto registry = OpenOrDie();
  ASSERT_OK(registry->Put(Sample("v1")).status());
  std::vector<NewVersion> both = {Sample("promoted", 1), Sample("checkpoint", 2)};
  both[0].alias = "champion";
  both[0].alias_reason = "it won";
  ASSERT_OK_AND_ASSIGN(const std::vector<int64_t> numbers, registry->Put(both));
  EXPECT_EQ(numbers, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(registry->Resolve("default", "champion").value_or(-1), 2);
  ASSERT_OK_AND_ASSIGN(const auto history, registry->AliasHistory("default", "champion"));
  EXPECT_EQ(history.back().reason, "it won");
  // The second one's number is taken: neither is stored, and the alias does not move.
  both[0].alias_reason = "again";
  both[1].version = 1;
  EXPECT_THAT(registry->Put(both), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(const auto listed, registry->List("default"));
  EXPECT_EQ(listed.size(), 3u);
  EXPECT_EQ(registry->Resolve("default", "champion").value_or(-1), 2);
  ASSERT_OK_AND_ASSIGN(const auto after, registry->AliasHistory("default", "champion"));
  EXPECT_EQ(after.size(), history.size());
}

TEST_F(RegistryTest, FilesThatAreNotRegistriesAreRefused) {
  testing::WriteFile(dir_.File("text.db"), "this is not a database at all, just some text....");
  EXPECT_THAT(Registry::Open(dir_.File("text.db"), clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a sluice registry")));
  RawSql(dir_.File("other.db"), "CREATE TABLE t (x)");
  EXPECT_THAT(Registry::Open(dir_.File("other.db"), clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a sluice registry")));
}

// Issue: commands that must not create a registry got an unclear error, or created one.
TEST_F(RegistryTest, AMissingFileIsNotFoundNamingItUnlessItMayBeCreated) {
  const std::string missing = dir_.File("missing.db");
  EXPECT_THAT(Registry::Open(missing, clock_, {.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound, missing + ": no such registry file"));
  EXPECT_THAT(Registry::Open(missing, clock_, {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound, missing + ": no such registry file"));
  EXPECT_FALSE(std::filesystem::exists(missing));
  ASSERT_OK(Registry::Open(missing, clock_).status());
  EXPECT_TRUE(std::filesystem::exists(missing));
  EXPECT_OK(Registry::Open(missing, clock_, {.create_if_missing = false}).status());
}

TEST_F(RegistryTest, NewerSchemaIsRefused) {
  OpenOrDie();
  RawSql(path_, "PRAGMA user_version = 99");
  EXPECT_THAT(Registry::Open(path_, clock_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("schema 99")));
}

TEST_F(RegistryTest, ALockedRegistryWaitsThenFailsClearlyAndRecovers) {
  auto registry = OpenOrDie({.busy_timeout_ms = 100});
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_THAT(registry->Put(Sample("x")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("locked by another writer")));
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_OK_AND_ASSIGN(const int64_t v, registry->Put(Sample("x")));
  EXPECT_EQ(v, 1);
}

// Every failure names the registry file, and what was being done to which alias or model.
TEST_F(RegistryTest, ALockedRegistryFailsAliasAndGcNamingTheFile) {
  auto registry = OpenOrDie({.busy_timeout_ms = 100});
  ASSERT_OK(registry->Put(Sample("x")).status());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_THAT(registry->SetAlias("default", "champion", 1),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(path_ + ": point alias \"champion\" of model \"default\" at "
                                         "version 1: begin transaction: database is locked")));
  EXPECT_THAT(registry->Gc("default", 1),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(path_ + ": gc of model \"default\": begin transaction")));
  EXPECT_THAT(registry->Gc("default", 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       path_ + ": gc of model \"default\": keep must be at least 1, not 0"));
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_OK(registry->SetAlias("default", "champion", 1));
}

TEST_F(RegistryTest, TwoHandlesOnOneFileBothWrite) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_OK(a->Put(Sample("a")).status());
  ASSERT_OK(b->Put(Sample("b")).status());
  ASSERT_OK_AND_ASSIGN(const auto listed, a->List("default"));
  EXPECT_EQ(listed.size(), 2u);
}

TEST_F(RegistryTest, AFullDiskFailsThePutAndKeepsTheRegistryReadable) {
  auto registry = OpenOrDie({.max_page_count = 40});
  ASSERT_OK(registry->Put(Sample("small")).status());
  EXPECT_THAT(registry->Put(Sample(std::string(1 << 20, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_OK_AND_ASSIGN(const auto listed, registry->List("default"));
  EXPECT_EQ(listed.size(), 1u);
  EXPECT_OK(registry->Get("default", 1).status());
  ASSERT_OK_AND_ASSIGN(const int64_t next, registry->Put(Sample("small again")));
  EXPECT_EQ(next, 2);
}

TEST_F(RegistryTest, ReadOnlyRegistryRefusesWrites) {
  OpenOrDie()->Put(Sample("x")).IgnoreError();
  auto registry = OpenOrDie({.read_only = true});
  EXPECT_THAT(registry->Put(Sample("y")), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_OK(registry->Get("default", 1).status());
}

// Issue: two concurrent runs of one model numbered their versions from the same latest one and
// collided. Now the model's writer lease admits one run at a time, in this process too.
TEST_F(RegistryTest, AModelHasOneWriterAtATime) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_OK(a->AcquireWriter("default"));
  EXPECT_THAT(b->AcquireWriter("default"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("model \"default\" in ", path_,
                                              " is being written by another run (process ",
                                              getpid(), ", since 1970-01-01 00:00:00 UTC)"))));
  ASSERT_OK(b->AcquireWriter("other"));  // Other models are free.
  ASSERT_OK(a->ReleaseWriter("default"));
  ASSERT_OK(a->ReleaseWriter("default"));  // Releasing what is not held is fine.
  ASSERT_OK(b->AcquireWriter("default"));
  ASSERT_OK_AND_ASSIGN(const int64_t v, b->Put(Sample("x")));
  EXPECT_EQ(v, 1);
}

// A child process holds the lease, as a run in another process would. While it lives, this
// process may neither take the lease nor add versions of that model; once it is killed (-9,
// and not yet reaped) the lease is stale and is taken over, as `--resume` needs.
TEST_F(RegistryTest, ALeaseHeldByAnotherProcessBlocksUntilThatProcessDies) {
  OpenOrDie();  // Created before the fork, so that the child only opens it.
  int ready[2], hold[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(hold), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto registry = Registry::Open(path_, clock_);
    const char ok = registry.ok() && (*registry)->AcquireWriter("default").ok() ? '1' : '0';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    char unused;
    if (read(hold[0], &unused, 1) < 0) _exit(1);  // Until killed.
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, '1');
  const std::string held_by = absl::StrCat("being written by another run (process ", child);
  {
    auto registry = OpenOrDie();
    EXPECT_THAT(registry->AcquireWriter("default"),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(held_by)));
    EXPECT_THAT(registry->Put(Sample("x")),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(held_by)));
    TempDir elsewhere;
    auto source = Registry::Open(elsewhere.File("source.db"), clock_).value();
    ASSERT_OK(source->Put(Sample("x")).status());
    EXPECT_THAT(registry->Import(elsewhere.File("source.db")),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(held_by)));
    NewVersion other = Sample("y");
    other.model = "other";
    ASSERT_OK_AND_ASSIGN(const int64_t v, registry->Put(other));
    EXPECT_EQ(v, 1);
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);  // A zombie now.
  {
    auto registry = OpenOrDie();
    ASSERT_OK(registry->AcquireWriter("default"));
    ASSERT_OK_AND_ASSIGN(const int64_t v, registry->Put(Sample("x")));
    EXPECT_EQ(v, 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  for (const int fd : {ready[0], ready[1], hold[0], hold[1]}) close(fd);
}

// A lease recorded with this process's pid but another process identity was taken by an
// earlier process that had the same pid (or ran before a reboot): it is stale.
TEST_F(RegistryTest, ALeaseOfAReusedPidIsStale) {
  OpenOrDie();
  RawSql(path_, absl::StrCat("INSERT INTO writers VALUES ('default', ", getpid(),
                             ", 'an-earlier-boot/12345', 0)"));
  auto registry = OpenOrDie();
  ASSERT_OK(registry->Put(Sample("x")).status());
  ASSERT_OK(registry->AcquireWriter("default"));
  EXPECT_THAT(OpenOrDie()->AcquireWriter("default"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Schema 1 had no writer leases: a writable open adds the table, a read-only one reads the file
// as it is.
TEST_F(RegistryTest, ASchemaOneFileIsUpgradedWhenOpenedForWriting) {
  OpenOrDie()->Put(Sample("old")).IgnoreError();
  RawSql(path_,
         "DROP TABLE writers; ALTER TABLE alias_history DROP COLUMN reason; "
         "PRAGMA user_version = 1");
  {
    auto reader = OpenOrDie({.read_only = true});
    ASSERT_OK_AND_ASSIGN(const Version v, reader->Get("default", 1));
    EXPECT_EQ(v.state, "old");
  }
  auto registry = OpenOrDie();
  ASSERT_OK(registry->AcquireWriter("default"));
  ASSERT_OK_AND_ASSIGN(const int64_t v, registry->Put(Sample("new")));
  EXPECT_EQ(v, 2);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Schema 3 keeps why an alias moved; a schema-2 file's history reads with empty reasons.
TEST_F(RegistryTest, AnAliasMoveKeepsItsReasonAndOldHistoryHasNone) {
  {
    auto registry = OpenOrDie();
    ASSERT_OK(registry->AcquireWriter("default"));
    ASSERT_OK(registry->Put(Sample("a")).status());
    ASSERT_OK(registry->SetAlias("default", "champion", 1));
    ASSERT_OK(registry->ReleaseWriter("default"));
  }
  RawSql(path_, "ALTER TABLE alias_history DROP COLUMN reason; PRAGMA user_version = 2");
  auto registry = OpenOrDie();
  ASSERT_OK(registry->AcquireWriter("default"));
  ASSERT_OK(registry->Put(Sample("b")).status());
  ASSERT_OK(registry->SetAlias("default", "champion", 2, "challenger logreg:lr=0.05 won"));
  ASSERT_OK_AND_ASSIGN(const std::vector<AliasChange> history,
                       registry->AliasHistory("default", "champion"));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].reason, "");
  EXPECT_EQ(history[1].reason, "challenger logreg:lr=0.05 won");
  EXPECT_EQ(history[1].previous, 1);
}

}  // namespace
}  // namespace sluice::registry
