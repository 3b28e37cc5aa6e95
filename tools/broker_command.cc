// tools/broker_command.cc. `sluice broker`: a standalone Kafka-protocol broker (the embedded
// one) for trying sluice without Kafka and for tests that kill `sluice live` while the broker
// lives on.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cxxopts.hpp"
#include "engine/kafka/embedded_broker.h"
#include "engine/text_file.h"
#include "tools/commands.h"
#include "tools/flags.h"

namespace sluice::tools {
namespace {

std::atomic<bool> stop_requested{false};
void RequestStop(int) { stop_requested.store(true); }

// Serves fault commands from stdin until SIGTERM/SIGINT or "quit". The end of stdin ends the
// commands, not the broker.
void ServeCommands(engine::kafka::EmbeddedBroker& broker) {
  std::string pending;
  bool input_open = true;
  while (!stop_requested.load()) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (!input_open || ::poll(&fd, 1, 200) <= 0) {
      if (!input_open) ::usleep(200 * 1000);
      continue;
    }
    char buffer[4096];
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n <= 0) {
      input_open = false;
      continue;
    }
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.empty()) continue;
      if (line == "quit") return;
      const absl::Status status = broker.Command(line);
      std::fprintf(stderr, "sluice broker: %s: %s\n", line.c_str(),
                   status.ok() ? "ok" : std::string(status.message()).c_str());
    }
  }
}

}  // namespace

int BrokerCommand(int argc, char** argv) {
  cxxopts::Options spec(
      "sluice broker",
      "A local Kafka-protocol broker (librdkafka's mock cluster): prints its bootstrap address, "
      "lives until SIGTERM/SIGINT or \"quit\" on stdin, and takes fault commands on stdin, one "
      "per line: down B | up B | rtt B MS | err API CODE [N] | clear API | topic NAME "
      "PARTITIONS. Data lives in memory only, about 5 MiB per partition.");
  // clang-format off
  spec.add_options()
    ("partitions", "Partitions of each topic created at start", cxxopts::value<std::string>()->default_value("4"))
    ("brokers", "Brokers in the cluster", cxxopts::value<std::string>()->default_value("1"))
    ("topics", "Topics to create at start, comma separated", cxxopts::value<std::string>()->default_value("transactions,labels,scores,alerts,transactions.dlq,sluice.checkpoints"))
    ("bootstrap-file", "Also write the bootstrap address here (atomically)", cxxopts::value<std::string>()->default_value(""))
    ("h,help", "Show this help");
  // clang-format on
  int64_t partitions = 0, brokers = 0;
  std::string topics, bootstrap_file;
  try {
    const cxxopts::ParseResult parsed = spec.parse(argc, argv);
    if (parsed.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    const FlagReader f(parsed);
    partitions = f.Int("partitions", 1, 1024);
    brokers = f.Int("brokers", 1, 16);
    topics = f.Str("topics");
    bootstrap_file = f.Str("bootstrap-file");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice broker: %s\n", e.what());
    return 2;
  }
  auto broker = engine::kafka::EmbeddedBroker::Start(static_cast<int>(brokers));
  if (!broker.ok()) {
    std::fprintf(stderr, "sluice broker: %s\n", std::string(broker.status().message()).c_str());
    return 1;
  }
  for (absl::string_view topic : absl::StrSplit(topics, ',', absl::SkipEmpty())) {
    if (absl::Status s = (*broker)->CreateTopic(std::string(topic), static_cast<int>(partitions));
        !s.ok()) {
      std::fprintf(stderr, "sluice broker: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);
  const std::string& bootstrap = (*broker)->bootstrap();
  if (!bootstrap_file.empty()) {
    auto file = engine::BufferedFile::Create(bootstrap_file, engine::BufferedFile::Mode::kOnCommit);
    absl::Status status = file.status();
    if (status.ok()) {
      (*file)->Append(absl::StrCat(bootstrap, "\n"));
      status = (*file)->Close();
    }
    if (!status.ok()) {
      std::fprintf(stderr, "sluice broker: %s\n", std::string(status.message()).c_str());
      return 1;
    }
  }
  std::printf("%s\n", bootstrap.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "sluice broker: %lld broker%s at %s, topics %s with %lld partitions\n",
               static_cast<long long>(brokers), brokers == 1 ? "" : "s", bootstrap.c_str(),
               topics.c_str(), static_cast<long long>(partitions));
  ServeCommands(**broker);
  std::fprintf(stderr, "sluice broker: stopped\n");
  return 0;
}

}  // namespace sluice::tools
