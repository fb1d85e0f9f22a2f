// webhook_receiver: the destinations' end of sink_webhook, inside the
// bench. An HTTP/1.1 server on 127.0.0.1 (any free port), keep-alive, one
// thread per connection (Boost.Beast, synchronous), that answers every
// request 200 at once and records each delivery (see receiver.hpp).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "receiver.hpp"

namespace relais::bench {

class WebhookReceiver final : public DeliveryReceiver {
 public:
  WebhookReceiver();
  ~WebhookReceiver() override;
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  unsigned short port() const { return port_; }
  std::string describe() const override { return "webhook receiver at 127.0.0.1:" + std::to_string(port_); }

 private:
  void accept_loop();
  void serve(const std::shared_ptr<boost::asio::ip::tcp::socket>& socket);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_thread_;

  std::mutex mutex_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> connections_;
  std::vector<std::thread> threads_;
};

}  // namespace relais::bench
