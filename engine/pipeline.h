// engine/pipeline.h. The one path every event takes, whatever its source: score with both
// models, let the anomaly model learn at once, and when the label arrives update the metrics
// with the scores made at scoring time and let the fraud model learn.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/features.h"
#include "core/state_codec.h"
#include "learners/half_space_trees.h"
#include "learners/learner.h"
#include "learners/logistic_regression.h"
#include "metrics/river_roc_auc.h"
#include "metrics/roc_auc.h"

namespace sluice::engine {

// The four AUCs of one model, all fed the same (label, score) pairs in label order.
struct ModelMetrics {
  explicit ModelMetrics(int window) : rolling(window), river_rolling(window) {}
  // Everything but the cumulative AUC's pairs, which checkpoints carry as deltas.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);
  void Update(bool label, double score) {
    ++labels;
    auc.Update(label, score);
    rolling.Update(label, score);
    river.Update(label, score);
    river_rolling.Update(label, score);
  }
  int64_t labels = 0;
  metrics::RocAuc auc;                        // Exact, cumulative.
  metrics::RollingRocAuc rolling;             // Exact, last W labels.
  metrics::RiverRocAuc river;                 // River's ROCAUC (10 thresholds).
  metrics::RiverRollingRocAuc river_rolling;  // River's RollingROCAUC(W).
};

// Where a model's scores became NaN (it diverged).
struct NanScores {
  int64_t count = 0;           // Predictions with a NaN score.
  std::string first_event_id;  // The first of them.
  int64_t first_row = -1;
};

// Owns the anomaly pipeline (MinMaxScaler | HalfSpaceTrees) and the fraud pipeline
// (StandardScaler or MinMaxScaler | LogisticRegression), either of which may be off, and their
// metrics. Two stages: the unsupervised stage (ScoreAndLearnAnomaly: the anomaly model needs no
// label) and the supervised stage (ScoreFraud, ApplyLabel: the fraud model and all metrics).
// Each stage touches only its own state, so the two may run on two threads, one thread each,
// as long as every event passes both in the same order. Otherwise not thread-safe.
class Pipeline {
 public:
  enum class FraudScaler { kStandard, kMinMax };
  // continuous: serve and learn the same model (River's progressive validation). frozen: serve
  // an immutable copy, replaced by the learner's state at each Promote*().
  enum class Serving { kContinuous, kFrozen };
  struct Options {
    bool anomaly = true;                       // Run MinMaxScaler | HalfSpaceTrees.
    bool fraud = true;                         // Run scaler | LogisticRegression.
    learners::HalfSpaceTrees::Options hst;     // River's defaults.
    learners::LogisticRegression::Options lr;  // River's defaults.
    FraudScaler fraud_scaler = FraudScaler::kStandard;
    int metric_window = 1000;  // W of the rolling AUCs.
    Serving serving = Serving::kContinuous;
  };
  // Why an anomaly score is what it is (HalfSpaceTrees::ExplainOne): the largest feature
  // shares, largest first (ties: the earlier feature), and the share of no feature. The shares
  // of all features and `rest` sum to the score.
  struct Explanation {
    std::vector<std::pair<int, double>> top;  // (dense feature index, share of the score)
    double rest = 0;
  };
  // Scores of one event; NaN for a model that is off. `why`: the anomaly score's explanation
  // while a prediction is written and observed (--explain), else null; it lives as long as that
  // call only, so whatever keeps a Scores drops it (LabelJoiner).
  struct Scores {
    double anomaly;
    double fraud;
    const Explanation* why = nullptr;
  };

  // InvalidArgument if both models are off, an option is out of range or there are no features.
  static absl::StatusOr<std::unique_ptr<Pipeline>> Create(const Options& options,
                                                          std::vector<std::string> feature_names);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Unsupervised stage: the anomaly score of x, after which the anomaly model learns x. NaN if
  // the anomaly model is off.
  double ScoreAndLearnAnomaly(core::Features x);
  // The anomaly score of x by the serving model, without learning. NaN if the model is off.
  double ScoreAnomaly(core::Features x) const;
  // The explanation of ScoreAnomaly(x), and so of the score ScoreAndLearnAnomaly(x) would give
  // now, with its `top` largest shares (all of them if top >= the features); false (and *out
  // untouched) if the anomaly model is off. Thread-safe as ScoreAnomaly.
  bool ExplainAnomaly(core::Features x, int top, Explanation* out) const;
  // Supervised stage: P(fraud) for x. NaN if the fraud model is off.
  double ScoreFraud(core::Features x) const;
  // Both stages on one thread.
  Scores ScoreAndLearn(core::Features x) { return {ScoreAndLearnAnomaly(x), ScoreFraud(x)}; }
  // Supervised stage: the label of an event scored earlier as `scores`: metrics first, then
  // the fraud model learns x.
  void ApplyLabel(core::Features x, bool label, const Scores& scores);

  // Snapshots, per stage. Save*() return a learner's whole state; Promote*() make `state` the
  // serving model (frozen serving only; a no-op when continuous); Restore*() load `state` into
  // the learner (and the serving copy). An empty state stands for a model that is off.
  std::string SaveAnomaly() const;
  std::string SaveFraud() const;
  absl::Status PromoteAnomaly(absl::string_view state);
  absl::Status PromoteFraud(absl::string_view state);
  absl::Status RestoreAnomaly(absl::string_view state);
  absl::Status RestoreFraud(absl::string_view state);
  // Restores both learners from a registered version's models (PackModels): the one way a
  // version's models are loaded. DataLoss if `blob` is corrupt; FailedPrecondition if a model is
  // on in one and off in the other.
  absl::Status RestoreModels(absl::string_view blob);
  // Supervised stage: the metrics (cumulative AUCs as deltas since the last SaveMetrics, see
  // RocAuc::SaveDelta). LoadMetrics is called once per saved delta, oldest first; the windows
  // of the last call win.
  // `whole`: every pair instead (RocAuc::SaveAll), a checkpoint that restores alone.
  void SaveMetrics(core::StateWriter* w, bool whole = false);
  bool LoadMetrics(core::StateReader* r);

  const Options& options() const { return options_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const ModelMetrics& anomaly_metrics() const { return anomaly_metrics_; }
  const ModelMetrics& fraud_metrics() const { return fraud_metrics_; }
  learners::Learner* anomaly_model() { return anomaly_.get(); }
  learners::Learner* fraud_model() { return fraud_.get(); }

 private:
  Pipeline(const Options& options, std::vector<std::string> feature_names);

  Options options_;
  std::vector<std::string> feature_names_;
  absl::StatusOr<std::unique_ptr<learners::Learner>> MakeAnomaly() const;
  absl::StatusOr<std::unique_ptr<learners::Learner>> MakeFraud() const;

  std::unique_ptr<learners::Learner> anomaly_;
  std::unique_ptr<learners::Learner> fraud_;
  // Frozen serving: the models that score. Null when continuous (the learners score).
  std::unique_ptr<learners::Learner> anomaly_serving_;
  std::unique_ptr<learners::Learner> fraud_serving_;
  ModelMetrics anomaly_metrics_;
  ModelMetrics fraud_metrics_;
};

}  // namespace sluice::engine
