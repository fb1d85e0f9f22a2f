// Sinks deliver a routed need to a destination: by e-mail, a webhook, a chat
// room. The daemon calls them from its outbox, retries what they report as
// retryable, and dead-letters what keeps failing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais {

// Why a delivery goes to its destination; sinks pick their wording by it.
enum class DeliveryPurpose : std::uint8_t {
  need,         // a need routed to this destination
  urgent_copy,  // a copy of an urgent need routed to another destination first
  escalation,   // a need nobody claimed in time elsewhere
  reroute,      // a need another destination declined
  offer,        // a volunteer's offer: it matches one of this destination's needs, or joins its pool
  unrouted,     // to the moderators: a need no destination can take
};

constexpr std::string_view to_string(DeliveryPurpose purpose) noexcept {
  switch (purpose) {
    case DeliveryPurpose::need:
      return "need";
    case DeliveryPurpose::urgent_copy:
      return "urgent_copy";
    case DeliveryPurpose::escalation:
      return "escalation";
    case DeliveryPurpose::reroute:
      return "reroute";
    case DeliveryPurpose::offer:
      return "offer";
    case DeliveryPurpose::unrouted:
      return "unrouted";
  }
  return "?";
}
constexpr std::optional<DeliveryPurpose> parse_delivery_purpose(std::string_view text) noexcept {
  for (auto p : {DeliveryPurpose::need, DeliveryPurpose::urgent_copy, DeliveryPurpose::escalation,
                 DeliveryPurpose::reroute, DeliveryPurpose::offer, DeliveryPurpose::unrouted}) {
    if (to_string(p) == text) return p;
  }
  return std::nullopt;
}

// One message on its way to one destination.
struct Delivery {
  std::string id;  // stable across attempts: a receiver drops a duplicate by it
  DeliveryPurpose purpose = DeliveryPurpose::need;
  std::string destination;       // the destination's id ("moderators" for the moderators)
  std::string destination_name;  // for people
  // Where this sink reaches the destination, as the destination's `deliver`
  // entry says (`to`): a URL, an e-mail address, a topic. Checked by
  // Sink::check_address when the configuration is loaded.
  std::string address;
  // The destination's shared secret for this sink (`secret`), for example
  // the key of a webhook's signature; empty when it has none.
  std::string secret;
  std::string lang;  // the destination's language: "fr", "en"
  // Why it goes there, for people: which rule of the routing policy chose
  // it. Never personal data.
  std::string reason;
  // The post as this destination may see it: the original text and the
  // poster's contact when the destination receives personal data, the
  // public (redacted) text without `private_data` otherwise.
  Post post;
  Triage triage;
  // Signed links the destination may follow to act on the need: "claim",
  // "decline", "resolve" (empty when relaisd has no HTTP address).
  std::map<std::string, std::string> links;
  // offer: the need it matches (0 when it only joins a pool).
  std::int64_t related_post = 0;
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
  // retry: at the earliest after this many seconds (an HTTP Retry-After);
  // 0 leaves the pause to the outbox's backoff.
  std::uint32_t retry_after_s = 0;
};

// Called from one thread at a time; an exception counts as a retryable
// failure and is logged with the plugin's name.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual DeliveryResult deliver(const Delivery& delivery) = 0;
  // Whether this sink can deliver to `address` (a destination's `to`):
  // asked for every destination that names the sink, when the configuration
  // is loaded, so that a typo is refused then rather than dead-lettered
  // later. The error's message says what was expected.
  virtual Status check_address(std::string_view /*address*/) const { return Done{}; }
};

}  // namespace relais
