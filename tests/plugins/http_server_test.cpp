// The embedded HTTP server of the source plugins, over real sockets on
// 127.0.0.1: limits, malformed requests, keep-alive, timeouts, a throwing
// handler, the cap on connections; and its helpers: listen addresses, form
// decoding, constant-time comparison, the rate limiter on a fake clock.
#include "http_server.hpp"
#include "support/support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using relais::http::Request;
using relais::http::Response;
using relais::http::Server;
using relais::http::ServerOptions;

namespace {

// A blocking client on one connection, with a deadline on every read.
class Connection {
 public:
  explicit Connection(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void write(const std::string& raw) { asio::write(socket_, asio::buffer(raw)); }

  // The next response, or nullopt if the connection ended (or the deadline
  // passed) first.
  std::optional<bhttp::response<bhttp::string_body>> read(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    beast::tcp_stream stream(std::move(socket_));
    stream.expires_after(timeout);
    bhttp::response<bhttp::string_body> res;
    beast::error_code ec;
    bhttp::read(stream, buffer_, res, ec);
    socket_ = stream.release_socket();
    if (ec) return std::nullopt;
    return res;
  }

  // True if the server closed the connection (EOF or reset) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    beast::tcp_stream stream(std::move(socket_));
    stream.expires_after(timeout);
    std::array<char, 256> data{};
    beast::error_code ec;
    while (!ec) stream.read_some(asio::buffer(data), ec);
    socket_ = stream.release_socket();
    return ec != beast::error::timeout;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

std::string post(const std::string& target, const std::string& body, const std::string& extra = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

class HttpServer : public ::testing::Test {
 protected:
  void start(const ServerOptions& options = {}) {
    auto started = Server::start(options, [this](const Request& r) { return handle(r); });
    ASSERT_TRUE(started) << started.error().message;
    server = std::move(*started);
  }

  Response handle(const Request& r) {
    ++handled;
    if (r.path == "/throw") throw std::runtime_error("the handler failed");
    if (r.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string out = r.method + " " + r.path + " q=" + r.query + " ua=" + r.header("x-thing") +
                      " from=" + r.remote_address + " body=" + r.body;
    return Response::text(200, out).with_header("X-Seen", "1");
  }

  std::uint16_t port() const { return server->port(); }

  std::unique_ptr<Server> server;
  std::atomic<int> handled{0};
};

TEST_F(HttpServer, AnswersWithTheRequestAsTheHandlerSawIt) {
  start();
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(port()));
  EXPECT_NE(port(), 0);
  Connection c(port());
  c.write(get("/a/b?x=1&y=%20", "X-Thing: yes\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(res->body(), "GET /a/b q=x=1&y=%20 ua=yes from=127.0.0.1 body=");
  EXPECT_EQ((*res)["X-Seen"], "1");
  EXPECT_EQ((*res)[bhttp::field::content_type], "text/plain; charset=utf-8");
}

TEST_F(HttpServer, KeepsTheConnectionAliveBetweenRequests) {
  start();
  Connection c(port());
  c.write(get("/one"));
  auto first = c.read();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->keep_alive());
  c.write(post("/two", "hello"));
  auto second = c.read();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body(), "POST /two q= ua= from=127.0.0.1 body=hello");
  // Connection: close is honoured.
  c.write(get("/three", "Connection: close\r\n"));
  auto third = c.read();
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->keep_alive());
  EXPECT_TRUE(c.closed_within(std::chrono::seconds(2)));
}

TEST_F(HttpServer, RefusesABodyOverTheLimitBeforeReadingIt) {
  ServerOptions options;
  options.max_body_bytes = 100;
  start(options);
  {
    Connection c(port());
    c.write(post("/big", std::string(101, 'x')));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_FALSE(res->keep_alive());
  }
  {
    // Announced but not sent: the answer comes on the header alone.
    Connection c(port());
    c.write("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
  }
  {
    // Chunked, with no length announced: refused when the limit is crossed.
    Connection c(port());
    c.write("POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" +
            std::string(128, 'y') + "\r\n0\r\n\r\n");
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
  }
  {
    // At the limit is fine.
    Connection c(port());
    c.write(post("/ok", std::string(100, 'z')));
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
  EXPECT_EQ(handled, 1);
}

TEST_F(HttpServer, RefusesHeadersOverTheLimit) {
  ServerOptions options;
  options.max_header_bytes = 512;
  start(options);
  Connection c(port());
  c.write(get("/", "X-Big: " + std::string(1024, 'h') + "\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431);
  EXPECT_EQ(handled, 0);
}

TEST_F(HttpServer, AnswersAMalformedRequestWith400AndCloses) {
  start();
  for (const std::string raw : {"NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                                "POST / HTTP/1.1\r\nContent-Length: twelve\r\n\r\n"}) {
    SCOPED_TRACE(raw);
    Connection c(port());
    c.write(raw);
    auto res = c.read();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 400);
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(3)));
  }
  EXPECT_EQ(handled, 0);
}

TEST_F(HttpServer, AHandlerThatThrowsGets500AndTheServerGoesOn) {
  start();
  Connection c(port());
  c.write(get("/throw"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500);
  EXPECT_EQ(res->body().find("the handler failed"), std::string::npos);  // not shown to the client
  c.write(get("/after"));
  auto next = c.read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->result_int(), 200);
}

TEST_F(HttpServer, ClosesAConnectionThatDoesNotFinishItsRequestInTime) {
  ServerOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  start(options);
  Connection c(port());
  c.write("GET / HTTP/1.1\r\nHost: t\r\n");  // and never the blank line
  EXPECT_TRUE(c.closed_within(std::chrono::seconds(3)));
  // An idle keep-alive connection goes the same way.
  Connection idle(port());
  idle.write(get("/"));
  ASSERT_TRUE(idle.read());
  EXPECT_TRUE(idle.closed_within(std::chrono::seconds(3)));
  EXPECT_EQ(handled, 1);
}

TEST_F(HttpServer, AnswersContinueBeforeTheBody) {
  start();
  Connection c(port());
  c.write("POST /cont HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  c.write("data");
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "POST /cont q= ua= from=127.0.0.1 body=data");
}

TEST_F(HttpServer, RefusesConnectionsOverTheCap) {
  ServerOptions options;
  options.max_connections = 1;
  start(options);
  Connection first(port());
  first.write(get("/"));
  ASSERT_TRUE(first.read());  // the first is surely accepted and counted
  Connection second(port());
  auto res = second.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503);
}

TEST_F(HttpServer, ThePluginMakesTheServersOwnAnswers) {
  ServerOptions options;
  options.max_body_bytes = 10;
  options.error_response = [](int status, const Request& r) {
    return Response::html(status,
                          "<p>" + std::to_string(status) + " " + r.header("Accept-Language") + "</p>");
  };
  start(options);
  Connection c(port());
  c.write(post("/form", std::string(20, 'x'), "Accept-Language: fr\r\n"));
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413);
  EXPECT_EQ(res->body(), "<p>413 fr</p>");
  EXPECT_EQ((*res)[bhttp::field::content_type], "text/html; charset=utf-8");
}

TEST_F(HttpServer, StopLetsARequestInTheHandlerFinish) {
  start();
  Connection c(port());
  c.write(get("/slow"));
  ASSERT_TRUE(relais::test::wait_until([&] { return handled > 0; }));
  server->stop();
  auto res = c.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_FALSE(res->keep_alive());
  server->stop();  // idempotent
}

TEST_F(HttpServer, RunUntilReturnsWhenAskedToStop) {
  start();
  std::stop_source stop;
  std::thread runner([&] { server->run_until(stop.get_token()); });
  Connection c(port());
  c.write(get("/"));
  ASSERT_TRUE(c.read());
  stop.request_stop();
  runner.join();
  EXPECT_THROW(Connection{port()}, boost::system::system_error);
}

TEST(HttpServerStart, FailsWithAClearErrorWhenThePortIsTaken) {
  auto first = Server::start({}, [](const Request&) { return Response::text(200, ""); });
  ASSERT_TRUE(first);
  ServerOptions options;
  options.listen = (*first)->address();
  auto second = Server::start(options, [](const Request&) { return Response::text(200, ""); });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "listen");
  EXPECT_NE(second.error().message.find(options.listen), std::string::npos) << second.error().message;
  options.listen = "nowhere";
  auto bad = Server::start(options, [](const Request&) { return Response::text(200, ""); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_value");
}

TEST(ParseListen, ReadsHostAndPort) {
  using relais::http::parse_listen;
  auto v4 = parse_listen("127.0.0.1:8090");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8090);
  auto v6 = parse_listen("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto any = parse_listen("0.0.0.0:65535");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 65535);
  auto local = parse_listen("localhost:80");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "127.0.0.1");

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "host:port"},
      {"8080", "host:port"},
      {":8080", "no host"},
      {"127.0.0.1:", "port"},
      {"127.0.0.1:65536", "port"},
      {"127.0.0.1:80x", "port"},
      {"::1:8080", "brackets"},
      {"[::1:8080", "']'"},
      {"[::1]8080", "':'"},
      {"[127.0.0.1]:80", "brackets"},
      {"example.org:80", "not an IP address"},
  };
  for (const auto& [text, says] : bad) {
    auto r = parse_listen(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, "invalid_value");
    EXPECT_NE(r.error().message.find(says), std::string::npos) << text << ": " << r.error().message;
  }
}

TEST(Form, DecodesPairsInOrder) {
  auto form = relais::http::parse_form("token=abc&text=Bonjour+%C3%A0+tous&empty=&flag&text=2");
  ASSERT_TRUE(form);
  const relais::http::Headers expected = {
      {"token", "abc"}, {"text", "Bonjour à tous"}, {"empty", ""}, {"flag", ""}, {"text", "2"}};
  EXPECT_EQ(*form, expected);
  EXPECT_FALSE(relais::http::parse_form("a=%zz"));
  EXPECT_FALSE(relais::http::parse_form("a=%4"));
  EXPECT_EQ(*relais::http::percent_decode("a+b%2B", false), "a+b+");
}

TEST(Helpers, CompareAndMediaType) {
  using relais::http::constant_time_equals;
  EXPECT_TRUE(constant_time_equals("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equals("s3cret", "s3creT"));
  EXPECT_FALSE(constant_time_equals("s3cret", "s3cre"));
  EXPECT_FALSE(constant_time_equals("s3cret", "s3crets"));
  EXPECT_FALSE(constant_time_equals("s3cret", ""));
  EXPECT_FALSE(constant_time_equals("", ""));  // no secret configured never matches
  EXPECT_EQ(relais::http::media_type(" Application/JSON ; charset=utf-8"), "application/json");
  EXPECT_TRUE(relais::http::iequals("X-Telegram-Bot-Api-Secret-Token", "x-telegram-bot-api-secret-token"));
}

TEST(RateLimiter, SpendsTheBurstThenRefillsWithTime) {
  relais::http::RateLimiter limiter({.per_second = 2.0, .burst = 3.0, .max_keys = 100});
  const auto t0 = relais::http::RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_TRUE(limiter.allow("a", t0));
  EXPECT_FALSE(limiter.allow("a", t0));
  EXPECT_EQ(limiter.retry_after("a", t0), std::chrono::seconds(1));
  EXPECT_TRUE(limiter.allow("b", t0));  // another address has its own bucket
  EXPECT_FALSE(limiter.allow("a", t0 + std::chrono::milliseconds(400)));
  EXPECT_TRUE(limiter.allow("a", t0 + std::chrono::milliseconds(500)));  // one token back
  EXPECT_FALSE(limiter.allow("a", t0 + std::chrono::milliseconds(500)));
  EXPECT_TRUE(limiter.allow("a", t0 + std::chrono::seconds(60)));  // refilled, to the burst only
  EXPECT_TRUE(limiter.allow("a", t0 + std::chrono::seconds(60)));
  EXPECT_TRUE(limiter.allow("a", t0 + std::chrono::seconds(60)));
  EXPECT_FALSE(limiter.allow("a", t0 + std::chrono::seconds(60)));
  // A clock going back takes nothing and gives nothing.
  EXPECT_FALSE(limiter.allow("a", t0));
}

TEST(RateLimiter, ForgetsTheKeySeenLongestAgoPastItsBound) {
  relais::http::RateLimiter limiter({.per_second = 0.001, .burst = 1.0, .max_keys = 3});
  const auto t = relais::http::RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(limiter.allow("a", t));
  EXPECT_TRUE(limiter.allow("b", t));
  EXPECT_TRUE(limiter.allow("c", t));
  EXPECT_FALSE(limiter.allow("a", t));  // "a" is now the most recent
  EXPECT_TRUE(limiter.allow("d", t));   // forgets "b"
  EXPECT_EQ(limiter.size(), 3U);
  EXPECT_FALSE(limiter.allow("a", t));  // still remembered
  EXPECT_FALSE(limiter.allow("c", t));
  EXPECT_TRUE(limiter.allow("b", t));  // forgotten, so a full bucket again
  for (int i = 0; i < 1000; ++i) (void)limiter.allow("k" + std::to_string(i), t);
  EXPECT_EQ(limiter.size(), 3U);
}

}  // namespace
