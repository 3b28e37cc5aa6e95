// tools/http_flags.h. The HTTP flags `sluice serve`, `replay` and `live` share, and starting the
// API with them.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/http/api.h"
#include "engine/http/prometheus.h"
#include "engine/http/server.h"
#include "tools/flags.h"

// Forward-declared: cxxopts stays in the .cc files.
namespace cxxopts {
class Options;
}  // namespace cxxopts

namespace sluice::tools {

struct HttpFlags {
  engine::http::Server::Options server;
  engine::http::Api::Options api;  // The caller fills registry, model and threshold.
  std::string port_file;
};

// --bind, --http-threads, --max-body, --http-timeout, --serve-alias, --port-file.
void AddHttpFlags(cxxopts::Options& spec);
// Reads them; `port` comes from the caller's own flag (--port or --http-port).
HttpFlags ReadHttpFlags(const FlagReader& f, int64_t port);

// The running API: its metrics, the API and its server (stopped first when destroyed).
struct HttpService {
  std::unique_ptr<engine::http::MetricsRegistry> metrics;
  std::unique_ptr<engine::http::Api> api;
  std::unique_ptr<engine::http::Server> server;
};

// Starts the API beside `stream` (null: standalone), writes --port-file and says where it
// listens on stderr, as `who`.
absl::StatusOr<HttpService> StartHttp(const HttpFlags& flags, engine::http::StreamView* stream,
                                      const char* who);

}  // namespace sluice::tools
