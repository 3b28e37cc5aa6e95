// tools/main.cc. `sluice <command> [flags]`.
#include <malloc.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/commands.h"

namespace {

constexpr const char* kUsage =
    "sluice: online anomaly and fraud detection with River-exact learners\n"
    "\n"
    "usage: sluice <command> [flags]    (sluice <command> --help for its flags)\n"
    "\n"
    "commands:\n"
    "  replay   stream a CSV (or the built-in synthetic stream) through both models\n"
    "  gen      write the synthetic credit-card-like CSV\n"
    "  registry list, show, diff, export, import, alias and gc model versions\n"
    "  audit    reproduce predictions bit for bit from the registry\n"
    "  live     score a Kafka transactions topic as it arrives (embedded broker by default)\n"
    "  broker   a local Kafka-protocol broker for trying live without Kafka\n"
    "  serve    the HTTP API: score with any version, aliases, metrics, a dashboard\n"
    "  produce  push a CSV into the transactions and labels topics\n";

int Dispatch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "replay") return sluice::tools::ReplayCommand(argc - 1, argv + 1);
  if (command == "gen") return sluice::tools::GenCommand(argc - 1, argv + 1);
  if (command == "registry") return sluice::tools::RegistryCommand(argc - 1, argv + 1);
  if (command == "audit") return sluice::tools::AuditCommand(argc - 1, argv + 1);
  if (command == "live") return sluice::tools::LiveCommand(argc - 1, argv + 1);
  if (command == "broker") return sluice::tools::BrokerCommand(argc - 1, argv + 1);
  if (command == "serve") return sluice::tools::ServeCommand(argc - 1, argv + 1);
  if (command == "produce") return sluice::tools::ProduceCommand(argc - 1, argv + 1);
  std::fprintf(stderr, "sluice: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Snapshots allocate buffers of a few hundred KiB and hand them to the writer thread. With
  // glibc's defaults such blocks come from fresh mmap()s or a heap trimmed after each free, and
  // the page faults of touching them again stretch the stream's pause; keep them in the heap.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  const int code = Dispatch(argc, argv);
  // What a command printed may still sit in stdio's buffer, and a write error (a full disk,
  // /dev/full, a closed pipe) is only known once it is flushed: a run whose output was lost
  // must not exit 0.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int err = errno;
    std::fprintf(stderr, "sluice: error writing to standard output: %s\n",
                 err != 0 ? std::strerror(err) : "write failed");
    return code != 0 ? code : 1;
  }
  return code;
}
