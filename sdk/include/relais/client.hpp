// The client library sources use to submit posts to relaisd over ZeroMQ.
//
// A Client keeps a window of posts in flight, matches acknowledgements to
// them, resends a post whose acknowledgement is late (the daemon drops the
// resend of a post it already stored), and blocks the caller while the window
// is full. It is not thread-safe: use one Client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais {

enum class SubmitStatus : std::uint8_t {
  stored,     // committed to the store by this submission
  duplicate,  // the store already held (source, external_id)
  rejected,   // permanently refused: see code, field and message
  gave_up,    // max_attempts reached without an acknowledgement
};

struct SubmitResult {
  std::uint64_t seq = 0;
  std::string source;
  std::string external_id;
  SubmitStatus status = SubmitStatus::gave_up;
  std::int64_t post_id = 0;
  std::string code;
  std::string field;
  std::string message;
  unsigned attempts = 0;
  std::chrono::nanoseconds latency{0};  // first send to acknowledgement
};

struct ClientOptions {
  std::string endpoint;  // ipc://, tcp:// or inproc:// (with `zmq_context`)
  std::size_t window = 256;
  std::chrono::milliseconds ack_timeout{1000};  // first resend after this
  std::chrono::milliseconds max_resend_interval{8000};
  unsigned max_attempts = 0;  // 0: resend until acknowledged
  // Called once per post, from submit(), poll() or flush().
  std::function<void(const SubmitResult&)> on_result;
  // For inproc:// endpoints: the daemon's zmq context (a zmq::context_t*).
  void* zmq_context = nullptr;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends a post; while the window is full, waits for acknowledgements
  // (backpressure) for at most `wait`. Returns the post's sequence number, or
  // window_full. An invalid post is refused by the daemon: see on_result.
  Expected<std::uint64_t> submit(const Post& post, std::chrono::milliseconds wait = std::chrono::hours(24));

  // Handles replies and due resends for up to `wait`; returns how many posts
  // completed.
  std::size_t poll(std::chrono::milliseconds wait);

  // Waits until every post in flight has completed; false on timeout.
  bool flush(std::chrono::milliseconds timeout);

  // Submits one post and waits for its outcome.
  SubmitResult submit_and_wait(const Post& post, std::chrono::milliseconds timeout);

  std::size_t in_flight() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais
