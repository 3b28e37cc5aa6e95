// engine/global_model.h. The merged (global) anomaly model: one anomaly model from the anomaly
// stages of several models trained on disjoint parts of a stream, e.g. the per-partition
// versions that `sluice live` registers as `<model>.p0`, `<model>.p1`, ...
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "learners/half_space_trees.h"
#include "registry/registry.h"

namespace sluice::engine {

// One anomaly stage (MinMaxScaler | HalfSpaceTrees) and what is needed to load it.
struct AnomalyState {
  learners::HalfSpaceTrees::Options hst;
  std::vector<std::string> features;  // The schema, in dense order.
  std::string state;                  // Pipeline::SaveAnomaly().
  std::string name;                   // For messages; empty: "model <index>".
};

// Merges anomaly stages. The merged scaler holds per feature the least minimum and the greatest
// maximum of the inputs' scalers (learners::MinMaxScaler::Merge), i.e. the range of everything
// any input has seen; the merged trees sum the inputs' masses per node and their window sizes
// (learners::HalfSpaceTrees::Merge says which inputs count and what is summed). The result's
// `hst` is the inputs' options with the summed window size. Exact: commutative and associative
// bit for bit, and merging one stage gives it back unchanged. InvalidArgument, naming the input
// and what differs, if the features or options differ, or the trees are not
// mergeable; DataLoss if a state is corrupt.
absl::StatusOr<AnomalyState> MergeAnomalyStates(std::span<const AnomalyState> inputs);

// A new version of model `name` (not stored: the caller Put()s it) whose anomaly model merges
// the anomaly models of `versions` (MergeAnomalyStates) and which has no fraud model (a logistic
// regression's weights do not add up across streams): its blob is PackModels(merged, ""), and
// its config is the inputs' with `hst_window` the summed window and `fraud_model` false, so that
// serving and audit load it as an anomaly-only pipeline. Trigger "merge"; lineage lists the
// merged models and versions with their SHA-256; created event time the latest of the inputs'.
// InvalidArgument, naming the version, if `versions` is empty, a version has no anomaly model,
// or configs differ in anything but hst_window and fraud_model; FailedPrecondition if a config
// is unreadable; DataLoss if a blob is corrupt.
absl::StatusOr<registry::NewVersion> MergeVersions(std::span<const registry::Version> versions,
                                                   absl::string_view name);

}  // namespace sluice::engine
