#include "http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <map>
#include <optional>
#include <thread>

namespace relais::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error invalid(std::string message) { return Error{"invalid_value", std::move(message), {}}; }

void log_to(Logger* log, LogLevel level, const std::string& message) {
  if (log != nullptr && log->enabled(level)) log->log(level, message);
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

// Errors that the parser gives for what the client sent, as against the
// connection's own failures (a reset, a timeout).
bool is_protocol_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

// ---------------------------------------------------------------- Request

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

bool Request::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& kv) { return iequals(kv.first, name); });
}

// ---------------------------------------------------------------- Response

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Response Response::html(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::redirect(std::string location, int status) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

Response& Response::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

// ---------------------------------------------------------------- helpers

std::string media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool constant_time_equals(std::string_view secret, std::string_view given) noexcept {
  // Every byte of `given` is looked at whatever the lengths, so that the
  // time tells nothing about where a guess went wrong.
  unsigned diff = secret.size() == given.size() ? 0U : 1U;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto s = secret.empty() ? 0U : static_cast<unsigned char>(secret[i % secret.size()]);
    diff |= s ^ static_cast<unsigned char>(given[i]);
  }
  // volatile: keeps the compiler from turning the loop into an early exit.
  const volatile unsigned result = diff;
  return result == 0U && !secret.empty();
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Expected<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return invalid("'%' at byte " + std::to_string(i) + " is not followed by two hex digits");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Expected<Headers> parse_form(std::string_view text) {
  Headers out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = percent_decode(pair.substr(0, eq), true);
      if (!name) return name.error();
      auto value =
          percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!value) return value.error();
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

Expected<ListenAddress> parse_listen(std::string_view text) {
  const std::string example = " (e.g. \"127.0.0.1:8080\", \"[::1]:8080\")";
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return invalid("missing ']' after the IPv6 address" + example);
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return invalid("expected ':' and a port after ']'" + example);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("expected host:port" + example);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return invalid("put an IPv6 address in brackets, as in \"[::1]:8080\"");
  }
  if (host.empty()) return invalid("no host before the port; \"0.0.0.0:PORT\" listens on every interface");
  std::uint32_t number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number > 65535)
    return invalid("the port must be a number from 0 to 65535 (0: any free port)");
  ListenAddress out;
  out.port = static_cast<std::uint16_t>(number);
  if (!bracketed && host == "localhost") {
    out.host = "127.0.0.1";
    return out;
  }
  boost::system::error_code bad;
  const auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) return invalid("\"" + std::string(host) + "\" is not an IP address" + example);
  if (bracketed != address.is_v6())
    return invalid(bracketed ? "only an IPv6 address goes in brackets" : "put an IPv6 address in brackets");
  out.host = address.to_string();
  return out;
}

// ---------------------------------------------------------------- RateLimiter

RateLimiter::RateLimiter(Options options) : options_(options) {
  options_.burst = std::max(options_.burst, 1.0);
  options_.per_second = std::max(options_.per_second, 1e-9);
  options_.max_keys = std::max<std::size_t>(options_.max_keys, 1);
}

RateLimiter::Bucket& RateLimiter::bucket(std::string_view key, Clock::time_point now) {
  std::string k(key);
  auto it = buckets_.find(k);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) {
      buckets_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(k);
    it = buckets_.emplace(std::move(k), Bucket{options_.burst, now, lru_.begin()}).first;
    return it->second;
  }
  auto& b = it->second;
  if (now > b.updated) {
    const std::chrono::duration<double> elapsed = now - b.updated;
    b.tokens = std::min(options_.burst, b.tokens + elapsed.count() * options_.per_second);
    b.updated = now;
  }
  lru_.splice(lru_.begin(), lru_, b.lru);
  return b;
}

bool RateLimiter::allow(std::string_view key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  auto& b = bucket(key, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

std::chrono::seconds RateLimiter::retry_after(std::string_view key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto& b = bucket(key, now);
  if (b.tokens >= 1.0) return std::chrono::seconds(0);
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / options_.per_second)));
}

std::size_t RateLimiter::size() const {
  const std::lock_guard lock(mutex_);
  return buckets_.size();
}

// ---------------------------------------------------------------- Server

namespace {
class Session;
}

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> connections{0};

  std::mutex sessions_mutex;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions;
  std::uint64_t next_session = 0;

  std::mutex done_mutex;
  std::condition_variable done;
  unsigned running = 0;

  // After what the sessions use: destroying the context destroys the
  // sessions its handlers still hold, which unregister themselves.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  tcp::endpoint bound;
  std::vector<std::thread> threads;

  Impl(ServerOptions o, Handler h)
      : options(std::move(o)), handler(std::move(h)), io(static_cast<int>(std::max(options.threads, 1U))) {}

  void accept();
};

namespace {

using StringResponse = bhttp::response<bhttp::string_body>;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server, std::uint64_t id)
      : stream_(std::move(socket)), server_(server), id_(id) {
    ++server_.connections;
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }
  ~Session() {
    --server_.connections;
    const std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(id_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start(bool over_capacity) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), over_capacity] {
      if (over_capacity) {
        self->refuse(503, "too many connections, try again later\n");
      } else {
        self->read_header();
      }
    });
  }

  // From stop(): an idle connection goes now, a busy one after its answer.
  void shut() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->stream_.socket().close(ignored);
      }
    });
  }

 private:
  void read_header() {
    if (closing_ || server_.stopping) return close();
    busy_ = false;
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    busy_ = true;  // a request has begun: stop() lets it finish
    if (ec) return failed(ec);
    const auto expect = parser_->get()[bhttp::field::expect];
    if (!parser_->is_done() && iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
      // The client waits for this before sending the body (curl does for
      // bodies over 1 KiB); the limits above were checked on the header.
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code e, std::size_t) {
        if (e) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  void failed(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) return refuse(431, "request header fields too large\n");
    if (ec == bhttp::error::body_limit) return refuse(413, "request body too large\n");
    if (is_protocol_error(ec)) return refuse(400, "malformed HTTP request\n");
    close();  // end of stream, a timeout, a reset: nobody to answer
  }

  // An answer of the server's own, made by the plugin's error_response when
  // it has one; the connection ends after it.
  void refuse(int status, const char* text) {
    Response response = Response::text(status, text);
    if (server_.options.error_response) {
      Request request;
      if (parser_) request = head_of(parser_->get());  // the fields read so far, for 413 all
      request.remote_address = remote_;
      try {
        response = server_.options.error_response(status, request);
      } catch (const std::exception& e) {
        log_to(server_.options.log, LogLevel::error, std::string("http error_response failed: ") + e.what());
        response = Response::text(status, text);
      }
    }
    send(std::move(response), false);
  }

  static Request head_of(const bhttp::request<bhttp::string_body>& req) {
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    const auto q = request.target.find('?');
    request.path = request.target.substr(0, q);
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& field : req) request.headers.emplace_back(field.name_string(), field.value());
    return request;
  }

  void on_body(beast::error_code ec) {
    if (ec) return failed(ec);
    auto& req = parser_->get();
    Request request = head_of(req);
    request.body = std::move(req.body());
    request.remote_address = remote_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();

    Response response;
    try {
      response = server_.handler(request);
    } catch (const std::exception& e) {
      log_to(server_.options.log, LogLevel::error,
             "http handler failed method=" + request.method + " path=" + request.path + " error=" + e.what());
      response = Response::text(500, "internal error\n");
    } catch (...) {
      log_to(server_.options.log, LogLevel::error,
             "http handler failed method=" + request.method + " path=" + request.path);
      response = Response::text(500, "internal error\n");
    }
    send(std::move(response), keep_alive_);
  }

  void send(Response response, bool keep_alive) {
    busy_ = true;
    auto res = std::make_shared<StringResponse>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) {
      res->set(bhttp::field::content_type, response.content_type);
    } else if (!response.body.empty()) {
      res->set(bhttp::field::content_type, "text/plain; charset=utf-8");
    }
    for (auto& [name, value] : response.headers) res->insert(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive && !closing_ && !server_.stopping);
    res->prepare_payload();
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (!res->keep_alive()) return self->linger();
      self->read_header();
    });
  }

  // After an answer that ends the connection, the client may still be
  // sending (a body over the limit): closing at once would reset the
  // connection and lose the answer, so its rest is read and dropped, for a
  // while and up to a bound.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(server_.options.read_timeout, std::chrono::seconds(2)));
    drain_ = std::make_shared<std::array<char, 4096>>();
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(*drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrain) return self->close();
                              self->drain();
                            });
  }

  void close() {
    busy_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  static constexpr std::size_t kMaxDrain = std::size_t{1} << 20;

  beast::tcp_stream stream_;
  Server::Impl& server_;
  std::uint64_t id_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<std::array<char, 4096>> drain_;
  std::size_t drained_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;     // between the first byte of a request and its answer written
  bool closing_ = false;  // stop() asked: close after the answer in progress
};

}  // namespace

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (!ec) {
      const bool over = connections.load() >= options.max_connections;
      std::shared_ptr<Session> session;
      {
        const std::lock_guard lock(sessions_mutex);
        const auto id = next_session++;
        session = std::make_shared<Session>(std::move(socket), *this, id);
        sessions.emplace(id, session);
      }
      session->start(over);
    } else {
      log_to(options.log, LogLevel::warn, std::string("http accept failed: ") + ec.message());
    }
    accept();
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Expected<std::unique_ptr<Server>> Server::start(const ServerOptions& options, Handler handler) {
  auto where = parse_listen(options.listen);
  if (!where) return where.error();
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  boost::system::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(where->host), where->port);
  auto fail = [&](const char* what) {
    return Error{"listen", std::string(what) + " " + options.listen + ": " + ec.message(), {}};
  };
  if (impl->acceptor.open(endpoint.protocol(), ec)) return fail("cannot open a socket for");
  if (impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("cannot set up");
  if (impl->acceptor.bind(endpoint, ec)) return fail("cannot listen on");
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("cannot listen on");
  impl->bound = impl->acceptor.local_endpoint(ec);
  if (ec) return fail("cannot read the address of");
  impl->accept();
  const unsigned n = std::max(options.threads, 1U);
  impl->running = n;
  for (unsigned i = 0; i < n; ++i) {
    impl->threads.emplace_back([raw = impl.get()] {
      try {
        raw->io.run();
      } catch (const std::exception& e) {
        log_to(raw->options.log, LogLevel::error, std::string("http server thread failed: ") + e.what());
      }
      const std::lock_guard lock(raw->done_mutex);
      --raw->running;
      raw->done.notify_all();
    });
  }
  log_to(options.log, LogLevel::debug, "http server listening address=" + endpoint_text(impl->bound));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::address() const { return endpoint_text(impl_->bound); }

std::uint16_t Server::port() const { return impl_->bound.port(); }

void Server::run_until(const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any woken;
  std::unique_lock lock(mutex);
  // Only the stop token's callback wakes the wait.
  woken.wait(lock, stop, [] { return false; });
  lock.unlock();
  this->stop();
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    const std::lock_guard lock(impl_->sessions_mutex);
    for (auto& [id, weak] : impl_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->shut();
  live.clear();
  {
    std::unique_lock lock(impl_->done_mutex);
    impl_->done.wait_for(lock, grace, [&] { return impl_->running == 0; });
  }
  impl_->io.stop();  // what is left after the grace is dropped
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  log_to(impl_->options.log, LogLevel::debug, "http server stopped address=" + address());
}

}  // namespace relais::http
