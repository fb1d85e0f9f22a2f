// receiver: the destinations' end of relais's sinks, inside the bench: it
// records when each delivery arrived, with the post it carries (the JSON
// body's post.id), its purpose and destination, and counts a delivery that
// comes twice. Two of them: a webhook receiver (sink_webhook over HTTP) and
// a chat bridge (sink_zmq, a SUB socket). They are part of the measuring
// rig, not of relais: they check no signature.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "harness.hpp"

namespace relais::bench {

class DeliveryReceiver {
 public:
  struct Arrival {
    Clock::time_point at;  // once the whole delivery was read
    std::int64_t post_id = 0;
    std::string purpose;      // need, urgent_copy, offer, unrouted, ...
    std::string destination;  // the destination id, or the moderators
  };

  virtual ~DeliveryReceiver() = default;

  // Where relaisd's deliver entries point, and how it says so.
  virtual std::string describe() const = 0;

  // The arrivals since the last take().
  std::vector<Arrival> take();
  std::size_t pending_count() const;
  Clock::time_point last_arrival() const;
  // Since the start: deliveries whose body could not be read, and those
  // that came again (the same delivery id).
  std::size_t unreadable() const { return unreadable_.load(); }
  std::size_t repeated() const { return repeated_.load(); }

 protected:
  // A delivery's JSON body as it arrived at `at`, with its delivery id.
  void record(Clock::time_point at, std::string_view body, std::string delivery_id);

 private:
  mutable std::mutex mutex_;
  std::vector<Arrival> arrivals_;
  Clock::time_point last_;
  std::unordered_set<std::string> seen_;
  std::atomic<std::size_t> unreadable_{0};
  std::atomic<std::size_t> repeated_{0};
};

}  // namespace relais::bench
