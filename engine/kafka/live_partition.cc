// engine/kafka/live_partition.cc
#include "engine/kafka/live_partition.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/status_macros.h"
#include "engine/kafka/checkpoint_topic.h"
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

std::string TransactionalId(const PartitionInput& input) {
  return absl::StrCat("sluice-", input.group, "-", input.topics.transactions, "-", input.partition);
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
  SLUICE_ASSIGN_OR_RETURN(challengers_, Challengers::Create(options_.challengers, options_.features,
                                                            options_.pipeline.metric_window));
  // A producer of its own: a checkpoint's flush or commit is this partition's only.
  const bool transactions = !options_.registry.empty() &&
                            options_.exactly_once == LiveOptions::ExactlyOnce::kTransactions;
  // Outputs gather for 5 ms (the user's -X may say otherwise): a score's latency is taken when
  // it is handed over, and on 2 cores requests of ~10 messages cost more than the model.
  Settings settings = {{"linger.ms", "5"}};
  settings.insert(settings.end(), in.settings.begin(), in.settings.end());
  if (transactions) settings.emplace_back("transactional.id", TransactionalId(in));
  SLUICE_ASSIGN_OR_RETURN(producer_, Producer::Create(in.brokers, settings));
  // Connected and told where the outputs' partitions lead before the first score: the first
  // batches then leave in order instead of waiting in librdkafka for the topics' metadata.
  for (const std::string& topic : {in.topics.scores, in.topics.alerts}) {
    SLUICE_RETURN_IF_ERROR(producer_->Prepare(topic, absl::Seconds(30)));
  }
  if (transactions) {
    SLUICE_RETURN_IF_ERROR(producer_->InitTransactions(absl::Minutes(1)));
    SLUICE_RETURN_IF_ERROR(producer_->BeginTransaction());
  }
  SLUICE_ASSIGN_OR_RETURN(
      source_, NewKafkaEventSource(in, options_.features, &dead_letters, producer_.get()));
  SLUICE_ASSIGN_OR_RETURN(labels_, NewKafkaLabelSource(in, &dead_letters));
  PredictionFormat format;
  format.anomaly = options_.pipeline.anomaly;
  format.fraud = options_.pipeline.fraud;
  if (options_.explain > 0) format.explain_features = options_.features;
  if (!options_.registry.empty()) {
    format.versions = options_.pipeline.serving == Pipeline::Serving::kFrozen
                          ? VersionColumns::kFrozen
                          : VersionColumns::kContinuous;
  }
  SLUICE_ASSIGN_OR_RETURN(
      sink_,
      NewKafkaPredictionSink(*producer_, in, format, options_.alert_threshold, labels_.get(),
                             transactions ? TransactionalId(in) : "", options_.global_model));
  return absl::OkStatus();
}

absl::Status LivePartition::Resume() {
  if (options_.registry.empty()) return absl::OkStatus();
  const std::string model = registry::PartitionModel(options_.model_name, partition());
  const core::FlatJson config = Config(options_);
  Snapshotter::Options s;
  s.registry_path = options_.registry;
  s.model_name = model;
  s.schedule = options_.schedule;
  s.config_json = core::WriteFlatJson(config);
  s.input_description = source_->description();
  s.background = !sink_->CommitsWithCheckpoints();  // The stream waits for each write then.
  if (!options_.checkpoints_topic.empty()) {
    // In the transaction that commits the outputs up to it, when there is one.
    s.publish = [this](const registry::NewVersion& v) {
      return PublishCheckpoint(*producer_, options_.checkpoints_topic, partition(), v);
    };
  }
  SLUICE_ASSIGN_OR_RETURN(auto registry,
                          registry::Registry::Open(options_.registry, core::Clock::Real()));
  if (!options_.checkpoints_topic.empty())
    SLUICE_RETURN_IF_ERROR(ImportPublished(*registry, model));
  // Before the lease, whose holder numbers on from the latest version. A second process on
  // this partition has been fenced off by InitTransactions.
  if (sink_->CommitsWithCheckpoints()) SLUICE_RETURN_IF_ERROR(DropUncommitted(*registry, model));
  // Then the lease, before its outputs are read back: a second process on this partition must
  // not touch them.
  SLUICE_ASSIGN_OR_RETURN(snapshotter_, Snapshotter::Start(s, core::Clock::Real()));
  CheckpointInfo info;
  absl::StatusOr<ResumePoint> point = FindResumePoint(*registry, model, config, &info);
  if (absl::IsNotFound(point.status())) return absl::OkStatus();
  SLUICE_RETURN_IF_ERROR(point.status());
  if (!sink_->CommitsWithCheckpoints()) {
    SLUICE_ASSIGN_OR_RETURN(retrace_, sink_->Recover(info.predictions));
  }
  resumed_version_ = point->version;
  resume_ = *std::move(point);
  return absl::OkStatus();
}

// The checkpoints topic is the truth of a group's partition: its latest version goes into the
// registry (ImportCheckpoint). Nothing published: the registry as it is.
absl::Status LivePartition::ImportPublished(registry::Registry& registry,
                                            const std::string& model) {
  const PartitionInput& in = options_.input;
  SLUICE_ASSIGN_OR_RETURN(
      RestoredCheckpoint restored,
      ReadLatestCheckpoint(in.brokers, in.settings, in.group, options_.checkpoints_topic,
                           partition(), model, absl::Minutes(1)));
  refused_ = std::move(restored.refused);
  if (!restored.version.has_value()) {
    if (refused_.empty()) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("no usable checkpoint of ", model, " on ",
                                            options_.checkpoints_topic, ": ",
                                            absl::StrJoin(refused_, "; ")));
  }
  const registry::NewVersion& v = *restored.version;
  const int64_t number = *v.version;
  // The topic is keyed by model name: another stream under the same name is not this one's.
  if (!absl::StrContains(v.lineage_json,
                         absl::StrCat("\"input\": ", core::JsonQuote(source_->description())))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the newest checkpoint of ", model, " on ", options_.checkpoints_topic, " (version ",
        number, ") was not made from ", source_->description(), " (its lineage: ", v.lineage_json,
        "): give this stream a --model-name of its own, or another --checkpoints-topic"));
  }
  SLUICE_ASSIGN_OR_RETURN(const Imported imported, ImportCheckpoint(registry, v));
  dropped_versions_ = imported.dropped;
  if (imported.stored) imported_version_ = number;
  return absl::OkStatus();
}

// With transactions, the checkpoint to continue from is the one whose positions the group
// committed (with the outputs up to it); the versions after it were written but their
// transaction never committed: their outputs were aborted, so they go too.
absl::Status LivePartition::DropUncommitted(registry::Registry& registry,
                                            const std::string& model) {
  const PartitionInput& in = options_.input;
  SLUICE_ASSIGN_OR_RETURN(auto consumer, Consumer::Create(in.brokers, in.group, in.settings));
  SLUICE_ASSIGN_OR_RETURN(const auto committed,
                          consumer->Committed({{in.topics.transactions, in.partition, 0},
                                               {in.topics.labels, in.partition, 0}},
                                              absl::Seconds(30)));
  SLUICE_ASSIGN_OR_RETURN(const std::vector<registry::Version> versions, registry.List(model));
  const std::string token = TransactionToken(TransactionalId(in));
  int64_t keep = 0;
  for (auto v = versions.rbegin(); v != versions.rend() && keep == 0; ++v) {
    SLUICE_ASSIGN_OR_RETURN(const std::string checkpoint, registry.Checkpoint(model, v->version));
    if (checkpoint.empty()) continue;  // A promotion's version, written with the checkpoint after.
    SLUICE_ASSIGN_OR_RETURN(const CheckpointInfo info, ReadCheckpointInfo(checkpoint));
    if (info.position.records == committed[0].offset &&
        info.label_position == committed[1].offset) {
      keep = v->version;
    } else if (info.predictions.resume != token) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", v->version, " of ", model, " in ", options_.registry,
          " is not a checkpoint of consumer group \"", in.group, "\" (which committed ",
          in.topics.transactions, "/", in.partition, " up to offset ", committed[0].offset,
          "); use the group and registry that belong together, or another --model-name"));
    }
  }
  if (keep == 0 && committed[0].offset != Consumer::kNone) {
    return absl::FailedPreconditionError(absl::StrCat(
        "consumer group \"", in.group, "\" committed ", in.topics.transactions, "/", in.partition,
        " up to offset ", committed[0].offset, " but no version of ", model, " in ",
        options_.registry, " was checkpointed there: not the registry of that group's outputs"));
  }
  SLUICE_ASSIGN_OR_RETURN(
      dropped_versions_,
      registry.DropNewer(model, keep,
                         absl::StrCat("the versions after ", keep,
                                      " were dropped: their Kafka transaction never committed")));
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
  o.whole_checkpoints = !options_.checkpoints_topic.empty();
  o.explain = options_.explain;
  o.drift = options_.drift;
  o.snapshot_on_drift = options_.snapshot_on_drift;
  if (challengers_->size() > 0) o.challengers = challengers_.get();
  o.promote = options_.promote;
  if (o.promote.has_value()) {
    o.promote->config_json = [this](const Pipeline::Options& promoted) {
      LiveOptions with = options_;
      with.pipeline = promoted;
      return core::WriteFlatJson(Config(with));
    };
  }
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
