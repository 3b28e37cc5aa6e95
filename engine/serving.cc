// engine/serving.cc
#include "engine/serving.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"

namespace sluice::engine {

ServingModel::ServingModel(int64_t version, std::string model_name, RunConfig config,
                           std::unique_ptr<Pipeline> pipeline)
    : version_(version),
      model_name_(std::move(model_name)),
      config_(std::move(config)),
      pipeline_(std::move(pipeline)) {}

absl::StatusOr<std::unique_ptr<const ServingModel>> ServingModel::Create(
    const registry::Version& version) {
  const auto named = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat("version ", version.version, " of \"",
                                                    version.model, "\": ", status.message()));
  };
  absl::StatusOr<RunConfig> config = ParseConfigJson(version.config_json);
  if (!config.ok()) return named(config.status());
  // Continuous: the learners themselves score, so no serving copies are made.
  Pipeline::Options options = config->pipeline;
  options.serving = Pipeline::Serving::kContinuous;
  absl::StatusOr<std::unique_ptr<Pipeline>> pipeline = Pipeline::Create(options, config->features);
  if (!pipeline.ok()) return named(pipeline.status());
  if (absl::Status s = (*pipeline)->RestoreModels(version.state); !s.ok()) return named(s);
  return std::unique_ptr<const ServingModel>(
      new ServingModel(version.version, version.model, *std::move(config), *std::move(pipeline)));
}

absl::StatusOr<std::unique_ptr<const ServingModel>> LoadVersion(const registry::Registry& registry,
                                                                absl::string_view model,
                                                                absl::string_view ref) {
  SLUICE_ASSIGN_OR_RETURN(const int64_t number, registry.Resolve(model, ref));
  SLUICE_ASSIGN_OR_RETURN(const registry::Version version, registry.Get(model, number));
  return ServingModel::Create(version);
}

absl::StatusOr<ResumePoint> FindResumePoint(const registry::Registry& registry,
                                            absl::string_view model, const core::FlatJson& config,
                                            CheckpointInfo* info) {
  // A promotion's version (no checkpoint of its own) is written with the checkpoint after it,
  // in one transaction: never the newest.
  SLUICE_ASSIGN_OR_RETURN(const registry::Version latest, registry.Latest(model));
  if (latest.checkpoint.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", latest.version, " of \"", model,
                     "\" has no run checkpoint (imported?); it cannot be resumed"));
  }
  const std::optional<core::FlatJson> stored = core::ParseFlatJson(latest.config_json);
  if (!stored.has_value()) {
    return absl::DataLossError(absl::StrCat("version ", latest.version, ": unreadable config"));
  }
  if (const auto diff = core::DiffFlatJson(*stored, config); !diff.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", latest.version, " of \"", model,
        "\" was made with another config; refusing to resume it: ", absl::StrJoin(diff, "; ")));
  }
  SLUICE_ASSIGN_OR_RETURN(*info, ReadCheckpointInfo(latest.checkpoint));
  ResumePoint point;
  point.version = latest.version;
  point.models = latest.state;
  for (int64_t v = info->run_first_version; v < latest.version; ++v) {
    absl::StatusOr<std::string> earlier = registry.Checkpoint(model, v);
    if (absl::IsNotFound(earlier.status())) continue;  // Collected by gc: its delta is lost.
    SLUICE_RETURN_IF_ERROR(earlier.status());
    if (earlier->empty()) continue;  // A promotion's version.
    SLUICE_ASSIGN_OR_RETURN(const CheckpointInfo earlier_info, ReadCheckpointInfo(*earlier));
    if (earlier_info.run_first_version != info->run_first_version) continue;
    point.checkpoints.push_back(std::move(*earlier));
  }
  point.checkpoints.push_back(latest.checkpoint);
  return point;
}

}  // namespace sluice::engine
