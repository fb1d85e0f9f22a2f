// router: decides which destinations an accepted, triaged post goes to.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "relais/post.hpp"

namespace relais::daemon {

struct RouteDecision {
  std::vector<std::string> destinations;  // empty: unrouted, waits for a person
  std::string reason;
};

// With no destinations configured every need goes to the fallback; without a
// fallback it waits, visible, in the unrouted state.
RouteDecision route(const Post& post, const Triage& triage, const Config& config);

}  // namespace relais::daemon
