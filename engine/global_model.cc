// engine/global_model.cc
#include "engine/global_model.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "engine/run_config.h"
#include "engine/snapshotter.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"

namespace sluice::engine {
namespace {

// The config keys a merge changes: everything else must be equal across the inputs.
constexpr absl::string_view kMergedKeys[] = {"hst_window", "fraud_model"};

// Loads one anomaly stage as the pipeline builds it (engine/pipeline.cc MakeAnomaly).
absl::StatusOr<std::unique_ptr<learners::ScaledLearner>> LoadAnomaly(const AnomalyState& input) {
  SLUICE_ASSIGN_OR_RETURN(auto scaler,
                          learners::MinMaxScaler::Create(static_cast<int>(input.features.size())));
  SLUICE_ASSIGN_OR_RETURN(auto hst, learners::HalfSpaceTrees::Create(input.hst, input.features));
  SLUICE_ASSIGN_OR_RETURN(auto model,
                          learners::ScaledLearner::Create(std::move(scaler), std::move(hst)));
  SLUICE_RETURN_IF_ERROR(model->Load(input.state));
  return model;
}

absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// The version as messages name it.
std::string Name(const registry::Version& v) {
  return absl::StrCat("version ", v.version, " of \"", v.model, "\"");
}

core::FlatJson WithoutMergedKeys(const core::FlatJson& config) {
  core::FlatJson out;
  for (const auto& [key, value] : config) {
    if (std::find(std::begin(kMergedKeys), std::end(kMergedKeys), key) == std::end(kMergedKeys)) {
      out.emplace_back(key, value);
    }
  }
  return out;
}

std::string Lineage(std::span<const registry::Version> versions) {
  std::vector<std::string> merged;
  for (const registry::Version& v : versions) {
    merged.push_back(absl::StrCat("{\"model\": ", core::JsonQuote(v.model),
                                  ", \"version\": ", v.version,
                                  ", \"state_sha256\": ", core::JsonQuote(v.state_sha256), "}"));
  }
  return absl::StrCat("{\"source\": \"merge\", \"merged\": [", absl::StrJoin(merged, ", "), "]}");
}

}  // namespace

absl::StatusOr<AnomalyState> MergeAnomalyStates(std::span<const AnomalyState> inputs) {
  if (inputs.empty()) return absl::InvalidArgumentError("anomaly merge: no models");
  const auto name = [&](size_t i) {
    return inputs[i].name.empty() ? absl::StrCat("model ", i) : inputs[i].name;
  };
  std::vector<std::unique_ptr<learners::ScaledLearner>> loaded;
  std::vector<const learners::MinMaxScaler*> scalers;
  std::vector<const learners::HalfSpaceTrees*> trees;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string prefix = absl::StrCat("anomaly merge: ", name(i), ": ");
    if (inputs[i].features != inputs[0].features) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "its features differ from those of ", name(0)));
    }
    absl::StatusOr<std::unique_ptr<learners::ScaledLearner>> model = LoadAnomaly(inputs[i]);
    if (!model.ok()) return Prefixed(model.status(), prefix);
    // LoadAnomaly built exactly these types.
    scalers.push_back(dynamic_cast<const learners::MinMaxScaler*>(&(*model)->scaler()));
    trees.push_back(dynamic_cast<const learners::HalfSpaceTrees*>(&(*model)->model()));
    loaded.push_back(*std::move(model));
  }
  // Checked here first so that the message names the input: built trees against the first
  // built ones (as Merge does).
  const auto reference =
      std::find_if(trees.begin(), trees.end(), [](const auto* t) { return t->trees_built(); });
  for (size_t i = 0; i < trees.size(); ++i) {
    const learners::HalfSpaceTrees& against = reference != trees.end() ? **reference : *trees[0];
    if (absl::Status s = against.CheckMergeable(*trees[i]); !s.ok()) {
      return Prefixed(s, absl::StrCat("anomaly merge: ", name(i), ": "));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(auto scaler, learners::MinMaxScaler::Merge(scalers));
  absl::StatusOr<std::unique_ptr<learners::HalfSpaceTrees>> hst =
      learners::HalfSpaceTrees::Merge(trees);
  if (!hst.ok()) return Prefixed(hst.status(), "anomaly merge: ");
  AnomalyState merged;
  merged.hst = (*hst)->options();
  merged.features = inputs[0].features;
  SLUICE_ASSIGN_OR_RETURN(auto model,
                          learners::ScaledLearner::Create(std::move(scaler), *std::move(hst)));
  merged.state = model->Save();
  return merged;
}

absl::StatusOr<registry::NewVersion> MergeVersions(std::span<const registry::Version> versions,
                                                   absl::string_view name) {
  if (versions.empty()) return absl::InvalidArgumentError("merge: no versions");
  std::vector<AnomalyState> inputs;
  std::optional<core::FlatJson> common;
  std::optional<double> event_time;
  for (const registry::Version& v : versions) {
    absl::StatusOr<RunConfig> config = ParseConfigJson(v.config_json);
    if (!config.ok()) return Prefixed(config.status(), absl::StrCat(Name(v), ": "));
    if (!config->pipeline.anomaly) {
      return absl::InvalidArgumentError(absl::StrCat(Name(v), " has no anomaly model to merge"));
    }
    const core::FlatJson compared = WithoutMergedKeys(ConfigJson(*config));
    if (!common.has_value()) common = compared;
    if (const auto diff = core::DiffFlatJson(*common, compared); !diff.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(Name(v), " was made with another config than ",
                                                     Name(versions[0]), ": ",
                                                     absl::StrJoin(diff, "; ")));
    }
    std::string anomaly, fraud;
    if (absl::Status s = UnpackModels(v.state, &anomaly, &fraud); !s.ok()) {
      return Prefixed(s, absl::StrCat(Name(v), ": "));
    }
    inputs.push_back({config->pipeline.hst, config->features, std::move(anomaly), Name(v)});
    if (v.created_event_time.has_value()) {
      event_time = std::max(event_time.value_or(*v.created_event_time), *v.created_event_time);
    }
  }
  SLUICE_ASSIGN_OR_RETURN(const AnomalyState merged, MergeAnomalyStates(inputs));
  RunConfig config = *ParseConfigJson(versions[0].config_json);  // Parsed above.
  config.pipeline.hst = merged.hst;
  config.pipeline.fraud = false;
  registry::NewVersion out;
  out.model = std::string(name);
  out.created_event_time = event_time;
  out.trigger = "merge";
  out.config_json = core::WriteFlatJson(ConfigJson(config));
  out.lineage_json = Lineage(versions);
  out.metrics_json = "{}";
  out.state = PackModels(merged.state, "");
  return out;
}

}  // namespace sluice::engine
