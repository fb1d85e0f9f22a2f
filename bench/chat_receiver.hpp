// chat_receiver: the destinations' end of sink_zmq, inside the bench, as a
// chat bridge would be: a ZeroMQ SUB socket bound on 127.0.0.1 (any free
// port), subscribed to every topic, that records each delivery (see
// receiver.hpp).
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "receiver.hpp"

namespace relais::bench {

class ChatReceiver final : public DeliveryReceiver {
 public:
  ChatReceiver();
  ~ChatReceiver() override;
  ChatReceiver(const ChatReceiver&) = delete;
  ChatReceiver& operator=(const ChatReceiver&) = delete;

  // tcp://127.0.0.1:PORT, for sink_zmq's `endpoint` with mode = "connect".
  const std::string& endpoint() const { return endpoint_; }
  std::string describe() const override { return "chat bridge (ZeroMQ SUB) at " + endpoint_; }

 private:
  void run();

  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::sub};
  std::string endpoint_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace relais::bench
