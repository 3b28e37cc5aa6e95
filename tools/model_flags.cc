// tools/model_flags.cc
#include "tools/model_flags.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cxxopts.hpp"

namespace sluice::tools {

void AddModelFlags(cxxopts::Options& spec, const char* serving) {
  // clang-format off
  spec.add_options("Models")
    ("model", "both | hst | logreg", cxxopts::value<std::string>()->default_value("both"))
    ("hst-trees", "HalfSpaceTrees: number of trees", cxxopts::value<std::string>()->default_value("10"))
    ("hst-height", "HalfSpaceTrees: tree height", cxxopts::value<std::string>()->default_value("8"))
    ("hst-window", "HalfSpaceTrees: window size", cxxopts::value<std::string>()->default_value("250"))
    ("seed", "HalfSpaceTrees: seed", cxxopts::value<std::string>()->default_value("42"))
    ("lr-scaler", "Scaler before LogisticRegression: standard | minmax", cxxopts::value<std::string>()->default_value("standard"))
    ("lr-learning-rate", "LogisticRegression: SGD learning rate", cxxopts::value<std::string>()->default_value("0.01"))
    ("lr-intercept-lr", "LogisticRegression: intercept learning rate", cxxopts::value<std::string>()->default_value("0.01"))
    ("lr-l2", "LogisticRegression: L2 penalty", cxxopts::value<std::string>()->default_value("0"))
    ("lr-clip-gradient", "LogisticRegression: gradient clip", cxxopts::value<std::string>()->default_value("1e12"))
    ("lr-positive-weight", "LogisticRegression: loss weight of label 1", cxxopts::value<std::string>()->default_value("1"))
    ("lr-negative-weight", "LogisticRegression: loss weight of label 0", cxxopts::value<std::string>()->default_value("1"))
    ("explain", "Explain each anomaly score by its K largest feature shares (predictions' explanation column, alerts, report; 0: off)", cxxopts::value<std::string>()->default_value("0"))
    ("drift", "ADWIN drift detection on the anomaly scores and on the fraud model's error |label - probability|: on | off", cxxopts::value<std::string>()->default_value("on"))
    ("drift-delta", "ADWIN's significance delta (River's default; lower: fewer alarms)", cxxopts::value<std::string>()->default_value("0.002"))
    ("snapshot-on-drift", "Register a version (trigger drift) 4,096 events after each drift")
    ("challenger", "A model that scores and learns every event in shadow, with its own AUCs (repeatable): hst:trees=25,height=15,window=250,seed=7 or logreg:lr=0.05,l2=0.001,scaler=minmax", cxxopts::value<std::vector<std::string>>())
    ("auto-promote", "Register a challenger whose rolling AUC beats its champion's by this much, and point alias champion at it", cxxopts::value<std::string>())
    ("promote-min-labels", "... over at least this many labels", cxxopts::value<std::string>()->default_value("1000"))
    ("metric-window", "Window of the rolling AUCs", cxxopts::value<std::string>()->default_value("1000"))
    ("serving", "continuous (serve the learning model) | frozen (serve the last registered version)", cxxopts::value<std::string>()->default_value(serving))
    ("label-ttl", "Seconds of event time a scored event waits for its label", cxxopts::value<std::string>())
    ("expired-labels", "What an expired event means: drop (forget it) | negative (label 0)", cxxopts::value<std::string>()->default_value("drop"))
    ("max-pending", "Scored events kept waiting for labels; beyond, the oldest is evicted", cxxopts::value<std::string>()->default_value("1000000"));
  // clang-format on
}

void ParseModelFlags(const FlagReader& f, engine::Pipeline::Options* o) {
  const std::string model = f.OneOf("model", {"both", "hst", "logreg"});
  o->anomaly = model != "logreg";
  o->fraud = model != "hst";
  o->hst.num_trees = static_cast<int>(f.Int("hst-trees", 1, 10000));
  o->hst.height = static_cast<int>(f.Int("hst-height", 1, 30));
  o->hst.window_size = static_cast<int>(f.Int("hst-window", 1, 1 << 30));
  o->hst.seed = f.Uint("seed");
  o->fraud_scaler = f.OneOf("lr-scaler", {"standard", "minmax"}) == "standard"
                        ? engine::Pipeline::FraudScaler::kStandard
                        : engine::Pipeline::FraudScaler::kMinMax;
  o->lr.learning_rate = f.Double("lr-learning-rate");
  o->lr.intercept_lr = f.Double("lr-intercept-lr");
  o->lr.l2 = f.Double("lr-l2", 0);
  o->lr.clip_gradient = f.Double("lr-clip-gradient", 0);
  o->lr.positive_weight = f.Double("lr-positive-weight", 0);
  o->lr.negative_weight = f.Double("lr-negative-weight", 0);
  o->metric_window = static_cast<int>(f.Int("metric-window", 1, std::numeric_limits<int>::max()));
  o->serving = f.OneOf("serving", {"continuous", "frozen"}) == "frozen"
                   ? engine::Pipeline::Serving::kFrozen
                   : engine::Pipeline::Serving::kContinuous;
}

int ParseExplainFlag(const FlagReader& f, const engine::Pipeline::Options& o) {
  const auto k = static_cast<int>(f.Int("explain", 0, 100000));
  if (k > 0 && !o.anomaly) {
    throw FlagError("--explain explains the anomaly model's scores: not with --model logreg");
  }
  return k;
}

ChallengerFlags ParseChallengerFlags(const FlagReader& f, const std::string& registry) {
  ChallengerFlags c;
  for (const std::string& text : f.All("challenger")) {
    absl::StatusOr<engine::ChallengerSpec> spec = engine::ParseChallengerSpec(text);
    if (!spec.ok()) throw FlagError(absl::StrCat("--challenger: ", spec.status().message()));
    c.specs.push_back(*std::move(spec));
  }
  if (f.Has("auto-promote")) {
    if (c.specs.empty() || registry.empty()) {
      throw FlagError(
          "--auto-promote registers a challenger that wins: give --challenger and --registry");
    }
    c.promote = engine::RunOptions::Promotion{f.Double("auto-promote", 0),
                                              f.Int("promote-min-labels", 1), nullptr};
  }
  return c;
}

DriftFlags ParseDriftFlags(const FlagReader& f, const std::string& registry) {
  DriftFlags d;
  if (f.OneOf("drift", {"on", "off"}) == "on") {
    metrics::Adwin::Options adwin;
    adwin.delta = f.Double("drift-delta", 0);
    if (!(adwin.delta > 0 && adwin.delta < 1)) throw FlagError("--drift-delta must be in (0, 1)");
    d.adwin = adwin;
  }
  d.snapshot = f.Has("snapshot-on-drift");
  if (d.snapshot && registry.empty()) {
    throw FlagError("--snapshot-on-drift registers versions: give --registry");
  }
  if (d.snapshot && !d.adwin.has_value()) throw FlagError("--snapshot-on-drift needs --drift on");
  return d;
}

void ParseJoinFlags(const FlagReader& f, engine::LabelJoiner::Options* join) {
  if (f.Has("label-ttl")) join->ttl_seconds = f.Double("label-ttl", 0);
  join->expired = f.OneOf("expired-labels", {"drop", "negative"}) == "negative"
                      ? engine::LabelJoiner::Expired::kNegative
                      : engine::LabelJoiner::Expired::kDrop;
  if (join->expired == engine::LabelJoiner::Expired::kNegative && !f.Has("label-ttl")) {
    throw FlagError("--expired-labels negative needs --label-ttl");
  }
  join->max_pending = f.Int("max-pending", 1);
}

engine::kafka::Settings ParseKafkaSettings(const FlagReader& f) {
  engine::kafka::Settings settings;
  for (const std::string& setting : f.All("X")) {
    auto kv = engine::kafka::ParseSetting(setting);
    if (!kv.ok()) throw FlagError(std::string(kv.status().message()));
    settings.push_back(*std::move(kv));
  }
  return settings;
}

void AddCsvFlags(cxxopts::Options& spec) {
  // clang-format off
  spec.add_options("Input")
    ("label-column", "Label column (0/1); empty for none", cxxopts::value<std::string>()->default_value("Class"))
    ("time-column", "Event-time column (seconds)", cxxopts::value<std::string>()->default_value("Time"))
    ("id-column", "Id column (default: the row number)", cxxopts::value<std::string>()->default_value(""))
    ("exclude", "Columns that are not features, comma separated", cxxopts::value<std::string>()->default_value(""));
  // clang-format on
}

void ParseCsvFlags(const FlagReader& f, engine::CsvReader::Options* csv) {
  csv->label_column = f.Str("label-column");
  csv->time_column = f.Str("time-column");
  csv->time_column_required = f.Has("time-column");
  csv->id_column = f.Str("id-column");
  for (absl::string_view column : absl::StrSplit(f.Str("exclude"), ',', absl::SkipEmpty())) {
    csv->exclude.emplace_back(column);
  }
}

void AddRegistryFlags(cxxopts::Options& spec) {
  // clang-format off
  spec.add_options("Registry")
    ("registry", "Snapshot model versions into this SQLite registry", cxxopts::value<std::string>()->default_value(""))
    ("model-name", "Model name in the registry", cxxopts::value<std::string>()->default_value("default"))
    ("snapshot-every-events", "Snapshot after every N events", cxxopts::value<std::string>()->default_value("0"))
    ("snapshot-every-seconds", "Snapshot every S seconds of event time", cxxopts::value<std::string>()->default_value("0"))
    ("snapshot-every-wall", "Snapshot every S seconds of wall time", cxxopts::value<std::string>()->default_value("0"));
  // clang-format on
}

RegistryFlags ParseRegistryFlags(const FlagReader& f, engine::Pipeline::Serving serving) {
  RegistryFlags r;
  r.path = f.Str("registry");
  r.model_name = f.NonEmpty("model-name");
  r.schedule.every_events = f.Int("snapshot-every-events", 0);
  r.schedule.every_event_seconds = f.Double("snapshot-every-seconds", 0);
  r.schedule.every_wall_seconds = f.Double("snapshot-every-wall", 0);
  const bool snapshots = r.schedule.every_events > 0 || r.schedule.every_event_seconds > 0 ||
                         r.schedule.every_wall_seconds > 0;
  if (r.path.empty() && (snapshots || serving == engine::Pipeline::Serving::kFrozen)) {
    throw FlagError("--snapshot-every-* and --serving frozen need --registry FILE");
  }
  return r;
}

}  // namespace sluice::tools
