// engine/kafka/live_partition.cc
#include "engine/kafka/live_partition.h"

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/status_macros.h"
#include "engine/run_config.h"
#include "engine/serving.h"
#include "registry/registry.h"

namespace sluice::engine::kafka {
namespace {

// What a version records of the run that made it; a restart must match it.
core::FlatJson Config(const LiveOptions& o) {
  RunConfig config;
  config.pipeline = o.pipeline;
  config.join = o.join;
  config.features = o.features;
  config.skip_bad_rows = true;  // Malformed messages go to the dead-letter topic.
  config.labels_file = absl::StrCat("kafka:", o.input.topics.labels);
  return ConfigJson(config);
}

}  // namespace

std::string PartitionModelName(const std::string& model_name, int32_t partition) {
  return absl::StrCat(model_name, ".p", partition);
}

absl::StatusOr<std::unique_ptr<LivePartition>> LivePartition::Start(const LiveOptions& options,
                                                                    DeadLetters& dead_letters,
                                                                    RunObserver& observer) {
  std::unique_ptr<LivePartition> p(new LivePartition(options));
  SLUICE_RETURN_IF_ERROR(p->Open(dead_letters));
  SLUICE_RETURN_IF_ERROR(p->Resume());
  LivePartition* self = p.get();
  p->thread_ = std::thread([self, &observer] { self->Run(observer); });
  return p;
}

LivePartition::~LivePartition() {
  if (thread_.joinable()) thread_.join();
}

absl::Status LivePartition::Open(DeadLetters& dead_letters) {
  const PartitionInput& in = options_.input;
  SLUICE_ASSIGN_OR_RETURN(pipeline_, Pipeline::Create(options_.pipeline, options_.features));
  // A producer of its own: a checkpoint's flush waits for this partition's outputs only.
  SLUICE_ASSIGN_OR_RETURN(producer_, Producer::Create(in.brokers, in.settings));
  SLUICE_ASSIGN_OR_RETURN(source_, NewKafkaEventSource(in, options_.features, &dead_letters));
  SLUICE_ASSIGN_OR_RETURN(labels_, NewKafkaLabelSource(in, &dead_letters));
  PredictionFormat format;
  format.anomaly = options_.pipeline.anomaly;
  format.fraud = options_.pipeline.fraud;
  if (!options_.registry.empty()) {
    format.versions = options_.pipeline.serving == Pipeline::Serving::kFrozen
                          ? VersionColumns::kFrozen
                          : VersionColumns::kContinuous;
  }
  SLUICE_ASSIGN_OR_RETURN(sink_, NewKafkaPredictionSink(*producer_, in, format,
                                                        options_.alert_threshold, labels_.get()));
  return absl::OkStatus();
}

absl::Status LivePartition::Resume() {
  if (options_.registry.empty()) return absl::OkStatus();
  const std::string model = PartitionModelName(options_.model_name, partition());
  const core::FlatJson config = Config(options_);
  Snapshotter::Options s;
  s.registry_path = options_.registry;
  s.model_name = model;
  s.schedule = options_.schedule;
  s.config_json = core::WriteFlatJson(config);
  s.input_description = source_->description();
  // The lease first: a second process on this partition must not touch its outputs.
  SLUICE_ASSIGN_OR_RETURN(snapshotter_, Snapshotter::Start(s, core::Clock::Real()));
  SLUICE_ASSIGN_OR_RETURN(auto registry,
                          registry::Registry::Open(options_.registry, core::Clock::Real()));
  CheckpointInfo info;
  absl::StatusOr<ResumePoint> point = FindResumePoint(*registry, model, config, &info);
  if (absl::IsNotFound(point.status())) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(point.status());
  SLUICE_ASSIGN_OR_RETURN(retrace_, sink_->Recover(info.predictions));
  resumed_version_ = point->version;
  resume_ = *std::move(point);
  return absl::OkStatus();
}

void LivePartition::Run(RunObserver& observer) {
  RunOptions o;
  o.join = options_.join;
  o.skip_bad_records = true;
  o.labels = labels_.get();
  o.snapshotter = snapshotter_.get();
  if (resume_.has_value()) o.resume = &*resume_;
  o.retrace = &retrace_;
  result_ = RunStream(*source_, *pipeline_, sink_.get(), observer, o, core::Clock::Real());
  if (absl::StatusOr<PredictionSink::Position> flushed = sink_->Flush();
      !flushed.ok() && result_.ok()) {
    result_ = flushed.status();
  }
  done_.store(true);
}

const absl::StatusOr<RunResult>& LivePartition::Join() {
  if (thread_.joinable()) thread_.join();
  return result_;
}

}  // namespace sluice::engine::kafka
