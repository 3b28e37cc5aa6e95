// engine/kafka/global_model_publisher.cc
#include "engine/kafka/global_model_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "engine/global_model.h"
#include "engine/kafka/checkpoint_topic.h"
#include "engine/kafka/live_partition.h"
#include "registry/registry.h"

namespace sluice::engine::kafka {
namespace {

// The latest version of `model` on partition `partition` of the checkpoints topic; nullopt if
// none. A newer version refused there (corrupt, incomplete) is an error: merging or serving the
// one before it would silently go back in time.
absl::StatusOr<std::optional<registry::NewVersion>> ReadLatest(const GlobalModelOptions& o,
                                                               int32_t partition,
                                                               const std::string& model) {
  SLUICE_ASSIGN_OR_RETURN(RestoredCheckpoint restored,
                          ReadLatestCheckpoint(o.brokers, o.settings, o.group, o.checkpoints_topic,
                                               partition, model, o.read_timeout));
  if (!restored.refused.empty()) {
    return absl::DataLossError(absl::StrCat("refused on ", o.checkpoints_topic, ": ",
                                            absl::StrJoin(restored.refused, "; ")));
  }
  return std::move(restored.version);
}

}  // namespace

std::string GlobalModelName(const std::string& model_name) {
  return absl::StrCat(model_name, ".global");
}

registry::Version ToVersion(const registry::NewVersion& v) {
  registry::Version out;
  out.model = v.model;
  out.version = v.version.value_or(0);
  out.parent = v.parent;
  out.created_event_time = v.created_event_time;
  out.trigger = v.trigger;
  out.config_json = v.config_json;
  out.lineage_json = v.lineage_json;
  out.metrics_json = v.metrics_json;
  out.state_sha256 = core::Sha256Hex(v.state);
  out.state_format = v.state_format;
  out.state_bytes = static_cast<int64_t>(v.state.size());
  out.state = v.state;
  out.checkpoint = v.checkpoint;
  return out;
}

absl::StatusOr<std::unique_ptr<GlobalModelPublisher>> GlobalModelPublisher::Create(
    const GlobalModelOptions& options) {
  if (options.partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("global model: ", options.partitions, " partitions to merge"));
  }
  SLUICE_ASSIGN_OR_RETURN(auto producer, Producer::Create(options.brokers, options.settings));
  return std::unique_ptr<GlobalModelPublisher>(
      new GlobalModelPublisher(options, std::move(producer)));
}

absl::StatusOr<GlobalModelPublisher::Round> GlobalModelPublisher::PublishOnce() {
  Round round;
  std::vector<registry::Version> versions;
  for (int32_t p = 0; p < options_.partitions; ++p) {
    SLUICE_ASSIGN_OR_RETURN(
        std::optional<registry::NewVersion> latest,
        ReadLatest(options_, p, registry::PartitionModel(options_.model_name, p)));
    if (!latest.has_value()) {
      round.missing_partition = p;
      round.merged.clear();
      return round;
    }
    round.merged.push_back(*latest->version);
    versions.push_back(ToVersion(*latest));
  }
  const std::string name = GlobalModelName(options_.model_name);
  SLUICE_ASSIGN_OR_RETURN(const std::optional<registry::NewVersion> previous,
                          ReadLatest(options_, 0, name));
  const int64_t last = previous.has_value() ? *previous->version : 0;
  if (last > 0 && last == last_.version && round.merged == last_.merged) {
    round.unchanged = true;
    return round;
  }
  SLUICE_ASSIGN_OR_RETURN(registry::NewVersion merged, MergeVersions(versions, name));
  merged.version = last + 1;
  if (last > 0) merged.parent = last;
  if (!options_.registry.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto registry,
                            registry::Registry::Open(options_.registry, core::Clock::Real()));
    // A local version past the topic's latest was never published (its process died or its
    // publish failed) and gives way to this one.
    SLUICE_RETURN_IF_ERROR(ImportCheckpoint(*registry, merged).status());
  }
  SLUICE_RETURN_IF_ERROR(PublishCheckpoint(*producer_, options_.checkpoints_topic, 0, merged));
  SLUICE_RETURN_IF_ERROR(producer_->Flush(options_.read_timeout));
  round.version = *merged.version;
  last_ = round;
  return round;
}

absl::StatusOr<std::unique_ptr<GlobalModelFollower>> GlobalModelFollower::Create(
    const GlobalModelOptions& options, std::vector<std::string> features, ServingSlot& slot) {
  SLUICE_ASSIGN_OR_RETURN(auto producer, Producer::Create(options.brokers, options.settings));
  return std::unique_ptr<GlobalModelFollower>(
      new GlobalModelFollower(options, std::move(features), slot, std::move(producer)));
}

absl::StatusOr<int64_t> GlobalModelFollower::Refresh() {
  SLUICE_ASSIGN_OR_RETURN(const int64_t end, producer_->EndOffset(options_.checkpoints_topic, 0,
                                                                  options_.read_timeout));
  if (end == seen_end_) return served_;
  const std::string name = GlobalModelName(options_.model_name);
  SLUICE_ASSIGN_OR_RETURN(const std::optional<registry::NewVersion> latest,
                          ReadLatest(options_, 0, name));
  seen_end_ = end;
  if (!latest.has_value() || *latest->version <= served_) return served_;
  const registry::Version version = ToVersion(*latest);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<const ServingModel> model, ServingModel::Create(version));
  if (model->features() != features_) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", version.version, " of ", name, " on ", options_.checkpoints_topic,
                     " has features ", absl::StrJoin(model->features(), ","),
                     ", not the partitions' ", absl::StrJoin(features_, ",")));
  }
  if (!options_.registry.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto registry,
                            registry::Registry::Open(options_.registry, core::Clock::Real()));
    // Registered here for audit unless it is already (made here, or served before a restart).
    SLUICE_RETURN_IF_ERROR(ImportCheckpoint(*registry, *latest).status());
  }
  slot_.Swap(std::move(model));
  served_ = version.version;
  return served_;
}

absl::StatusOr<std::unique_ptr<GlobalModelService>> GlobalModelService::Create(
    const Options& options) {
  if (options.publish_every_events <= 0 && options.serve == nullptr) {
    return absl::InvalidArgumentError("global model: neither publishing nor serving");
  }
  std::unique_ptr<GlobalModelService> service(new GlobalModelService(options));
  if (options.publish_every_events > 0) {
    SLUICE_ASSIGN_OR_RETURN(service->publisher_, GlobalModelPublisher::Create(options.model));
  }
  if (options.serve != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(
        service->follower_,
        GlobalModelFollower::Create(options.model, options.features, *options.serve));
    service->Follow();
  }
  GlobalModelService* self = service.get();
  service->thread_ = std::thread([self] { self->Loop(); });
  return service;
}

GlobalModelService::~GlobalModelService() { Finish(); }

void GlobalModelService::Observe(int64_t events, bool leads) {
  if (publisher_ == nullptr) return;
  // Due each time the count passes a multiple of N; one merge however many were passed.
  const int64_t every = options_.publish_every_events;
  const bool due = leads && events / every > observed_ / every;
  observed_ = std::max(observed_, events);
  absl::MutexLock lock(&mu_);
  leads_ = leads;
  if (due) publish_requested_ = true;
}

void GlobalModelService::Finish() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> GlobalModelService::TakeNotes() {
  absl::MutexLock lock(&mu_);
  return std::exchange(notes_, {});
}

void GlobalModelService::Note(std::string note) {
  absl::MutexLock lock(&mu_);
  notes_.push_back(std::move(note));
}

void GlobalModelService::Loop() {
  while (true) {
    bool publish = false, stop = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](GlobalModelService* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                return self->publish_requested_ || self->stopping_;
              },
              this),
          options_.refresh_interval);
      publish = std::exchange(publish_requested_, false) || (merge_pending_ && leads_);
      stop = stopping_;
    }
    if (publish) Publish();
    if (stop) return;
    Follow();
  }
}

void GlobalModelService::Publish() {
  const std::string name = GlobalModelName(options_.model.model_name);
  const absl::StatusOr<GlobalModelPublisher::Round> round = publisher_->PublishOnce();
  if (!round.ok()) {
    Note(absl::StrCat("global model: no version of ", name, ": ", round.status().message()));
    return;
  }
  merge_pending_ = round->version == 0 && !round->unchanged;
  if (round->unchanged) return;
  if (round->version == 0) {
    if (!noted_missing_) {
      Note(absl::StrCat(
          "global model: waiting until every partition has published a version (",
          registry::PartitionModel(options_.model.model_name, round->missing_partition),
          " has none yet)"));
    }
    noted_missing_ = true;
    return;
  }
  Note(absl::StrCat("global model version ", round->version, " of ", name, " from partitions 0..",
                    options_.model.partitions - 1, " (versions ",
                    absl::StrJoin(round->merged, ", "), ")"));
  // Served here at once rather than at the next look.
  if (follower_ != nullptr) Follow();
}

void GlobalModelService::Follow() {
  if (follower_ == nullptr) return;
  const int64_t before = follower_->served();
  const absl::StatusOr<int64_t> served = follower_->Refresh();
  if (!served.ok()) {
    // Said once while it lasts: it is retried at every look.
    std::string error = absl::StrCat("global model: serving: ", served.status().message());
    if (error != last_error_) Note(error);
    last_error_ = std::move(error);
    return;
  }
  last_error_.clear();
  if (*served != before) {
    Note(absl::StrCat("serving global model version ", *served, " of ",
                      GlobalModelName(options_.model.model_name)));
  }
}

}  // namespace sluice::engine::kafka
