// tools/produce_command.cc. `sluice produce`: pushes a CSV into the transactions topic as JSON
// events keyed by id, at a given rate, and the labels into the labels topic, each when its time
// comes.
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/csv_reader.h"
#include "engine/kafka/client.h"
#include "engine/kafka/feed.h"
#include "engine/labels_file.h"
#include "engine/synthetic_stream.h"
#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/model_flags.h"

namespace sluice::tools {
namespace {

struct ProduceFlags {
  std::string brokers;
  engine::kafka::Settings settings;
  std::string input;  // Empty: the built-in stream.
  int64_t rows = 100000;
  engine::CsvReader::Options csv;
  engine::kafka::FeedOptions feed;
  std::string labels_file;
};

absl::StatusOr<engine::kafka::FeedCounts> Produce(ProduceFlags& flags) {
  std::unique_ptr<engine::CsvReader> reader;
  if (flags.input.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        reader, engine::CsvReader::Create("built-in synthetic stream",
                                          engine::NewSyntheticCsvStream(1, flags.rows), flags.csv));
  } else {
    SLUICE_ASSIGN_OR_RETURN(reader, engine::CsvReader::Open(flags.input, flags.csv));
  }
  if (!flags.labels_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(flags.feed.labels, engine::ReadLabelsFile(flags.labels_file));
  }
  SLUICE_ASSIGN_OR_RETURN(const engine::kafka::Settings settings,
                          engine::kafka::ClusterSettings(flags.brokers, flags.settings, nullptr));
  SLUICE_ASSIGN_OR_RETURN(auto producer, engine::kafka::Producer::Create(flags.brokers, settings));
  return engine::kafka::Feed(*reader, *producer, flags.feed);
}

// FlagError on a contradiction.
ProduceFlags ParseFlags(const FlagReader& f) {
  ProduceFlags flags;
  if (!f.Has("brokers")) throw FlagError("--brokers host:port is required");
  flags.brokers = f.NonEmpty("brokers");
  flags.settings = ParseKafkaSettings(f);
  if (f.Has("input")) flags.input = f.NonEmpty("input");
  flags.rows = f.Int("rows", 0);
  ParseCsvFlags(f, &flags.csv);
  flags.feed.transactions_topic = f.NonEmpty("transactions-topic");
  flags.feed.labels_topic = f.NonEmpty("labels-topic");
  flags.feed.rate = f.Double("rate", 0);
  if (f.Has("label-delay-seconds")) {
    flags.feed.label_delay_seconds = f.Double("label-delay-seconds", 0);
  }
  if (f.Has("labels")) flags.labels_file = f.NonEmpty("labels");
  if (flags.feed.label_delay_seconds.has_value() && !flags.labels_file.empty()) {
    throw FlagError("--labels and --label-delay-seconds exclude each other");
  }
  flags.feed.all_labels = f.Has("all-labels");
  if (flags.feed.all_labels && !flags.feed.label_delay_seconds.has_value()) {
    throw FlagError("--all-labels needs --label-delay-seconds");
  }
  return flags;
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
    ("transactions-topic", "Topic of the events", cxxopts::value<std::string>()->default_value("transactions"))
    ("labels-topic", "Topic of the labels", cxxopts::value<std::string>()->default_value("labels"))
    ("rate", "Events per second (0: as fast as possible)", cxxopts::value<std::string>()->default_value("0"))
    ("label-delay-seconds", "Send each row's label S seconds of event time after it", cxxopts::value<std::string>())
    ("all-labels", "With --label-delay-seconds: send every label, not only the frauds")
    ("labels", "Send the labels of this CSV (id,label,time) instead, each at its time", cxxopts::value<std::string>())
    ("h,help", "Show this help");
  // clang-format on
  AddCsvFlags(spec);
  ProduceFlags flags;
  try {
    const cxxopts::ParseResult parsed = spec.parse(argc, argv);
    if (parsed.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    flags = ParseFlags(FlagReader(parsed));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice produce: %s\n", e.what());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<engine::kafka::FeedCounts> counts = Produce(flags);
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
