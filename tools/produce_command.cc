// tools/produce_command.cc. `sluice produce`: pushes a CSV into the transactions topic as JSON
// events keyed by id, at a given rate, and the labels into the labels topic, each when its time
// comes.
#include <chrono>
#include <cstdio>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/event_json.h"
#include "engine/kafka/client.h"
#include "engine/labels_file.h"
#include "engine/synthetic_stream.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace sluice::tools {
namespace {

struct ProduceFlags {
  std::string brokers;
  engine::kafka::Settings settings;
  std::string input;  // Empty: the built-in stream.
  int64_t rows = 100000;
  engine::CsvReader::Options csv;
  std::string transactions_topic, labels_topic;
  double rate = 0;  // Events per second; 0: as fast as the broker takes them.
  std::optional<double> label_delay_seconds;
  std::string labels_file;
  bool all_labels = false;
};

// Labels in the order they become known (time, then the order they were added).
struct LabelLater {
  bool operator()(const std::pair<engine::LabelRecord, int64_t>& a,
                  const std::pair<engine::LabelRecord, int64_t>& b) const {
    return a.first.time != b.first.time ? a.first.time > b.first.time : a.second > b.second;
  }
};
using LabelQueue =
    std::priority_queue<std::pair<engine::LabelRecord, int64_t>,
                        std::vector<std::pair<engine::LabelRecord, int64_t>>, LabelLater>;

struct Counts {
  int64_t events = 0;
  int64_t labels = 0;
};

// Sends every queued label known by `time` (all of them for +infinity).
absl::Status SendLabelsUntil(double time, const ProduceFlags& flags,
                             engine::kafka::Producer& producer, LabelQueue& queue, Counts* counts) {
  std::string json;
  while (!queue.empty() && queue.top().first.time <= time) {
    const engine::LabelRecord& label = queue.top().first;
    json.clear();
    engine::AppendLabelJson(label, &json);
    SLUICE_RETURN_IF_ERROR(producer.Send(flags.labels_topic, -1, label.id, json));
    ++counts->labels;
    queue.pop();
  }
  return absl::OkStatus();
}

absl::StatusOr<Counts> Produce(const ProduceFlags& flags) {
  std::unique_ptr<engine::CsvReader> reader;
  if (flags.input.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        reader, engine::CsvReader::Create("built-in synthetic stream",
                                          engine::NewSyntheticCsvStream(1, flags.rows), flags.csv));
  } else {
    SLUICE_ASSIGN_OR_RETURN(reader, engine::CsvReader::Open(flags.input, flags.csv));
  }
  LabelQueue queue;
  int64_t added = 0;
  if (!flags.labels_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(const auto labels, engine::ReadLabelsFile(flags.labels_file));
    for (const engine::LabelRecord& l : labels) queue.emplace(l, added++);
  }
  SLUICE_ASSIGN_OR_RETURN(auto producer,
                          engine::kafka::Producer::Create(flags.brokers, flags.settings));
  Counts counts;
  core::Event event;
  std::string json;
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(const engine::CsvReader::Result result, reader->Next(&event));
    if (result == engine::CsvReader::Result::kEndOfStream) break;
    if (result == engine::CsvReader::Result::kBadRow) {
      return absl::InvalidArgumentError(reader->bad_row_message());
    }
    SLUICE_RETURN_IF_ERROR(SendLabelsUntil(event.event_time, flags, *producer, queue, &counts));
    json.clear();
    engine::AppendEventJson(event, reader->feature_names(), &json);
    SLUICE_RETURN_IF_ERROR(producer->Send(flags.transactions_topic, -1, event.id, json));
    ++counts.events;
    if (flags.label_delay_seconds.has_value() && event.label.has_value() &&
        (*event.label || flags.all_labels)) {
      queue.emplace(engine::LabelRecord{event.id, *event.label,
                                        event.event_time + *flags.label_delay_seconds},
                    added++);
    }
    if (flags.rate > 0 && counts.events % 100 == 0) {
      const auto due =
          start + std::chrono::duration<double>(static_cast<double>(counts.events) / flags.rate);
      std::this_thread::sleep_until(due);
    }
  }
  SLUICE_RETURN_IF_ERROR(
      SendLabelsUntil(std::numeric_limits<double>::infinity(), flags, *producer, queue, &counts));
  SLUICE_RETURN_IF_ERROR(producer->Flush(absl::Minutes(5)));
  return counts;
}

}  // namespace

int ProduceCommand(int argc, char** argv) {
  cxxopts::Options spec("sluice produce",
                        "Push a CSV (or the built-in synthetic stream) into the transactions "
                        "topic as JSON events keyed by id, and its labels into the labels topic, "
                        "each label when its time comes.");
  // clang-format off
  spec.add_options()
    ("brokers", "Bootstrap servers host:port,... (sluice broker prints them)", cxxopts::value<std::string>())
    ("X", "A librdkafka setting key=value (repeatable)", cxxopts::value<std::vector<std::string>>())
    ("input", "CSV file with a header row (default: built-in synthetic stream)", cxxopts::value<std::string>())
    ("rows", "Rows of the built-in stream", cxxopts::value<std::string>()->default_value("100000"))
    ("label-column", "Label column (0/1); empty for none", cxxopts::value<std::string>()->default_value("Class"))
    ("time-column", "Event-time column (seconds)", cxxopts::value<std::string>()->default_value("Time"))
    ("id-column", "Id column (default: the row number)", cxxopts::value<std::string>()->default_value(""))
    ("exclude", "Columns that are not features, comma separated", cxxopts::value<std::string>()->default_value(""))
    ("transactions-topic", "Topic of the events", cxxopts::value<std::string>()->default_value("transactions"))
    ("labels-topic", "Topic of the labels", cxxopts::value<std::string>()->default_value("labels"))
    ("rate", "Events per second (0: as fast as possible)", cxxopts::value<std::string>()->default_value("0"))
    ("label-delay-seconds", "Send each row's label S seconds of event time after it", cxxopts::value<std::string>())
    ("all-labels", "With --label-delay-seconds: send every label, not only the frauds")
    ("labels", "Send the labels of this CSV (id,label,time) instead, each at its time", cxxopts::value<std::string>())
    ("h,help", "Show this help");
  // clang-format on
  ProduceFlags flags;
  try {
    const cxxopts::ParseResult parsed = spec.parse(argc, argv);
    if (parsed.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    const FlagReader f(parsed);
    if (!f.Has("brokers")) throw FlagError("--brokers host:port is required");
    flags.brokers = f.NonEmpty("brokers");
    if (parsed.count("X") != 0) {
      for (const std::string& setting : parsed["X"].as<std::vector<std::string>>()) {
        auto kv = engine::kafka::ParseSetting(setting);
        if (!kv.ok()) throw FlagError(std::string(kv.status().message()));
        flags.settings.push_back(*kv);
      }
    }
    if (f.Has("input")) flags.input = f.NonEmpty("input");
    flags.rows = f.Int("rows", 0);
    flags.csv.label_column = f.Str("label-column");
    flags.csv.time_column = f.Str("time-column");
    flags.csv.time_column_required = f.Has("time-column");
    flags.csv.id_column = f.Str("id-column");
    for (absl::string_view column : absl::StrSplit(f.Str("exclude"), ',', absl::SkipEmpty())) {
      flags.csv.exclude.emplace_back(column);
    }
    flags.transactions_topic = f.NonEmpty("transactions-topic");
    flags.labels_topic = f.NonEmpty("labels-topic");
    flags.rate = f.Double("rate", 0);
    if (f.Has("label-delay-seconds"))
      flags.label_delay_seconds = f.Double("label-delay-seconds", 0);
    if (f.Has("labels")) flags.labels_file = f.NonEmpty("labels");
    if (flags.label_delay_seconds.has_value() && !flags.labels_file.empty()) {
      throw FlagError("--labels and --label-delay-seconds exclude each other");
    }
    flags.all_labels = f.Has("all-labels");
    if (flags.all_labels && !flags.label_delay_seconds.has_value()) {
      throw FlagError("--all-labels needs --label-delay-seconds");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice produce: %s\n", e.what());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<Counts> counts = Produce(flags);
  if (!counts.ok()) {
    std::fprintf(stderr, "sluice produce: %s\n", std::string(counts.status().message()).c_str());
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "sluice produce: %s and %s to %s in %.2f s (%.0f events/s)\n",
               core::Count(counts->events, "event", "events").c_str(),
               core::Count(counts->labels, "label", "labels").c_str(), flags.brokers.c_str(),
               seconds, static_cast<double>(counts->events) / std::max(seconds, 1e-9));
  return 0;
}

}  // namespace sluice::tools
