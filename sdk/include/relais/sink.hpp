// Sinks deliver a routed need to a destination: by e-mail, a webhook, a chat
// room. The daemon calls them from its outbox, retries what they report as
// retryable, and dead-letters what keeps failing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "relais/post.hpp"

namespace relais {

// One need on its way to one destination.
struct Delivery {
  std::string id;           // stable across attempts: a receiver drops a duplicate by it
  std::string destination;  // the destination's id in relais.toml
  Post post;                // with the personal data this destination may see
  Triage triage;
  unsigned attempt = 1;  // 1 for the first try
};

enum class DeliveryStatus : std::uint8_t {
  delivered,  // the destination has it
  retry,      // not now (a timeout, a 5xx): the outbox tries again later
  failed,     // never (a refused address): dead-lettered at once
};

struct DeliveryResult {
  DeliveryStatus status = DeliveryStatus::delivered;
  std::string reason;  // for people and the event trail; no personal data
};

// Called from one thread at a time; an exception counts as a retryable
// failure and is logged with the plugin's name.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual DeliveryResult deliver(const Delivery& delivery) = 0;
};

}  // namespace relais
