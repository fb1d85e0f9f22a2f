// webhook_receiver: the destinations' end of sink_webhook, inside the
// bench. An HTTP/1.1 server on 127.0.0.1 (any free port), keep-alive, one
// thread per connection (Boost.Beast, synchronous), that answers every
// request 200 at once and records when each delivery arrived, with the post
// it carries (the JSON body's post.id), its purpose and destination. It is
// part of the measuring rig, not of relais: it checks no signature.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "harness.hpp"

namespace relais::bench {

class WebhookReceiver {
 public:
  struct Arrival {
    Clock::time_point at;  // once the whole request was read
    std::int64_t post_id = 0;
    std::string purpose;      // need, urgent_copy, offer, unrouted, ...
    std::string destination;  // the destination id, or the moderators
  };

  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  unsigned short port() const { return port_; }
  // The arrivals since the last take().
  std::vector<Arrival> take();
  // Arrivals since the last take(), and the time of the latest.
  std::size_t pending_count() const;
  Clock::time_point last_arrival() const;
  // Since the start: requests whose body could not be read, and deliveries
  // that came again (the same X-Relais-Delivery).
  std::size_t unreadable() const { return unreadable_.load(); }
  std::size_t repeated() const { return repeated_.load(); }

 private:
  void accept_loop();
  void serve(const std::shared_ptr<boost::asio::ip::tcp::socket>& socket);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_thread_;

  mutable std::mutex mutex_;
  std::vector<Arrival> arrivals_;
  Clock::time_point last_;
  std::unordered_set<std::string> seen_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> connections_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> unreadable_{0};
  std::atomic<std::size_t> repeated_{0};
};

}  // namespace relais::bench
