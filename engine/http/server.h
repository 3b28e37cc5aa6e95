// engine/http/server.h. A small HTTP/1.1 server: keep-alive, a pool of threads that serve every
// connection asynchronously (an idle or slow client holds a socket, never a thread), a limit on
// the body and a deadline on reading each request. What a request means is the handler's
// business; this file knows sockets and HTTP framing only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sluice::engine::http {

class BodyStream;

// One request, as read.
struct Request {
  std::string method;  // "GET", "POST", ... as sent.
  std::string path;    // The target before '?', percent-decoding left to the handler.
  std::string query;   // After '?' (may be empty).
  std::string body;
  // What the handler's BodyStreamStarter started for this request, having seen its body arrive
  // (null if none): the handler finishes its work with it.
  std::shared_ptr<BodyStream> stream;
};

// Work a handler does on a request's body while the rest of it is still arriving, so that less
// is left to do once the last byte is read (a batch of events is parsed and scored as it comes).
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Called after each part of the body arrives, with all of it so far, on the connection's
  // thread; must not throw.
  virtual void Received(absl::string_view body) = 0;
};

// Called once a request's head is read (the body still empty), with its Content-Length if it
// has one: a BodyStream for its body, or null to take the body whole. Any pool thread; must not
// throw.
using BodyStreamStarter =
    std::function<std::unique_ptr<BodyStream>(const Request& head, std::optional<uint64_t> length)>;

// The value of `key` in a query string "a=1&b=2" (no percent-decoding: sluice's parameters are
// numbers and names), or nullopt.
std::optional<std::string> QueryParameter(absl::string_view query, absl::string_view key);

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra ones (e.g. "Allow").
};

// Called on any pool thread, possibly on several at once; must not throw.
using Handler = std::function<Response(const Request&)>;

// What the server says of a request it answered itself (malformed, too large) or of one the
// handler answered, for metrics: called on the pool thread after the response is made. `took`
// counts from the request's last byte read (its body's last part, or its head).
using RequestObserver = std::function<void(const Request&, int status, absl::Duration took)>;

class Server {
 public:
  struct Options {
    std::string bind = "127.0.0.1";    // Loopback only, unless asked otherwise.
    int port = 0;                      // 0: any free port (see port()).
    int threads = 2;                   // Threads serving all connections.
    size_t max_body_bytes = 16 << 20;  // A larger body is answered 413 and the connection closed.
    // Time a client has to send a whole request, counted from the previous response (or the
    // connection): an idle keep-alive connection is closed after it, as is a slow sender.
    absl::Duration request_timeout = absl::Seconds(30);
  };

  // Binds and starts serving. InvalidArgument for a bad address; Unavailable, naming it, if the
  // address cannot be bound (in use, not permitted).
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Options& options, Handler handler,
                                                       RequestObserver observer = nullptr,
                                                       BodyStreamStarter streams = nullptr);
  virtual ~Server() = default;
  // The port it listens on.
  virtual int port() const = 0;
  // Stops accepting, closes every connection and joins the threads; called by the destructor.
  virtual void Stop() = 0;
};

}  // namespace sluice::engine::http
