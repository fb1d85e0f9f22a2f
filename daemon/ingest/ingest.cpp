#include "ingest/ingest.hpp"

#include <spdlog/spdlog.h>

#include <thread>
#include <zmq.hpp>

#include "log.hpp"
#include "protocol.hpp"

namespace relais::daemon {

const char* const Ingest::kQueryEndpoint = "inproc://relais-queries";
const char* const Ingest::kReplyEndpoint = "inproc://relais-replies";
const char* const Ingest::kSourceEndpoint = "inproc://relais-sources";

namespace {
constexpr std::size_t kHardFrameLimit = std::size_t{64} * 1024 * 1024;
}

struct Ingest::Impl {
  zmq::context_t& context;
  const LiveConfig& config;
  Writer& writer;
  Counters& counters;
  std::shared_ptr<ReplyQueue> queued;
  std::vector<Reply> sending;  // taken from `queued`, kept for its capacity
  std::shared_ptr<spdlog::logger> log = component_logger("ingest");
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t replies{context, zmq::socket_type::pull};
  zmq::socket_t queries{context, zmq::socket_type::push};
  std::thread thread;
  bool stopping = false;

  Impl(zmq::context_t& ctx, const LiveConfig& cfg, Writer& w, Counters& c, std::shared_ptr<ReplyQueue> q)
      : context(ctx), config(cfg), writer(w), counters(c), queued(std::move(q)) {
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::rcvhwm, 0);
    router.set(zmq::sockopt::sndhwm, 0);
    // A peer that went away loses its replies; it resends after reconnecting.
    router.set(zmq::sockopt::router_mandatory, false);
    replies.set(zmq::sockopt::rcvhwm, 0);
    replies.bind(kReplyEndpoint);
    queries.set(zmq::sockopt::sndhwm, 0);
    queries.set(zmq::sockopt::linger, 0);
    queries.connect(kQueryEndpoint);
    const auto cfg_now = config.get();
    // Frames over max_message_bytes get a too_large reply; only a frame so
    // large that reading it is itself the attack closes the connection.
    router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kHardFrameLimit));
    router.bind(kSourceEndpoint);
    for (const auto& ep : cfg_now->endpoints) {
      try {
        router.bind(ep);
      } catch (const zmq::error_t& e) {
        throw std::runtime_error("ingest: cannot bind " + ep + ": " + e.what());
      }
      log->info("listening endpoint={}", ep);
    }
  }

  void send_reply(const Peer& peer, std::string_view frame) {
    // The peer may have gone; a lost reply is recovered by the client's resend.
    try {
      router.send(zmq::buffer(peer.identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (peer.delimited)
        router.send(zmq::str_buffer(""), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      router.send(zmq::buffer(frame), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log->debug("reply_dropped error=\"{}\"", e.what());
    }
  }

  void reject(const Peer& peer, const protocol::Rejection& r) {
    ++counters.rejected;
    ++counters.rejected_by_code[static_cast<std::size_t>(r.code)];
    // Field names and codes only: the message may quote nothing of the post.
    log->debug("rejected code={} field={}", protocol::code_name(r.code), r.field);
    send_reply(peer, protocol::encode_nack(r));
  }

  // Reads every message waiting on the ROUTER, up to a bound that keeps
  // replies flowing under a flood.
  void drain_router() {
    const auto cfg = config.get();
    const protocol::Limits limits{cfg->max_message_bytes, cfg->max_text_bytes};
    std::vector<Submission> batch;
    for (std::size_t n = 0; n < cfg->batch_max; ++n) {
      std::vector<zmq::message_t> frames;
      zmq::message_t part;
      if (!router.recv(part, zmq::recv_flags::dontwait)) break;
      frames.push_back(std::move(part));
      while (frames.back().more()) {
        zmq::message_t next;
        (void)router.recv(next, zmq::recv_flags::none);
        frames.push_back(std::move(next));
      }
      ++counters.messages;
      // DEALER sends [body]; REQ-style peers send ["", body].
      std::size_t body = 1;
      if (frames.size() == 3 && frames[1].size() == 0) body = 2;
      Peer peer{frames.front().to_string(), body == 2};
      if (frames.size() != body + 1) {
        reject(peer, {std::nullopt, protocol::Code::bad_json, "",
                      "a message is one frame holding one JSON object"});
        continue;
      }
      auto request = protocol::parse_request(frames[body].to_string_view(), limits);
      if (auto* s = std::get_if<protocol::Submit>(&request)) {
        batch.push_back({std::move(peer), s->seq, std::move(s->post)});
      } else if (auto* p = std::get_if<protocol::Ping>(&request)) {
        send_reply(peer, protocol::encode_pong(p->seq));
      } else if (std::holds_alternative<protocol::QueryRequest>(request)) {
        ++counters.queries;
        queries.send(zmq::buffer(peer.identity), zmq::send_flags::sndmore);
        queries.send(zmq::buffer(std::string_view(peer.delimited ? "-" : "")), zmq::send_flags::sndmore);
        queries.send(std::move(frames[body]), zmq::send_flags::none);
      } else {
        reject(peer, std::get<protocol::Rejection>(request));
      }
    }
    if (!batch.empty()) writer.submit(std::move(batch));
  }

  void send_queued() {
    {
      std::lock_guard lock(queued->mutex);
      sending.swap(queued->replies);
    }
    for (const auto& r : sending) send_reply(r.peer, r.frame);
    sending.clear();
  }

  // Returns false on the stop command.
  bool drain_replies() {
    for (;;) {
      // One frame: the writer queued replies. Otherwise [identity][delimiter
      // marker][frame] from the control service; an empty identity is the
      // stop command.
      zmq::message_t identity;
      if (!replies.recv(identity, zmq::recv_flags::dontwait)) return true;
      if (!identity.more()) {
        send_queued();
        continue;
      }
      zmq::message_t marker;
      zmq::message_t frame;
      (void)replies.recv(marker, zmq::recv_flags::none);
      (void)replies.recv(frame, zmq::recv_flags::none);
      if (identity.size() == 0) {
        stopping = true;
        continue;
      }
      send_reply(Peer{identity.to_string(), marker.size() != 0}, frame.to_string_view());
    }
  }

  void run() {
    while (true) {
      std::array<zmq::pollitem_t, 2> items{
          {{replies.handle(), 0, ZMQ_POLLIN, 0}, {router.handle(), 0, ZMQ_POLLIN, 0}}};
      const int count = stopping ? 1 : 2;
      try {
        // While stopping, the writer lowers its count just after its last
        // replies went out: look again shortly rather than wait for a
        // message that may not come.
        zmq::poll(items.data(), count, std::chrono::milliseconds(stopping ? 5 : -1));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        log->critical("poll_failed error=\"{}\"", e.what());
        return;
      }
      if ((items[0].revents & ZMQ_POLLIN) != 0) drain_replies();
      if (!stopping && (items[1].revents & ZMQ_POLLIN) != 0) drain_router();
      if (stopping && writer.pending_submissions() == 0) {
        drain_replies();  // the writer answers before it lowers its count
        send_queued();
        return;
      }
    }
  }
};

Ingest::Ingest(zmq::context_t& context, const LiveConfig& config, Writer& writer, Counters& counters,
               std::shared_ptr<ReplyQueue> replies)
    : impl_(std::make_unique<Impl>(context, config, writer, counters, std::move(replies))) {}

Ingest::~Ingest() { stop(); }

Writer::ReplySink Ingest::reply_sink(zmq::context_t& context, std::shared_ptr<ReplyQueue> queue) {
  auto push = std::make_shared<zmq::socket_t>(context, zmq::socket_type::push);
  push->set(zmq::sockopt::sndhwm, 0);
  push->set(zmq::sockopt::linger, 0);
  push->connect(kReplyEndpoint);
  return [push, queue = std::move(queue)](std::vector<Reply> replies) {
    bool wake = false;
    {
      std::lock_guard lock(queue->mutex);
      // Ingest empties the queue on each wake-up, so only an empty queue
      // needs one.
      wake = queue->replies.empty();
      if (wake) {
        queue->replies = std::move(replies);
      } else {
        for (auto& r : replies) queue->replies.push_back(std::move(r));
      }
    }
    if (wake) push->send(zmq::str_buffer("r"), zmq::send_flags::none);
  };
}

void Ingest::start() {
  impl_->thread = std::thread([this] {
    name_this_thread("ingest");
    impl_->run();
  });
}

void Ingest::stop() {
  if (!impl_->thread.joinable()) return;
  {
    zmq::socket_t stop(impl_->context, zmq::socket_type::push);
    stop.connect(kReplyEndpoint);
    stop.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    stop.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    stop.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
  impl_->thread.join();
  impl_->router.close();
}

}  // namespace relais::daemon
