// tools/http_flags.h. The HTTP flags `sluice serve`, `replay` and `live` share, and starting the
// API with them.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/http/api.h"
#include "engine/http/prometheus.h"
#include "engine/http/server.h"
#include "engine/http/stream_state.h"
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

// --bind, --http-threads, --max-body, --http-timeout, --port-file, and the served alias's flag
// (`sluice serve --alias`; --serve-alias beside a stream).
void AddHttpFlags(cxxopts::Options& spec, const std::string& alias_flag = "serve-alias");
// Reads them; `port` comes from the caller's own flag (--port or --http-port).
HttpFlags ReadHttpFlags(const FlagReader& f, int64_t port,
                        const std::string& alias_flag = "serve-alias");

// A stream the API runs beside: "replay" or "live", and where posted labels go (null: refused,
// with `no_labels_reason`).
struct StreamSpec {
  std::string mode;
  engine::http::LabelSubmitter submit;
  std::string no_labels_reason;
};

// The running API: its metrics, the stream's published state, the API and its server. The
// server is declared last, so it stops first.
struct HttpService {
  std::unique_ptr<engine::http::MetricsRegistry> metrics;
  std::unique_ptr<engine::http::PublishedStream> stream;  // Null: standalone.
  std::unique_ptr<engine::http::Api> api;
  std::unique_ptr<engine::http::Server> server;
};

// Starts the API (beside a stream if `stream` is given), writes --port-file and says where it
// listens on stderr, as `who`.
absl::StatusOr<HttpService> StartHttp(const HttpFlags& flags, std::optional<StreamSpec> stream,
                                      const char* who);

// Serves on: installs SIGTERM and SIGINT handlers and returns once one of them arrives.
void ServeUntilSignal();

}  // namespace sluice::tools
