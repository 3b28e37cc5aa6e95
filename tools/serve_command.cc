// tools/serve_command.cc. `sluice serve`: the HTTP API (engine/http/api.h) over a registry,
// standalone, until SIGTERM/SIGINT.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "cxxopts.hpp"
#include "engine/http/api.h"
#include "tools/commands.h"
#include "tools/flags.h"
#include "tools/http_flags.h"

namespace sluice::tools {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "sluice serve: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int ServeCommand(int argc, char** argv) {
  cxxopts::Options spec(
      "sluice serve",
      "The HTTP API over a registry: score events with any version, list "
      "versions, switch aliases, Prometheus metrics, a live dashboard.\n"
      "  sluice serve --registry R [--model M] [--alias champion | --version V] [--port P]");
  // clang-format off
  spec.add_options()
    ("registry", "Registry file", cxxopts::value<std::string>()->default_value(""))
    ("model", "Model served (--model-name is the same)", cxxopts::value<std::string>())
    ("model-name", "Model served", cxxopts::value<std::string>()->default_value("default"))
    ("version", "Serve this version (a number, latest, or an alias), fixed, instead of --alias's", cxxopts::value<std::string>()->default_value(""))
    ("port", "HTTP port (0: any free one)", cxxopts::value<std::string>()->default_value("8080"))
    ("alert-threshold", "\"alert\": fraud probability (or anomaly score without the fraud model) over this", cxxopts::value<std::string>()->default_value("0.5"))
    ("h,help", "Show this help");
  // clang-format on
  AddHttpFlags(spec, "alias");
  HttpFlags flags;
  try {
    const cxxopts::ParseResult parsed = spec.parse(argc, argv);
    if (parsed.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    const FlagReader f(parsed);
    flags = ReadHttpFlags(f, f.Int("port", 0, 65535), "alias");
    flags.api.registry = f.Str("registry");
    if (f.Has("model") && f.Has("model-name")) {
      throw FlagError("--model and --model-name are the same flag: give one");
    }
    flags.api.model = f.Has("model") ? f.NonEmpty("model") : f.NonEmpty("model-name");
    flags.api.version = f.Str("version");
    flags.api.alert_threshold = f.Double("alert-threshold", 0);
    if (flags.api.registry.empty()) throw FlagError("--registry is required");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice serve: %s\n", e.what());
    return 2;
  }
  absl::StatusOr<HttpService> service = StartHttp(flags, std::nullopt, "sluice serve");
  if (!service.ok()) return Fail(service.status());
  ServeUntilSignal();
  service->server->Stop();
  std::fprintf(stderr, "sluice serve: stopped\n");
  return 0;
}

}  // namespace sluice::tools
