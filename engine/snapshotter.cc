// engine/snapshotter.cc
#include "engine/snapshotter.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/features.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/sha256.h"
#include "core/state_codec.h"
#include "core/status_macros.h"
#include "registry/registry.h"

namespace sluice::engine {
namespace {

constexpr absl::string_view kModelsKind = "PipelineModels";

}  // namespace

std::string PackModels(const std::string& anomaly, const std::string& fraud) {
  core::StateWriter w;
  w.PutString(anomaly);
  w.PutString(fraud);
  return core::SealState(kModelsKind, 1, w.payload());
}

absl::Status UnpackModels(absl::string_view blob, std::string* anomaly, std::string* fraud) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload, core::OpenState(blob, kModelsKind, 1));
  core::StateReader r(payload);
  r.GetString(anomaly);
  r.GetString(fraud);
  if (!r.done()) return absl::DataLossError("pipeline models: malformed payload");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Snapshotter>> Snapshotter::Start(const Options& options,
                                                                const core::Clock& wall) {
  if (options.schedule.every_events < 0 || options.schedule.every_event_seconds < 0 ||
      options.schedule.every_wall_seconds < 0) {
    return absl::InvalidArgumentError("snapshot schedule: intervals must be >= 0");
  }
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<registry::Registry> registry,
      registry::Registry::Open(options.registry_path, wall, options.registry_options));
  SLUICE_RETURN_IF_ERROR(registry->AcquireWriter(options.model_name));
  // Under the lease no other run adds versions of the model, so numbering on from its latest
  // version in memory stays collision-free.
  int64_t last = 0;
  if (absl::StatusOr<int64_t> latest = registry->Resolve(options.model_name, "latest");
      latest.ok()) {
    last = *latest;
  } else if (!absl::IsNotFound(latest.status())) {
    // Dropping the lease may fail too; it is stale once this process ends anyway.
    registry->ReleaseWriter(options.model_name).IgnoreError();
    return latest.status();
  }
  return std::unique_ptr<Snapshotter>(new Snapshotter(options, wall, std::move(registry), last));
}

Snapshotter::Snapshotter(const Options& options, const core::Clock& wall,
                         std::unique_ptr<registry::Registry> registry, int64_t last_version)
    : options_(options),
      wall_(wall),
      registry_(std::move(registry)),
      latest_at_start_(last_version),
      version_(last_version),
      last_wall_(wall.Now()) {
  writer_ = std::thread([this] { Write(); });
}

Snapshotter::~Snapshotter() { Finish(); }

void Snapshotter::ContinueAfter(int64_t version, double event_time) {
  if (version != latest_at_start_) {
    absl::MutexLock lock(&mu_);
    refused_ =
        absl::StrCat("the run resumes from version ", version, " of model \"", options_.model_name,
                     "\" but ", options_.registry_path, " already has version ", latest_at_start_,
                     " (another run wrote it since); not numbering on from both");
  }
  version_ = version;
  if (std::isfinite(event_time)) last_event_time_ = event_time;
}

std::optional<std::string> Snapshotter::DueWhileIdle() {
  const SnapshotSchedule& s = options_.schedule;
  if (s.every_wall_seconds <= 0) return std::nullopt;
  const absl::Time now = wall_.Now();
  if (now - last_wall_ < absl::Seconds(s.every_wall_seconds)) return std::nullopt;
  last_wall_ = now;
  return absl::StrCat("every ", s.every_wall_seconds, " s of wall time");
}

std::optional<std::string> Snapshotter::Due(int64_t events, double event_time) {
  const SnapshotSchedule& s = options_.schedule;
  if (s.every_events > 0 && events % s.every_events == 0) {
    if (std::isfinite(event_time)) last_event_time_ = event_time;
    last_wall_ = wall_.Now();
    return absl::StrCat("every ", s.every_events, s.every_events == 1 ? " event" : " events");
  }
  if (s.every_event_seconds > 0 && std::isfinite(event_time)) {
    if (!last_event_time_.has_value()) last_event_time_ = event_time;
    if (event_time - *last_event_time_ >= s.every_event_seconds) {
      last_event_time_ = event_time;
      last_wall_ = wall_.Now();
      return absl::StrCat("every ", s.every_event_seconds, " s of event time");
    }
  }
  if (s.every_wall_seconds > 0 && (events & 63) == 0) {  // The clock is read every 64 events.
    const absl::Time now = wall_.Now();
    if (now - last_wall_ >= absl::Seconds(s.every_wall_seconds)) {
      last_wall_ = now;
      if (std::isfinite(event_time)) last_event_time_ = event_time;
      return absl::StrCat("every ", s.every_wall_seconds, " s of wall time");
    }
  }
  return std::nullopt;
}

absl::Status Snapshotter::WaitWritten(int64_t version) {
  absl::MutexLock lock(&mu_);
  const auto written = [this, version]()
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_version_ >= version; };
  mu_.Await(absl::Condition(&written));
  if (done_version_ == version && !last_error_.empty()) {
    return absl::UnavailableError(last_error_);
  }
  return absl::OkStatus();
}

void Snapshotter::Submit(Snapshot snapshot) {
  std::vector<Snapshot> group;
  group.push_back(std::move(snapshot));
  Submit(std::move(group));
}

void Snapshotter::Submit(std::vector<Snapshot> group) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](Snapshotter* self)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->queue_.size() < kMaxQueued; },
      this));
  queue_.push_back(std::move(group));
}

std::vector<std::string> Snapshotter::Finish() {
  {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  absl::MutexLock lock(&mu_);
  return errors_;
}

registry::NewVersion Snapshotter::ToVersion(Snapshot& snapshot) const {
  registry::NewVersion v;
  v.model = options_.model_name;
  v.version = snapshot.version;
  v.parent = snapshot.parent;
  v.created_event_time = snapshot.event_time;
  v.trigger = snapshot.trigger;
  v.config_json = snapshot.config_json.value_or(options_.config_json);
  v.metrics_json = snapshot.metrics_json ? snapshot.metrics_json() : std::string("{}");
  v.state = std::move(snapshot.models);
  v.checkpoint = std::move(snapshot.checkpoint);
  v.alias = snapshot.alias;
  v.alias_reason = snapshot.alias_reason;
  v.lineage_json = absl::StrCat(
      "{\"source\": ",
      absl::StartsWith(options_.input_description, "kafka:") ? "\"kafka\"" : "\"csv\"",
      ", \"input\": ", core::JsonQuote(options_.input_description),
      ", \"input_sha256\": ", core::JsonQuote(snapshot.input_sha256), ", \"rows\": [0, ",
      snapshot.rows_read, "], \"events_learned\": ", snapshot.events,
      ", \"labels_learned\": ", snapshot.labels,
      ", \"first_event_id\": ", core::JsonQuote(snapshot.first_event_id),
      ", \"last_event_id\": ", core::JsonQuote(snapshot.last_event_id), ", \"first_event_time\": ",
      core::JsonNumber(snapshot.first_event_time.value_or(core::kMissing)),
      ", \"last_event_time\": ",
      core::JsonNumber(snapshot.last_event_time.value_or(core::kMissing)), "}");
  return v;
}

void Snapshotter::Write() {
  // Background work at the lowest priority (nice 19, this thread only): it takes the little
  // CPU the stream's two threads leave and rarely preempts them mid-event. Failure to lower it
  // is harmless.
  if (options_.background) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
  // From here on registry_ belongs to this thread alone.
  while (true) {
    std::vector<Snapshot> group;
    std::string refused;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Snapshotter* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return !self->queue_.empty() || self->finishing_;
          },
          this));
      if (queue_.empty()) break;
      group = std::move(queue_.front());
      queue_.pop_front();
      refused = refused_;
    }
    const auto done = [&](std::string error) {
      absl::MutexLock lock(&mu_);
      if (!error.empty()) {
        std::vector<std::string> names;
        for (const Snapshot& s : group)
          names.push_back(absl::StrCat(s.version, " (", s.trigger, ")"));
        error = absl::StrCat("snapshot version", group.size() == 1 ? " " : "s ",
                             absl::StrJoin(names, " and "), group.size() == 1 ? " was" : " were",
                             " not written: ", error);
        errors_.push_back(error);
      }
      done_version_ = group.back().version;
      last_error_ = std::move(error);
    };
    if (!refused.empty()) {
      done(refused);
      continue;
    }
    std::vector<registry::NewVersion> versions;
    for (Snapshot& snapshot : group) versions.push_back(ToVersion(snapshot));
    absl::Status status = registry_->Put(versions).status();
    // Only checkpoints move between processes: a promotion's version is not published.
    for (const registry::NewVersion& v : versions) {
      if (status.ok() && options_.publish && !v.checkpoint.empty()) status = options_.publish(v);
    }
    done(status.ok() ? "" : std::string(status.message()));
  }
  // If this fails, the lease stays until this process ends; then it is stale and the next run
  // takes it over, so there is nothing more to do about it.
  registry_->ReleaseWriter(options_.model_name).IgnoreError();
}

}  // namespace sluice::engine
