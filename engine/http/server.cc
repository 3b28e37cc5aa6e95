// engine/http/server.cc. Boost.Beast over Asio: one io_context per thread, each connection kept
// by one of them (round robin), so that a connection's handlers never meet another thread and
// need no strand or lock; one asynchronous session per connection.
#include "engine/http/server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>
#include <type_traits>
#include <utility>  // Before Asio: its C++20 headers use std::exchange (dependencies.md).

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace sluice::engine::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

std::string ErrorJson(absl::string_view message) {
  std::string out = "{\"error\": \"";
  for (char c : message) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  out += "\"}";
  return out;
}

struct Shared {
  Server::Options options;
  Handler handler;
  RequestObserver observer;
  BodyStreamStarter streams;
};

// A request's method, path and query from its head.
template <class Fields>
Request HeadOf(const bhttp::header<true, Fields>& head) {
  Request request;
  request.method = std::string(head.method_string());
  const absl::string_view target(head.target().data(), head.target().size());
  const size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != absl::string_view::npos) request.query = std::string(target.substr(q + 1));
  return request;
}

// A request body read into a string, as Beast's string_body, that also shows each part as it
// arrives to the BodyStream the handler starts for the request, if it starts one.
struct StreamedBody {
  struct value_type {
    std::string text;
    const BodyStreamStarter* starter = nullptr;  // Set before the read.
    std::shared_ptr<BodyStream> stream;          // What it started for this request.
    std::optional<absl::Time> last_part;         // When the last part arrived.
  };

  class reader {
   public:
    // Made with the parser, before the head is read: init() reads it.
    template <bool isRequest, class Fields>  // Beast's requirement: responses never come here.
    reader(bhttp::header<isRequest, Fields>& head, value_type& body) : body_(body) {
      if constexpr (isRequest && std::is_same_v<Fields, bhttp::fields>) head_ = &head;
    }

    void init(const boost::optional<uint64_t>& length, beast::error_code& ec) {
      ec = {};
      // The parser has refused a length over its body limit already.
      if (length) body_.text.reserve(static_cast<size_t>(*length));
      if (head_ != nullptr && body_.starter != nullptr && *body_.starter) {
        body_.stream = (*body_.starter)(HeadOf(*head_),
                                        length ? std::optional<uint64_t>(*length) : std::nullopt);
      }
    }
    template <class Buffers>
    size_t put(const Buffers& buffers, beast::error_code& ec) {
      ec = {};
      body_.last_part = absl::Now();
      const size_t n = beast::buffer_bytes(buffers);
      for (const auto buffer : beast::buffers_range_ref(buffers)) {
        body_.text.append(static_cast<const char*>(buffer.data()), buffer.size());
      }
      if (body_.stream != nullptr) body_.stream->Received(body_.text);
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    const bhttp::request_header<>* head_ = nullptr;
    value_type& body_;
  };
};

// One connection: read a request, answer it, and again while the client keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Shared& shared) : stream_(std::move(socket)), shared_(shared) {
    // A flat buffer reads as much as it has room for, 512 bytes at least: a large body would
    // come in 512-byte reads, each a system call and a re-armed timer. Memory is only touched
    // as bytes arrive, so an idle connection costs little more.
    buffer_.reserve(64 << 10);
  }

  void Read() {
    parser_.emplace();
    parser_->get().body().starter = &shared_.streams;
    parser_->body_limit(shared_.options.max_body_bytes);
    parser_->header_limit(64 << 10);
    stream_.expires_after(ToChrono(shared_.options.request_timeout));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    absl::Time start = absl::Now();
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close();
    }
    Request request;
    Response response;
    bool keep_alive = false;
    if (ec == bhttp::error::body_limit) {
      response = {413,
                  "application/json",
                  ErrorJson(absl::StrCat("request body over the limit of ",
                                         shared_.options.max_body_bytes, " bytes")),
                  {}};
    } else if (ec) {
      response = {400,
                  "application/json",
                  ErrorJson(absl::StrCat("malformed HTTP request: ", ec.message())),
                  {}};
    } else {
      auto& message = parser_->get();
      request = HeadOf(message);
      request.body = std::move(message.body().text);
      request.stream = std::move(message.body().stream);
      // The answer counts from the last byte read: the body's last part (the parts before it
      // may have been worked on as they arrived, by the request's stream).
      if (message.body().last_part.has_value()) start = *message.body().last_part;
      keep_alive = message.keep_alive();
      response = shared_.handler(request);
    }
    if (shared_.observer) shared_.observer(request, response.status, absl::Now() - start);
    Write(std::move(response), keep_alive,
          parser_->is_header_done() ? parser_->get().version() : 11);
  }

  void Write(Response response, bool keep_alive, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), version);
    res->set(bhttp::field::server, "sluice");
    res->set(bhttp::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<StreamedBody>> parser_;
  const Shared& shared_;
};

class BeastServer final : public Server {
 public:
  explicit BeastServer(Shared shared) : shared_(std::move(shared)) {
    const int threads =
        shared_.options.threads > 0
            ? shared_.options.threads
            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);
    for (int i = 0; i < threads; ++i) {
      // Concurrency hint 1: each context is run by one thread, so Asio may skip its locks.
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      work_.push_back(asio::make_work_guard(*contexts_.back()));
    }
    acceptor_.emplace(*contexts_[0]);
    retry_.emplace(*contexts_[0]);
  }
  ~BeastServer() override { Stop(); }

  absl::Status Listen() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(shared_.options.bind, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad address to bind \"", shared_.options.bind, "\": ", ec.message()));
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(shared_.options.port));
    const auto fail = [&](absl::string_view what) {
      return absl::UnavailableError(absl::StrCat("cannot ", what, " ", shared_.options.bind, ":",
                                                 shared_.options.port, ": ", ec.message()));
    };
    if (acceptor_->open(endpoint.protocol(), ec)) return fail("open");
    if (acceptor_->set_option(asio::socket_base::reuse_address(true), ec)) return fail("set up");
    if (acceptor_->bind(endpoint, ec)) return fail("bind");
    if (acceptor_->listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
    port_ = acceptor_->local_endpoint().port();
    Accept();
    for (auto& context : contexts_) threads_.emplace_back([&context] { context->run(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    // Sessions end with their io_context: their sockets close as they are destroyed.
    for (auto& context : contexts_) context->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Accept() {
    asio::io_context& context = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(context, [this](beast::error_code ec, tcp::socket s) {
      if (!ec) {
        std::make_shared<Session>(std::move(s), shared_)->Read();
        return Accept();
      }
      // Out of descriptors, say: accepting goes on, after a pause rather than in a spin.
      retry_->expires_after(std::chrono::milliseconds(50));
      retry_->async_wait([this](beast::error_code) { Accept(); });
    });
  }

  const Shared shared_;
  // Declared before what runs on them, so destroyed after: a context's destruction ends the
  // sessions it holds, which refer to shared_.
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> retry_;
  size_t next_context_ = 0;  // Touched by the accepting handler only (context 0's thread).
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

}  // namespace

std::optional<std::string> QueryParameter(absl::string_view query, absl::string_view key) {
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return std::string(eq == absl::string_view::npos ? "" : pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Options& options, Handler handler,
                                                      RequestObserver observer,
                                                      BodyStreamStarter streams) {
  auto server = std::make_unique<BeastServer>(
      Shared{options, std::move(handler), std::move(observer), std::move(streams)});
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace sluice::engine::http
