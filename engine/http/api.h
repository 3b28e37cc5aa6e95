// engine/http/api.h. sluice's HTTP API (README, "HTTP API"): scoring with any registered version,
// the registry's models, versions and aliases, the state of the stream it runs beside, Prometheus
// metrics, health, and the dashboard page. It turns a Request into a Response; the Server carries
// them.
//
// Which version answers POST /v1/score: `?version=V` or `?alias=A` if given; otherwise the served
// one: the version the served alias (Options::alias) points to when the alias exists, else the
// model's latest (inside replay and live: the stream's newest snapshot), re-read at most once a
// second so that versions and alias moves made by other processes are followed. PUT of the
// served alias switches the served version at once; scoring never waits for it. Scoring over
// HTTP never changes a model.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/flat_json.h"
#include "engine/http/prometheus.h"
#include "engine/http/server.h"
#include "engine/label_record.h"
#include "engine/serving.h"

namespace sluice::engine::http {

// What a stream running in the same process (replay, live) shows and accepts through the API.
// Called from the server's threads, concurrently.
class StreamView {
 public:
  virtual ~StreamView() = default;
  // Appends the stream's fields of GET /v1/state ("events", "labels", "alerts", "bad_inputs",
  // "pending_joins", "events_per_second", "latency", "auc", "partitions", ...).
  virtual void AppendState(core::FlatJsonWriter& json) const = 0;
  // Takes a label as the labels source would. InvalidArgument if the stream cannot take it.
  virtual absl::Status SubmitLabel(const LabelRecord& label) = 0;
  // Whether the stream is ready to be served: partitions assigned, a model loaded.
  virtual bool ready() const = 0;
  // "replay" or "live".
  virtual std::string mode() const = 0;
};

class Api {
 public:
  struct Options {
    std::string registry;              // The registry file (opened read-write for aliases).
    std::string model = "default";     // The model served when a request names none.
    std::string alias = "champion";    // The served alias (see the file comment).
    std::string version;               // If set ("17", "latest"), served instead: fixed.
    double alert_threshold = 0.5;      // As the stream's: "alert" in each prediction.
    size_t max_batch_events = 100000;  // A larger batch is 413.
  };

  // Opens the registry and loads the served version. NotFound if the model has no version to
  // serve (standalone); DataLoss if its blob is corrupt. `stream` (may be null: standalone) and
  // `metrics` must outlive the Api.
  static absl::StatusOr<std::unique_ptr<Api>> Create(const Options& options, StreamView* stream,
                                                     MetricsRegistry& metrics);
  virtual ~Api() = default;

  // Answers one request; thread-safe.
  virtual Response Handle(const Request& request) = 0;
  // Records each request's duration for GET /metrics; give it to the Server.
  virtual RequestObserver Observer() = 0;
  // Parses and scores a large batch while its body arrives; give it to the Server.
  virtual BodyStreamStarter BodyStreams() = 0;
  // The version served now (0 if none).
  virtual int64_t served_version() const = 0;
};

}  // namespace sluice::engine::http
