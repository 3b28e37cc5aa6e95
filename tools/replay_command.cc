// tools/replay_command.cc. `sluice replay`: flags -> source, pipeline, sinks -> RunStream ->
// outputs. Everything else happens in engine/.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/memory.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/labels_file.h"
#include "engine/pipeline.h"
#include "engine/prediction_sink.h"
#include "engine/run_config.h"
#include "engine/serving.h"
#include "engine/snapshotter.h"
#include "engine/source.h"
#include "engine/stream_runner.h"
#include "engine/synthetic_stream.h"
#include "engine/text_file.h"
#include "learners/half_space_trees.h"
#include "metrics/roc_auc.h"
#include "registry/registry.h"
#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/http_flags.h"
#include "tools/model_flags.h"
#include "tools/replay_report.h"

namespace sluice::tools {
namespace {

constexpr int64_t kBuiltInRows = 100000;

struct ReplayFlags {
  std::optional<std::string> input;  // nullopt: the built-in stream.
  std::optional<int64_t> rows;
  uint64_t synthetic_seed = 1;
  engine::RunConfig config;  // Everything that shapes the numbers; features come from the input.
  std::string predictions, summary, report;
  bool quiet = false;
  bool summary_timing = true;
  RegistryFlags registry;
  bool resume = false;
  int explain = 0;  // --explain K
  DriftFlags drift;
  ChallengerFlags challengers;
  std::optional<HttpFlags> http;  // --http-port: the HTTP API during the run and after it.
};

cxxopts::Options Spec() {
  cxxopts::Options spec("sluice replay",
                        "Stream a CSV through MinMaxScaler | HalfSpaceTrees (anomaly score) and "
                        "StandardScaler | LogisticRegression (fraud probability), River-exact, "
                        "with labels that arrive late.\nWithout --input, replays the built-in "
                        "synthetic stream (see sluice gen).");
  // clang-format off
  spec.add_options()
    ("input", "CSV file with a header row (default: built-in synthetic stream)", cxxopts::value<std::string>())
    ("rows", "Read at most N data rows (built-in stream: generate N rows, default 100000)", cxxopts::value<std::string>())
    ("synthetic-seed", "Seed of the built-in stream", cxxopts::value<std::string>()->default_value("1"))
    ("label-delay", "Label of row j arrives just before row j+N is scored", cxxopts::value<std::string>()->default_value("0"))
    ("label-delay-seconds", "Label arrives S seconds of event time later (needs the time column)", cxxopts::value<std::string>())
    ("labels", "Labels from this CSV (id,label,time) instead of the label column: a label with time t arrives just before the first event at or after t", cxxopts::value<std::string>())
    ("on-bad-row", "fail | skip", cxxopts::value<std::string>()->default_value("fail"))
    ("predictions", "Write per-row predictions to this CSV", cxxopts::value<std::string>()->default_value(""))
    ("summary", "Write the summary JSON here", cxxopts::value<std::string>()->default_value(""))
    ("report", "Write a self-contained HTML report here", cxxopts::value<std::string>()->default_value(""))
    ("quiet", "No progress and no summary table")
    ("summary-timing", "Put seconds and events_per_second in the summary (false: the summary depends on the input only)", cxxopts::value<bool>()->default_value("true"))
    ("resume", "Continue from the registry's last snapshot (after a crash); outputs continue where it left off")
    ("http-port", "Serve the HTTP API and the dashboard on this port (0: any free one) during the run, and after it until SIGINT/SIGTERM", cxxopts::value<std::string>())
    ("h,help", "Show this help");
  // clang-format on
  AddHttpFlags(spec);
  AddCsvFlags(spec);
  AddModelFlags(spec, "continuous");
  AddRegistryFlags(spec);
  return spec;
}

void ParseLabelFlags(const FlagReader& f, engine::RunConfig* c) {
  c->label_delay = f.Int("label-delay", 0);
  if (f.Has("label-delay-seconds")) {
    if (f.Has("label-delay")) {
      throw FlagError("--label-delay and --label-delay-seconds exclude each other");
    }
    c->label_delay_seconds = f.Double("label-delay-seconds", 0);
  }
  if (f.Has("labels")) {
    if (f.Has("label-delay") || f.Has("label-delay-seconds")) {
      throw FlagError("--labels gives each label its time; --label-delay* do not apply");
    }
    c->labels_file = f.NonEmpty("labels");
  }
  ParseJoinFlags(f, &c->join);
}

// Parses argv into flags; returns nullopt after printing --help. Throws FlagError.
std::optional<ReplayFlags> ParseFlags(int argc, char** argv) {
  cxxopts::Options spec = Spec();
  const cxxopts::ParseResult parsed = spec.parse(argc, argv);
  if (parsed.count("help") != 0) {
    std::fputs(spec.help().c_str(), stdout);
    return std::nullopt;
  }
  const FlagReader f(parsed);
  ReplayFlags r;
  if (f.Has("input")) r.input = f.NonEmpty("input");
  if (f.Has("rows")) r.rows = f.Int("rows", 0);
  r.synthetic_seed = f.Uint("synthetic-seed");
  engine::RunConfig& c = r.config;
  ParseCsvFlags(f, &c.csv);
  ParseModelFlags(f, &c.pipeline);
  r.explain = ParseExplainFlag(f, c.pipeline);
  ParseLabelFlags(f, &c);
  c.skip_bad_rows = f.OneOf("on-bad-row", {"fail", "skip"}) == "skip";
  r.predictions = f.Str("predictions");
  r.summary = f.Str("summary");
  r.report = f.Str("report");
  r.quiet = f.Has("quiet");
  r.summary_timing = parsed["summary-timing"].as<bool>();
  r.registry = ParseRegistryFlags(f, c.pipeline.serving);
  r.drift = ParseDriftFlags(f, r.registry.path);
  r.challengers = ParseChallengerFlags(f, r.registry.path);
  r.resume = f.Has("resume");
  if (r.registry.path.empty() && r.resume) throw FlagError("--resume needs --registry FILE");
  if (f.Has("http-port")) {
    if (r.registry.path.empty())
      throw FlagError("--http-port serves registered versions: give --registry");
    r.http = ReadHttpFlags(f, f.Int("http-port", 0, 65535));
    r.http->api.registry = r.registry.path;
    r.http->api.model = r.registry.model_name;
  }
  return r;
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

std::string LabelsDescription(const engine::RunConfig& c) {
  std::string labels = !c.labels_file.empty() ? absl::StrCat("from ", c.labels_file)
                       : c.label_delay_seconds.has_value()
                           ? absl::StrCat(*c.label_delay_seconds, " s")
                           : core::Count(c.label_delay, "event", "events");
  if (c.join.ttl_seconds.has_value()) {
    absl::StrAppend(&labels, ", TTL ", *c.join.ttl_seconds, " s (expired: ",
                    c.join.expired == engine::LabelJoiner::Expired::kNegative ? "negative" : "drop",
                    ")");
  }
  return labels;
}

// Opens the input (or the built-in stream) with `options`.
absl::StatusOr<std::unique_ptr<engine::CsvReader>> OpenReader(
    const ReplayFlags& flags, const engine::CsvReader::Options& options, std::string* name) {
  if (flags.input.has_value()) {
    *name = *flags.input;
    return engine::CsvReader::Open(*flags.input, options);
  }
  const int64_t rows = flags.rows.value_or(kBuiltInRows);
  *name =
      absl::StrCat("built-in synthetic stream (seed ", flags.synthetic_seed, ", ", rows, " rows)");
  return engine::CsvReader::Create(*name, engine::NewSyntheticCsvStream(flags.synthetic_seed, rows),
                                   options);
}

// With --labels, labels come from the file alone: the input's label column, if it has one, is
// not a feature and is never learned from (the runner ignores it); it is still read so that the
// predictions file shows it. An input without it is fine.
absl::Status ApplyLabelsFile(const ReplayFlags& flags, engine::CsvReader::Options* options) {
  if (flags.config.labels_file.empty() || options->label_column.empty()) return absl::OkStatus();
  std::string name;
  engine::CsvReader::Options probe = *options;
  probe.label_column.clear();
  probe.time_column_required = false;
  SLUICE_ASSIGN_OR_RETURN(auto header, OpenReader(flags, probe, &name));
  const std::vector<std::string>& columns = header->columns();
  if (std::find(columns.begin(), columns.end(), options->label_column) == columns.end()) {
    options->label_column.clear();
  }
  return absl::OkStatus();
}

// How far through the input a run is, for the progress bar.
std::function<double(int64_t)> DoneFraction(const ReplayFlags& flags,
                                            const engine::CsvReader* reader) {
  if (flags.rows.has_value() || !flags.input.has_value()) {
    const auto rows = static_cast<double>(std::max<int64_t>(flags.rows.value_or(kBuiltInRows), 1));
    return [rows](int64_t read) { return static_cast<double>(read) / rows; };
  }
  struct stat st;
  if (stat(flags.input->c_str(), &st) != 0 || st.st_size <= 0) return nullptr;
  const auto size = static_cast<double>(st.st_size);
  return [reader, size](int64_t) { return static_cast<double>(reader->bytes_read()) / size; };
}

// The registry's last snapshot of the model, if --resume and there is one.
absl::StatusOr<std::optional<engine::ResumePoint>> FindResume(const ReplayFlags& flags,
                                                              const core::FlatJson& config,
                                                              engine::CheckpointInfo* info) {
  if (!flags.resume) return std::nullopt;
  SLUICE_ASSIGN_OR_RETURN(auto registry,
                          registry::Registry::Open(flags.registry.path, core::Clock::Real()));
  absl::StatusOr<engine::ResumePoint> point =
      engine::FindResumePoint(*registry, flags.registry.model_name, config, info);
  if (absl::IsNotFound(point.status())) {
    if (!flags.quiet) std::fputs("sluice replay: nothing to resume; starting fresh\n", stderr);
    return std::nullopt;
  }
  SLUICE_RETURN_IF_ERROR(point.status());
  if (!flags.quiet) {
    std::fprintf(stderr, "sluice replay: resuming from version %lld (after row %lld)\n",
                 static_cast<long long>(point->version),
                 static_cast<long long>(info->position.records));
  }
  return std::optional<engine::ResumePoint>(*std::move(point));
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "sluice replay: %s\n", std::string(status.message()).c_str());
  return 1;
}

// Writes the summary, the report and the table of a finished run.
absl::Status WriteOutputs(const ReplayFlags& flags, const RunDescription& run,
                          const ReplayRecorder& recorder, const engine::RunResult& result) {
  if (!flags.summary.empty()) {
    SLUICE_RETURN_IF_ERROR(
        engine::WriteFileAtomically(flags.summary, recorder.SummaryJson(run, result)));
  }
  if (!flags.report.empty()) {
    SLUICE_RETURN_IF_ERROR(
        engine::WriteFileAtomically(flags.report, recorder.HtmlReport(run, result)));
  }
  if (flags.quiet) return absl::OkStatus();
  std::fputs(recorder.SummaryTable(run, result).c_str(), stdout);
  if (result.snapshots > 0) {
    const int64_t written = result.snapshots - static_cast<int64_t>(result.snapshot_errors.size());
    std::printf("  registry: %s, model \"%s\", %lld version%s written (last: %lld)\n",
                flags.registry.path.c_str(), flags.registry.model_name.c_str(),
                static_cast<long long>(written), written == 1 ? "" : "s",
                static_cast<long long>(result.last_version));
  }
  return absl::OkStatus();
}

// Refuses outputs that would overwrite an input, the registry or each other.
absl::Status CheckFiles(const ReplayFlags& flags) {
  return engine::CheckOutputsDistinct({{"--input", flags.input.value_or("")},
                                       {"--registry", flags.registry.path},
                                       {"--labels", flags.config.labels_file}},
                                      {{"--predictions", flags.predictions},
                                       {"--summary", flags.summary},
                                       {"--report", flags.report}});
}

// Sizes from flags, checked against this machine's memory before anything is allocated.
absl::Status CheckModelMemory(const engine::Pipeline::Options& o) {
  SLUICE_RETURN_IF_ERROR(metrics::CheckRollingWindow(
      o.metric_window, (o.anomaly ? 1 : 0) + (o.fraud ? 1 : 0), "--metric-window"));
  if (!o.anomaly) return absl::OkStatus();
  // Frozen serving keeps a second copy of the trees.
  const uint64_t copies = o.serving == engine::Pipeline::Serving::kFrozen ? 2 : 1;
  return core::CheckMemory(
      absl::StrCat("--hst-trees ", o.hst.num_trees, " --hst-height ", o.hst.height),
      core::SaturatingMul(learners::HalfSpaceTrees::MemoryBytes(o.hst), copies));
}

absl::StatusOr<std::unique_ptr<engine::CsvPredictionSink>> OpenSink(
    const ReplayFlags& flags, const std::vector<std::string>& features,
    const std::optional<engine::CheckpointInfo>& resumed) {
  if (flags.predictions.empty()) return nullptr;
  const engine::Pipeline::Options& o = flags.config.pipeline;
  engine::PredictionFormat format{engine::VersionColumns::kNone, o.anomaly, o.fraud, {}};
  if (flags.explain > 0) format.explain_features = features;
  if (!flags.registry.path.empty()) {
    format.versions = o.serving == engine::Pipeline::Serving::kFrozen
                          ? engine::VersionColumns::kFrozen
                          : engine::VersionColumns::kContinuous;
  }
  std::optional<engine::PredictionSink::Position> from;
  if (resumed.has_value()) from = resumed->predictions;
  // A resumable run (with a registry) writes in place, so that a crash leaves the prefix that
  // --resume continues; any other run puts its predictions in place only when it succeeds.
  const auto mode = flags.registry.path.empty() ? engine::BufferedFile::Mode::kOnCommit
                                                : engine::BufferedFile::Mode::kInPlace;
  return engine::NewCsvPredictionSink(flags.predictions, format, from, mode);
}

absl::StatusOr<std::unique_ptr<engine::Snapshotter>> StartSnapshotter(const ReplayFlags& flags,
                                                                      const core::FlatJson& config,
                                                                      const std::string& input) {
  if (flags.registry.path.empty()) return nullptr;
  engine::Snapshotter::Options options;
  options.registry_path = flags.registry.path;
  options.model_name = flags.registry.model_name;
  options.schedule = flags.registry.schedule;
  options.config_json = core::WriteFlatJson(config);
  options.input = flags.input.value_or("");
  options.input_description = input;
  return engine::Snapshotter::Start(options, core::Clock::Real());
}

// A model whose scores were NaN is told, with where it began: LogisticRegression diverged (a huge
// learning rate), or scored behind a MinMaxScaler that has learned nothing yet (River's NaN).
// Its predictions say `nan` and the summary counts them.
void WarnDiverged(const engine::RunResult& result) {
  for (const auto& [name, d] :
       {std::pair{"anomaly", result.anomaly_nan}, std::pair{"fraud", result.fraud_nan}}) {
    if (d.count == 0) continue;
    std::fprintf(stderr,
                 "sluice replay: the %s model scored nan for %lld event%s (the first: %s, row "
                 "%lld): a scaler that has learned nothing yet (River gives nan too) or a model "
                 "that diverged (try a smaller learning rate or L2 penalty)\n",
                 name, static_cast<long long>(d.count), d.count == 1 ? "" : "s",
                 d.first_event_id.c_str(), static_cast<long long>(d.first_row));
  }
}

// What a replay runs on. Opened in an order that keeps a run the registry refuses (another
// writer holds the model, a resume that does not match) from touching any output.
struct ReplayParts {
  RunDescription run;
  std::function<double(int64_t)> done_fraction;
  std::unique_ptr<engine::Pipeline> pipeline;
  std::vector<engine::LabelRecord> labels;  // --labels FILE
  std::unique_ptr<engine::Snapshotter> snapshotter;
  std::optional<engine::ResumePoint> resume;
  std::unique_ptr<engine::CsvPredictionSink> sink;
  std::unique_ptr<engine::Source> source;
  std::unique_ptr<engine::Challengers> challengers;
};

absl::StatusOr<ReplayParts> OpenParts(ReplayFlags& flags) {
  engine::RunConfig& config = flags.config;
  SLUICE_RETURN_IF_ERROR(CheckFiles(flags));
  SLUICE_RETURN_IF_ERROR(CheckModelMemory(config.pipeline));
  SLUICE_RETURN_IF_ERROR(ApplyLabelsFile(flags, &config.csv));
  // The input's SHA-256 goes into lineage and guards --resume: only a registry needs it.
  config.csv.hash = !flags.registry.path.empty();
  ReplayParts p;
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<engine::CsvReader> reader,
                          OpenReader(flags, config.csv, &p.run.input));
  p.done_fraction = DoneFraction(flags, reader.get());
  config.features = reader->feature_names();
  SLUICE_ASSIGN_OR_RETURN(p.pipeline, engine::Pipeline::Create(config.pipeline, config.features));
  if (!config.labels_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(p.labels, engine::ReadLabelsFile(config.labels_file));
  }
  const core::FlatJson config_json = engine::ConfigJson(config);
  // First take the model's writer lease: a refused second run must not touch any output.
  SLUICE_ASSIGN_OR_RETURN(p.snapshotter, StartSnapshotter(flags, config_json, p.run.input));
  engine::CheckpointInfo resumed;
  SLUICE_ASSIGN_OR_RETURN(p.resume, FindResume(flags, config_json, &resumed));
  SLUICE_ASSIGN_OR_RETURN(p.sink,
                          OpenSink(flags, config.features,
                                   p.resume.has_value() ? std::optional(resumed) : std::nullopt));
  p.source = engine::NewCsvSource(std::move(reader),
                                  flags.input.has_value() ? flags.rows.value_or(-1) : -1);
  SLUICE_ASSIGN_OR_RETURN(p.challengers,
                          engine::Challengers::Create(flags.challengers.specs, config.features,
                                                      config.pipeline.metric_window));
  p.run.challengers = p.challengers.get();
  p.run.anomaly_model = DescribeModels(config.pipeline, &p.run.fraud_model);
  p.run.metric_window = config.pipeline.metric_window;
  if (flags.http.has_value()) p.run.alert_threshold = flags.http->api.alert_threshold;
  p.run.label_delay = LabelsDescription(config);
  p.run.summary_timing = flags.summary_timing;
  return p;
}

// The run's options beyond the config's: where labels, snapshots and challengers come from, a
// promotion's config, drift, the resume point. `labels` and `p` must outlive the run.
engine::RunOptions OptionsFor(const ReplayFlags& flags, engine::LabelSource* labels,
                              ReplayParts& p) {
  const engine::RunConfig& config = flags.config;
  engine::RunOptions options = engine::RunOptionsFor(config);
  if (!config.labels_file.empty()) options.labels = labels;
  options.snapshotter = p.snapshotter.get();
  options.explain = flags.explain;
  if (p.challengers->size() > 0) options.challengers = p.challengers.get();
  options.promote = flags.challengers.promote;
  if (options.promote.has_value()) {
    options.promote->config_json = [config](const engine::Pipeline::Options& o) {
      engine::RunConfig promoted = config;
      promoted.pipeline = o;
      return core::WriteFlatJson(engine::ConfigJson(promoted));
    };
  }
  options.drift = flags.drift.adwin;
  options.snapshot_on_drift = flags.drift.snapshot;
  if (p.resume.has_value()) options.resume = &*p.resume;
  return options;
}

int Replay(ReplayFlags& flags) {
  absl::StatusOr<ReplayParts> parts = OpenParts(flags);
  if (!parts.ok()) return Fail(parts.status());
  ReplayParts& p = *parts;
  const engine::RunConfig& config = flags.config;
  const auto label_source = engine::NewLabelVectorSource(p.labels);
  const engine::RunOptions options = OptionsFor(flags, label_source.get(), p);
  ReplayRecorder recorder(*p.pipeline, !flags.quiet, std::move(p.done_fraction),
                          core::Clock::Real());
  std::optional<HttpService> http;
  std::optional<engine::http::PublishingObserver> published;
  if (flags.http.has_value()) {
    auto started = StartHttp(*flags.http,
                             StreamSpec{"replay", nullptr,
                                        "replay joins the labels of its input (its label column "
                                        "or --labels FILE); post labels to sluice live"},
                             "sluice replay");
    if (!started.ok()) return Fail(started.status());
    http = *std::move(started);
    const engine::http::Api* api = http->api.get();
    published.emplace(
        recorder, *p.pipeline, *http->stream,
        engine::PredictionFormat{
            engine::VersionColumns::kNone, config.pipeline.anomaly, config.pipeline.fraud, {}},
        flags.http->api.alert_threshold, [api] { return api->served_version(); });
    published->SetChallengers(options.challengers);
  }
  engine::RunObserver& observer =
      published.has_value() ? static_cast<engine::RunObserver&>(*published) : recorder;
  const absl::StatusOr<engine::RunResult> result = engine::RunStream(
      *p.source, *p.pipeline, p.sink.get(), observer, options, core::Clock::Real());
  recorder.Finish();
  if (published.has_value()) published->Finish();
  if (!result.ok()) return Fail(result.status());
  if (p.sink != nullptr) {
    if (absl::Status closed = p.sink->Close(); !closed.ok()) return Fail(closed);
  }
  p.run.rows_read = p.source->records_read();
  for (const std::string& error : result->snapshot_errors) {
    std::fprintf(stderr, "sluice replay: %s\n", error.c_str());
  }
  WarnDiverged(*result);
  if (result->events == 0) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(p.run.input, ": no data rows")));
  }
  if (absl::Status s = WriteOutputs(flags, p.run, recorder, *result); !s.ok()) return Fail(s);
  if (http.has_value()) {
    // The run is over; its versions stay served until the user stops the process.
    std::fprintf(stderr, "sluice replay: done; the HTTP API serves on until SIGINT or SIGTERM\n");
    ServeUntilSignal();
  }
  return result->snapshot_errors.empty() ? 0 : 1;
}

}  // namespace

int ReplayCommand(int argc, char** argv) {
  std::optional<ReplayFlags> flags;
  try {
    flags = ParseFlags(argc, argv);
    if (!flags.has_value()) return 0;
  } catch (const std::exception& e) {  // cxxopts' exceptions and FlagError.
    std::fprintf(stderr, "sluice replay: %s (see sluice replay --help)\n", e.what());
    return 2;
  }
  return Replay(*flags);
}

}  // namespace sluice::tools
