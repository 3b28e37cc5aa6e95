// tools/live_command.cc. `sluice live`: one stream runner per partition of the transactions
// topic, on Kafka (or the embedded broker): events and labels in, scores, alerts and dead
// letters out. Flags -> wiring -> status line and summary; the path itself is engine's.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/event_json.h"
#include "engine/kafka/checkpoint_topic.h"
#include "engine/kafka/client.h"
#include "engine/kafka/embedded_broker.h"
#include "engine/kafka/feed.h"
#include "engine/kafka/global_model_publisher.h"
#include "engine/kafka/live_partition.h"
#include "engine/kafka/topics.h"
#include "engine/pipeline.h"
#include "engine/prediction_sink.h"
#include "engine/serving.h"
#include "engine/stream_runner.h"
#include "engine/synthetic_stream.h"
#include "engine/text_file.h"
#include "metrics/latency_histogram.h"
#include "metrics/roc_auc.h"
#include "registry/registry.h"
#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/http_flags.h"
#include "tools/model_flags.h"

namespace sluice::tools {
namespace {

std::atomic<bool> stop_requested{false};
constexpr double kDemoLabelDelay = 3600;  // Seconds of event time.
constexpr int64_t kDemoRows = 50000000;   // 40 minutes at the default rate.
// The first signal stops the run cleanly; a second ends the process at once, as kill -9 would
// (with a registry, a restart still outputs each prediction once).
void RequestStop(int) {
  if (stop_requested.exchange(true)) _exit(130);
}

struct LiveFlags {
  std::string brokers = "embedded";
  engine::kafka::Settings settings;
  std::string group;
  // static: partitions 0..partitions-1 | cooperative | eager (consumer group protocols) | auto.
  std::string assignment = "auto";
  std::string checkpoints_topic = engine::kafka::kCheckpointsTopic;
  engine::kafka::TopicNames topics;
  int64_t partitions = 0;  // 0: the transactions topic's (the embedded broker: 4).
  double alert_threshold = 0.5;
  int explain = 0;  // --explain K
  DriftFlags drift;
  ChallengerFlags challengers;
  engine::Pipeline::Options pipeline;
  engine::LabelJoiner::Options join;
  std::vector<std::string> features;
  bool exit_at_end = false;
  bool demo = false;
  double seconds = 0;        // Stop after this long; 0: at a signal (or the end, --exit-at-end).
  double demo_rate = 20000;  // Events per second the demo's producer sends.
  RegistryFlags registry;
  std::string exactly_once = "auto";
  std::string summary;
  bool quiet = false;
  bool mock_cluster = false;  // librdkafka's mock (embedded, `sluice broker`): found by its id.
  int64_t global_every_events = 0;  // --global-model every:N; 0: no merging.
  bool serve_global = false;        // --serve global.
  std::optional<HttpFlags> http;    // --http-port: the HTTP API beside the stream.
};

std::string DefaultFeatures() {
  std::vector<std::string> names = {"Time"};
  for (int i = 1; i <= 28; ++i) names.push_back(absl::StrCat("V", i));
  names.push_back("Amount");
  return absl::StrJoin(names, ",");
}

cxxopts::Options Spec() {
  cxxopts::Options spec(
      "sluice live",
      "Score a Kafka transactions topic as it arrives: one stream runner per partition (its own "
      "models, label join and metrics, so a partition's scores equal `sluice replay` of its "
      "events), labels joined from the labels topic by event time, every prediction to the "
      "scores topic, those over the threshold to the alerts topic, malformed messages to "
      "<transactions>.dlq. Without --brokers it starts an embedded broker and prints its "
      "address. Stops on SIGINT/SIGTERM after flushing.");
  // clang-format off
  spec.add_options()
    ("brokers", "embedded | host:port,...", cxxopts::value<std::string>()->default_value("embedded"))
    ("X", "A librdkafka setting key=value (repeatable): TLS, SASL, timeouts", cxxopts::value<std::vector<std::string>>())
    ("group", "Consumer group: its members share the partitions, and its offsets", cxxopts::value<std::string>()->default_value("sluice"))
    ("assignment", "Which partitions this process runs: cooperative (the consumer group assigns them, cooperative-sticky: a rebalance moves only what must move) | eager (the group, range/roundrobin: every member gives up all first) | static (all, or --partitions N: 0..N-1, no group) | auto (static on the embedded broker or with --partitions, else cooperative)", cxxopts::value<std::string>()->default_value("auto"))
    ("checkpoints-topic", "In a consumer group with --registry: the compacted topic each partition's checkpoints are published to, and restored from when the partition moves here", cxxopts::value<std::string>()->default_value(engine::kafka::kCheckpointsTopic))
    ("transactions", "Topic of the events", cxxopts::value<std::string>()->default_value("transactions"))
    ("labels", "Topic of the labels", cxxopts::value<std::string>()->default_value("labels"))
    ("scores", "Topic of every prediction", cxxopts::value<std::string>()->default_value("scores"))
    ("alerts", "Topic of the predictions over the threshold", cxxopts::value<std::string>()->default_value("alerts"))
    ("partitions", "Partitions to run (default: all of the transactions topic; the embedded broker's topics get 4)", cxxopts::value<std::string>())
    ("alert-threshold", "Alert when the fraud probability (the anomaly score with --model hst) is over this", cxxopts::value<std::string>()->default_value("0.5"))
    ("features", "The events' features, in order", cxxopts::value<std::string>()->default_value(DefaultFeatures()))
    ("exactly-once", "With --registry, how a restart after a crash outputs each prediction once: transactions (Kafka transactions, one per checkpoint) | read-back (read back what was output past the checkpoint; any broker) | auto (read-back on the embedded or `sluice broker` mock, else transactions)", cxxopts::value<std::string>()->default_value("auto"))
    ("exit-at-end", "Stop once every partition's end is reached (topics written beforehand)")
    ("demo", "Embedded broker, a producer of the built-in stream (frauds labelled an hour of event time later) and the engine, in one process")
    ("rate", "--demo: events per second to produce", cxxopts::value<std::string>()->default_value("20000"))
    ("seconds", "Stop after this many seconds (0: at SIGINT/SIGTERM)", cxxopts::value<std::string>()->default_value("0"))
    ("summary", "Write the summary JSON here", cxxopts::value<std::string>()->default_value(""))
    ("global-model", "In a consumer group with --registry: every:N merges, every N events scored here while this process holds partition 0, the latest published version of every partition into a version of <model-name>.global, registered and published to the checkpoints topic", cxxopts::value<std::string>()->default_value(""))
    ("serve", "Anomaly scores from: local (each partition's own model) | global (the latest <model-name>.global on the checkpoints topic, followed every second; each partition keeps learning, and its fraud probability is its own)", cxxopts::value<std::string>()->default_value("local"))
    ("quiet", "No status line")
    ("http-port", "Serve the HTTP API and the dashboard on this port too (0: any free one), with the model of partition 0 (<model-name>.p0), or the global one with --global-model", cxxopts::value<std::string>())
    ("h,help", "Show this help");
  // clang-format on
  AddHttpFlags(spec);
  AddModelFlags(spec, "frozen");  // Without --registry: continuous (see ParseFlags).
  AddRegistryFlags(spec);
  return spec;
}

// --demo, --rate, --seconds (after the join flags: the demo has its own label TTL).
void ParseDemoFlags(const FlagReader& f, LiveFlags* l) {
  l->demo = f.Has("demo");
  l->demo_rate = f.Double("rate", 1);
  l->seconds = f.Double("seconds", 0);
  if (!l->demo) return;
  if (l->brokers != "embedded") throw FlagError("--demo runs its own embedded broker");
  if (!f.Has("label-ttl")) {
    // The demo labels only the frauds, an hour late: no chargeback within the hour means
    // legitimate, so that the fraud model learns both classes.
    l->join.ttl_seconds = 1.5 * kDemoLabelDelay;  // A margin for the labels topic's lag.
    l->join.expired = engine::LabelJoiner::Expired::kNegative;
  }
}

// --global-model every:N and --serve (after the assignment and registry flags they need).
void ParseGlobalModelFlags(const FlagReader& f, LiveFlags* l) {
  if (const std::string every = f.Str("global-model"); !every.empty()) {
    if (!absl::StartsWith(every, "every:") ||
        !absl::SimpleAtoi(absl::string_view(every).substr(6), &l->global_every_events) ||
        l->global_every_events < 1) {
      throw FlagError(absl::StrCat("--global-model \"", every,
                                   "\": expected every:N, N a positive number of events"));
    }
  }
  l->serve_global = f.OneOf("serve", {"local", "global"}) == "global";
  const char* global_flag = l->global_every_events > 0 ? "--global-model"
                            : l->serve_global          ? "--serve global"
                                                       : nullptr;
  if (global_flag != nullptr && (l->assignment == "static" || l->registry.path.empty())) {
    throw FlagError(absl::StrCat(
        global_flag,
        " needs a consumer group (--assignment cooperative|eager, against a broker, without "
        "--partitions) and --registry: the partitions' versions are merged from the checkpoints "
        "topic"));
  }
}

std::optional<LiveFlags> ParseFlags(int argc, char** argv) {
  cxxopts::Options spec = Spec();
  const cxxopts::ParseResult parsed = spec.parse(argc, argv);
  if (parsed.count("help") != 0) {
    std::fputs(spec.help().c_str(), stdout);
    return std::nullopt;
  }
  const FlagReader f(parsed);
  LiveFlags l;
  l.brokers = f.NonEmpty("brokers");
  l.settings = ParseKafkaSettings(f);
  l.group = f.NonEmpty("group");
  l.assignment = f.OneOf("assignment", {"auto", "cooperative", "eager", "static"});
  l.checkpoints_topic = f.NonEmpty("checkpoints-topic");
  l.topics.transactions = f.NonEmpty("transactions");
  l.topics.labels = f.NonEmpty("labels");
  l.topics.scores = f.NonEmpty("scores");
  l.topics.alerts = f.NonEmpty("alerts");
  if (f.Has("partitions")) l.partitions = f.Int("partitions", 1, 1024);
  if (l.assignment == "auto") {
    l.assignment = l.brokers == "embedded" || f.Has("partitions") ? "static" : "cooperative";
  }
  if (l.assignment != "static" && f.Has("partitions")) {
    throw FlagError("--partitions fixes the partitions: it goes with --assignment static");
  }
  l.alert_threshold = f.Double("alert-threshold");
  ParseModelFlags(f, &l.pipeline);
  l.explain = ParseExplainFlag(f, l.pipeline);
  ParseJoinFlags(f, &l.join);
  // Frozen serving (registered versions) is live's default, and needs a registry.
  if (!f.Has("serving") && f.Str("registry").empty()) {
    l.pipeline.serving = engine::Pipeline::Serving::kContinuous;
  }
  l.registry = ParseRegistryFlags(f, l.pipeline.serving);
  l.drift = ParseDriftFlags(f, l.registry.path);
  l.challengers = ParseChallengerFlags(f, l.registry.path);
  l.exactly_once = f.OneOf("exactly-once", {"auto", "transactions", "read-back"});
  l.features = absl::StrSplit(f.NonEmpty("features"), ',', absl::SkipEmpty());
  l.exit_at_end = f.Has("exit-at-end");
  ParseDemoFlags(f, &l);
  l.summary = f.Str("summary");
  l.quiet = f.Has("quiet");
  ParseGlobalModelFlags(f, &l);
  if (f.Has("http-port")) {
    if (l.registry.path.empty())
      throw FlagError("--http-port serves registered versions: give --registry");
    l.http = ReadHttpFlags(f, f.Int("http-port", 0, 65535));
    l.http->api.registry = l.registry.path;
    l.http->api.model = l.global_every_events > 0
                            ? absl::StrCat(l.registry.model_name, ".global")
                            : registry::PartitionModel(l.registry.model_name, 0);
    l.http->api.alert_threshold = l.alert_threshold;
  }
  return l;
}

// Rolling AUCs over the last 10,000 labels of all partitions, for the status line and the
// HTTP state: the champion's models and each challenger (--challenger order).
struct StatusAucs {
  static constexpr int64_t kWindow = 10000;
  explicit StatusAucs(const std::vector<engine::ChallengerSpec>& specs) {
    for (const engine::ChallengerSpec& spec : specs) {
      challenger_names.push_back(spec.text);
      challengers.emplace_back(kWindow);
    }
  }
  engine::PredictionFormat format;  // With alert_threshold: what counts as an alert.
  double alert_threshold = 0.5;
  std::vector<std::string> challenger_names;
  absl::Mutex mu;
  metrics::RollingRocAuc anomaly ABSL_GUARDED_BY(mu){kWindow};
  metrics::RollingRocAuc fraud ABSL_GUARDED_BY(mu){kWindow};
  std::vector<metrics::RollingRocAuc> challengers ABSL_GUARDED_BY(mu);
};

// Counts what one partition's runner did, for the status line (read from another thread).
class LiveCounter final : public engine::RunObserver {
 public:
  explicit LiveCounter(StatusAucs* aucs) : aucs_(aucs) {}
  void OnPrediction(const core::Event&, const engine::Pipeline::Scores& scores,
                    const engine::Served&) override {
    events.fetch_add(1, std::memory_order_relaxed);
    if (engine::IsAlert(scores, aucs_->format, aucs_->alert_threshold)) {
      alerts.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void OnLabel(bool label, const engine::Pipeline::Scores& scores) override {
    labels.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&aucs_->mu);
    aucs_->anomaly.Update(label, scores.anomaly);
    aucs_->fraud.Update(label, scores.fraud);
  }
  void OnChallengerLabel(bool label, const std::vector<double>& scores) override {
    absl::MutexLock lock(&aucs_->mu);
    for (size_t i = 0; i < scores.size(); ++i) aucs_->challengers[i].Update(label, scores[i]);
  }
  void OnPromotion(const engine::PromotionRecord& promotion) override {
    absl::MutexLock lock(&counts_mu_);
    promotions_.push_back(promotion);
  }
  // The promotions since the last call.
  std::vector<engine::PromotionRecord> TakePromotions() {
    absl::MutexLock lock(&counts_mu_);
    return std::exchange(promotions_, {});
  }
  void OnPending(int64_t pending_joins) override {
    pending.store(pending_joins, std::memory_order_relaxed);
  }
  void OnLabelCounts(const engine::LabelCounts& counts) override {
    absl::MutexLock lock(&counts_mu_);
    label_counts_ = counts;
  }
  engine::LabelCounts label_counts() const {
    absl::MutexLock lock(&counts_mu_);
    return label_counts_;
  }
  void OnDrift(const engine::Drift& drift) override {
    absl::MutexLock lock(&counts_mu_);
    drifts_.Add(drift);
  }
  engine::http::DriftLog drifts() const {
    absl::MutexLock lock(&counts_mu_);
    return drifts_;
  }
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> labels{0};
  std::atomic<int64_t> pending{0};
  std::atomic<int64_t> alerts{0};

 private:
  StatusAucs* aucs_;
  mutable absl::Mutex counts_mu_;
  engine::LabelCounts label_counts_ ABSL_GUARDED_BY(counts_mu_);
  engine::http::DriftLog drifts_ ABSL_GUARDED_BY(counts_mu_);
  std::vector<engine::PromotionRecord> promotions_ ABSL_GUARDED_BY(counts_mu_);
};

// One partition's run and what its observer counts.
struct PartitionRun {
  explicit PartitionRun(StatusAucs* aucs) : counter(aucs) {}
  LiveCounter counter;            // Before `live`, which calls it.
  std::atomic<bool> stop{false};  // At a signal, or when the group takes the partition away.
  bool revoked = false;
  // Wall-clock Unix seconds: when the group gave the partition, when it was running (restored),
  // when the group took it away, and when it was checkpointed and handed back.
  double assigned_at = 0, started_at = 0, revoked_at = 0, handed_back_at = 0;
  std::unique_ptr<engine::kafka::LivePartition> live;
};

bool GroupMode(const LiveFlags& flags) { return flags.assignment != "static"; }

double NowUnixSeconds() { return absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()); }

absl::StatusOr<std::unique_ptr<PartitionRun>> StartPartition(
    const LiveFlags& flags, const std::string& brokers, int32_t partition,
    engine::kafka::Fetcher& inputs, engine::kafka::DeadLetters& dead_letters, StatusAucs* aucs,
    const engine::ServingSlot* global_model) {
  auto run = std::make_unique<PartitionRun>(aucs);
  engine::kafka::LiveOptions o;
  o.input.brokers = brokers;
  o.input.fetcher = &inputs;
  o.input.settings = flags.settings;
  o.input.group = flags.group;
  o.input.topics = flags.topics;
  o.input.partition = partition;
  o.input.stop_at_end = flags.exit_at_end;
  o.input.stop = &run->stop;
  o.pipeline = flags.pipeline;
  o.features = flags.features;
  o.join = flags.join;
  o.alert_threshold = flags.alert_threshold;
  o.explain = flags.explain;
  o.drift = flags.drift.adwin;
  o.snapshot_on_drift = flags.drift.snapshot;
  o.challengers = flags.challengers.specs;
  o.promote = flags.challengers.promote;
  o.registry = flags.registry.path;
  o.model_name = flags.registry.model_name;
  o.schedule = flags.registry.schedule;
  if (GroupMode(flags)) o.checkpoints_topic = flags.checkpoints_topic;
  o.global_model = global_model;
  o.exactly_once = flags.exactly_once == "transactions"
                       ? engine::kafka::LiveOptions::ExactlyOnce::kTransactions
                       : engine::kafka::LiveOptions::ExactlyOnce::kReadBack;
  SLUICE_ASSIGN_OR_RETURN(run->live,
                          engine::kafka::LivePartition::Start(o, dead_letters, run->counter));
  return run;
}

// The brokers to use: the given ones, or an embedded broker started here with the topics.
absl::StatusOr<std::string> Brokers(LiveFlags& flags,
                                    std::unique_ptr<engine::kafka::EmbeddedBroker>* embedded) {
  if (flags.brokers != "embedded") return flags.brokers;
  SLUICE_ASSIGN_OR_RETURN(*embedded, engine::kafka::EmbeddedBroker::Start(1));
  if (flags.partitions == 0) flags.partitions = 4;
  for (const std::string& topic :
       {flags.topics.transactions, flags.topics.labels, flags.topics.scores, flags.topics.alerts,
        flags.topics.DeadLetters()}) {
    SLUICE_RETURN_IF_ERROR((*embedded)->CreateTopic(topic, static_cast<int>(flags.partitions)));
  }
  std::fprintf(stderr, "sluice live: embedded broker at %s (topics with %lld partitions)\n",
               (*embedded)->bootstrap().c_str(), static_cast<long long>(flags.partitions));
  return (*embedded)->bootstrap();
}

std::string LatencyJson(const metrics::LatencyHistogram& h) {
  return absl::StrCat("{\"count\": ", h.count(),
                      ", \"p50_ms\": ", core::FormatFixed(1000 * h.Quantile(0.5), 3),
                      ", \"p99_ms\": ", core::FormatFixed(1000 * h.Quantile(0.99), 3),
                      ", \"p999_ms\": ", core::FormatFixed(1000 * h.Quantile(0.999), 3),
                      ", \"max_ms\": ", core::FormatFixed(1000 * h.max(), 3), "}");
}

// The latencies of a whole run and what back-pressure did, gathered by Watch().
struct Measured {
  metrics::LatencyHistogram prediction, processing, commit, visible;
  int64_t max_producer_queue = 0;
  double max_lag_seconds = 0;
  int64_t max_lag = 0;
};

std::string SummaryJson(const LiveFlags& flags,
                        const std::vector<std::unique_ptr<PartitionRun>>& runs,
                        int64_t dead_letters, const Measured& measured, double seconds) {
  std::string json = "{\n  \"partitions\": [";
  int64_t events = 0;
  double first = core::kMissing, last = core::kMissing;  // Of all partitions' busy times.
  for (size_t i = 0; i < runs.size(); ++i) {
    const engine::kafka::KafkaPredictionSink::BusyTime busy = runs[i]->live->busy();
    if (!core::IsMissing(busy.first_consumed)) {
      first = core::IsMissing(first) ? busy.first_consumed : std::min(first, busy.first_consumed);
      last = core::IsMissing(last) ? busy.last_written : std::max(last, busy.last_written);
    }
    const engine::kafka::LivePartition& live = *runs[i]->live;
    const engine::RunResult& r = *runs[i]->live->Join();
    const engine::kafka::KafkaPredictionSink::Counts sink = live.sink_counts();
    events += r.events;
    absl::StrAppend(
        &json, i == 0 ? "\n" : ",\n", "    {\"partition\": ", live.partition(),
        ", \"resumed_from_version\": ", live.resumed_version(),
        ", \"uncommitted_versions_dropped\": ", live.dropped_versions(),
        ", \"imported_version\": ", live.imported_version(),
        ", \"handed_back\": ", runs[i]->revoked ? "true" : "false",
        // Wall-clock Unix seconds, for the time a partition takes to move (make bench).
        ", \"assigned_at\": ", core::FormatFixed(runs[i]->assigned_at, 3),
        ", \"running_at\": ", core::FormatFixed(runs[i]->started_at, 3),
        ", \"first_event_at\": ", core::JsonNumber(busy.first_consumed),
        ", \"revoked_at\": ", core::FormatFixed(runs[i]->revoked_at, 3),
        ", \"handed_back_at\": ", core::FormatFixed(runs[i]->handed_back_at, 3),
        ", \"last_version\": ", r.last_version, ", \"events\": ", r.events,
        ", \"labels\": ", r.labels, ", \"recovered\": ", sink.recovered,
        ", \"not_output_again\": ", sink.skipped, ", \"recomputed_differently\": ", sink.differed,
        ", \"bad_records\": ", r.bad_records, ", \"labels_pending\": ", r.labels_pending,
        ", \"paused_for_outputs\": {\"times\": ", live.source().pauses(),
        ", \"seconds\": ", core::FormatFixed(live.source().paused_seconds(), 3), "}",
        ", \"snapshot_pause_max_ms\": ",
        core::FormatFixed(1000 * engine::Quantile(r.snapshot_pauses, 1.0), 3),
        ", \"label_join\": {\"joined\": ", r.label_counts.joined,
        ", \"expired\": ", r.label_counts.expired, ", \"duplicate\": ", r.label_counts.duplicate,
        ", \"late\": ", r.label_counts.late, ", \"unknown\": ", r.label_counts.unknown,
        ", \"evicted\": ", r.label_counts.evicted, "}", ", \"drifts\": ", engine::DriftsJson(r),
        ", \"challengers\": ", engine::ChallengersJson(&live.challengers()),
        ", \"promotions\": ", engine::PromotionsJson(r), "}");
  }
  absl::StrAppend(
      &json, "\n  ],\n  \"events\": ", events,
      // From the first event consumed to the last prediction written, start-up left out.
      ",\n  \"events_per_second_busy\": ",
      core::FormatFixed(core::IsMissing(first) || last <= first
                            ? 0.0
                            : static_cast<double>(events) / (last - first),
                        0),
      ",\n  \"dead_letters\": ", dead_letters,
      ",\n  \"topics\": {\"transactions\": ", core::JsonQuote(flags.topics.transactions),
      ", \"labels\": ", core::JsonQuote(flags.topics.labels),
      ", \"scores\": ", core::JsonQuote(flags.topics.scores),
      ", \"alerts\": ", core::JsonQuote(flags.topics.alerts),
      "},\n  \"prediction_latency\": ", LatencyJson(measured.prediction),
      ",\n  \"processing_latency\": ", LatencyJson(measured.processing),
      // With Kafka transactions only.
      measured.commit.count() == 0
          ? ""
          : absl::StrCat(",\n  \"commit_latency\": ", LatencyJson(measured.commit),
                         ",\n  \"score_to_committed\": ", LatencyJson(measured.visible)),
      ",\n  \"max_lag\": {\"messages\": ", measured.max_lag,
      ", \"seconds\": ", core::FormatFixed(measured.max_lag_seconds, 3), "}",
      ",\n  \"max_producer_queue\": ", measured.max_producer_queue,
      ",\n  \"seconds\": ", core::FormatFixed(seconds, 3), "\n}\n");
  return json;
}

absl::Status WriteSummary(const std::string& path, const std::string& json) {
  SLUICE_ASSIGN_OR_RETURN(
      auto file, engine::BufferedFile::Create(path, engine::BufferedFile::Mode::kOnCommit));
  file->Append(json);
  return file->Close();
}

// The demo's producer: the built-in stream at flags.demo_rate until stopped.
absl::Status Demo(const LiveFlags& flags, const std::string& brokers) {
  SLUICE_ASSIGN_OR_RETURN(auto reader,
                          engine::CsvReader::Create("built-in synthetic stream",
                                                    engine::NewSyntheticCsvStream(1, kDemoRows),
                                                    engine::CsvReader::Options()));
  SLUICE_ASSIGN_OR_RETURN(auto producer, engine::kafka::Producer::Create(brokers, flags.settings));
  engine::kafka::FeedOptions options;
  options.transactions_topic = flags.topics.transactions;
  options.labels_topic = flags.topics.labels;
  options.rate = flags.demo_rate;
  options.label_delay_seconds = kDemoLabelDelay;
  return engine::kafka::Feed(*reader, *producer, options, &stop_requested).status();
}

// The partitions this process runs, started as they are assigned and stopped (checkpointed)
// as they are revoked: by the consumer group, or all at once when static. Every run stays, for
// the summary. Called on the watching thread only.
class Partitions final : public engine::kafka::GroupMember::Listener {
 public:
  // `global_model` (may be null) is the slot of --serve global; it must outlive the runs.
  Partitions(const LiveFlags& flags, std::string brokers, engine::kafka::Fetcher& inputs,
             engine::kafka::DeadLetters& dead_letters, StatusAucs* aucs,
             const engine::ServingSlot* global_model)
      : flags_(flags),
        brokers_(std::move(brokers)),
        inputs_(inputs),
        dead_letters_(dead_letters),
        aucs_(aucs),
        global_model_(global_model) {}

  void Assigned(const std::vector<int32_t>& partitions) override {
    if (GroupMode(flags_)) {
      Say(absl::StrCat("group ", flags_.group, " gave this process partition(s) ",
                       absl::StrJoin(partitions, ",")));
    }
    if (!failure_.ok()) return;
    // Each restores its own checkpoint (reading the checkpoints topic, importing into the
    // registry, initialising its producer): in parallel, so the last one given does not wait
    // for the others.
    const double assigned_at = NowUnixSeconds();
    std::vector<absl::StatusOr<std::unique_ptr<PartitionRun>>> started(partitions.size());
    std::vector<double> started_at(partitions.size());
    {
      std::vector<std::jthread> starters;
      for (size_t i = 0; i < partitions.size(); ++i) {
        starters.emplace_back([&, i] {
          started[i] = StartPartition(flags_, brokers_, partitions[i], inputs_, dead_letters_,
                                      aucs_, global_model_);
          started_at[i] = NowUnixSeconds();
        });
      }
    }
    for (size_t i = 0; i < partitions.size(); ++i) {
      if (!started[i].ok()) {
        if (failure_.ok()) {
          failure_ = absl::Status(
              started[i].status().code(),
              absl::StrCat("partition ", partitions[i], ": ", started[i].status().message()));
        }
        stop_requested.store(true);
        continue;
      }
      std::unique_ptr<PartitionRun> run = *std::move(started[i]);
      run->assigned_at = assigned_at;
      run->started_at = started_at[i];
      Report(*run->live);
      runs_.push_back(std::move(run));
    }
  }

  // Stops them all at once (each takes its checkpoint, in parallel) and waits for each.
  void Revoked(const std::vector<int32_t>& partitions) override {
    const auto held = [&](const PartitionRun& r) {
      return !r.revoked && std::find(partitions.begin(), partitions.end(), r.live->partition()) !=
                               partitions.end();
    };
    const double now = NowUnixSeconds();
    for (const auto& r : runs_) {
      if (!held(*r)) continue;
      r->stop.store(true);
      r->revoked_at = now;
    }
    for (const auto& r : runs_) {
      if (!held(*r)) continue;
      r->live->Join();
      r->revoked = true;
      r->handed_back_at = NowUnixSeconds();
    }
    Say(absl::StrCat("group ", flags_.group, ": handed back partition(s) ",
                     absl::StrJoin(partitions, ","), ", each checkpointed"));
  }

  // Passes a stop request on to every run.
  void Stop() {
    for (const auto& r : runs_) r->stop.store(true);
  }
  // Whether the watch is over: every run ended (a static set), or, in a group, a stop was
  // requested and every run ended, or with --exit-at-end every partition held reached its end.
  bool Ended() const {
    bool all_done = true, any_held = false;
    for (const auto& r : runs_) {
      all_done = all_done && r->live->done();
      any_held = any_held || !r->revoked;
    }
    if (!GroupMode(flags_)) return all_done;
    return all_done && (stop_requested.load() || (flags_.exit_at_end && any_held));
  }
  const std::vector<std::unique_ptr<PartitionRun>>& runs() const { return runs_; }
  // Whether it runs input partition 0 now (the one that merges the global model).
  bool HoldsPartitionZero() const {
    return std::any_of(runs_.begin(), runs_.end(),
                       [](const auto& r) { return !r->revoked && r->live->partition() == 0; });
  }
  const absl::Status& failure() const { return failure_; }
  ~Partitions() { Stop(); }  // Then each run's destructor waits for it.

 private:
  void Say(const std::string& what) const {
    if (!flags_.quiet) std::fprintf(stderr, "sluice live: %s\n", what.c_str());
  }
  void Report(const engine::kafka::LivePartition& live) const {
    if (flags_.quiet) return;
    const std::string model =
        registry::PartitionModel(flags_.registry.model_name, live.partition());
    for (const std::string& refused : live.refused_checkpoints()) {
      std::fprintf(stderr, "sluice live: partition %d: refused checkpoint %s\n", live.partition(),
                   refused.c_str());
    }
    if (live.resumed_version() > 0) {
      std::fprintf(stderr, "sluice live: partition %d continues from version %lld of %s%s\n",
                   live.partition(), static_cast<long long>(live.resumed_version()), model.c_str(),
                   live.imported_version() > 0
                       ? absl::StrCat(" (imported from ", flags_.checkpoints_topic, ")").c_str()
                       : "");
    }
  }

  const LiveFlags& flags_;
  const std::string brokers_;
  engine::kafka::Fetcher& inputs_;
  engine::kafka::DeadLetters& dead_letters_;
  StatusAucs* aucs_;
  const engine::ServingSlot* global_model_;
  std::vector<std::unique_ptr<PartitionRun>> runs_;
  absl::Status failure_;
};

// What all partitions stand at now, for the status line.
struct Status {
  int64_t events = 0, labels = 0, pending = 0, lag = 0, queue = 0;
  double lag_seconds = 0;
};
Status Gather(const std::vector<std::unique_ptr<PartitionRun>>& runs,
              const engine::kafka::Producer& dead_letters) {
  Status s;
  s.queue = dead_letters.queued();
  for (const auto& r : runs) {
    s.events += r->counter.events.load(std::memory_order_relaxed);
    s.labels += r->counter.labels.load(std::memory_order_relaxed);
    s.pending += r->counter.pending.load(std::memory_order_relaxed);
    s.lag += std::max<int64_t>(r->live->lag(), 0);
    s.lag_seconds = std::max(s.lag_seconds, r->live->lag_seconds());
    s.queue += r->live->producer_queue();
  }
  return s;
}

void PrintStatus(const Status& s, double rate,
                 const engine::kafka::KafkaPredictionSink::Latencies& l, StatusAucs& aucs,
                 int64_t dead_letters) {
  double anomaly_auc = 0, fraud_auc = 0;
  {
    absl::MutexLock lock(&aucs.mu);
    anomaly_auc = aucs.anomaly.Auc();
    fraud_auc = aucs.fraud.Auc();
  }
  std::fprintf(stderr,
               "sluice live: %lld events (%.0f/s), lag %lld (%.1f s), latency p50 %.1f ms p99 "
               "%.1f ms (processing p99 %.1f ms), %lld labels, %lld pending, rolling AUC "
               "anomaly %.3f fraud %.3f, %lld dead letters, producer queue %lld\n",
               static_cast<long long>(s.events), rate, static_cast<long long>(s.lag), s.lag_seconds,
               1000 * l.prediction.Quantile(0.5), 1000 * l.prediction.Quantile(0.99),
               1000 * l.processing.Quantile(0.99), static_cast<long long>(s.labels),
               static_cast<long long>(s.pending), anomaly_auc, fraud_auc,
               static_cast<long long>(dead_letters), static_cast<long long>(s.queue));
}

// The global model's lines (one per version made or served, and its errors).
void PrintGlobalNotes(const LiveFlags& flags, engine::kafka::GlobalModelService& global) {
  for (const std::string& note : global.TakeNotes()) {
    if (!flags.quiet) std::fprintf(stderr, "sluice live: %s\n", note.c_str());
  }
}

// The challengers promoted since the last look, one line each.
void PrintPromotions(const LiveFlags& flags,
                     const std::vector<std::unique_ptr<PartitionRun>>& runs) {
  for (const auto& r : runs) {
    for (const engine::PromotionRecord& p : r->counter.TakePromotions()) {
      if (flags.quiet) continue;
      std::fprintf(
          stderr,
          "sluice live: partition %d: challenger %s promoted: version %lld of %s, alias "
          "champion moved (rolling AUC %s vs the champion's %s over %lld labels)\n",
          r->live->partition(), p.challenger.c_str(), static_cast<long long>(p.version),
          registry::PartitionModel(flags.registry.model_name, r->live->partition()).c_str(),
          core::FormatDouble(p.rolling_auc).c_str(),
          core::FormatDouble(p.champion_rolling_auc).c_str(), static_cast<long long>(p.labels));
    }
  }
}

// What the HTTP API shows of the stream (GET /v1/state, /metrics), published once a second.
engine::http::StreamState HttpState(const std::vector<std::unique_ptr<PartitionRun>>& runs,
                                    const Status& status, double rate,
                                    const engine::kafka::KafkaPredictionSink::Latencies& l,
                                    StatusAucs& aucs, int64_t dead_letters, int64_t version) {
  engine::http::StreamState state;
  state.events = status.events;
  state.labels = status.labels;
  state.pending_joins = status.pending;
  state.bad_inputs = dead_letters;
  state.events_per_second = rate;
  state.version = version;
  if (l.prediction.count() > 0) {
    state.latency_p50_ms = 1000 * l.prediction.Quantile(0.5);
    state.latency_p99_ms = 1000 * l.prediction.Quantile(0.99);
  }
  {
    absl::MutexLock lock(&aucs.mu);
    if (status.labels > 0) {
      state.auc_anomaly = aucs.anomaly.Auc();
      state.auc_fraud = aucs.fraud.Auc();
    }
    for (size_t i = 0; i < aucs.challengers.size(); ++i) {
      state.challenger_aucs.emplace_back(
          aucs.challenger_names[i],
          status.labels > 0 ? std::optional(aucs.challengers[i].Auc()) : std::nullopt);
    }
  }
  for (const auto& r : runs) {
    state.alerts += r->counter.alerts.load(std::memory_order_relaxed);
    const engine::LabelCounts c = r->counter.label_counts();
    state.label_counts.joined += c.joined;
    state.label_counts.expired += c.expired;
    state.label_counts.duplicate += c.duplicate;
    state.label_counts.late += c.late;
    state.label_counts.unknown += c.unknown;
    state.label_counts.evicted += c.evicted;
    const engine::http::DriftLog drifts = r->counter.drifts();
    for (size_t k = 0; k < drifts.counts.size(); ++k) state.drifts.counts[k] += drifts.counts[k];
    for (const engine::Drift& d : drifts.recent) state.drifts.recent.push_back(d);
    if (r->revoked) continue;
    engine::http::StreamState::Partition& p = state.partitions.emplace_back();
    p.partition = r->live->partition();
    p.position = r->live->offset();
    p.events = r->counter.events.load(std::memory_order_relaxed);
    p.lag = std::max<int64_t>(r->live->lag(), 0);
    state.ready = true;
  }
  return state;
}

// Prints the status line once a second (unless quiet) until every runner has ended or
// --seconds ran out; returns what it measured over the whole run.
Measured Watch(const LiveFlags& flags, Partitions& partitions, engine::kafka::GroupMember* member,
               StatusAucs& aucs, const engine::kafka::DeadLetters& dead_letters,
               const engine::kafka::Producer& dead_letters_producer,
               engine::kafka::GlobalModelService* global, HttpService* http,
               std::chrono::steady_clock::time_point start) {
  const std::vector<std::unique_ptr<PartitionRun>>& runs = partitions.runs();
  Measured measured;
  engine::kafka::KafkaPredictionSink::Latencies interval;
  const auto collect = [&] {
    for (const auto& r : runs) {
      const engine::kafka::KafkaPredictionSink::Latencies taken = r->live->TakeLatencies();
      interval.prediction.Merge(taken.prediction);
      interval.processing.Merge(taken.processing);
      interval.commit.Merge(taken.commit);
      interval.visible.Merge(taken.visible);
    }
  };
  const auto close_interval = [&] {
    measured.prediction.Merge(interval.prediction);
    measured.processing.Merge(interval.processing);
    measured.commit.Merge(interval.commit);
    measured.visible.Merge(interval.visible);
    interval = {};
  };
  int64_t last_events = 0;
  auto last = start;
  while (true) {
    // The group's rebalances start and stop runs in here (so `runs` changes only here).
    if (member == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else if (absl::Status s = member->Poll(absl::Milliseconds(100), partitions); !s.ok()) {
      std::fprintf(stderr, "sluice live: %s\n", std::string(s.message()).c_str());
      stop_requested.store(true);
    }
    if (stop_requested.load()) partitions.Stop();
    collect();
    const Status now_status = Gather(runs, dead_letters_producer);
    PrintPromotions(flags, runs);
    if (global != nullptr) {
      global->Observe(now_status.events, partitions.HoldsPartitionZero());
      PrintGlobalNotes(flags, *global);
    }
    measured.max_producer_queue = std::max(measured.max_producer_queue, now_status.queue);
    measured.max_lag = std::max(measured.max_lag, now_status.lag);
    measured.max_lag_seconds = std::max(measured.max_lag_seconds, now_status.lag_seconds);
    const auto now = std::chrono::steady_clock::now();
    if (now - last >= std::chrono::seconds(1)) {
      const double rate = static_cast<double>(now_status.events - last_events) /
                          std::chrono::duration<double>(now - last).count();
      if (!flags.quiet) PrintStatus(now_status, rate, interval, aucs, dead_letters.count());
      if (http != nullptr) {
        http->stream->Publish(HttpState(runs, now_status, rate, interval, aucs,
                                        dead_letters.count(), http->api->served_version()));
        http->stream->ObserveLatencies(interval.prediction, interval.processing);
      }
      close_interval();
      last = now;
      last_events = now_status.events;
    }
    if (flags.seconds > 0 && std::chrono::duration<double>(now - start).count() >= flags.seconds) {
      stop_requested.store(true);
    }
    if (partitions.Ended()) break;
  }
  collect();
  close_interval();
  PrintPromotions(flags, runs);
  if (global != nullptr) {
    // The events scored since the last look count too (with --exit-at-end, often all of them).
    global->Observe(Gather(runs, dead_letters_producer).events, partitions.HoldsPartitionZero());
  }
  return measured;
}

// Resolves --exactly-once auto: librdkafka's mock cluster keeps no transactional offsets and
// shows aborted data (see README), so there outputs are read back instead.
void ChooseExactlyOnce(LiveFlags& flags, const std::string& cluster_id) {
  if (flags.registry.path.empty() || flags.exactly_once != "auto") return;
  flags.exactly_once = flags.mock_cluster ? "read-back" : "transactions";
  if (!flags.quiet) {
    std::fprintf(stderr, "sluice live: cluster %s: exactly once by %s\n", cluster_id.c_str(),
                 flags.exactly_once == "read-back" ? "reading outputs back" : "Kafka transactions");
  }
}

// What the cluster must hold before any partition starts: the partition count, the settings
// its kind needs, the exactly-once mode, the output topics.
absl::Status PrepareCluster(LiveFlags& flags, const std::string& brokers) {
  if (flags.partitions == 0) {
    SLUICE_ASSIGN_OR_RETURN(flags.partitions, engine::kafka::PartitionCount(
                                                  brokers, flags.settings,
                                                  flags.topics.transactions, absl::Seconds(30)));
  }
  std::string id;
  SLUICE_ASSIGN_OR_RETURN(flags.settings,
                          engine::kafka::ClusterSettings(brokers, flags.settings, &id));
  flags.mock_cluster = engine::kafka::IsMockClusterId(id);
  ChooseExactlyOnce(flags, id);
  std::vector<std::string> created;
  SLUICE_RETURN_IF_ERROR(engine::kafka::CreateMissingOutputTopics(
      brokers, flags.settings, flags.topics, static_cast<int32_t>(flags.partitions), &created));
  if (GroupMode(flags) && !flags.registry.path.empty()) {
    SLUICE_RETURN_IF_ERROR(
        engine::kafka::PrepareCheckpointsTopic(brokers, flags.settings, flags.checkpoints_topic,
                                               static_cast<int32_t>(flags.partitions), &created));
  }
  if (!created.empty() && !flags.quiet) {
    std::fprintf(stderr, "sluice live: created topic%s %s with %lld partitions\n",
                 created.size() == 1 ? "" : "s", absl::StrJoin(created, ", ").c_str(),
                 static_cast<long long>(flags.partitions));
  }
  return absl::OkStatus();
}

// What the global model service of --global-model / --serve global is given.
engine::kafka::GlobalModelService::Options GlobalOptions(const LiveFlags& flags,
                                                         const std::string& brokers,
                                                         engine::ServingSlot* slot) {
  engine::kafka::GlobalModelService::Options o;
  o.model.brokers = brokers;
  o.model.settings = flags.settings;
  o.model.group = flags.group;
  o.model.checkpoints_topic = flags.checkpoints_topic;
  o.model.model_name = flags.registry.model_name;
  o.model.partitions = static_cast<int32_t>(flags.partitions);
  o.model.registry = flags.registry.path;
  o.publish_every_events = flags.global_every_events;
  if (flags.serve_global) o.serve = slot;
  o.features = flags.features;
  return o;
}

// Waits for every run and prints what failed: its error, or versions it could not write.
bool AllSucceeded(const std::vector<std::unique_ptr<PartitionRun>>& runs) {
  bool ok = true;
  for (const auto& r : runs) {
    const absl::StatusOr<engine::RunResult>& result = r->live->Join();
    std::vector<std::string> errors;
    if (!result.ok()) errors.emplace_back(result.status().message());
    if (result.ok()) errors = result->snapshot_errors;
    for (const std::string& error : errors) {
      std::fprintf(stderr, "sluice live: partition %d: %s\n", r->live->partition(), error.c_str());
      ok = false;
    }
  }
  return ok;
}

// --http-port: the API beside the stream. A label posted is produced to the labels topic by
// `labels_out`, keyed by its id, and so joined by the partition that scored the event, exactly
// as any other label. Both must outlive the service.
absl::StatusOr<HttpService> StartLiveHttp(const LiveFlags& flags,
                                          engine::kafka::Producer& labels_out) {
  const std::string& topic = flags.topics.labels;
  return StartHttp(*flags.http,
                   StreamSpec{"live",
                              [&labels_out, &topic](const engine::LabelRecord& label) {
                                std::string value;
                                engine::AppendLabelJson(label, &value);
                                return labels_out.Send(topic, -1, label.id, value);
                              },
                              ""},
                   "sluice live");
}

// --global-model / --serve global: the service that merges and follows the global versions,
// serving the latest of them into `slot` before the first partition starts; else null.
absl::StatusOr<std::unique_ptr<engine::kafka::GlobalModelService>> StartGlobalModel(
    const LiveFlags& flags, const std::string& brokers, engine::ServingSlot* slot) {
  if (flags.global_every_events == 0 && !flags.serve_global) {
    return std::unique_ptr<engine::kafka::GlobalModelService>();
  }
  SLUICE_ASSIGN_OR_RETURN(
      auto global, engine::kafka::GlobalModelService::Create(GlobalOptions(flags, brokers, slot)));
  PrintGlobalNotes(flags, *global);
  return global;
}

// In a consumer group, the member that joins it (the group assigns the partitions); otherwise
// every partition is assigned here, and there is no member.
absl::StatusOr<std::unique_ptr<engine::kafka::GroupMember>> JoinOrAssign(const LiveFlags& flags,
                                                                         const std::string& brokers,
                                                                         Partitions& partitions) {
  if (!GroupMode(flags)) {
    std::vector<int32_t> all(static_cast<size_t>(flags.partitions));
    for (size_t p = 0; p < all.size(); ++p) all[p] = static_cast<int32_t>(p);
    partitions.Assigned(all);
    return std::unique_ptr<engine::kafka::GroupMember>();
  }
  return engine::kafka::GroupMember::Create(
      brokers, flags.group, flags.settings, flags.topics.transactions,
      flags.assignment == "eager" ? engine::kafka::GroupMember::Protocol::kEager
                                  : engine::kafka::GroupMember::Protocol::kCooperative);
}

int Live(LiveFlags& flags) {
  const auto fail = [](const absl::Status& status) {
    std::fprintf(stderr, "sluice live: %s\n", std::string(status.message()).c_str());
    return 1;
  };
  // From the start: a signal while connecting stops the run as cleanly as one later.
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);
  std::unique_ptr<engine::kafka::EmbeddedBroker> embedded;
  const absl::StatusOr<std::string> brokers = Brokers(flags, &embedded);
  if (!brokers.ok()) return fail(brokers.status());
  if (absl::Status s = PrepareCluster(flags, *brokers); !s.ok()) return fail(s);
  auto producer = engine::kafka::Producer::Create(*brokers, flags.settings);
  if (!producer.ok()) return fail(producer.status());
  engine::kafka::DeadLetters dead_letters(**producer, flags.topics.DeadLetters());
  // One client reads every partition's events and labels (it outlives the runs).
  auto inputs = engine::kafka::Fetcher::Create(*brokers, flags.group, flags.settings);
  if (!inputs.ok()) return fail(inputs.status());
  // --global-model / --serve global: the served slot outlives the partitions, and the service
  // serves the latest global version before the first partition starts.
  engine::ServingSlot global_slot;
  auto global = StartGlobalModel(flags, *brokers, &global_slot);
  if (!global.ok()) return fail(global.status());
  const auto start = std::chrono::steady_clock::now();
  StatusAucs aucs(flags.challengers.specs);
  aucs.format = {engine::VersionColumns::kNone, flags.pipeline.anomaly, flags.pipeline.fraud, {}};
  aucs.alert_threshold = flags.alert_threshold;
  Partitions partitions(flags, *brokers, **inputs, dead_letters, &aucs,
                        flags.serve_global ? &global_slot : nullptr);
  const auto member = JoinOrAssign(flags, *brokers, partitions);
  if (!member.ok()) return fail(member.status());
  if (!partitions.failure().ok()) return fail(partitions.failure());
  std::optional<HttpService> http;
  if (flags.http.has_value()) {
    auto started = StartLiveHttp(flags, **producer);
    if (!started.ok()) return fail(started.status());
    http = *std::move(started);
  }
  // --demo: the built-in stream into the topics, paced, the frauds' labels an hour late.
  absl::Status feed_status;
  std::thread feeder;
  if (flags.demo) feeder = std::thread([&] { feed_status = Demo(flags, *brokers); });
  const Measured measured = Watch(flags, partitions, member->get(), aucs, dead_letters, **producer,
                                  global->get(), http.has_value() ? &*http : nullptr, start);
  if (*member != nullptr) (*member)->Leave(partitions);  // Its runs have ended: nothing to wait.
  if (*global != nullptr) {
    (*global)->Finish();  // A merge due at the end is made from the partitions' final versions.
    PrintGlobalNotes(flags, **global);
  }
  if (feeder.joinable()) feeder.join();
  if (!partitions.failure().ok()) return fail(partitions.failure());
  if (!feed_status.ok()) return fail(feed_status);
  const absl::Status flushed = (*producer)->Flush(absl::Minutes(1));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!AllSucceeded(partitions.runs())) return 1;
  if (!flushed.ok()) return fail(flushed);
  const std::string summary =
      SummaryJson(flags, partitions.runs(), dead_letters.count(), measured, seconds);
  if (!flags.summary.empty()) {
    if (absl::Status s = WriteSummary(flags.summary, summary); !s.ok()) return fail(s);
  }
  if (!flags.quiet) std::fputs(summary.c_str(), stdout);
  return 0;
}

}  // namespace

int LiveCommand(int argc, char** argv) {
  std::optional<LiveFlags> flags;
  try {
    flags = ParseFlags(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice live: %s\n", e.what());
    return 2;
  }
  if (!flags.has_value()) return 0;
  return Live(*flags);
}

}  // namespace sluice::tools
