#include "chat_receiver.hpp"

namespace relais::bench {

ChatReceiver::ChatReceiver() {
  socket_.set(zmq::sockopt::subscribe, "");
  socket_.set(zmq::sockopt::rcvhwm, 0);  // keep every message: the bench counts them
  socket_.set(zmq::sockopt::rcvtimeo, 100);
  socket_.bind("tcp://127.0.0.1:*");
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { run(); });
}

ChatReceiver::~ChatReceiver() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChatReceiver::run() {
  while (!stopping_) {
    zmq::message_t topic;
    if (!socket_.recv(topic, zmq::recv_flags::none)) continue;  // the receive timeout: look at stopping_
    zmq::message_t body;
    if (!topic.more() || !socket_.recv(body, zmq::recv_flags::none)) continue;
    // The delivery id is in the body: a chat message has no headers.
    record(Clock::now(), body.to_string_view(), "");
  }
}

}  // namespace relais::bench
