// tools/audit_command.cc. `sluice audit`: restores the versions a predictions log names and
// recomputes every prediction, bit for bit; or scores one event with one version.
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/pipeline.h"
#include "engine/replay.h"
#include "engine/snapshotter.h"
#include "registry/registry.h"
#include "tools/commands.h"
#include "tools/run_config.h"

namespace sluice::tools {
namespace {

// One line of a predictions log.
struct Recorded {
  int64_t row = 0;
  std::string anomaly;  // As written (shortest round trip), empty for a model that was off.
  std::string fraud;
  int64_t version = 0;
  std::optional<int64_t> since;  // events_since_snapshot (continuous serving).
};

// Splits one CSV line (our predictions log: only the id may be quoted).
std::vector<std::string> SplitCsv(absl::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

absl::StatusOr<std::vector<Recorded>> ReadPredictions(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<engine::ByteStream> stream, engine::OpenFileStream(path));
  std::string text;
  std::string chunk(1 << 20, '\0');
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const size_t n, stream->Read(chunk.data(), chunk.size()));
    if (n == 0) break;
    text.append(chunk.data(), n);
  }
  std::vector<Recorded> out;
  std::map<std::string, size_t> column;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const absl::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    const std::vector<std::string> fields = SplitCsv(line);
    if (line_number == 1) {
      for (size_t i = 0; i < fields.size(); ++i) column[fields[i]] = i;
      for (const char* needed : {"row", "anomaly_score", "fraud_probability", "model_version"}) {
        if (column.count(needed) == 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              path, ":1: no column ", needed,
              " (was the replay run with --registry? only then do predictions name versions)"));
        }
      }
      continue;
    }
    if (fields.size() != column.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_number, ": expected ", column.size(), " fields, found ", fields.size()));
    }
    Recorded r;
    r.anomaly = fields[column["anomaly_score"]];
    r.fraud = fields[column["fraud_probability"]];
    bool ok = absl::SimpleAtoi(fields[column["row"]], &r.row) &&
              absl::SimpleAtoi(fields[column["model_version"]], &r.version);
    if (column.count("events_since_snapshot") != 0) {
      int64_t since = 0;
      ok = ok && absl::SimpleAtoi(fields[column["events_since_snapshot"]], &since);
      r.since = since;
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": row or version is not an integer"));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Shown(double v) { return std::isnan(v) ? std::string() : core::FormatDouble(v); }

// Compares recomputed scores with the log, counting and describing mismatches.
class Verdict {
 public:
  void Check(const Recorded& r, double anomaly, double fraud, std::optional<int64_t> since) {
    ++checked_;
    std::string problem;
    if (Shown(anomaly) != r.anomaly) {
      problem = absl::StrCat("anomaly_score ", r.anomaly, " recomputed as ", Shown(anomaly));
    } else if (Shown(fraud) != r.fraud) {
      problem = absl::StrCat("fraud_probability ", r.fraud, " recomputed as ", Shown(fraud));
    } else if (since != r.since) {
      problem = absl::StrCat("events_since_snapshot ", r.since.value_or(-1), " recomputed as ",
                             since.value_or(-1));
    }
    if (problem.empty()) {
      ++reproduced_;
    } else if (++mismatches_ <= 10) {
      std::printf("  MISMATCH row %lld (version %lld): %s\n", static_cast<long long>(r.row),
                  static_cast<long long>(r.version), problem.c_str());
    }
  }
  int64_t checked() const { return checked_; }
  int64_t reproduced() const { return reproduced_; }

 private:
  int64_t checked_ = 0;
  int64_t reproduced_ = 0;
  int64_t mismatches_ = 0;
};

// Replays one continuous-serving segment and checks the predictions it makes.
class SegmentChecker final : public engine::ReplayObserver {
 public:
  SegmentChecker(const absl::flat_hash_map<int64_t, const Recorded*>& by_row, int64_t version,
                 Verdict& verdict)
      : by_row_(by_row), version_(version), verdict_(verdict) {}
  void OnPrediction(const core::Event& event, const engine::Pipeline::Scores& scores,
                    const engine::Served& served) override {
    const auto it = by_row_.find(event.row);
    if (it == by_row_.end() || it->second->version != version_) return;
    verdict_.Check(*it->second, scores.anomaly, scores.fraud, served.events_since_snapshot);
  }

 private:
  const absl::flat_hash_map<int64_t, const Recorded*>& by_row_;
  int64_t version_;
  Verdict& verdict_;
};

void PrintLineage(const registry::Version& v) {
  std::printf(
      "version %lld of \"%s\": %s, created %s (event time %s), code %s, parent %s\n",
      static_cast<long long>(v.version), v.model.c_str(), v.trigger.c_str(),
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(v.created_wall_ms),
                       absl::UTCTimeZone())
          .c_str(),
      v.created_event_time.has_value() ? core::FormatDouble(*v.created_event_time).c_str() : "none",
      v.code_version.c_str(), v.parent.has_value() ? absl::StrCat(*v.parent).c_str() : "none");
  std::printf("  lineage: %s\n  state: %lld bytes, sha256 %s\n", v.lineage_json.c_str(),
              static_cast<long long>(v.state_bytes), v.state_sha256.c_str());
}

absl::StatusOr<std::unique_ptr<engine::CsvReader>> OpenInput(const std::string& input,
                                                             const RunConfig& config) {
  engine::CsvReader::Options probe = config.csv;
  probe.time_column_required = false;
  SLUICE_ASSIGN_OR_RETURN(auto header, engine::CsvReader::Open(input, probe));
  SLUICE_ASSIGN_OR_RETURN(const engine::CsvReader::Options options,
                          CsvOptionsFor(config, header->columns()));
  return engine::CsvReader::Open(input, options);
}

absl::StatusOr<int> AuditLog(const std::string& registry_path, const std::string& model,
                             const std::string& predictions_path, const std::string& input) {
  SLUICE_ASSIGN_OR_RETURN(
      auto registry,
      registry::Registry::Open(registry_path, core::Clock::Real(), {.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(const std::vector<Recorded> log, ReadPredictions(predictions_path));
  if (log.empty()) return absl::InvalidArgumentError(predictions_path + ": no predictions");
  absl::flat_hash_map<int64_t, const Recorded*> by_row;
  std::vector<int64_t> versions;  // In order of first use.
  std::map<int64_t, int64_t> count;
  for (const Recorded& r : log) {
    by_row[r.row] = &r;
    if (count[r.version]++ == 0) versions.push_back(r.version);
  }
  const bool continuous = log.front().since.has_value();
  std::map<int64_t, registry::Version> restored;
  for (const int64_t v : versions) {
    SLUICE_ASSIGN_OR_RETURN(registry::Version version, registry->Get(model, v));
    PrintLineage(version);
    std::printf("  used by %lld predictions\n", static_cast<long long>(count[v]));
    restored.emplace(v, std::move(version));
  }
  SLUICE_ASSIGN_OR_RETURN(const RunConfig config,
                          ParseConfigJson(restored.begin()->second.config_json));
  Verdict verdict;
  engine::Pipeline::Options pipeline_options = config.pipeline;
  pipeline_options.serving = engine::Pipeline::Serving::kContinuous;
  if (continuous) {
    // Restore each version, then replay deterministically from its snapshot to the next one.
    for (const int64_t v : versions) {
      const registry::Version& version = restored.at(v);
      SLUICE_ASSIGN_OR_RETURN(auto reader, OpenInput(input, config));
      SLUICE_ASSIGN_OR_RETURN(auto pipeline,
                              engine::Pipeline::Create(pipeline_options, config.features));
      SLUICE_ASSIGN_OR_RETURN(const engine::CheckpointInfo info,
                              engine::ReadCheckpointInfo(version.checkpoint));
      engine::ResumePoint point{v, version.state, {version.checkpoint}};
      engine::ReplayOptions options;
      options.label_delay = config.label_delay;
      options.label_delay_seconds = config.label_delay_seconds;
      options.skip_bad_rows = config.skip_bad_rows;
      options.resume = &point;
      options.max_events = info.events + count[v];
      SegmentChecker checker(by_row, v, verdict);
      SLUICE_RETURN_IF_ERROR(
          engine::RunReplay(*reader, options, *pipeline, checker, core::Clock::Real()).status());
    }
  } else {
    // Frozen serving: each prediction came from an immutable version; score with it.
    SLUICE_ASSIGN_OR_RETURN(auto reader, OpenInput(input, config));
    SLUICE_ASSIGN_OR_RETURN(auto pipeline,
                            engine::Pipeline::Create(pipeline_options, config.features));
    int64_t loaded = -1;
    core::Event event;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(const engine::CsvReader::Result result, reader->Next(&event));
      if (result == engine::CsvReader::Result::kEndOfStream) break;
      if (result == engine::CsvReader::Result::kBadRow) continue;
      const auto it = by_row.find(event.row);
      if (it == by_row.end()) continue;
      const Recorded& r = *it->second;
      if (r.version != loaded) {
        std::string anomaly, fraud;
        SLUICE_RETURN_IF_ERROR(
            engine::UnpackModels(restored.at(r.version).state, &anomaly, &fraud));
        SLUICE_RETURN_IF_ERROR(pipeline->RestoreAnomaly(anomaly));
        SLUICE_RETURN_IF_ERROR(pipeline->RestoreFraud(fraud));
        loaded = r.version;
      }
      const double a = pipeline->anomaly_model() != nullptr
                           ? pipeline->anomaly_model()->ScoreOne(event.features)
                           : std::nan("");
      verdict.Check(r, a, pipeline->ScoreFraud(event.features), std::nullopt);
    }
  }
  const auto total = static_cast<int64_t>(log.size());
  std::printf("reproduced %lld of %lld predictions bit-for-bit\n",
              static_cast<long long>(verdict.reproduced()), static_cast<long long>(total));
  if (verdict.checked() != total) {
    std::printf("  %lld predictions name rows the input does not have\n",
                static_cast<long long>(total - verdict.checked()));
  }
  return verdict.reproduced() == total ? 0 : 1;
}

// Parses {"id": ..., "time": ..., "features": {"V1": 1.5, ...}} into dense features.
absl::StatusOr<std::vector<double>> ParseEvent(absl::string_view json,
                                               const std::vector<std::string>& features) {
  const size_t key = json.find("\"features\"");
  const size_t open = key == absl::string_view::npos ? key : json.find('{', key);
  const size_t close = open == absl::string_view::npos ? open : json.find('}', open);
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("--event: expected {\"features\": {\"NAME\": number, ...}}");
  }
  const std::optional<core::FlatJson> object =
      core::ParseFlatJson(json.substr(open, close - open + 1));
  if (!object.has_value()) return absl::InvalidArgumentError("--event: malformed features");
  std::vector<double> x(features.size(), core::kMissing);
  for (const auto& [name, value] : *object) {
    const auto it = std::find(features.begin(), features.end(), name);
    if (it == features.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--event: feature \"", name, "\" is not in the version's schema"));
    }
    const std::optional<double> v = core::ParseDouble(value);
    if (!v.has_value() || !std::isfinite(*v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--event: feature \"", name, "\": not a finite number: ", value));
    }
    x[static_cast<size_t>(it - features.begin())] = *v;
  }
  return x;
}

absl::StatusOr<int> AuditEvent(const std::string& registry_path, const std::string& model,
                               const std::string& ref, const std::string& event_json) {
  SLUICE_ASSIGN_OR_RETURN(
      auto registry,
      registry::Registry::Open(registry_path, core::Clock::Real(), {.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(const int64_t number, registry->Resolve(model, ref));
  SLUICE_ASSIGN_OR_RETURN(const registry::Version version, registry->Get(model, number));
  SLUICE_ASSIGN_OR_RETURN(const RunConfig config, ParseConfigJson(version.config_json));
  SLUICE_ASSIGN_OR_RETURN(const std::vector<double> x, ParseEvent(event_json, config.features));
  engine::Pipeline::Options options = config.pipeline;
  options.serving = engine::Pipeline::Serving::kContinuous;
  SLUICE_ASSIGN_OR_RETURN(auto pipeline, engine::Pipeline::Create(options, config.features));
  std::string anomaly, fraud;
  SLUICE_RETURN_IF_ERROR(engine::UnpackModels(version.state, &anomaly, &fraud));
  SLUICE_RETURN_IF_ERROR(pipeline->RestoreAnomaly(anomaly));
  SLUICE_RETURN_IF_ERROR(pipeline->RestoreFraud(fraud));
  const double a =
      pipeline->anomaly_model() != nullptr ? pipeline->anomaly_model()->ScoreOne(x) : std::nan("");
  std::printf(
      "{\"version\": %lld, \"anomaly_score\": %s, \"fraud_probability\": %s}\n",
      static_cast<long long>(number), std::isnan(a) ? "null" : core::FormatDouble(a).c_str(),
      pipeline->options().fraud ? core::FormatDouble(pipeline->ScoreFraud(x)).c_str() : "null");
  PrintLineage(version);
  return 0;
}

}  // namespace

int AuditCommand(int argc, char** argv) {
  cxxopts::Options spec("sluice audit",
                        "Reproduce predictions bit for bit from the registry.\n"
                        "  sluice audit --registry R --predictions P --input I\n"
                        "  sluice audit --registry R --version V --event JSON");
  spec.add_options()("registry", "Registry file", cxxopts::value<std::string>())(
      "model-name", "Model name", cxxopts::value<std::string>()->default_value("default"))(
      "predictions", "Predictions log written by sluice replay --registry",
      cxxopts::value<std::string>())("input", "The input the predictions were made on",
                                     cxxopts::value<std::string>())(
      "version", "Version number, alias or latest (with --event)", cxxopts::value<std::string>())(
      "event", "One event as JSON", cxxopts::value<std::string>())("h,help", "Show this help");
  std::string registry, model, predictions, input, version, event;
  try {
    const cxxopts::ParseResult flags = spec.parse(argc, argv);
    if (flags.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    const auto get = [&](const char* name) {
      return flags.count(name) != 0 ? flags[name].as<std::string>() : std::string();
    };
    registry = get("registry");
    model = flags["model-name"].as<std::string>();
    predictions = get("predictions");
    input = get("input");
    version = get("version");
    event = get("event");
    if (!flags.unmatched().empty()) {
      throw cxxopts::exceptions::exception("unexpected argument \"" + flags.unmatched()[0] + "\"");
    }
    const bool log_mode = !predictions.empty() || !input.empty();
    const bool event_mode = !version.empty() || !event.empty();
    if (registry.empty() || log_mode == event_mode ||
        (log_mode && (predictions.empty() || input.empty())) ||
        (event_mode && (version.empty() || event.empty()))) {
      throw cxxopts::exceptions::exception(
          "use --registry R with either --predictions P --input I or --version V --event JSON");
    }
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "sluice audit: %s\n", e.what());
    return 2;
  }
  const absl::StatusOr<int> code = !predictions.empty()
                                       ? AuditLog(registry, model, predictions, input)
                                       : AuditEvent(registry, model, version, event);
  if (!code.ok()) {
    std::fprintf(stderr, "sluice audit: %s\n", std::string(code.status().message()).c_str());
    return 1;
  }
  return *code;
}

}  // namespace sluice::tools
