// tools/http_flags.cc
#include "tools/http_flags.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cxxopts.hpp"
#include "engine/text_file.h"

namespace sluice::tools {
namespace {

std::atomic<bool> stop_requested{false};
void RequestStop(int) { stop_requested.store(true); }

}  // namespace

void ServeUntilSignal() {
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);
  while (!stop_requested.load()) ::usleep(100 * 1000);
}

void AddHttpFlags(cxxopts::Options& spec, const std::string& alias_flag) {
  // clang-format off
  spec.add_options()
    ("bind", "HTTP: address to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1"))
    ("http-threads", "HTTP: threads serving the connections (0: half the cores, at least one)", cxxopts::value<std::string>()->default_value("0"))
    ("max-body", "HTTP: largest request body, bytes (413 over it)", cxxopts::value<std::string>()->default_value("16777216"))
    ("http-timeout", "HTTP: seconds a client has to send a whole request (idle keep-alive included)", cxxopts::value<std::string>()->default_value("30"))
    (alias_flag, "HTTP: the alias whose version is served by default (else the latest)", cxxopts::value<std::string>()->default_value("champion"))
    ("port-file", "HTTP: write the port listened on here (atomically), e.g. with port 0", cxxopts::value<std::string>()->default_value(""));
  // clang-format on
}

HttpFlags ReadHttpFlags(const FlagReader& f, int64_t port, const std::string& alias_flag) {
  HttpFlags h;
  h.server.port = static_cast<int>(port);
  h.server.bind = f.Str("bind");
  h.server.threads = static_cast<int>(f.Int("http-threads", 0, 256));
  h.server.max_body_bytes = static_cast<size_t>(f.Int("max-body", 1, int64_t{1} << 32));
  h.server.request_timeout = absl::Seconds(f.Double("http-timeout", 0.001));
  h.api.alias = f.NonEmpty(alias_flag);
  h.port_file = f.Str("port-file");
  return h;
}

absl::StatusOr<HttpService> StartHttp(const HttpFlags& flags, std::optional<StreamSpec> stream,
                                      const char* who) {
  HttpService service;
  service.metrics = std::make_unique<engine::http::MetricsRegistry>();
  if (stream.has_value()) {
    service.stream = std::make_unique<engine::http::PublishedStream>(
        stream->mode, *service.metrics, std::move(stream->submit),
        std::move(stream->no_labels_reason));
  }
  auto api = engine::http::Api::Create(flags.api, service.stream.get(), *service.metrics);
  if (!api.ok()) return api.status();
  service.api = *std::move(api);
  auto server = engine::http::Server::Start(
      flags.server, [api = service.api.get()](const auto& r) { return api->Handle(r); },
      service.api->Observer(), service.api->BodyStreams());
  if (!server.ok()) return server.status();
  service.server = *std::move(server);
  const int port = service.server->port();
  if (!flags.port_file.empty()) {
    auto file =
        engine::BufferedFile::Create(flags.port_file, engine::BufferedFile::Mode::kOnCommit);
    if (!file.ok()) return file.status();
    (*file)->Append(absl::StrCat(port, "\n"));
    if (absl::Status s = (*file)->Close(); !s.ok()) return s;
  }
  std::fprintf(stderr, "%s: HTTP API on http://%s:%d/ (model %s, %s)\n", who,
               flags.server.bind.c_str(), port, flags.api.model.c_str(),
               service.api->served_version() > 0
                   ? absl::StrCat("serving version ", service.api->served_version()).c_str()
                   : "serving the stream's current version");
  return service;
}

}  // namespace sluice::tools
