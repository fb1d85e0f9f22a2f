// http_server: the small HTTP/1.1 server that source plugins receiving
// posts over HTTP (source_webform, source_webhook) embed. It owns the
// listening socket, its threads and connections, and the protocol's limits:
// header and body sizes (431, 413), malformed requests (400), read timeouts
// (the connection is closed), a cap on connections (503), keep-alive, and a
// handler that throws (500, logged, the server goes on). What a request
// means is the handler's business. Also here: the parser of `listen`
// addresses, form/query decoding, and a per-address rate limiter.
//
// Boost.Beast and Asio stay in http_server.cpp, so that including this
// header costs a plugin nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "relais/expected.hpp"
#include "relais/plugin.hpp"

namespace relais::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", as sent
  std::string target;  // "/form?lang=fr": the request line's target, undecoded
  std::string path;    // "/form": the target up to '?', undecoded
  std::string query;   // "lang=fr": after '?', undecoded (see parse_form)
  Headers headers;     // in the order received, names as sent
  std::string body;
  std::string remote_address;  // the peer's IP address, without port: "127.0.0.1", "::1"

  // The first header of that name (ASCII case-insensitive); empty when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: text/plain; charset=utf-8 when there is a body
  Headers headers;           // added as they are; Content-Length and Connection are the server's
  std::string body;

  static Response text(int status, std::string body);  // text/plain; charset=utf-8
  static Response json(int status, std::string body);  // application/json
  static Response html(int status, std::string body);  // text/html; charset=utf-8
  // 303 See Other by default: after a POST, the browser GETs `location`.
  static Response redirect(std::string location, int status = 303);
  // Appends a header; returns *this to chain.
  Response& with_header(std::string name, std::string value);
};

struct ServerOptions {
  // "host:port" or "[v6]:port" (see parse_listen); port 0: any free port,
  // which address() then tells.
  std::string listen = "127.0.0.1:0";
  std::size_t max_header_bytes = std::size_t{8} * 1024;  // past it: 431
  std::size_t max_body_bytes = std::size_t{64} * 1024;   // past it: 413, before reading when announced
  // For a whole request once its first byte is awaited, and for writing the
  // response; an idle keep-alive connection is closed after it too.
  std::chrono::milliseconds read_timeout{10000};
  std::size_t max_connections = 256;  // more at once: 503 and closed
  unsigned threads = 2;               // handlers run on these, and may block them
  // Makes the answers the server gives by itself (400, 413, 431, 503), e.g.
  // a page in the visitor's language; `request` holds what was read of the
  // request (for 413, its header; for 400, 431 and 503, often nothing). Null,
  // or throwing: a short text/plain answer. The connection is closed after.
  std::function<Response(int status, const Request& request)> error_response;
  // Where the server logs (handler exceptions at error, start and stop at
  // debug); may be null. Never the body nor header values.
  Logger* log = nullptr;
};

// Called on one of the server's threads, `threads` at once at most. May
// block (a submit waiting for relaisd's acknowledgement); may throw (500).
using Handler = std::function<Response(const Request&)>;

class Server {
 public:
  // Binds and listens now (errors: code "listen", e.g. the port is taken),
  // then serves on threads of its own until stop().
  static Expected<std::unique_ptr<Server>> start(const ServerOptions& options, Handler handler);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound address, as parse_listen reads it: "127.0.0.1:PORT", "[::1]:PORT".
  std::string address() const;
  std::uint16_t port() const;

  // Stops accepting, closes idle connections, lets requests in a handler
  // finish (for `grace` at most, then drops them) and joins the threads.
  // Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // For Source::run: returns once `stop` is requested, after stop().
  void run_until(const std::stop_token& stop);

  struct Impl;  // opaque: the Beast side, in http_server.cpp

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A `listen` value: "127.0.0.1:8080", "0.0.0.0:8080", "[::1]:8080",
// "[::]:8080", "localhost:8080" (127.0.0.1). IP literals only otherwise:
// a host name that resolves differently tomorrow is not a place to listen.
struct ListenAddress {
  std::string host;  // the IP address, without brackets
  std::uint16_t port = 0;
};
// Errors have code "invalid_value" and say what was expected.
Expected<ListenAddress> parse_listen(std::string_view text);

// Percent-decoding; with `plus_is_space` (forms, queries), '+' is a space.
// A '%' not followed by two hex digits is an error.
Expected<std::string> percent_decode(std::string_view text, bool plus_is_space);
// application/x-www-form-urlencoded (a POSTed form, or a query string):
// the pairs in order, decoded; a name may repeat.
Expected<Headers> parse_form(std::string_view text);

// The ASCII case-insensitive equality of header names and media types.
bool iequals(std::string_view a, std::string_view b) noexcept;
// The media type of a Content-Type value, lowercased, without parameters:
// "application/json; charset=utf-8" -> "application/json".
std::string media_type(std::string_view content_type);
// Equality in time independent of where the two differ (a secret against
// what a request gave). Different lengths compare unequal, in time that
// depends only on `given`'s length.
bool constant_time_equals(std::string_view secret, std::string_view given) noexcept;
// Text made safe inside HTML, in element content and in quoted attribute
// values alike: & < > " ' escaped.
std::string html_escape(std::string_view text);

// A token bucket per key (a remote address): each key may spend `burst`
// requests at once, refilled at `per_second`. Memory is bounded: past
// `max_keys`, the key seen longest ago is forgotten (it starts again with a
// full bucket). Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    double per_second = 1.0;
    double burst = 10.0;
    std::size_t max_keys = 10000;
  };
  explicit RateLimiter(Options options);

  // Takes a token of `key`'s bucket if there is one.
  bool allow(std::string_view key, Clock::time_point now);
  bool allow(std::string_view key) { return allow(key, Clock::now()); }
  // Seconds until `key` has a token again (for Retry-After); 0 if it has one.
  std::chrono::seconds retry_after(std::string_view key, Clock::time_point now);
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
    std::list<std::string>::iterator lru;
  };
  Bucket& bucket(std::string_view key, Clock::time_point now);  // under mutex_

  Options options_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;  // most recently seen first
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace relais::http
