// router: the routing policy. Which destinations take a triaged request and
// why, by category, area, opening hours and the capacity left that day;
// which destination takes it next when one does not claim it in time or
// declines it; which volunteer pools an offer joins. The capacity ledger is
// the one piece of state: every destination given a need uses one unit of
// that day's capacity, counted in the destination's own time zone.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/network.hpp"
#include "relais/post.hpp"
#include "router/hours.hpp"

namespace relais::daemon {

// One destination the policy looked at, and what came of it.
struct Considered {
  std::string destination;
  std::string category;  // the category it was looked at for
  std::string outcome;   // "chosen", or why it was skipped
};

struct RouteDecision {
  // Chosen first, the fallback last; empty: no destination can take it.
  std::vector<std::string> destinations;
  std::string category;      // the category that decided; empty when no candidate did
  bool urgent_copy = false;  // the fallback is there as the copy of an urgent need
  std::string reason;        // one line for people
  std::vector<Considered> considered;
  // The local day whose capacity each destination uses, by destination.
  std::map<std::string, std::string> days;
};

// How much of each destination's capacity is taken, by its local day.
// Shared by the threads that route (the pipeline, escalation, feedback).
class CapacityLedger {
 public:
  struct Use {
    std::string destination;
    std::string day;
    std::int64_t count = 0;
  };
  void load(const std::vector<Use>& uses);
  std::int64_t used(const std::string& destination, const std::string& day) const;
  void take(const std::string& destination, const std::string& day);

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::int64_t> used_;
};

struct RoutingPolicy {
  const Network& network;
  std::vector<Urgency> urgent_copy;  // urgencies that also go to the fallback
};

// Where a request received at `at` goes (the policy of the demo network's
// page, section "Routing policy"): categories in order, the first with a
// candidate decides, the most specific candidate wins; no candidate, the
// fallback; an urgent need, the fallback as well. Reads the ledger; takes
// nothing.
RouteDecision plan_route(const RoutingPolicy& policy, const Triage& triage, Instant at,
                         const CapacityLedger& ledger);

// Who takes a need next at `at`, none of `tried` again: the next candidate
// by the same policy, else the fallback, else nobody (the moderators).
RouteDecision plan_next(const RoutingPolicy& policy, const Triage& triage, Instant at,
                        const CapacityLedger& ledger, const std::set<std::string>& tried);

// The volunteer pools an offer joins: the pools that handle one of its
// categories in its area.
std::vector<std::string> pools_for_offer(const Network& network, const Triage& triage);

// The policy with its ledger: plans and takes the capacity in one step, so
// that two routing threads never give away the same last unit.
class Router {
 public:
  RouteDecision route(const RoutingPolicy& policy, const Triage& triage, Instant at);
  RouteDecision next(const RoutingPolicy& policy, const Triage& triage, Instant at,
                     const std::set<std::string>& tried);
  // A destination given a need outside the policy (a moderator's choice).
  std::string take(const Destination& destination, Instant at);
  CapacityLedger& ledger() { return ledger_; }

 private:
  void take_all(const RouteDecision& decision);
  std::mutex mutex_;
  CapacityLedger ledger_;
};

}  // namespace relais::daemon
