// ingest: owns the ROUTER socket sources talk to. Validates every message,
// answers the invalid ones at once, hands posts to the store writer and sends
// its acknowledgements back, and passes queries on to the control service.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "config/live_config.hpp"
#include "counters.hpp"
#include "storage/writer.hpp"

namespace zmq {
class context_t;
}

namespace relais::daemon {

// Acknowledgements on their way from the writer to ingest's ROUTER. The
// writer appends a whole batch under the lock and wakes ingest with one
// message, rather than one message per reply.
struct ReplyQueue {
  std::mutex mutex;
  std::vector<Reply> replies;
};

class Ingest {
 public:
  // Binds every configured endpoint; throws std::runtime_error naming the
  // endpoint that could not be bound.
  Ingest(zmq::context_t& context, const LiveConfig& config, Writer& writer, Counters& counters,
         std::shared_ptr<ReplyQueue> replies);
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // A sink that sends replies through ingest's ROUTER, by way of `queue`;
  // each sink is to be used by one thread only. It may be made before the
  // Ingest itself.
  static Writer::ReplySink reply_sink(zmq::context_t& context, std::shared_ptr<ReplyQueue> queue);
  // The inproc endpoint the control service reads queries from, and the one
  // it sends its replies to.
  static const char* const kQueryEndpoint;
  static const char* const kReplyEndpoint;
  // Always bound: where source plugins submit, over the daemon's context.
  static const char* const kSourceEndpoint;

  void start();
  // Stops reading new messages, waits for the writer to answer those it
  // took, sends the answers, then returns.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::daemon
