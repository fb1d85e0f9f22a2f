// router/dispatch: turning a routing decision into what is stored with it:
// the need's owner and escalation timer, the destinations given the need,
// the outbox rows that reach them, and the event that says why. Shared by
// the pipeline (first routing) and the need tracker (escalation, decline,
// a moderator's assignment), so that both write the same records.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "router/router.hpp"
#include "storage/store.hpp"

namespace relais::daemon {

// When a need given to `destination` at `now` escalates if nobody claims
// it: the urgency's timeout, counted during the destination's opening hours
// unless the need is critical (then on the wall clock, as for a
// destination that never opens).
std::int64_t claim_deadline(const Config& config, const Destination& destination, Urgency urgency,
                            Instant now);

// One outbox row per `deliver` entry of the destination (of the moderators
// for kModerators).
std::vector<DeliveryRequest> deliveries_to(const Config& config, std::string_view destination,
                                           std::int64_t post_id, DeliveryPurpose purpose,
                                           const std::string& reason, std::int64_t related_post = 0);

// The JSON detail of a routing event: the destinations, the deciding
// category, the reason, the local time the policy was read at, and every
// destination considered with what came of it.
std::string decision_detail(const RouteDecision& decision, const Network& network, Instant at);

// A routing decision as the records of a first routing: the need with its
// owner (the first destination) and timer, the assignments (route,
// fallback, urgent_copy), the deliveries; or, when nobody can take the
// need, an unrouted need and the moderators' deliveries.
struct Dispatch {
  std::string state;  // routed | unrouted
  NeedRecord need;
  std::vector<AssignmentRecord> assignments;
  std::vector<DeliveryRequest> deliveries;
  PostEvent event;
};
Dispatch dispatch_route(const Config& config, const RouteDecision& decision, std::int64_t post_id,
                        Urgency urgency, Instant routed_at, Instant now);

}  // namespace relais::daemon
