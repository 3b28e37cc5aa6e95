// engine/run_config.cc
#include "engine/run_config.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/flat_json.h"
#include "core/format.h"

namespace sluice::engine {
namespace {

// A JSON string value's text; a value that is not a string is returned as it is (and then fails
// the checks that read it).
std::string Unquoted(const std::string& json) { return core::JsonUnquote(json).value_or(json); }

// Feature names are joined with NUL, which no header name may contain (CsvReader refuses it), so
// any other byte, commas included, survives the round trip.
constexpr char kNameSeparator = '\0';

// Bumped when a key's meaning changes (2: features joined by NUL, labels and joins recorded).
constexpr int kConfigFormat = 2;

}  // namespace

core::FlatJson ConfigJson(const RunConfig& c) {
  const auto& o = c.pipeline;
  const auto num = [](double v) { return core::FormatDouble(v); };
  return {
      {"config_format", absl::StrCat(kConfigFormat)},
      {"features", core::JsonQuote(absl::StrJoin(c.features, std::string(1, kNameSeparator)))},
      {"label_column", core::JsonQuote(c.csv.label_column)},
      {"time_column", core::JsonQuote(c.csv.time_column)},
      {"id_column", core::JsonQuote(c.csv.id_column)},
      {"anomaly_model", o.anomaly ? "true" : "false"},
      {"fraud_model", o.fraud ? "true" : "false"},
      {"hst_trees", absl::StrCat(o.hst.num_trees)},
      {"hst_height", absl::StrCat(o.hst.height)},
      {"hst_window", absl::StrCat(o.hst.window_size)},
      {"hst_seed", absl::StrCat(o.hst.seed)},
      {"lr_scaler",
       core::JsonQuote(o.fraud_scaler == Pipeline::FraudScaler::kStandard ? "standard" : "minmax")},
      {"lr_learning_rate", num(o.lr.learning_rate)},
      {"lr_intercept_lr", num(o.lr.intercept_lr)},
      {"lr_l2", num(o.lr.l2)},
      {"lr_clip_gradient", num(o.lr.clip_gradient)},
      {"lr_positive_weight", num(o.lr.positive_weight)},
      {"lr_negative_weight", num(o.lr.negative_weight)},
      {"label_delay", absl::StrCat(c.label_delay)},
      {"label_delay_seconds",
       c.label_delay_seconds.has_value() ? num(*c.label_delay_seconds) : "null"},
      {"metric_window", absl::StrCat(o.metric_window)},
      {"serving",
       core::JsonQuote(o.serving == Pipeline::Serving::kFrozen ? "frozen" : "continuous")},
      {"on_bad_row", core::JsonQuote(c.skip_bad_rows ? "skip" : "fail")},
      {"labels_file", core::JsonQuote(c.labels_file)},
      {"label_ttl_seconds", c.join.ttl_seconds.has_value() ? num(*c.join.ttl_seconds) : "null"},
      {"expired_labels",
       core::JsonQuote(c.join.expired == LabelJoiner::Expired::kNegative ? "negative" : "drop")},
      {"max_pending", absl::StrCat(c.join.max_pending)},
  };
}

absl::StatusOr<RunConfig> ParseConfigJson(absl::string_view json) {
  const std::optional<core::FlatJson> object = core::ParseFlatJson(json);
  if (!object.has_value()) return absl::InvalidArgumentError("config: not a flat JSON object");
  RunConfig c;
  const auto format = std::find_if(object->begin(), object->end(),
                                   [](const auto& kv) { return kv.first == "config_format"; });
  if (format == object->end() || format->second != absl::StrCat(kConfigFormat)) {
    return absl::FailedPreconditionError(
        absl::StrCat("config format ", format == object->end() ? "1" : format->second,
                     " was written by another sluice; this one reads format ", kConfigFormat));
  }
  std::vector<std::string> missing;
  const auto get = [&](const char* key) -> std::string {
    for (const auto& [k, v] : *object) {
      if (k == key) return v;
    }
    missing.push_back(key);
    return "0";
  };
  bool ok = true;
  const auto number = [&](const char* key, auto* out) {
    const std::string v = get(key);
    if constexpr (std::is_same_v<std::remove_pointer_t<decltype(out)>, double>) {
      const std::optional<double> d = core::ParseDouble(v);
      ok = ok && d.has_value();
      if (d.has_value()) *out = *d;
    } else {
      ok = ok && absl::SimpleAtoi(v, out);
    }
  };
  const auto optional_seconds = [&](const char* key, std::optional<double>* out) {
    if (get(key) == "null") return;
    number(key, &out->emplace());
  };
  c.features = absl::StrSplit(Unquoted(get("features")), kNameSeparator, absl::SkipEmpty());
  c.csv.label_column = Unquoted(get("label_column"));
  c.csv.time_column = Unquoted(get("time_column"));
  c.csv.id_column = Unquoted(get("id_column"));
  c.pipeline.anomaly = get("anomaly_model") == "true";
  c.pipeline.fraud = get("fraud_model") == "true";
  number("hst_trees", &c.pipeline.hst.num_trees);
  number("hst_height", &c.pipeline.hst.height);
  number("hst_window", &c.pipeline.hst.window_size);
  number("hst_seed", &c.pipeline.hst.seed);
  c.pipeline.fraud_scaler = Unquoted(get("lr_scaler")) == "minmax"
                                ? Pipeline::FraudScaler::kMinMax
                                : Pipeline::FraudScaler::kStandard;
  number("lr_learning_rate", &c.pipeline.lr.learning_rate);
  number("lr_intercept_lr", &c.pipeline.lr.intercept_lr);
  number("lr_l2", &c.pipeline.lr.l2);
  number("lr_clip_gradient", &c.pipeline.lr.clip_gradient);
  number("lr_positive_weight", &c.pipeline.lr.positive_weight);
  number("lr_negative_weight", &c.pipeline.lr.negative_weight);
  number("label_delay", &c.label_delay);
  optional_seconds("label_delay_seconds", &c.label_delay_seconds);
  number("metric_window", &c.pipeline.metric_window);
  c.pipeline.serving = Unquoted(get("serving")) == "frozen" ? Pipeline::Serving::kFrozen
                                                            : Pipeline::Serving::kContinuous;
  c.skip_bad_rows = Unquoted(get("on_bad_row")) == "skip";
  c.labels_file = Unquoted(get("labels_file"));
  optional_seconds("label_ttl_seconds", &c.join.ttl_seconds);
  c.join.expired = Unquoted(get("expired_labels")) == "negative" ? LabelJoiner::Expired::kNegative
                                                                 : LabelJoiner::Expired::kDrop;
  number("max_pending", &c.join.max_pending);
  if (!missing.empty() || !ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: missing or malformed keys (", absl::StrJoin(missing, ", "), ")"));
  }
  return c;
}

RunOptions RunOptionsFor(const RunConfig& config) {
  RunOptions options;
  options.label_delay = config.label_delay;
  options.label_delay_seconds = config.label_delay_seconds;
  options.join = config.join;
  options.skip_bad_records = config.skip_bad_rows;
  return options;
}

absl::StatusOr<CsvReader::Options> CsvOptionsFor(const RunConfig& config,
                                                 const std::vector<std::string>& header) {
  CsvReader::Options options = config.csv;
  options.time_column_required = false;
  std::vector<std::string> absent;
  for (const std::string& feature : config.features) {
    if (std::find(header.begin(), header.end(), feature) == header.end()) {
      absent.push_back(feature);
    }
  }
  if (!absent.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the input lacks the version's features ", absl::StrJoin(absent, ",")));
  }
  for (const std::string& column : header) {
    const bool feature =
        std::find(config.features.begin(), config.features.end(), column) != config.features.end();
    if (!feature && column != options.label_column && column != options.id_column) {
      options.exclude.push_back(column);
    }
  }
  return options;
}

}  // namespace sluice::engine
