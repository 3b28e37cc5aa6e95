// tools/replay_command.cc. `sluice replay`: flags -> CsvReader + Pipeline -> RunReplay -> outputs.
#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/pipeline.h"
#include "engine/replay.h"
#include "engine/snapshotter.h"
#include "engine/synthetic_stream.h"
#include "engine/text_file.h"
#include "registry/registry.h"
#include "tools/commands.h"
#include "tools/replay_report.h"
#include "tools/run_config.h"

namespace sluice::tools {
namespace {

constexpr int64_t kBuiltInRows = 100000;

struct ReplayFlags {
  std::string input;
  std::optional<int64_t> rows;
  uint64_t synthetic_seed = 1;
  engine::CsvReader::Options csv;
  engine::Pipeline::Options pipeline;
  engine::ReplayOptions replay;
  std::string predictions, summary, report;
  bool quiet = false;
  bool summary_timing = true;
  // Registry.
  std::string registry;
  std::string model_name = "default";
  engine::SnapshotSchedule schedule;
  bool resume = false;
};

class FlagError : public std::exception {
 public:
  explicit FlagError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Parses argv into flags; returns nullopt after printing --help.
std::optional<ReplayFlags> ParseFlags(int argc, char** argv) {
  cxxopts::Options spec("sluice replay",
                        "Stream a CSV through MinMaxScaler | HalfSpaceTrees (anomaly score) and "
                        "StandardScaler | LogisticRegression (fraud probability), River-exact, "
                        "with simulated label delay.\nWithout --input, replays the built-in "
                        "synthetic stream (see sluice gen).");
  // clang-format off
  spec.add_options()
    ("input", "CSV file with a header row (default: built-in synthetic stream)", cxxopts::value<std::string>())
    ("rows", "Read at most N data rows (built-in stream: generate N rows, default 100000)", cxxopts::value<int64_t>())
    ("synthetic-seed", "Seed of the built-in stream", cxxopts::value<uint64_t>()->default_value("1"))
    ("label-column", "Label column (0/1); empty for none", cxxopts::value<std::string>()->default_value("Class"))
    ("time-column", "Event-time column (seconds)", cxxopts::value<std::string>()->default_value("Time"))
    ("id-column", "Id column (default: the row number)", cxxopts::value<std::string>()->default_value(""))
    ("exclude", "Columns that are not features, comma separated", cxxopts::value<std::string>()->default_value(""))
    ("model", "both | hst | logreg", cxxopts::value<std::string>()->default_value("both"))
    ("hst-trees", "HalfSpaceTrees: number of trees", cxxopts::value<int>()->default_value("10"))
    ("hst-height", "HalfSpaceTrees: tree height", cxxopts::value<int>()->default_value("8"))
    ("hst-window", "HalfSpaceTrees: window size", cxxopts::value<int>()->default_value("250"))
    ("seed", "HalfSpaceTrees: seed", cxxopts::value<uint64_t>()->default_value("42"))
    ("lr-scaler", "Scaler before LogisticRegression: standard | minmax", cxxopts::value<std::string>()->default_value("standard"))
    ("lr-learning-rate", "LogisticRegression: SGD learning rate", cxxopts::value<double>()->default_value("0.01"))
    ("lr-intercept-lr", "LogisticRegression: intercept learning rate", cxxopts::value<double>()->default_value("0.01"))
    ("lr-l2", "LogisticRegression: L2 penalty", cxxopts::value<double>()->default_value("0"))
    ("lr-clip-gradient", "LogisticRegression: gradient clip", cxxopts::value<double>()->default_value("1e12"))
    ("lr-positive-weight", "LogisticRegression: loss weight of label 1", cxxopts::value<double>()->default_value("1"))
    ("lr-negative-weight", "LogisticRegression: loss weight of label 0", cxxopts::value<double>()->default_value("1"))
    ("label-delay", "Label of row j arrives just before row j+N is scored", cxxopts::value<int64_t>()->default_value("0"))
    ("label-delay-seconds", "Label arrives S seconds of event time later (needs the time column)", cxxopts::value<double>())
    ("metric-window", "Window of the rolling AUCs", cxxopts::value<int>()->default_value("1000"))
    ("on-bad-row", "fail | skip", cxxopts::value<std::string>()->default_value("fail"))
    ("predictions", "Write per-row predictions to this CSV", cxxopts::value<std::string>()->default_value(""))
    ("summary", "Write the summary JSON here", cxxopts::value<std::string>()->default_value(""))
    ("report", "Write a self-contained HTML report here", cxxopts::value<std::string>()->default_value(""))
    ("quiet", "No progress and no summary table")
    ("summary-timing", "Put seconds and events_per_second in the summary (false: the summary depends on the input only)", cxxopts::value<bool>()->default_value("true"))
    ("registry", "Snapshot model versions into this SQLite registry", cxxopts::value<std::string>()->default_value(""))
    ("model-name", "Model name in the registry", cxxopts::value<std::string>()->default_value("default"))
    ("snapshot-every-events", "Snapshot after every N events", cxxopts::value<int64_t>()->default_value("0"))
    ("snapshot-every-seconds", "Snapshot every S seconds of event time", cxxopts::value<double>()->default_value("0"))
    ("snapshot-every-wall", "Snapshot every S seconds of wall time", cxxopts::value<double>()->default_value("0"))
    ("serving", "continuous (serve the learning model) | frozen (serve the last registered version)", cxxopts::value<std::string>()->default_value("continuous"))
    ("resume", "Continue from the registry's last snapshot (after a crash); outputs continue where it left off")
    ("h,help", "Show this help");
  // clang-format on
  const cxxopts::ParseResult flags = spec.parse(argc, argv);
  if (flags.count("help") != 0) {
    std::fputs(spec.help().c_str(), stdout);
    return std::nullopt;
  }
  if (!flags.unmatched().empty()) {
    throw FlagError(absl::StrCat("unexpected argument \"", flags.unmatched()[0], "\""));
  }
  ReplayFlags f;
  if (flags.count("input") != 0) f.input = flags["input"].as<std::string>();
  if (flags.count("rows") != 0) {
    f.rows = flags["rows"].as<int64_t>();
    if (*f.rows < 0) throw FlagError("--rows must be >= 0");
  }
  f.synthetic_seed = flags["synthetic-seed"].as<uint64_t>();
  f.csv.label_column = flags["label-column"].as<std::string>();
  f.csv.time_column = flags["time-column"].as<std::string>();
  f.csv.time_column_required = flags.count("time-column") != 0;
  f.csv.id_column = flags["id-column"].as<std::string>();
  for (absl::string_view column :
       absl::StrSplit(flags["exclude"].as<std::string>(), ',', absl::SkipEmpty())) {
    f.csv.exclude.emplace_back(column);
  }
  const std::string model = flags["model"].as<std::string>();
  if (model != "both" && model != "hst" && model != "logreg") {
    throw FlagError(absl::StrCat("--model must be both, hst or logreg, got \"", model, "\""));
  }
  f.pipeline.anomaly = model != "logreg";
  f.pipeline.fraud = model != "hst";
  f.pipeline.hst.num_trees = flags["hst-trees"].as<int>();
  f.pipeline.hst.height = flags["hst-height"].as<int>();
  f.pipeline.hst.window_size = flags["hst-window"].as<int>();
  f.pipeline.hst.seed = flags["seed"].as<uint64_t>();
  const std::string scaler = flags["lr-scaler"].as<std::string>();
  if (scaler != "standard" && scaler != "minmax") {
    throw FlagError(absl::StrCat("--lr-scaler must be standard or minmax, got \"", scaler, "\""));
  }
  f.pipeline.fraud_scaler = scaler == "standard" ? engine::Pipeline::FraudScaler::kStandard
                                                 : engine::Pipeline::FraudScaler::kMinMax;
  f.pipeline.lr.learning_rate = flags["lr-learning-rate"].as<double>();
  f.pipeline.lr.intercept_lr = flags["lr-intercept-lr"].as<double>();
  f.pipeline.lr.l2 = flags["lr-l2"].as<double>();
  f.pipeline.lr.clip_gradient = flags["lr-clip-gradient"].as<double>();
  f.pipeline.lr.positive_weight = flags["lr-positive-weight"].as<double>();
  f.pipeline.lr.negative_weight = flags["lr-negative-weight"].as<double>();
  f.pipeline.metric_window = flags["metric-window"].as<int>();
  if (f.pipeline.metric_window < 1) throw FlagError("--metric-window must be >= 1");
  f.replay.label_delay = flags["label-delay"].as<int64_t>();
  if (f.replay.label_delay < 0) throw FlagError("--label-delay must be >= 0");
  if (flags.count("label-delay-seconds") != 0) {
    if (flags.count("label-delay") != 0) {
      throw FlagError("--label-delay and --label-delay-seconds exclude each other");
    }
    const double seconds = flags["label-delay-seconds"].as<double>();
    if (!(seconds >= 0) || !std::isfinite(seconds)) {
      throw FlagError("--label-delay-seconds must be a finite number >= 0");
    }
    f.replay.label_delay_seconds = seconds;
  }
  const std::string bad_row = flags["on-bad-row"].as<std::string>();
  if (bad_row != "fail" && bad_row != "skip") {
    throw FlagError(absl::StrCat("--on-bad-row must be fail or skip, got \"", bad_row, "\""));
  }
  f.replay.skip_bad_rows = bad_row == "skip";
  f.predictions = flags["predictions"].as<std::string>();
  f.summary = flags["summary"].as<std::string>();
  f.report = flags["report"].as<std::string>();
  f.quiet = flags.count("quiet") != 0;
  f.summary_timing = flags["summary-timing"].as<bool>();
  f.registry = flags["registry"].as<std::string>();
  f.model_name = flags["model-name"].as<std::string>();
  f.schedule.every_events = flags["snapshot-every-events"].as<int64_t>();
  f.schedule.every_event_seconds = flags["snapshot-every-seconds"].as<double>();
  f.schedule.every_wall_seconds = flags["snapshot-every-wall"].as<double>();
  if (f.schedule.every_events < 0 || !(f.schedule.every_event_seconds >= 0) ||
      !(f.schedule.every_wall_seconds >= 0)) {
    throw FlagError("snapshot intervals must be >= 0");
  }
  const std::string serving = flags["serving"].as<std::string>();
  if (serving != "continuous" && serving != "frozen") {
    throw FlagError(absl::StrCat("--serving must be continuous or frozen, got \"", serving, "\""));
  }
  f.pipeline.serving = serving == "frozen" ? engine::Pipeline::Serving::kFrozen
                                           : engine::Pipeline::Serving::kContinuous;
  f.resume = flags.count("resume") != 0;
  const bool snapshots = f.schedule.every_events > 0 || f.schedule.every_event_seconds > 0 ||
                         f.schedule.every_wall_seconds > 0;
  if (f.registry.empty() && (snapshots || f.resume || serving == "frozen")) {
    throw FlagError("--snapshot-every-*, --resume and --serving frozen need --registry FILE");
  }
  return f;
}

std::string DescribeModels(const engine::Pipeline::Options& o, std::string* fraud) {
  *fraud = absl::StrCat(
      o.fraud_scaler == engine::Pipeline::FraudScaler::kStandard ? "StandardScaler"
                                                                 : "MinMaxScaler",
      " | LogisticRegression(lr=", o.lr.learning_rate, ", intercept_lr=", o.lr.intercept_lr,
      ", l2=", o.lr.l2, ", clip_gradient=", o.lr.clip_gradient, ", weights=", o.lr.negative_weight,
      "/", o.lr.positive_weight, ")");
  return absl::StrCat("MinMaxScaler | HalfSpaceTrees(n_trees=", o.hst.num_trees,
                      ", height=", o.hst.height, ", window_size=", o.hst.window_size,
                      ", seed=", o.hst.seed, ")");
}

core::FlatJson ConfigOf(const ReplayFlags& f, const std::vector<std::string>& features) {
  RunConfig config;
  config.csv = f.csv;
  config.pipeline = f.pipeline;
  config.label_delay = f.replay.label_delay;
  config.label_delay_seconds = f.replay.label_delay_seconds;
  config.skip_bad_rows = f.replay.skip_bad_rows;
  config.features = features;
  return ConfigJson(config);
}

// The last snapshot of the registry's model and the checkpoints of its run, oldest first.
absl::StatusOr<engine::ResumePoint> FindResumePoint(const ReplayFlags& flags,
                                                    const core::FlatJson& config,
                                                    engine::CheckpointInfo* info) {
  SLUICE_ASSIGN_OR_RETURN(auto registry,
                          registry::Registry::Open(flags.registry, core::Clock::Real()));
  SLUICE_ASSIGN_OR_RETURN(const registry::Version latest, registry->Latest(flags.model_name));
  if (latest.checkpoint.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("version ", latest.version, " of \"", flags.model_name,
                     "\" has no run checkpoint (imported?); it cannot be resumed"));
  }
  const std::optional<core::FlatJson> stored = core::ParseFlatJson(latest.config_json);
  if (!stored.has_value()) {
    return absl::DataLossError(absl::StrCat("version ", latest.version, ": unreadable config"));
  }
  if (const auto diff = core::DiffFlatJson(*stored, config); !diff.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", latest.version, " of \"", flags.model_name,
        "\" was made with another config; refusing to resume it: ", absl::StrJoin(diff, "; ")));
  }
  SLUICE_ASSIGN_OR_RETURN(*info, engine::ReadCheckpointInfo(latest.checkpoint));
  engine::ResumePoint point;
  point.version = latest.version;
  point.models = latest.state;
  for (int64_t v = info->run_first_version; v < latest.version; ++v) {
    absl::StatusOr<std::string> earlier = registry->Checkpoint(flags.model_name, v);
    if (absl::IsNotFound(earlier.status())) continue;  // Collected by gc: its delta is lost.
    SLUICE_RETURN_IF_ERROR(earlier.status());
    SLUICE_ASSIGN_OR_RETURN(const engine::CheckpointInfo earlier_info,
                            engine::ReadCheckpointInfo(*earlier));
    if (earlier_info.run_first_version != info->run_first_version) continue;
    point.checkpoints.push_back(std::move(*earlier));
  }
  point.checkpoints.push_back(latest.checkpoint);
  return point;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "sluice replay: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  std::optional<ReplayFlags> parsed;
  try {
    parsed = ParseFlags(argc, argv);
    if (!parsed.has_value()) return 0;
  } catch (const std::exception& e) {  // cxxopts' exceptions and ours.
    std::fprintf(stderr, "sluice replay: %s (see sluice replay --help)\n", e.what());
    return 2;
  }
  ReplayFlags& flags = *parsed;
  const core::Clock& clock = core::Clock::Real();

  absl::StatusOr<std::unique_ptr<engine::CsvReader>> reader;
  RunDescription run;
  std::function<double(int64_t rows)> done_fraction;
  if (flags.input.empty()) {
    const int64_t rows = flags.rows.value_or(kBuiltInRows);
    run.input = absl::StrCat("built-in synthetic stream (seed ", flags.synthetic_seed, ", ", rows,
                             " rows)");
    reader = engine::CsvReader::Create(
        run.input, engine::NewSyntheticCsvStream(flags.synthetic_seed, rows), flags.csv);
    done_fraction = [rows](int64_t read) {
      return static_cast<double>(read) / static_cast<double>(std::max<int64_t>(rows, 1));
    };
  } else {
    run.input = flags.input;
    reader = engine::CsvReader::Open(flags.input, flags.csv);
    flags.replay.max_rows = flags.rows.value_or(-1);
  }
  if (!reader.ok()) return Fail(reader.status());
  if (flags.rows.has_value() && !flags.input.empty()) {
    const int64_t rows = *flags.rows;
    done_fraction = [rows](int64_t read) {
      return static_cast<double>(read) / static_cast<double>(std::max<int64_t>(rows, 1));
    };
  } else if (struct stat st;
             !flags.input.empty() && stat(flags.input.c_str(), &st) == 0 && st.st_size > 0) {
    const engine::CsvReader* csv = reader->get();
    const auto size = static_cast<double>(st.st_size);
    done_fraction = [csv, size](int64_t) { return static_cast<double>(csv->bytes_read()) / size; };
  }
  auto pipeline = engine::Pipeline::Create(flags.pipeline, (*reader)->feature_names());
  if (!pipeline.ok()) return Fail(pipeline.status());

  const core::FlatJson config = ConfigOf(flags, (*reader)->feature_names());
  std::optional<engine::ResumePoint> resume;
  engine::CheckpointInfo resumed;
  if (flags.resume) {
    absl::StatusOr<engine::ResumePoint> point = FindResumePoint(flags, config, &resumed);
    if (point.ok()) {
      resume = std::move(*point);
      flags.replay.resume = &*resume;
      if (!flags.quiet) {
        std::fprintf(stderr, "sluice replay: resuming from version %lld (after row %lld)\n",
                     static_cast<long long>(resume->version),
                     static_cast<long long>(resumed.rows_read));
      }
    } else if (absl::IsNotFound(point.status())) {
      if (!flags.quiet) std::fputs("sluice replay: nothing to resume; starting fresh\n", stderr);
    } else {
      return Fail(point.status());
    }
  }
  std::unique_ptr<engine::BufferedFile> predictions;
  if (!flags.predictions.empty()) {
    auto file = resume.has_value()
                    ? engine::BufferedFile::Resume(flags.predictions, resumed.predictions_bytes)
                    : engine::BufferedFile::Create(flags.predictions);
    if (!file.ok()) return Fail(file.status());
    predictions = std::move(*file);
  }
  std::unique_ptr<engine::Snapshotter> snapshotter;
  if (!flags.registry.empty()) {
    engine::Snapshotter::Options options;
    options.registry_path = flags.registry;
    options.model_name = flags.model_name;
    options.schedule = flags.schedule;
    options.config_json = core::WriteFlatJson(config);
    options.input = flags.input;
    options.input_description = run.input;
    auto started = engine::Snapshotter::Start(options, clock);
    if (!started.ok()) return Fail(started.status());
    snapshotter = std::move(*started);
    flags.replay.snapshotter = snapshotter.get();
  }
  run.anomaly_model = DescribeModels(flags.pipeline, &run.fraud_model);
  run.metric_window = flags.pipeline.metric_window;
  run.label_delay = flags.replay.label_delay_seconds.has_value()
                        ? absl::StrCat(*flags.replay.label_delay_seconds, " s")
                        : absl::StrCat(flags.replay.label_delay, " events");
  const ReplayRecorder::VersionColumns columns =
      flags.registry.empty() ? ReplayRecorder::VersionColumns::kNone
      : flags.pipeline.serving == engine::Pipeline::Serving::kFrozen
          ? ReplayRecorder::VersionColumns::kFrozen
          : ReplayRecorder::VersionColumns::kContinuous;
  ReplayRecorder recorder(**pipeline, std::move(predictions), resumed.predictions_rows, columns,
                          !flags.quiet, std::move(done_fraction), clock);
  const absl::StatusOr<engine::ReplayResult> result =
      engine::RunReplay(**reader, flags.replay, **pipeline, recorder, clock);
  const absl::Status closed = recorder.Finish();
  if (!result.ok()) return Fail(result.status());
  if (!closed.ok()) return Fail(closed);
  run.rows_read = (*reader)->rows_read();
  run.summary_timing = flags.summary_timing;
  for (const std::string& error : result->snapshot_errors) {
    std::fprintf(stderr, "sluice replay: %s\n", error.c_str());
  }
  if (result->events == 0) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(run.input, ": no data rows")));
  }
  if (!flags.summary.empty()) {
    const absl::Status status =
        engine::WriteFileAtomically(flags.summary, recorder.SummaryJson(run, *result));
    if (!status.ok()) return Fail(status);
  }
  if (!flags.report.empty()) {
    const absl::Status status =
        engine::WriteFileAtomically(flags.report, recorder.HtmlReport(run, *result));
    if (!status.ok()) return Fail(status);
  }
  if (!flags.quiet) {
    std::fputs(recorder.SummaryTable(run, *result).c_str(), stdout);
    if (result->snapshots > 0) {
      std::printf("  registry: %s, model \"%s\", %lld versions written (last: %lld)\n",
                  flags.registry.c_str(), flags.model_name.c_str(),
                  static_cast<long long>(result->snapshots -
                                         static_cast<int64_t>(result->snapshot_errors.size())),
                  static_cast<long long>(result->last_version));
    }
  }
  return result->snapshot_errors.empty() ? 0 : 1;
}

}  // namespace sluice::tools
