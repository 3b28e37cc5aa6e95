// engine/prediction_sink.h. The predictions CSV file: one line per scored event, doubles in
// shortest round-trip form, flushed to the OS at every snapshot so a resumed run continues it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/flat_json.h"
#include "engine/stream_runner.h"
#include "engine/text_file.h"

namespace sluice::engine {

// Which columns name the model that made each prediction (with a registry).
enum class VersionColumns {
  kNone,        // row,id,event_time,label,anomaly_score,fraud_probability
  kFrozen,      // ... ,model_version
  kContinuous,  // ... ,model_version,events_since_snapshot
};

// What a predictions file holds.
struct PredictionFormat {
  VersionColumns versions = VersionColumns::kNone;
  bool anomaly = true;  // Whether the anomaly model is on: if off, its column stays empty.
  bool fraud = true;    // Likewise the fraud model. A model that is on writes `nan` if it diverged.
  // Non-empty (the schema's feature names, dense order): predictions end with an "explanation"
  // of the anomaly score (Scores::why), ExplanationText's.
  std::vector<std::string> explain_features;
};

// "V14=0.2930412;V3=0.0123": the explanation's top features with a share above 0, largest first,
// shares in shortest round-trip form; empty without one (or in the first window, all 0).
std::string ExplanationText(const Pipeline::Explanation* why,
                            const std::vector<std::string>& features);

// The header line of a predictions file, without its line break (",explanation" last with
// `explain`).
std::string PredictionsHeader(VersionColumns columns, bool explain = false);
// The fields of the prediction line for `event`, unquoted, in the header's order (what a sink
// writes; audit compares them field by field).
std::vector<std::string> PredictionFields(const core::Event& event, const Pipeline::Scores& scores,
                                          const Served& served, const PredictionFormat& format);

// The same prediction as a flat JSON object (the scores topic; HTTP later), the CSV's columns by
// name: "row", "id", "event_time", "label" (when the event carries one), "anomaly_score" and
// "fraud_probability" (numbers, null for a model that is off or diverged), "model_version" and
// "events_since_snapshot" as the format says, and "explanation" (a string). Appended to `json`,
// which the caller closes (a sink may add fields of its own).
void AppendPredictionJson(const core::Event& event, const Pipeline::Scores& scores,
                          const Served& served, const PredictionFormat& format,
                          core::FlatJsonWriter& json);

// A drift as a flat JSON object (the alerts topic, the summary): "type": "drift", "signal",
// "index", "events", "labels", "id", "event_time", "mean", "window" (Drift's fields). Appended
// to `json`, which the caller closes.
void AppendDriftJson(const Drift& drift, core::FlatJsonWriter& json);
// A run's drifts for its summary: {"count": N, "found": [drift, ...]} (the first 1,000).
std::string DriftsJson(const RunResult& result);
// A model's metrics for a summary: {"model": name, "labels", "auc", "rolling_auc",
// "river_rocauc", "river_rolling_rocauc", "nan_predictions", "first_nan_event"}.
std::string ModelJson(const std::string& model, const ModelMetrics& m, const NanScores& nan);
// Each challenger as ModelJson, "shadows" first (the champion model it shadows); [] for none.
std::string ChallengersJson(const Challengers* challengers);
// A run's promotions: [{"challenger", "version", "rolling_auc", "champion_rolling_auc",
// "labels", "events"}, ...].
std::string PromotionsJson(const RunResult& result);

// Whether a prediction is an alert: its fraud probability over `threshold`, or, with the fraud
// model off, its anomaly score. NaN (a diverged model) never alerts.
inline bool IsAlert(const Pipeline::Scores& scores, const PredictionFormat& format,
                    double threshold) {
  return (format.fraud ? scores.fraud : scores.anomaly) > threshold;
}

// A CSV prediction sink. Close() writes what is buffered (and puts the file in place) and reports
// the first write error; a sink destroyed without Close() leaves no kOnCommit file behind.
class CsvPredictionSink : public PredictionSink {
 public:
  virtual absl::Status Close() = 0;
};

// Starts the file for `path` in `mode` (kOnCommit: it appears only when Close() succeeds) and
// writes the header. With `resume`, continues the file after `resume->bytes` instead, dropping
// what follows; FailedPrecondition, naming the file, if those bytes are not the header and
// exactly `resume->lines` whole lines with the recorded SHA-256 (the file was edited or replaced
// since the snapshot). Errors name the path.
absl::StatusOr<std::unique_ptr<CsvPredictionSink>> NewCsvPredictionSink(
    const std::string& path, const PredictionFormat& format,
    std::optional<PredictionSink::Position> resume = std::nullopt,
    BufferedFile::Mode mode = BufferedFile::Mode::kInPlace);

}  // namespace sluice::engine
