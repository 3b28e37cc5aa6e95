// registry/registry.h. Versioned model snapshots in one SQLite file (WAL): every version's state
// blob with its SHA-256, the metadata that explains it (config, lineage, metrics), aliases and
// their history. The registry stores blobs and JSON text; it knows nothing of learners.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/clock.h"

struct sqlite3;  // Keeps sqlite3.h out of this header.

namespace sluice::registry {

// What a caller provides to register a new version.
struct NewVersion {
  std::string model;                         // Model name, e.g. "default".
  std::optional<int64_t> version;            // The number to use; unset: the next free one.
  std::optional<int64_t> parent;             // The version this one continues from.
  std::optional<double> created_event_time;  // Event time (seconds) of the last event learned.
  std::string trigger;       // The schedule rule that fired, e.g. "every 1000 events".
  std::string config_json;   // Hyperparameters and options.
  std::string lineage_json;  // Data that trained it.
  std::string metrics_json;  // Metrics at snapshot time.
  std::string state;         // The model blob.
  int32_t state_format = 1;  // Format version of the blob.
  std::string checkpoint;    // Opaque run state for --resume (may be empty).
  // If set, `alias` is pointed at it in the same transaction (a promotion), the history
  // keeping `alias_reason`.
  std::string alias, alias_reason;
};

// One stored version. Blobs are filled only by Get().
struct Version {
  std::string model;
  int64_t version = 0;
  std::optional<int64_t> parent;
  int64_t created_wall_ms = 0;  // Unix milliseconds.
  std::optional<double> created_event_time;
  std::string trigger;
  std::string code_version;  // git describe of the build that wrote it.
  std::string config_json;
  std::string lineage_json;
  std::string metrics_json;
  std::string state_sha256;
  int32_t state_format = 0;
  int64_t state_bytes = 0;
  std::string state;
  std::string checkpoint;
};

struct AliasChange {
  std::string alias;
  std::optional<int64_t> version;   // nullopt: the alias was removed.
  std::optional<int64_t> previous;  // What it pointed to before.
  int64_t changed_wall_ms = 0;
  std::string reason;  // Why (an automatic promotion's figures); empty for a move by hand.
};

// Thread-compatible: one Registry per thread (a handle may move between threads). Several
// processes may open the same file; a write waits up to `busy_timeout_ms` for another
// process's write, then gets Unavailable.
//
// One writer per model. Two runs that snapshot the same model at once would both number their
// versions on from the same latest one, so their versions, parents and predictions would mix.
// A run therefore takes the model's writer lease (AcquireWriter) before it picks its first
// number and drops it when done (ReleaseWriter). The lease is a row of table `writers`: the
// model, the holder's pid and the holder's process identity (the kernel's boot id and the
// process's start time, from /proc), taken in a write transaction, so exactly one of two racing
// runs gets it. It needs no cleanup after a crash: a lease whose process is gone (exited,
// killed with -9, a zombie, or its pid reused by another process, or the machine rebooted) is
// stale, and the next AcquireWriter takes it over, so `--resume` right after `kill -9` works.
// Liveness can be judged from pids because a WAL registry is only ever shared by processes on
// one host (SQLite's WAL rule). While a live process holds the lease of a model, other
// processes' Put() and Import() of that model are refused too; other models are unaffected.
class Registry {
 public:
  struct Options {
    int busy_timeout_ms = 5000;     // How long a write waits for another writer.
    bool read_only = false;         // Open without the right to write (and without creating).
    bool create_if_missing = true;  // false: a missing file is NotFound, and is not created.
    int64_t max_page_count = 0;     // If > 0, caps the file size (tests simulate a full disk).
  };

  // Opens the registry at `path` (":memory:" in tests), creating it if absent (unless read-only
  // or !create_if_missing), and migrates its schema (unless read-only: this build reads every
  // older schema as it is). NotFound, naming the file, if it is absent and not to be created;
  // InvalidArgument if the file is not a sluice registry; FailedPrecondition if a newer sluice
  // wrote it; Unavailable if it cannot be opened. `clock` must outlive the registry.
  static absl::StatusOr<std::unique_ptr<Registry>> Open(const std::string& path,
                                                        const core::Clock& clock,
                                                        const Options& options);
  static absl::StatusOr<std::unique_ptr<Registry>> Open(const std::string& path,
                                                        const core::Clock& clock) {
    return Open(path, clock, Options());
  }
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Stores a new version of `v.model` in one transaction and returns its number (1, 2, ...).
  // AlreadyExists if `v.version` is set and taken; FailedPrecondition if another live process
  // holds the model's writer lease.
  // Unavailable if the file is locked past the busy timeout, ResourceExhausted if the disk (or
  // the page cap) is full, PermissionDenied if read-only; the registry is unchanged then.
  absl::StatusOr<int64_t> Put(const NewVersion& v);
  // Stores `versions` in order in one transaction: all or none (a promotion and the checkpoint
  // after it). Returns their numbers; errors as Put's.
  absl::StatusOr<std::vector<int64_t>> Put(std::span<const NewVersion> versions);
  // One version with its blobs, whose SHA-256 is verified. NotFound if absent; DataLoss (naming
  // the version) if the state does not match its recorded SHA-256.
  absl::StatusOr<Version> Get(absl::string_view model, int64_t version) const;
  // Only the run checkpoint of a version (empty if it has none): resume reads a run's chain of
  // checkpoints without loading and hashing every model blob. NotFound if absent.
  absl::StatusOr<std::string> Checkpoint(absl::string_view model, int64_t version) const;
  // The newest version of `model`. NotFound if it has none.
  absl::StatusOr<Version> Latest(absl::string_view model) const;
  // Every version (without blobs), by model then version; `model` empty: all models.
  absl::StatusOr<std::vector<Version>> List(absl::string_view model) const;
  // A version number from "17", "latest" or an alias name. NotFound if unknown.
  absl::StatusOr<int64_t> Resolve(absl::string_view model, absl::string_view ref) const;

  // Points `alias` of `model` at `version` (which must exist) and records the change.
  // `reason` is kept in the history (AliasChange::reason).
  absl::Status SetAlias(absl::string_view model, absl::string_view alias, int64_t version,
                        absl::string_view reason = "");
  // Points `alias` of every model in `models` at the version `ref` ("17", "latest" or an alias)
  // names in that model, in one transaction: all move or none does. Each change is recorded in
  // its model's alias history. Returns the versions, in `models` order. NotFound, naming the
  // model, if `ref` names no version of one of them; InvalidArgument if `models` is empty or the
  // alias name is reserved.
  absl::StatusOr<std::vector<int64_t>> SetAliases(std::span<const std::string> models,
                                                  absl::string_view alias, absl::string_view ref);
  // The partitions of a partitioned model: the models named `<model>.p<N>` (N in canonical
  // decimal, as `sluice live` names the versions of partition N) that have versions, as
  // (N, name) sorted by N.
  absl::StatusOr<std::vector<std::pair<int32_t, std::string>>> Partitions(
      absl::string_view model) const;
  // The changes of `alias`, oldest first. NotFound if it never existed.
  absl::StatusOr<std::vector<AliasChange>> AliasHistory(absl::string_view model,
                                                        absl::string_view alias) const;
  // What `alias` pointed to at `unix_ms`: nullopt if nothing then.
  absl::StatusOr<std::optional<int64_t>> AliasAt(absl::string_view model, absl::string_view alias,
                                                 int64_t unix_ms) const;
  // Current aliases of `model` as (alias, version), sorted by alias.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Aliases(
      absl::string_view model) const;

  // Makes this process the only writer of `model` until ReleaseWriter() or the process ends
  // (see the class comment). FailedPrecondition, naming the holder's pid and since when, if a
  // live process (this one included) holds it; a stale lease is taken over.
  absl::Status AcquireWriter(absl::string_view model);
  // Drops this process's writer lease of `model`; OK if it holds none.
  absl::Status ReleaseWriter(absl::string_view model);

  // Writes a new registry file at `path` holding only this version. AlreadyExists if `path`
  // exists (it is never overwritten); on any failure no file is left at `path`.
  absl::Status Export(absl::string_view model, int64_t version, const std::string& path) const;
  // Copies every version of the registry at `path` into this one, as new versions of the same
  // model names numbered on from each model's latest, in one transaction; parents that were
  // copied too point to their new numbers, others are dropped. Returns (model, old number, new
  // number) per version. Blobs are verified first. InvalidArgument if `path` is this registry's
  // own file; FailedPrecondition if another live process holds the writer lease of one of the
  // models.
  absl::StatusOr<std::vector<std::tuple<std::string, int64_t, int64_t>>> Import(
      const std::string& path);
  // Deletes all but the newest `keep` versions of `model`, sparing aliased ones. Returns how
  // many were deleted.
  absl::StatusOr<int64_t> Gc(absl::string_view model, int64_t keep);
  // Deletes the versions of `model` newer than `version` (0: all of them): checkpoints of a run
  // whose outputs were never committed, which never happened. An alias pointing at one of them
  // (a promotion among them) moves back to the newest version up to `version` it pointed at
  // before, or is removed if none, the history saying `why`. Returns how many were deleted.
  absl::StatusOr<int64_t> DropNewer(absl::string_view model, int64_t version,
                                    absl::string_view why);

  const std::string& path() const { return path_; }

 private:
  Registry(sqlite3* db, std::string path, const core::Clock& clock);
  absl::Status Migrate(bool read_only);
  absl::Status Upgrade();
  absl::Status EnableWal();
  // FailedPrecondition if a live process other than this one holds the writer lease of
  // `model`. Call inside a write transaction.
  absl::Status CheckNoOtherWriter(absl::string_view model) const;
  // Points `alias` of `model` at `version` and records the change and its `reason`. Call inside
  // a write transaction; `what` describes the operation for messages.
  // nullopt: removes it.
  absl::Status WriteAlias(absl::string_view model, absl::string_view alias,
                          std::optional<int64_t> version, absl::string_view what,
                          absl::string_view reason);
  // DropNewer's aliases: those pointing past `version` move back (see DropNewer). Call inside
  // a write transaction.
  absl::Status MoveAliasesBack(absl::string_view model, int64_t version, absl::string_view what,
                               absl::string_view why);

  sqlite3* db_;
  std::string path_;
  const core::Clock& clock_;
  int busy_timeout_ms_ = 5000;
};

// The model under which partition `partition` of partitioned model `model` keeps its versions
// (`sluice live` runs one per input partition): "<model>.p<partition>". Registry::Partitions
// finds them by this name.
std::string PartitionModel(absl::string_view model, int32_t partition);

// The schema version this build writes (PRAGMA user_version). 2 added the writer leases.
inline constexpr int kSchemaVersion = 3;

}  // namespace sluice::registry
