#include "relais/client.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <zmq.hpp>

#include "protocol.hpp"

namespace relais {
namespace {
using Clock = std::chrono::steady_clock;
}

struct Client::Impl {
  struct InFlight {
    std::string frame;
    std::string source;
    std::string external_id;
    Clock::time_point first_sent;
    Clock::time_point deadline;
    unsigned attempts = 0;
  };

  ClientOptions options;
  std::unique_ptr<zmq::context_t> own_context;
  zmq::context_t* context = nullptr;
  std::optional<zmq::socket_t> socket;
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, InFlight> in_flight;
  std::set<std::pair<Clock::time_point, std::uint64_t>> deadlines;
  // Outcome of the post submit_and_wait() is waiting for.
  std::uint64_t awaited_seq = 0;
  std::optional<SubmitResult> awaited_result;

  explicit Impl(ClientOptions opts) : options(std::move(opts)) {
    if (options.window == 0) throw std::invalid_argument("relais::Client: window must be > 0");
    if (options.zmq_context != nullptr) {
      context = static_cast<zmq::context_t*>(options.zmq_context);
    } else {
      own_context = std::make_unique<zmq::context_t>(1);
      context = own_context.get();
    }
    socket.emplace(*context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::sndhwm, 0);
    socket->set(zmq::sockopt::rcvhwm, 0);
    socket->connect(options.endpoint);
  }

  std::chrono::milliseconds resend_interval(unsigned attempts) const {
    auto interval = options.ack_timeout;
    for (unsigned i = 1; i < attempts && interval < options.max_resend_interval; ++i) interval *= 2;
    return std::min(interval, options.max_resend_interval);
  }

  void send(std::uint64_t seq, InFlight& item, Clock::time_point now) {
    // A send that cannot go out now (no connection yet) is simply retried
    // at the next deadline, like a lost one.
    (void)socket->send(zmq::buffer(item.frame), zmq::send_flags::dontwait);
    ++item.attempts;
    item.deadline = now + resend_interval(item.attempts);
    deadlines.emplace(item.deadline, seq);
  }

  void complete(std::uint64_t seq, InFlight& item, SubmitStatus status, const protocol::Reply* reply,
                Clock::time_point now) {
    SubmitResult result;
    result.seq = seq;
    result.source = std::move(item.source);
    result.external_id = std::move(item.external_id);
    result.status = status;
    result.attempts = item.attempts;
    result.latency = now - item.first_sent;
    if (reply != nullptr) {
      result.post_id = reply->post_id;
      result.code = reply->code;
      result.field = reply->field;
      result.message = reply->message;
    } else {
      result.code = "gave_up";
      result.message = "no acknowledgement after " + std::to_string(item.attempts) + " attempts";
    }
    deadlines.erase({item.deadline, seq});
    in_flight.erase(seq);
    if (seq == awaited_seq) awaited_result = result;
    if (options.on_result) options.on_result(result);
  }

  void handle(std::string_view frame, Clock::time_point now, std::size_t& completed) {
    auto reply = protocol::parse_reply(frame);
    if (!reply || !reply->seq) return;  // not ours to match; a later resend covers it
    auto it = in_flight.find(*reply->seq);
    if (it == in_flight.end()) return;  // the answer to an earlier attempt
    if (reply->type == "ack") {
      complete(it->first, it->second,
               reply->status == "duplicate" ? SubmitStatus::duplicate : SubmitStatus::stored, &*reply, now);
      ++completed;
    } else if (reply->type == "nack" && !protocol::is_retryable(reply->code)) {
      complete(it->first, it->second, SubmitStatus::rejected, &*reply, now);
      ++completed;
    }
    // A retryable nack: leave it to the resend timer.
  }

  std::size_t resend_due(Clock::time_point now) {
    std::size_t completed = 0;
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      const auto seq = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      auto it = in_flight.find(seq);
      if (it == in_flight.end()) continue;
      if (options.max_attempts != 0 && it->second.attempts >= options.max_attempts) {
        complete(seq, it->second, SubmitStatus::gave_up, nullptr, now);
        ++completed;
        continue;
      }
      send(seq, it->second, now);
    }
    return completed;
  }

  // Waits for replies until `until`, or returns early once something completed.
  std::size_t pump(Clock::time_point until) {
    std::size_t completed = 0;
    for (;;) {
      auto now = Clock::now();
      completed += resend_due(now);
      // Drain whatever has arrived without blocking.
      zmq::message_t msg;
      while (socket->recv(msg, zmq::recv_flags::dontwait)) {
        handle(msg.to_string_view(), Clock::now(), completed);
      }
      if (completed > 0 || now >= until) return completed;
      auto wake = until;
      if (!deadlines.empty()) wake = std::min(wake, deadlines.begin()->first);
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(wake - now) + std::chrono::milliseconds(1);
      zmq::pollitem_t item{socket->handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::max(wait, std::chrono::milliseconds(0)));
    }
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

Expected<std::uint64_t> Client::submit(const Post& post, std::chrono::milliseconds wait) {
  const auto until = Clock::now() + wait;
  while (impl_->in_flight.size() >= impl_->options.window) {
    if (Clock::now() >= until) {
      return Error{"window_full", "the window of posts in flight is full", ""};
    }
    impl_->pump(until);
  }
  const auto seq = impl_->next_seq++;
  Impl::InFlight item;
  item.frame = protocol::encode_submit(seq, post);
  item.source = post.source;
  item.external_id = post.external_id;
  const auto now = Clock::now();
  item.first_sent = now;
  auto [it, inserted] = impl_->in_flight.emplace(seq, std::move(item));
  impl_->send(seq, it->second, now);
  return seq;
}

std::size_t Client::poll(std::chrono::milliseconds wait) { return impl_->pump(Clock::now() + wait); }

bool Client::flush(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (!impl_->in_flight.empty()) {
    if (Clock::now() >= until) return false;
    impl_->pump(until);
  }
  return true;
}

SubmitResult Client::submit_and_wait(const Post& post, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  auto seq = submit(post, timeout);
  if (!seq) {
    SubmitResult r;
    r.source = post.source;
    r.external_id = post.external_id;
    r.status = SubmitStatus::gave_up;
    r.code = seq.error().code;
    r.message = seq.error().message;
    return r;
  }
  impl_->awaited_seq = *seq;
  impl_->awaited_result.reset();
  while (!impl_->awaited_result && Clock::now() < until) impl_->pump(until);
  impl_->awaited_seq = 0;
  if (impl_->awaited_result) return *std::exchange(impl_->awaited_result, std::nullopt);
  SubmitResult r;
  r.seq = *seq;
  r.source = post.source;
  r.external_id = post.external_id;
  r.status = SubmitStatus::gave_up;
  r.code = "timeout";
  r.message = "no acknowledgement within the timeout; the post is still in flight";
  return r;
}

std::size_t Client::in_flight() const noexcept { return impl_->in_flight.size(); }

}  // namespace relais
