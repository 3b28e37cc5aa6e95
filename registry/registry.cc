// registry/registry.cc
#include "registry/registry.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/flat_json.h"
#include "core/sha256.h"
#include "core/status_macros.h"

#ifndef SLUICE_GIT_DESCRIBE
#define SLUICE_GIT_DESCRIBE "unknown"
#endif

namespace sluice::registry {
namespace {

// 'SLCR': marks the file as a sluice registry (PRAGMA application_id).
constexpr int kApplicationId = 0x534C4352;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE versions (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  parent INTEGER,
  created_wall_ms INTEGER NOT NULL,
  created_event_time REAL,
  trigger TEXT NOT NULL,
  code_version TEXT NOT NULL,
  config TEXT NOT NULL,
  lineage TEXT NOT NULL,
  metrics TEXT NOT NULL,
  state_sha256 TEXT NOT NULL,
  state_format INTEGER NOT NULL,
  state_bytes INTEGER NOT NULL,
  -- Blobs last: listing the columns above never reads their overflow pages.
  state BLOB NOT NULL,
  checkpoint BLOB,
  UNIQUE (model, version)
);
CREATE TABLE aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model, alias)
);
CREATE TABLE alias_history (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER,
  previous INTEGER,
  changed_wall_ms INTEGER NOT NULL
);
CREATE INDEX alias_history_by_alias ON alias_history (model, alias, changed_wall_ms);
)sql";

// The writer lease of each model that a run is snapshotting (see Registry's class comment).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE writers (
  model TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  process TEXT NOT NULL,  -- ProcessIdentity() of the holder.
  acquired_wall_ms INTEGER NOT NULL
);
)sql";

// Why an alias moved (an automatic promotion says which challenger and by how much); empty for
// a move by hand.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE alias_history ADD COLUMN reason TEXT NOT NULL DEFAULT '';
)sql";

// kMigrations[i] takes the schema from version i to i + 1.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr const char* kVersionColumns =
    "model, version, parent, created_wall_ms, created_event_time, trigger, code_version, config, "
    "lineage, metrics, state_sha256, state_format, state_bytes";

std::string Message(sqlite3* db) { return sqlite3_errmsg(db); }

// `status` with `context` (which names the file) in front of its message.
absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

template <typename T>
absl::StatusOr<T> Annotate(absl::StatusOr<T> result, absl::string_view context) {
  if (result.ok()) return result;
  return Annotate(result.status(), context);
}

std::string Time(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

// A small file such as /proc/self/stat, whole; nullopt if it cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::nullopt;
  std::string out;
  char buffer[1024];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  std::fclose(f);
  return out;
}

// Who process `pid` is: "<boot id>/<start time in clock ticks since boot>", so that neither a
// later process that got the same pid nor a process of an earlier boot matches. "" if it has
// exited (a zombie); nullopt if /proc cannot tell (no such process, no /proc, or /proc hides
// other users' processes).
std::optional<std::string> ProcessIdentity(int64_t pid) {
  static const std::string* const boot_id = new std::string(
      absl::StripAsciiWhitespace(ReadSmallFile("/proc/sys/kernel/random/boot_id").value_or("")));
  const std::optional<std::string> stat = ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.has_value()) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last
  // ')'. Then the state (field 3 of proc(5)) comes first and the start time (field 22) 20th.
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(paren + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 20) return std::nullopt;
  if (fields[0] == "Z" || fields[0] == "X") return std::string();
  return absl::StrCat(*boot_id, "/", fields[19]);
}

// Whether the process that took a lease as (pid, identity) still runs.
bool HolderAlive(int64_t pid, absl::string_view identity) {
  if (pid <= 0) return false;
  if (const std::optional<std::string> now = ProcessIdentity(pid); now.has_value()) {
    return !now->empty() && (identity.empty() || *now == identity);
  }
  // /proc cannot tell: ask the kernel whether the pid exists (EPERM: it does, another user's).
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// Removes a registry file that this process created, with SQLite's side files (most of which
// are already gone: a failure to unlink one is no error).
void RemoveRegistryFile(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    unlink(absl::StrCat(path, suffix).c_str());
  }
}

int64_t SelfPid() { return static_cast<int64_t>(getpid()); }
std::string SelfIdentity() { return ProcessIdentity(SelfPid()).value_or(""); }

// Maps an SQLite failure to the most specific status code.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", db != nullptr ? Message(db) : "");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(message, " (the registry is locked by another writer)"));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return absl::PermissionDeniedError(message);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

// A prepared statement, finalized on destruction.
class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, "prepare");
    return Statement(db, stmt);
  }
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int i, absl::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, absl::string_view blob) {
    sqlite3_bind_blob64(stmt_, i, blob.data(), blob.size(), SQLITE_STATIC);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, std::optional<int64_t> v) {
    if (v.has_value()) return Bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Statement& Bind(int i, std::optional<double> v) {
    if (v.has_value()) {
      sqlite3_bind_double(stmt_, i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
    return *this;
  }
  // True for a row, false when done; errors as Status.
  absl::StatusOr<bool> Step(absl::string_view what) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, what);
  }
  absl::Status Run(absl::string_view what) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, Step(what));
    (void)row;
    return absl::OkStatus();
  }
  int64_t Int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double Double(int i) const { return sqlite3_column_double(stmt_, i); }
  bool IsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::optional<int64_t> OptionalInt(int i) const {
    return IsNull(i) ? std::nullopt : std::optional<int64_t>(Int(i));
  }
  std::string Text(int i) const {
    const auto* p = sqlite3_column_blob(stmt_, i);
    return std::string(static_cast<const char*>(p),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

absl::Status Exec(sqlite3* db, const char* sql, absl::string_view what) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return SqliteError(db, rc, what);
  return absl::OkStatus();
}

// Commits on Commit(); rolls back otherwise.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(sqlite3* db) {
    // IMMEDIATE takes the write lock now, so a busy registry fails here, before any work.
    SLUICE_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "begin transaction"));
    return Transaction(db);
  }
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  absl::Status Commit() {
    const absl::Status status = Exec(db_, "COMMIT", "commit");
    if (status.ok()) db_ = nullptr;
    return status;
  }

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

Version ReadVersion(const Statement& s) {
  Version v;
  v.model = s.Text(0);
  v.version = s.Int(1);
  v.parent = s.OptionalInt(2);
  v.created_wall_ms = s.Int(3);
  if (!s.IsNull(4)) v.created_event_time = s.Double(4);
  v.trigger = s.Text(5);
  v.code_version = s.Text(6);
  v.config_json = s.Text(7);
  v.lineage_json = s.Text(8);
  v.metrics_json = s.Text(9);
  v.state_sha256 = s.Text(10);
  v.state_format = static_cast<int32_t>(s.Int(11));
  v.state_bytes = s.Int(12);
  return v;
}

// Reads one integer (a pragma or a count); the statement is finalized before returning, so no
// read transaction stays open.
absl::StatusOr<int64_t> QueryInt(sqlite3* db, const char* sql) {
  SLUICE_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db, sql));
  SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step(sql));
  return row ? s.Int(0) : 0;
}

// Inserts one version row. `v.state_sha256` must already describe `v.state`.
absl::Status InsertVersion(sqlite3* db, const Version& v) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db, absl::StrCat("INSERT INTO versions (", kVersionColumns,
                                          ", state, checkpoint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                                          "?, ?, ?, ?, ?, ?, ?)")));
  insert.Bind(1, v.model)
      .Bind(2, v.version)
      .Bind(3, v.parent)
      .Bind(4, v.created_wall_ms)
      .Bind(5, v.created_event_time)
      .Bind(6, v.trigger)
      .Bind(7, v.code_version)
      .Bind(8, v.config_json)
      .Bind(9, v.lineage_json)
      .Bind(10, v.metrics_json)
      .Bind(11, v.state_sha256)
      .Bind(12, int64_t{v.state_format})
      .Bind(13, static_cast<int64_t>(v.state.size()))
      .BindBlob(14, v.state);
  if (v.checkpoint.empty()) {
    insert.Bind(15, std::optional<int64_t>());
  } else {
    insert.BindBlob(15, v.checkpoint);
  }
  return insert.Run("insert version");
}

// The next free version number of `model`.
absl::StatusOr<int64_t> NextVersion(sqlite3* db, absl::string_view model) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement next,
      Statement::Prepare(db, "SELECT coalesce(max(version), 0) + 1 FROM versions WHERE model = ?"));
  next.Bind(1, model);
  SLUICE_ASSIGN_OR_RETURN(const bool row, next.Step("next version"));
  (void)row;
  return next.Int(0);
}

// A row of table `writers`.
struct Lease {
  int64_t pid = 0;
  std::string process;  // ProcessIdentity() of the holder when it took the lease.
  int64_t acquired_wall_ms = 0;
};

// The writer lease of `model`, if any (live or stale).
absl::StatusOr<std::optional<Lease>> ReadLease(sqlite3* db, absl::string_view model) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db, "SELECT pid, process, acquired_wall_ms FROM writers WHERE model = ?"));
  s.Bind(1, model);
  SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("read writer lease"));
  if (!row) return std::nullopt;
  return Lease{s.Int(0), s.Text(1), s.Int(2)};
}

absl::Status HeldByAnotherRun(absl::string_view model, const std::string& path,
                              const Lease& lease) {
  return absl::FailedPreconditionError(absl::StrCat(
      "model \"", model, "\" in ", path, " is being written by another run (process ", lease.pid,
      ", since ", Time(lease.acquired_wall_ms), "); one run at a time may write a model"));
}

}  // namespace

Registry::Registry(sqlite3* db, std::string path, const core::Clock& clock)
    : db_(db), path_(std::move(path)), clock_(clock) {}

Registry::~Registry() { sqlite3_close_v2(db_); }

absl::StatusOr<std::unique_ptr<Registry>> Registry::Open(const std::string& path,
                                                         const core::Clock& clock,
                                                         const Options& options) {
  const bool create = options.create_if_missing && !options.read_only;
  if (!create && path != ":memory:") {
    struct stat st;
    if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such registry file"));
    }
  }
  sqlite3* db = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                    (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const absl::Status status = SqliteError(db, rc, absl::StrCat(path, ": cannot open registry"));
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<Registry> registry(new Registry(db, path, clock));
  registry->busy_timeout_ms_ = options.busy_timeout_ms;
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  SLUICE_RETURN_IF_ERROR(registry->Migrate(options.read_only));
  // With WAL, NORMAL commits without an fsync per transaction: a version survives any crash of
  // the process (kill -9 included) and the file is never corrupted; only an OS crash or power
  // loss can drop the newest versions. Snapshots are frequent, so this matters for throughput.
  if (!options.read_only) {
    SLUICE_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous = NORMAL", "set synchronous"));
  }
  if (options.max_page_count > 0) {
    const std::string pragma = absl::StrCat("PRAGMA max_page_count = ", options.max_page_count);
    SLUICE_RETURN_IF_ERROR(Exec(db, pragma.c_str(), "set max_page_count"));
  }
  return registry;
}

absl::Status Registry::Migrate(bool read_only) {
  const auto not_a_registry = [&](const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, " is not a sluice registry (", status.message(), ")"));
  };
  // One statement, so the three values come from one consistent snapshot of the file even
  // while another process is creating it. It is finalized at the end of the block: no read
  // transaction may stay open below.
  int64_t application_id = 0, schema = 0, table_count = 0;
  {
    absl::StatusOr<Statement> header = Statement::Prepare(
        db_,
        "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_schema) FROM "
        "pragma_application_id() AS a, pragma_user_version() AS v");
    if (!header.ok()) return not_a_registry(header.status());
    const absl::StatusOr<bool> row = header->Step("read registry header");
    if (!row.ok()) return not_a_registry(row.status());
    application_id = header->Int(0);
    schema = header->Int(1);
    table_count = header->Int(2);
  }

  if (application_id == 0 && table_count == 0) {  // A new, empty file.
    if (read_only) {
      return absl::InvalidArgumentError(absl::StrCat(path_, " is not a sluice registry (empty)"));
    }
    return Upgrade();
  }
  if (application_id != kApplicationId) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, " is not a sluice registry (an SQLite file with application id ",
                     application_id, ")"));
  }
  if (schema > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": registry schema ", schema, " was written by a newer sluice; this ",
                     "build reads schema ", kSchemaVersion, " and older"));
  }
  // Reading needs nothing that a later schema added, so a read-only handle leaves an older file
  // as it is (it could not change it anyway).
  if (schema == kSchemaVersion || read_only) return absl::OkStatus();
  return Upgrade();
}

absl::Status Registry::Upgrade() {
  const std::string what = absl::StrCat(path_, ": create or upgrade the registry schema");
  // Another process may be creating or upgrading the file right now: take the write lock
  // (waiting up to the busy timeout), then look again.
  absl::StatusOr<Transaction> txn = Transaction::Begin(db_);
  if (!txn.ok()) return Annotate(txn.status(), what);
  absl::StatusOr<int64_t> tables = QueryInt(db_, "SELECT count(*) FROM sqlite_schema");
  if (!tables.ok()) return Annotate(tables.status(), what);
  absl::StatusOr<int64_t> schema = QueryInt(db_, "PRAGMA user_version");
  if (!schema.ok()) return Annotate(schema.status(), what);
  const bool created = *tables == 0;
  if (created) *schema = 0;
  if (*schema >= kSchemaVersion) return absl::OkStatus();  // The other process did it.
  for (int64_t step = *schema; step < kSchemaVersion; ++step) {
    SLUICE_RETURN_IF_ERROR(
        Annotate(Exec(db_, kMigrations[step], absl::StrCat("schema step ", step + 1)), what));
  }
  const std::string pragmas = absl::StrCat("PRAGMA application_id = ", kApplicationId,
                                           "; PRAGMA user_version = ", kSchemaVersion);
  SLUICE_RETURN_IF_ERROR(Annotate(Exec(db_, pragmas.c_str(), "mark registry"), what));
  SLUICE_RETURN_IF_ERROR(Annotate(txn->Commit(), what));
  return created ? EnableWal() : absl::OkStatus();
}

absl::Status Registry::EnableWal() {
  // Switching the journal mode needs a moment alone with the file; SQLite reports BUSY at once
  // instead of waiting, so retry for up to the busy timeout. A file already in WAL mode answers
  // straight away.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(busy_timeout_ms_);
  while (true) {
    const absl::Status status = Exec(db_, "PRAGMA journal_mode = WAL", "enable WAL");
    if (status.ok() || !absl::IsUnavailable(status) || absl::Now() > deadline) return status;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

namespace {

absl::Status CheckAliasName(absl::string_view alias) {
  int64_t unused = 0;
  if (alias.empty() || alias == "latest" || absl::SimpleAtoi(alias, &unused)) {
    return absl::InvalidArgumentError(
        absl::StrCat("alias name \"", alias, "\" is reserved or a number; choose a name"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> Registry::Put(const NewVersion& v) {
  SLUICE_ASSIGN_OR_RETURN(const std::vector<int64_t> numbers, Put(std::span(&v, 1)));
  return numbers[0];
}

absl::StatusOr<std::vector<int64_t>> Registry::Put(std::span<const NewVersion> versions) {
  std::vector<int64_t> numbers;
  if (versions.empty()) return numbers;
  std::string where = absl::StrCat(path_, ": register a version of \"", versions[0].model, "\"");
  const auto annotate = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
  };
  absl::StatusOr<Transaction> txn = Transaction::Begin(db_);
  if (!txn.ok()) return annotate(txn.status());
  for (const NewVersion& v : versions) {
    where = absl::StrCat(path_, ": register a version of \"", v.model, "\"");
    if (absl::Status s = CheckNoOtherWriter(v.model); !s.ok()) return annotate(s);
    absl::StatusOr<int64_t> next = NextVersion(db_, v.model);
    if (!next.ok()) return annotate(next.status());
    Version row;
    row.model = v.model;
    row.version = v.version.value_or(*next);
    row.parent = v.parent;
    row.created_wall_ms = absl::ToUnixMillis(clock_.Now());
    row.created_event_time = v.created_event_time;
    row.trigger = v.trigger;
    row.code_version = SLUICE_GIT_DESCRIBE;
    row.config_json = v.config_json;
    row.lineage_json = v.lineage_json;
    row.metrics_json = v.metrics_json;
    row.state_sha256 = core::Sha256Hex(v.state);
    row.state_format = v.state_format;
    row.state = v.state;
    row.checkpoint = v.checkpoint;
    if (absl::Status s = InsertVersion(db_, row); !s.ok()) return annotate(s);
    if (!v.alias.empty()) {
      if (absl::Status s = CheckAliasName(v.alias); !s.ok()) return annotate(s);
      if (absl::Status s = WriteAlias(v.model, v.alias, row.version, where, v.alias_reason);
          !s.ok()) {
        return s;
      }
    }
    numbers.push_back(row.version);
  }
  if (absl::Status s = txn->Commit(); !s.ok()) return annotate(s);
  return numbers;
}

absl::StatusOr<Version> Registry::Get(absl::string_view model, int64_t version) const {
  SLUICE_ASSIGN_OR_RETURN(
      Statement s, Statement::Prepare(db_, absl::StrCat("SELECT ", kVersionColumns,
                                                        ", state, checkpoint FROM versions WHERE "
                                                        "model = ? AND version = ?")));
  s.Bind(1, model).Bind(2, version);
  SLUICE_ASSIGN_OR_RETURN(const bool found, s.Step("read version"));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("model \"", model, "\" has no version ", version, " in ", path_));
  }
  Version v = ReadVersion(s);
  v.state = s.Text(13);
  v.checkpoint = s.Text(14);
  if (core::Sha256Hex(v.state) != v.state_sha256) {
    return absl::DataLossError(absl::StrCat("version ", version, " of model \"", model, "\" in ",
                                            path_, ": state blob does not match its SHA-256 (",
                                            v.state_sha256, "); refusing to load it"));
  }
  return v;
}

absl::StatusOr<std::string> Registry::Checkpoint(absl::string_view model, int64_t version) const {
  SLUICE_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db_, "SELECT checkpoint FROM versions WHERE model = ? AND version = ?"));
  s.Bind(1, model).Bind(2, version);
  SLUICE_ASSIGN_OR_RETURN(const bool found, s.Step("read checkpoint"));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("model \"", model, "\" has no version ", version, " in ", path_));
  }
  return s.IsNull(0) ? std::string() : s.Text(0);
}

absl::StatusOr<Version> Registry::Latest(absl::string_view model) const {
  SLUICE_ASSIGN_OR_RETURN(const int64_t version, Resolve(model, "latest"));
  return Get(model, version);
}

absl::StatusOr<std::vector<Version>> Registry::List(absl::string_view model) const {
  SLUICE_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db_, absl::StrCat("SELECT ", kVersionColumns,
                                           " FROM versions WHERE ?1 = '' OR model = ?1 "
                                           "ORDER BY model, version")));
  s.Bind(1, model);
  std::vector<Version> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("list versions"));
    if (!row) break;
    out.push_back(ReadVersion(s));
  }
  return out;
}

absl::StatusOr<int64_t> Registry::Resolve(absl::string_view model, absl::string_view ref) const {
  int64_t number = 0;
  if (absl::SimpleAtoi(ref, &number)) {
    SLUICE_ASSIGN_OR_RETURN(
        Statement s,
        Statement::Prepare(db_, "SELECT 1 FROM versions WHERE model = ? AND version = ?"));
    s.Bind(1, model).Bind(2, number);
    SLUICE_ASSIGN_OR_RETURN(const bool found, s.Step("find version"));
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("model \"", model, "\" has no version ", number, " in ", path_));
    }
    return number;
  }
  if (ref == "latest") {
    SLUICE_ASSIGN_OR_RETURN(Statement s,
                            Statement::Prepare(db_,
                                               "SELECT max(version) FROM versions WHERE "
                                               "model = ?"));
    s.Bind(1, model);
    SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("latest version"));
    if (!row || s.IsNull(0)) {
      return absl::NotFoundError(absl::StrCat("model \"", model, "\" has no versions in ", path_));
    }
    return s.Int(0);
  }
  SLUICE_ASSIGN_OR_RETURN(Statement s,
                          Statement::Prepare(db_,
                                             "SELECT version FROM aliases WHERE model = ? AND "
                                             "alias = ?"));
  s.Bind(1, model).Bind(2, ref);
  SLUICE_ASSIGN_OR_RETURN(const bool found, s.Step("resolve alias"));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("model \"", model, "\" has no version or alias \"", ref, "\" in ", path_));
  }
  return s.Int(0);
}

absl::Status Registry::WriteAlias(absl::string_view model, absl::string_view alias,
                                  std::optional<int64_t> version, absl::string_view what,
                                  absl::string_view reason) {
  std::optional<int64_t> previous;
  if (absl::StatusOr<int64_t> old = Resolve(model, alias); old.ok()) previous = *old;
  SLUICE_ASSIGN_OR_RETURN(
      Statement write,
      Statement::Prepare(db_, version.has_value()
                                  ? "INSERT INTO aliases (model, alias, version) VALUES (?1, ?2, "
                                    "?3) ON CONFLICT (model, alias) DO UPDATE SET version = "
                                    "excluded.version"
                                  : "DELETE FROM aliases WHERE model = ?1 AND alias = ?2"));
  write.Bind(1, model).Bind(2, alias);
  if (version.has_value()) write.Bind(3, *version);
  SLUICE_RETURN_IF_ERROR(Annotate(write.Run("set alias"), what));
  SLUICE_ASSIGN_OR_RETURN(
      Statement history,
      Statement::Prepare(db_,
                         "INSERT INTO alias_history (model, alias, version, previous, "
                         "changed_wall_ms, reason) VALUES (?, ?, ?, ?, ?, ?)"));
  history.Bind(1, model)
      .Bind(2, alias)
      .Bind(3, version)
      .Bind(4, previous)
      .Bind(5, absl::ToUnixMillis(clock_.Now()))
      .Bind(6, reason);
  return Annotate(history.Run("record alias change"), what);
}

absl::Status Registry::SetAlias(absl::string_view model, absl::string_view alias, int64_t version,
                                absl::string_view reason) {
  SLUICE_RETURN_IF_ERROR(CheckAliasName(alias));
  const std::string what = absl::StrCat(path_, ": point alias \"", alias, "\" of model \"", model,
                                        "\" at version ", version);
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  SLUICE_RETURN_IF_ERROR(Resolve(model, absl::StrCat(version)).status());
  SLUICE_RETURN_IF_ERROR(WriteAlias(model, alias, version, what, reason));
  return Annotate(txn.Commit(), what);
}

absl::StatusOr<std::vector<int64_t>> Registry::SetAliases(std::span<const std::string> models,
                                                          absl::string_view alias,
                                                          absl::string_view ref) {
  SLUICE_RETURN_IF_ERROR(CheckAliasName(alias));
  if (models.empty()) return absl::InvalidArgumentError("set alias: no models given");
  const std::string what = absl::StrCat(path_, ": point alias \"", alias, "\" of ", models.size(),
                                        " models at \"", ref, "\"");
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  // Every model's version is resolved first, inside the transaction: the alias moves only if
  // `ref` exists in all of them, and nothing can change between the lookups and the writes.
  std::vector<int64_t> versions;
  for (const std::string& model : models) {
    SLUICE_ASSIGN_OR_RETURN(const int64_t version, Resolve(model, ref));
    versions.push_back(version);
  }
  for (size_t i = 0; i < models.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(WriteAlias(models[i], alias, versions[i], what, ""));
  }
  SLUICE_RETURN_IF_ERROR(Annotate(txn.Commit(), what));
  return versions;
}

std::string PartitionModel(absl::string_view model, int32_t partition) {
  return absl::StrCat(model, ".p", partition);
}

absl::StatusOr<std::vector<std::pair<int32_t, std::string>>> Registry::Partitions(
    absl::string_view model) const {
  // PartitionModel()'s names: the prefix, then the partition in canonical decimal.
  const std::string prefix = absl::StrCat(model, ".p");
  // substr, not LIKE: a model name may contain LIKE's wildcards.
  SLUICE_ASSIGN_OR_RETURN(Statement s,
                          Statement::Prepare(db_,
                                             "SELECT DISTINCT model FROM versions WHERE "
                                             "substr(model, 1, ?1) = ?2"));
  s.Bind(1, static_cast<int64_t>(prefix.size())).Bind(2, prefix);
  std::vector<std::pair<int32_t, std::string>> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("list partitions"));
    if (!row) break;
    std::string name = s.Text(0);
    const absl::string_view number = absl::string_view(name).substr(prefix.size());
    int32_t partition = 0;
    // Only the canonical decimal form, as `sluice live` writes it ("p01" or "p+1" are not).
    if (!number.empty() && absl::ascii_isdigit(static_cast<unsigned char>(number[0])) &&
        absl::SimpleAtoi(number, &partition) && absl::StrCat(partition) == number) {
      out.emplace_back(partition, std::move(name));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<AliasChange>> Registry::AliasHistory(absl::string_view model,
                                                                absl::string_view alias) const {
  SLUICE_ASSIGN_OR_RETURN(Statement s,
                          Statement::Prepare(db_,
                                             "SELECT version, previous, changed_wall_ms, "
                                             "reason FROM alias_history WHERE model = ? AND "
                                             "alias = ? ORDER BY id"));
  s.Bind(1, model).Bind(2, alias);
  std::vector<AliasChange> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("alias history"));
    if (!row) break;
    out.push_back(
        AliasChange{std::string(alias), s.OptionalInt(0), s.OptionalInt(1), s.Int(2), s.Text(3)});
  }
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("model \"", model, "\" never had an alias \"", alias, "\" in ", path_));
  }
  return out;
}

absl::StatusOr<std::optional<int64_t>> Registry::AliasAt(absl::string_view model,
                                                         absl::string_view alias,
                                                         int64_t unix_ms) const {
  SLUICE_ASSIGN_OR_RETURN(std::vector<AliasChange> changes, AliasHistory(model, alias));
  std::optional<int64_t> at;
  for (const AliasChange& change : changes) {
    if (change.changed_wall_ms > unix_ms) break;
    at = change.version;
  }
  return at;
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Registry::Aliases(
    absl::string_view model) const {
  SLUICE_ASSIGN_OR_RETURN(Statement s,
                          Statement::Prepare(db_,
                                             "SELECT alias, version FROM aliases WHERE model = ? "
                                             "ORDER BY alias"));
  s.Bind(1, model);
  std::vector<std::pair<std::string, int64_t>> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, s.Step("list aliases"));
    if (!row) break;
    out.emplace_back(s.Text(0), s.Int(1));
  }
  return out;
}

absl::Status Registry::Export(absl::string_view model, int64_t version,
                              const std::string& path) const {
  SLUICE_ASSIGN_OR_RETURN(const Version v, Get(model, version));  // Verified before any file.
  // O_EXCL claims the path, so a file that appears meanwhile is never overwritten, and a failure
  // below removes only what this call created. SQLite takes an empty file as a new database.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        absl::StrCat(path, ": cannot create the export file: ", std::strerror(error));
    switch (error) {
      case EEXIST:
        return absl::AlreadyExistsError(absl::StrCat(path, " already exists; not overwriting it"));
      case ENOENT:
        return absl::NotFoundError(message);
      case EACCES:
      case EPERM:
      case EROFS:
        return absl::PermissionDeniedError(message);
      default:
        return absl::UnavailableError(message);
    }
  }
  close(fd);
  const absl::Status status = [&]() -> absl::Status {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Registry> out, Open(path, clock_));
    SLUICE_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(out->db_));
    Version exported = v;
    exported.checkpoint.clear();  // Run state stays with the run; the model travels.
    SLUICE_RETURN_IF_ERROR(InsertVersion(out->db_, exported));
    return txn.Commit();
  }();
  if (!status.ok()) {
    RemoveRegistryFile(path);
    return Annotate(status, absl::StrCat("export version ", version, " of model \"", model,
                                         "\" from ", path_, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::tuple<std::string, int64_t, int64_t>>> Registry::Import(
    const std::string& path) {
  const std::string what = absl::StrCat(path_, ": import ", path);
  // Reading the registry's own file while writing to it would copy every version once more.
  struct stat ours, theirs;
  if (path == path_ || (stat(path_.c_str(), &ours) == 0 && stat(path.c_str(), &theirs) == 0 &&
                        ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": it is this registry's own file; refusing to import it into itself"));
  }
  Options read;
  read.read_only = true;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Registry> in, Open(path, clock_, read));
  SLUICE_ASSIGN_OR_RETURN(const std::vector<Version> listed, in->List(""));
  std::vector<Version> versions;
  for (const Version& listed_version : listed) {  // Verify every blob before writing anything.
    SLUICE_ASSIGN_OR_RETURN(Version v, in->Get(listed_version.model, listed_version.version));
    versions.push_back(std::move(v));
  }
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  // Number every version first, so that each parent that is imported too can be renumbered.
  std::map<std::string, int64_t> next;                        // Model: its next free number.
  std::map<std::pair<std::string, int64_t>, int64_t> number;  // (model, old): new.
  for (const Version& v : versions) {
    auto it = next.find(v.model);
    if (it == next.end()) {
      SLUICE_RETURN_IF_ERROR(Annotate(CheckNoOtherWriter(v.model), what));
      SLUICE_ASSIGN_OR_RETURN(const int64_t first, Annotate(NextVersion(db_, v.model), what));
      it = next.emplace(v.model, first).first;
    }
    number[{v.model, v.version}] = it->second++;
  }
  std::vector<std::tuple<std::string, int64_t, int64_t>> mapping;
  for (const Version& v : versions) {
    Version copy = v;
    copy.version = number.at({v.model, v.version});
    copy.parent.reset();
    if (v.parent.has_value()) {
      // A parent that was not in the file (an export holds one version) has no number here.
      if (const auto parent = number.find({v.model, *v.parent}); parent != number.end()) {
        copy.parent = parent->second;
      }
    }
    copy.checkpoint.clear();
    // The lineage keeps where the version came from.
    copy.lineage_json =
        absl::StrCat("{\"imported_from\": {\"file\": ", core::JsonQuote(path),
                     ", \"version\": ", v.version, "}, \"original\": ", v.lineage_json, "}");
    SLUICE_RETURN_IF_ERROR(Annotate(InsertVersion(db_, copy), what));
    mapping.emplace_back(v.model, v.version, copy.version);
  }
  SLUICE_RETURN_IF_ERROR(Annotate(txn.Commit(), what));
  return mapping;
}

absl::Status Registry::AcquireWriter(absl::string_view model) {
  const std::string what = absl::StrCat(path_, ": take the writer lease of model \"", model, "\"");
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  SLUICE_ASSIGN_OR_RETURN(const std::optional<Lease> lease, Annotate(ReadLease(db_, model), what));
  // This process included: a second writer in one process would mix versions all the same.
  if (lease.has_value() && HolderAlive(lease->pid, lease->process)) {
    return HeldByAnotherRun(model, path_, *lease);
  }
  // Free, or held by a process that is gone (its run crashed or was killed): take it.
  SLUICE_ASSIGN_OR_RETURN(
      Statement take,
      Statement::Prepare(db_,
                         "INSERT OR REPLACE INTO writers (model, pid, process, acquired_wall_ms) "
                         "VALUES (?, ?, ?, ?)"));
  take.Bind(1, model).Bind(2, SelfPid()).Bind(3, SelfIdentity());
  take.Bind(4, absl::ToUnixMillis(clock_.Now()));
  SLUICE_RETURN_IF_ERROR(Annotate(take.Run("take writer lease"), what));
  return Annotate(txn.Commit(), what);
}

absl::Status Registry::ReleaseWriter(absl::string_view model) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement drop,
      Statement::Prepare(db_, "DELETE FROM writers WHERE model = ? AND pid = ? AND process = ?"));
  drop.Bind(1, model).Bind(2, SelfPid()).Bind(3, SelfIdentity());
  return Annotate(drop.Run("release writer lease"),
                  absl::StrCat(path_, ": release the writer lease of model \"", model, "\""));
}

absl::Status Registry::CheckNoOtherWriter(absl::string_view model) const {
  SLUICE_ASSIGN_OR_RETURN(const std::optional<Lease> lease, ReadLease(db_, model));
  if (!lease.has_value() || (lease->pid == SelfPid() && lease->process == SelfIdentity())) {
    return absl::OkStatus();
  }
  if (HolderAlive(lease->pid, lease->process)) return HeldByAnotherRun(model, path_, *lease);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Registry::Gc(absl::string_view model, int64_t keep) {
  const std::string what = absl::StrCat(path_, ": gc of model \"", model, "\"");
  if (keep < 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": keep must be at least 1, not ", keep));
  }
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  SLUICE_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db_,
                         "DELETE FROM versions WHERE model = ?1 AND version NOT IN "
                         "(SELECT version FROM versions WHERE model = ?1 ORDER BY version "
                         "DESC LIMIT ?2) AND version NOT IN (SELECT version FROM aliases "
                         "WHERE model = ?1)"));
  s.Bind(1, model).Bind(2, keep);
  SLUICE_RETURN_IF_ERROR(Annotate(s.Run("delete versions"), what));
  const int64_t deleted = sqlite3_changes64(db_);
  SLUICE_RETURN_IF_ERROR(Annotate(txn.Commit(), what));
  return deleted;
}

absl::Status Registry::MoveAliasesBack(absl::string_view model, int64_t version,
                                       absl::string_view what, absl::string_view why) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement aliased,
      Statement::Prepare(db_, "SELECT alias FROM aliases WHERE model = ?1 AND version > ?2"));
  aliased.Bind(1, model).Bind(2, version);
  std::vector<std::string> aliases;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const bool row, Annotate(aliased.Step("find aliases"), what));
    if (!row) break;
    aliases.push_back(aliased.Text(0));
  }
  for (const std::string& alias : aliases) {
    SLUICE_ASSIGN_OR_RETURN(const std::vector<AliasChange> history, AliasHistory(model, alias));
    std::optional<int64_t> back;
    for (auto change = history.rbegin(); change != history.rend() && !back; ++change) {
      if (change->version.has_value() && *change->version <= version) back = change->version;
    }
    SLUICE_RETURN_IF_ERROR(WriteAlias(model, alias, back, what, why));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Registry::DropNewer(absl::string_view model, int64_t version,
                                            absl::string_view why) {
  const std::string what =
      absl::StrCat(path_, ": dropping the versions of model \"", model, "\" after ", version);
  SLUICE_ASSIGN_OR_RETURN(Transaction txn, Annotate(Transaction::Begin(db_), what));
  SLUICE_RETURN_IF_ERROR(MoveAliasesBack(model, version, what, why));
  SLUICE_ASSIGN_OR_RETURN(
      Statement s,
      Statement::Prepare(db_, "DELETE FROM versions WHERE model = ?1 AND version > ?2"));
  s.Bind(1, model).Bind(2, version);
  SLUICE_RETURN_IF_ERROR(Annotate(s.Run("delete versions"), what));
  const int64_t deleted = sqlite3_changes64(db_);
  SLUICE_RETURN_IF_ERROR(Annotate(txn.Commit(), what));
  return deleted;
}

}  // namespace sluice::registry
