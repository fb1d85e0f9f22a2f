#include "webhook_receiver.hpp"

#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace relais::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

WebhookReceiver::WebhookReceiver() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

WebhookReceiver::~WebhookReceiver() {
  stopping_ = true;
  // A connection of our own wakes the blocking accept.
  try {
    asio::io_context io;
    tcp::socket wake(io);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  } catch (const std::exception&) {
    // The acceptor is gone already.
  }
  if (acceptor_thread_.joinable()) acceptor_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    // Unblocks the connections' reads; the sockets themselves belong to
    // their threads.
    for (const auto& c : connections_) ::shutdown(c->native_handle(), SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void WebhookReceiver::accept_loop() {
  while (!stopping_) {
    auto socket = std::make_shared<tcp::socket>(io_);
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    if (ec || stopping_) continue;
    socket->set_option(tcp::no_delay(true), ec);
    std::lock_guard lock(mutex_);
    connections_.push_back(socket);
    threads_.emplace_back([this, socket] { serve(socket); });
  }
}

void WebhookReceiver::serve(const std::shared_ptr<tcp::socket>& socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    boost::system::error_code ec;
    http::read(*socket, buffer, request, ec);
    if (ec) return;  // closed, or the bench is stopping
    record(Clock::now(), request.body(), std::string(request["X-Relais-Delivery"]));
    http::response<http::empty_body> response{http::status::ok, request.version()};
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    http::write(*socket, response, ec);
    if (ec || !request.keep_alive()) return;
  }
}

}  // namespace relais::bench
