// tests/support/http_client.h. A plain HTTP/1.1 client over a loopback socket, for testing the
// server as a client meets it: its own framing (Content-Length), no library in between.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names in lower case.
  std::string body;
};

// One connection to 127.0.0.1:port, kept alive across Call()s.
class HttpConnection {
 public:
  explicit HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    const int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~HttpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends raw bytes (a request made by hand).
  bool SendRaw(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  absl::StatusOr<HttpReply> Call(const std::string& method, const std::string& target,
                                 const std::string& body = "", bool close = false) {
    std::string request = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!body.empty() || method == "POST" || method == "PUT") {
      absl::StrAppend(&request, "Content-Type: application/json\r\nContent-Length: ", body.size(),
                      "\r\n");
    }
    if (close) request += "Connection: close\r\n";
    request += "\r\n" + body;
    if (!SendRaw(request)) return absl::UnavailableError("send failed");
    return ReadReply(absl::Seconds(30));
  }

  // Reads one response; Unavailable if the server closed the connection first, DeadlineExceeded
  // after `timeout` without one.
  absl::StatusOr<HttpReply> ReadReply(absl::Duration timeout) {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (absl::Status s = Receive(timeout); !s.ok()) return s;
    }
    HttpReply reply;
    const std::string head = pending_.substr(0, header_end);
    pending_.erase(0, header_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || !absl::SimpleAtoi(status_line.substr(9, 3), &reply.status)) {
      return absl::InternalError(absl::StrCat("bad status line: ", status_line));
    }
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        reply.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
            std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
      line_end = next;
    }
    size_t length = 0;
    if (auto it = reply.headers.find("content-length"); it != reply.headers.end()) {
      if (!absl::SimpleAtoi(it->second, &length)) return absl::InternalError("bad length");
    }
    while (pending_.size() < length) {
      if (absl::Status s = Receive(timeout); !s.ok()) return s;
    }
    reply.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return reply;
  }

  // Whether the server closed the connection within `timeout` (reading and dropping any data).
  bool ClosedWithin(absl::Duration timeout) {
    while (true) {
      const absl::Status s = Receive(timeout);
      if (absl::IsUnavailable(s)) return true;
      if (!s.ok()) return false;
    }
  }

 private:
  absl::Status Receive(absl::Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
      return absl::DeadlineExceededError("no response in time");
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return absl::UnavailableError("connection closed");
    pending_.append(buffer, static_cast<size_t>(n));
    return absl::OkStatus();
  }

  int fd_ = -1;
  std::string pending_;
};

// One request on a connection of its own.
inline absl::StatusOr<HttpReply> HttpCall(int port, const std::string& method,
                                          const std::string& target, const std::string& body = "") {
  HttpConnection connection(port);
  if (!connection.connected()) return absl::UnavailableError("cannot connect");
  return connection.Call(method, target, body, /*close=*/true);
}

}  // namespace sluice::testing
