// tools/audit_command.cc. `sluice audit`: restores the versions a predictions log names and
// recomputes every prediction, bit for bit, column by column; or scores one event with one
// version.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/event_json.h"
#include "engine/labels_file.h"
#include "engine/prediction_sink.h"
#include "engine/run_config.h"
#include "engine/serving.h"
#include "engine/source.h"
#include "engine/stream_runner.h"
#include "registry/registry.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace sluice::tools {
namespace {

// One line of a predictions log, its fields as written.
struct Recorded {
  int64_t line = 0;
  int64_t row = 0;
  int64_t version = 0;
  std::vector<std::string> fields;
};

struct PredictionsLog {
  std::vector<std::string> columns;
  engine::VersionColumns version_columns = engine::VersionColumns::kFrozen;
  std::vector<Recorded> lines;                  // In file order, without repeated rows.
  absl::flat_hash_map<int64_t, size_t> by_row;  // Row -> index in lines.
  std::vector<std::string> repeated;            // Messages about lines that repeat a row.
};

absl::StatusOr<engine::VersionColumns> VersionColumnsOf(const std::string& path,
                                                        const std::vector<std::string>& header) {
  for (const engine::VersionColumns v :
       {engine::VersionColumns::kFrozen, engine::VersionColumns::kContinuous}) {
    if (absl::StrJoin(header, ",") == engine::PredictionsHeader(v)) return v;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":1: not a predictions log that names model versions (expected \"",
                   engine::PredictionsHeader(engine::VersionColumns::kFrozen), "\" or \"",
                   engine::PredictionsHeader(engine::VersionColumns::kContinuous),
                   "\"; was the replay run with --registry?)"));
}

// Reads a predictions log with the CSV reader (its fields as text).
absl::StatusOr<PredictionsLog> ReadPredictions(const std::string& path) {
  engine::CsvReader::Options options;
  options.label_column.clear();
  options.time_column.clear();
  options.features_required = false;
  SLUICE_ASSIGN_OR_RETURN(auto reader, engine::CsvReader::Open(path, options));
  PredictionsLog log;
  log.columns = reader->columns();
  SLUICE_ASSIGN_OR_RETURN(log.version_columns, VersionColumnsOf(path, log.columns));
  std::vector<absl::string_view> fields;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const engine::CsvReader::Result result, reader->NextFields(&fields));
    if (result == engine::CsvReader::Result::kEndOfStream) break;
    if (result == engine::CsvReader::Result::kBadRow) {
      return absl::InvalidArgumentError(reader->bad_row_message());
    }
    Recorded r;
    r.line = reader->line_number();
    if (!absl::SimpleAtoi(fields[0], &r.row) || !absl::SimpleAtoi(fields[6], &r.version)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", r.line, ": row and model_version must be integers"));
    }
    for (const absl::string_view field : fields) r.fields.emplace_back(field);
    const auto [it, inserted] = log.by_row.emplace(r.row, log.lines.size());
    if (!inserted) {
      log.repeated.push_back(absl::StrCat("line ", r.line, " repeats row ", r.row, " of line ",
                                          log.lines[it->second].line));
      continue;
    }
    log.lines.push_back(std::move(r));
  }
  if (log.lines.empty()) return absl::InvalidArgumentError(path + ": no predictions");
  return log;
}

// Compares recomputed predictions with the log, column by column, and tells what differs.
class Verdict {
 public:
  Verdict(const PredictionsLog& log, const engine::PredictionFormat& format)
      : log_(log), format_(format), seen_(log.lines.size(), false) {
    const auto [lo, hi] =
        std::minmax_element(log.lines.begin(), log.lines.end(),
                            [](const Recorded& a, const Recorded& b) { return a.row < b.row; });
    first_row_ = lo->row;
    last_row_ = hi->row;
    for (const std::string& message : log.repeated) Problem(absl::StrCat("REPEATED ", message));
  }

  // The log's line for `row`, or null.
  const Recorded* Find(int64_t row) const {
    const auto it = log_.by_row.find(row);
    return it == log_.by_row.end() ? nullptr : &log_.lines[it->second];
  }

  // The audit scored `event` as `scores` with `served`.
  void Check(const core::Event& event, const engine::Pipeline::Scores& scores,
             const engine::Served& served) {
    const auto it = log_.by_row.find(event.row);
    if (it == log_.by_row.end()) {
      if (event.row > first_row_ && event.row < last_row_) {
        Problem(absl::StrCat("MISSING row ", event.row, " (id ", event.id,
                             ") was scored but has no line in the predictions"));
      }
      return;
    }
    seen_[it->second] = true;
    const Recorded& r = log_.lines[it->second];
    const std::vector<std::string> fields =
        engine::PredictionFields(event, scores, served, format_);
    std::string differences;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i] == r.fields[i]) continue;
      absl::StrAppend(&differences, differences.empty() ? "" : "; ", log_.columns[i], " ",
                      r.fields[i].empty() ? "(empty)" : r.fields[i], " recomputed as ",
                      fields[i].empty() ? "(empty)" : fields[i]);
    }
    if (differences.empty()) {
      ++reproduced_;
    } else {
      Problem(absl::StrCat("MISMATCH row ", r.row, " (line ", r.line, ", version ", r.version,
                           "): ", differences));
    }
  }

  // Reports the logged rows the audit never met; returns the exit code.
  int Finish() {
    for (size_t i = 0; i < seen_.size(); ++i) {
      if (!seen_[i]) {
        Problem(absl::StrCat("UNKNOWN row ", log_.lines[i].row, " (line ", log_.lines[i].line,
                             ") is not an event of the input"));
      }
    }
    if (problems_ > kShown) std::printf("  ... and %lld more\n", problems_ - kShown);
    const auto total = static_cast<int64_t>(log_.lines.size());
    std::printf("reproduced %lld of %lld predictions bit-for-bit\n",
                static_cast<long long>(reproduced_), static_cast<long long>(total));
    return problems_ == 0 && reproduced_ == total ? 0 : 1;
  }

 private:
  static constexpr long long kShown = 20;
  void Problem(const std::string& message) {
    if (++problems_ <= kShown) std::printf("  %s\n", message.c_str());
  }

  const PredictionsLog& log_;
  const engine::PredictionFormat format_;
  std::vector<bool> seen_;
  int64_t first_row_ = 0;
  int64_t last_row_ = 0;
  int64_t reproduced_ = 0;
  long long problems_ = 0;
};

// Replays one continuous-serving segment and checks the predictions it makes.
class SegmentChecker final : public engine::RunObserver {
 public:
  explicit SegmentChecker(Verdict& verdict) : verdict_(verdict) {}
  void OnPrediction(const core::Event& event, const engine::Pipeline::Scores& scores,
                    const engine::Served& served) override {
    verdict_.Check(event, scores, served);
  }

 private:
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

// The input as the version's config read it, stopping before row `end_row`.
absl::StatusOr<std::unique_ptr<engine::Source>> OpenInput(const std::string& input,
                                                          const engine::RunConfig& config,
                                                          int64_t end_row) {
  engine::CsvReader::Options probe = config.csv;
  probe.time_column_required = false;
  SLUICE_ASSIGN_OR_RETURN(auto header, engine::CsvReader::Open(input, probe));
  SLUICE_ASSIGN_OR_RETURN(const engine::CsvReader::Options options,
                          engine::CsvOptionsFor(config, header->columns()));
  SLUICE_ASSIGN_OR_RETURN(auto reader, engine::CsvReader::Open(input, options));
  return engine::NewCsvSource(std::move(reader), end_row);
}

// Frozen serving: each prediction came from an immutable version; score with it.
absl::Status AuditFrozen(const std::map<int64_t, registry::Version>& versions,
                         const engine::RunConfig& config, const std::string& input, int64_t end_row,
                         Verdict& verdict) {
  SLUICE_ASSIGN_OR_RETURN(auto source, OpenInput(input, config, end_row));
  std::map<int64_t, std::unique_ptr<const engine::ServingModel>> models;
  for (const auto& [number, version] : versions) {
    SLUICE_ASSIGN_OR_RETURN(models[number], engine::ServingModel::Create(version));
  }
  core::Event event;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const engine::ReadResult result,
                            source->Read(absl::InfiniteDuration(), &event));
    if (result == engine::ReadResult::kEndOfStream) return absl::OkStatus();
    if (result != engine::ReadResult::kEvent) continue;
    const Recorded* r = verdict.Find(event.row);
    if (r == nullptr) {
      verdict.Check(event, {}, {});  // Not logged: only whether it should have been.
      continue;
    }
    verdict.Check(event, models.at(r->version)->Score(event.features), {r->version, 0});
  }
}

// Continuous serving: restore each version's checkpoint and replay deterministically from it
// to where the next version takes over.
absl::Status AuditContinuous(const std::vector<int64_t>& order,
                             const std::map<int64_t, registry::Version>& versions,
                             const std::map<int64_t, int64_t>& first_row,
                             const engine::RunConfig& config, const std::string& input,
                             int64_t end_row, Verdict& verdict) {
  std::vector<engine::LabelRecord> labels;
  if (!config.labels_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(labels, engine::ReadLabelsFile(config.labels_file));
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const registry::Version& version = versions.at(order[i]);
    const int64_t stop = i + 1 < order.size() ? first_row.at(order[i + 1]) : end_row;
    SLUICE_ASSIGN_OR_RETURN(auto source, OpenInput(input, config, stop));
    SLUICE_ASSIGN_OR_RETURN(auto pipeline,
                            engine::Pipeline::Create(config.pipeline, config.features));
    const engine::ResumePoint point{version.version, version.state, {version.checkpoint}};
    engine::RunOptions options = engine::RunOptionsFor(config);
    const auto label_source = engine::NewLabelVectorSource(labels);
    if (!config.labels_file.empty()) options.labels = label_source.get();
    options.resume = &point;
    SegmentChecker checker(verdict);
    SLUICE_RETURN_IF_ERROR(
        engine::RunStream(*source, *pipeline, nullptr, checker, options, core::Clock::Real())
            .status());
  }
  return absl::OkStatus();
}

absl::Status NeedRegularFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, ": not found"));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": audit reads the input once per version, so it must be a regular file (not a "
        "pipe or a device); save it to a file first"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> AuditLog(const std::string& registry_path, const std::string& model,
                             const std::string& predictions_path, const std::string& input) {
  SLUICE_RETURN_IF_ERROR(NeedRegularFile(input));
  SLUICE_ASSIGN_OR_RETURN(
      auto registry,
      registry::Registry::Open(registry_path, core::Clock::Real(), {.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(const PredictionsLog log, ReadPredictions(predictions_path));
  std::vector<int64_t> order;  // Versions in order of first use.
  std::map<int64_t, int64_t> count, first_row;
  int64_t last_row = 0;
  for (const Recorded& r : log.lines) {
    if (count[r.version]++ == 0) {
      order.push_back(r.version);
      first_row[r.version] = r.row;
    }
    last_row = std::max(last_row, r.row);
  }
  std::map<int64_t, registry::Version> versions;
  for (const int64_t v : order) {
    SLUICE_ASSIGN_OR_RETURN(registry::Version version, registry->Get(model, v));
    PrintLineage(version);
    std::printf("  used by %lld prediction%s\n", static_cast<long long>(count[v]),
                count[v] == 1 ? "" : "s");
    versions.emplace(v, std::move(version));
  }
  SLUICE_ASSIGN_OR_RETURN(const engine::RunConfig config,
                          engine::ParseConfigJson(versions.begin()->second.config_json));
  Verdict verdict(log, {log.version_columns, config.pipeline.anomaly, config.pipeline.fraud, {}});
  if (log.version_columns == engine::VersionColumns::kContinuous) {
    SLUICE_RETURN_IF_ERROR(
        AuditContinuous(order, versions, first_row, config, input, last_row + 1, verdict));
  } else {
    SLUICE_RETURN_IF_ERROR(AuditFrozen(versions, config, input, last_row + 1, verdict));
  }
  return verdict.Finish();
}

// The full attribution of `scores.anomaly` by `serving` (HalfSpaceTrees::ExplainOne): every
// feature's share, largest first, and the share of no feature, as JSON fields and as a table.
absl::Status PrintExplanation(const engine::ServingModel& serving, const core::Event& event,
                              double score) {
  engine::Pipeline::Explanation why;
  const int features = static_cast<int>(serving.features().size());
  if (!serving.Explain(event.features, features, &why)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--explain: version ", serving.version(), " has no anomaly model to explain"));
  }
  std::string table;
  double sum = why.rest;
  for (const auto& [f, share] : why.top) {
    absl::StrAppendFormat(&table, "  %-24s %-24s %6.2f %%\n", serving.features()[f],
                          core::FormatDouble(share), score > 0 ? 100 * share / score : 0.0);
    sum += share;
  }
  absl::StrAppendFormat(&table, "  %-24s %-24s %6.2f %%\n", "(no feature)",
                        core::FormatDouble(why.rest), score > 0 ? 100 * why.rest / score : 0.0);
  std::printf("anomaly score %s = the sum of these shares (%s):\n%s",
              core::FormatDouble(score).c_str(), core::FormatDouble(sum).c_str(), table.c_str());
  return absl::OkStatus();
}

absl::StatusOr<int> AuditEvent(const std::string& registry_path, const std::string& model,
                               const std::string& ref, const std::string& event_json,
                               bool explain) {
  SLUICE_ASSIGN_OR_RETURN(
      auto registry,
      registry::Registry::Open(registry_path, core::Clock::Real(), {.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(const int64_t number, registry->Resolve(model, ref));
  SLUICE_ASSIGN_OR_RETURN(const registry::Version version, registry->Get(model, number));
  SLUICE_ASSIGN_OR_RETURN(auto serving, engine::ServingModel::Create(version));
  core::Event event;
  if (absl::Status s = engine::ParseEventJson(event_json, serving->features(), &event); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--event: ", s.message()));
  }
  const engine::Pipeline::Scores scores = serving->Score(event.features);
  const auto json = [](double v) { return std::isnan(v) ? "null" : core::FormatDouble(v); };
  std::printf("{\"version\": %lld, \"anomaly_score\": %s, \"fraud_probability\": %s}\n",
              static_cast<long long>(number), json(scores.anomaly).c_str(),
              json(scores.fraud).c_str());
  if (explain) SLUICE_RETURN_IF_ERROR(PrintExplanation(*serving, event, scores.anomaly));
  PrintLineage(version);
  return 0;
}

}  // namespace

int AuditCommand(int argc, char** argv) {
  cxxopts::Options spec("sluice audit",
                        "Reproduce predictions bit for bit from the registry.\n"
                        "  sluice audit --registry R --predictions P --input I\n"
                        "  sluice audit --registry R --version V --event JSON");
  // clang-format off
  spec.add_options()
    ("registry", "Registry file", cxxopts::value<std::string>()->default_value(""))
    ("model-name", "Model name", cxxopts::value<std::string>()->default_value("default"))
    ("predictions", "Predictions log written by sluice replay --registry", cxxopts::value<std::string>()->default_value(""))
    ("input", "The input the predictions were made on (a regular file)", cxxopts::value<std::string>()->default_value(""))
    ("version", "Version number, alias or latest (with --event)", cxxopts::value<std::string>()->default_value(""))
    ("event", "One event as JSON: {\"id\": ..., \"features\": {\"NAME\": number, ...}}", cxxopts::value<std::string>()->default_value(""))
    ("explain", "With --event: print every feature's share of the anomaly score")
    ("h,help", "Show this help");
  // clang-format on
  std::string registry, model, predictions, input, version, event;
  bool explain = false;
  try {
    const cxxopts::ParseResult parsed = spec.parse(argc, argv);
    if (parsed.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    const FlagReader f(parsed);
    registry = f.Str("registry");
    model = f.NonEmpty("model-name");
    predictions = f.Str("predictions");
    input = f.Str("input");
    version = f.Str("version");
    event = f.Str("event");
    explain = f.Has("explain");
    const bool log_mode = f.Has("predictions") || f.Has("input");
    const bool event_mode = f.Has("version") || f.Has("event");
    if (registry.empty() || log_mode == event_mode ||
        (log_mode && (predictions.empty() || input.empty())) ||
        (event_mode && (version.empty() || event.empty()))) {
      throw FlagError(
          "use --registry R with either --predictions P --input I or --version V --event JSON");
    }
    if (explain && !event_mode) throw FlagError("--explain goes with --version V --event JSON");
  } catch (const std::exception& e) {  // cxxopts' exceptions and FlagError.
    std::fprintf(stderr, "sluice audit: %s\n", e.what());
    return 2;
  }
  const absl::StatusOr<int> code = !predictions.empty()
                                       ? AuditLog(registry, model, predictions, input)
                                       : AuditEvent(registry, model, version, event, explain);
  if (!code.ok()) {
    std::fprintf(stderr, "sluice audit: %s\n", std::string(code.status().message()).c_str());
    return 1;
  }
  return *code;
}

}  // namespace sluice::tools
