// engine/serving.h. Registered versions as immutable models that many threads score at once, a
// slot that swaps the served version atomically, and the one way a version is restored: for
// serving, for `sluice audit` and for `--resume`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/features.h"
#include "engine/pipeline.h"
#include "engine/run_config.h"
#include "engine/stream_runner.h"
#include "registry/registry.h"

namespace sluice::engine {

// One registered version, restored and frozen: Score() is const and touches no shared scratch,
// so any number of threads may call it at once. Learns nothing.
class ServingModel {
 public:
  // Restores `version`'s models with the pipeline its config describes. InvalidArgument if the
  // config is unreadable, DataLoss if the blob is corrupt; the message names the version.
  static absl::StatusOr<std::unique_ptr<const ServingModel>> Create(
      const registry::Version& version);
  ServingModel(const ServingModel&) = delete;
  ServingModel& operator=(const ServingModel&) = delete;

  // Both scores of x, in the version's feature order; NaN for a model that is off.
  // Requires: x.size() == features().size().
  Pipeline::Scores Score(core::Features x) const {
    return {pipeline_->ScoreAnomaly(x), pipeline_->ScoreFraud(x)};
  }
  // The anomaly score's explanation (Pipeline::ExplainAnomaly); false if the model is off.
  bool Explain(core::Features x, int top, Pipeline::Explanation* out) const {
    return pipeline_->ExplainAnomaly(x, top, out);
  }
  int64_t version() const { return version_; }
  const std::string& model_name() const { return model_name_; }
  const RunConfig& config() const { return config_; }
  const std::vector<std::string>& features() const { return config_.features; }

 private:
  ServingModel(int64_t version, std::string model_name, RunConfig config,
               std::unique_ptr<Pipeline> pipeline);

  const int64_t version_;
  const std::string model_name_;
  const RunConfig config_;
  const std::unique_ptr<const Pipeline> pipeline_;
};

// The model currently served. Get() and Swap() may be called from any threads at once; a swap
// never blocks scoring for longer than copying a pointer, and a caller keeps the model it got
// alive for as long as it holds it (shared ownership is the point: readers may still be scoring
// with a model after it was swapped out).
class ServingSlot {
 public:
  ServingSlot() = default;
  explicit ServingSlot(std::shared_ptr<const ServingModel> model) : model_(std::move(model)) {}
  std::shared_ptr<const ServingModel> Get() const {
    absl::MutexLock lock(&mu_);
    return model_;
  }
  // Serves `model` from now on; returns the one it replaced.
  std::shared_ptr<const ServingModel> Swap(std::shared_ptr<const ServingModel> model) {
    absl::MutexLock lock(&mu_);
    model_.swap(model);
    return model;
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ServingModel> model_ ABSL_GUARDED_BY(mu_);
};

// Restores version `ref` ("17", "latest" or an alias) of `model` from `registry`. NotFound if
// there is no such version; DataLoss if its blob is corrupt.
absl::StatusOr<std::unique_ptr<const ServingModel>> LoadVersion(const registry::Registry& registry,
                                                                absl::string_view model,
                                                                absl::string_view ref);

// Where `--resume` continues: the newest version of `model` and the checkpoints of its run.
// NotFound if the model has no versions; FailedPrecondition, naming what differs, if it was made
// with another config than `config`, or if it has no checkpoint (an imported version).
absl::StatusOr<ResumePoint> FindResumePoint(const registry::Registry& registry,
                                            absl::string_view model, const core::FlatJson& config,
                                            CheckpointInfo* info);

}  // namespace sluice::engine
