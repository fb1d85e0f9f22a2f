#include "router/router.hpp"

#include <algorithm>

namespace relais::daemon {
namespace {

std::string capacity_day(const Destination& d, Instant at) { return local_date(*d.zone, at); }

bool full(const Destination& d, Instant at, const CapacityLedger& ledger) {
  return ledger.used(d.id, capacity_day(d, at)) >= d.daily_capacity;
}

std::string full_reason(const Destination& d, Instant at, const CapacityLedger& ledger) {
  const auto day = capacity_day(d, at);
  return "no capacity left on " + day + " (" + std::to_string(ledger.used(d.id, day)) + " of " +
         std::to_string(d.daily_capacity) + ")";
}

// The candidates for one category, most specific first; every destination
// that handles the category is noted in `considered` with what came of it.
std::vector<const Destination*> candidates(const Network& network, const std::string& category,
                                           const std::string& area, Instant at, const CapacityLedger& ledger,
                                           const std::set<std::string>& tried,
                                           std::vector<Considered>& considered) {
  std::vector<const Destination*> eligible;
  for (const auto& d : network.destinations) {
    if (d.fallback || !d.handles(category)) continue;
    std::string skipped;
    if (tried.count(d.id) > 0) {
      skipped = "already had this need";
    } else if (!d.covers(area)) {
      skipped = area.empty() ? "the area is unknown" : "does not cover " + area;
    } else if (!is_open(d.hours, *d.zone, at)) {
      skipped = "closed at " + describe(*d.zone, at);
    } else if (full(d, at, ledger)) {
      skipped = full_reason(d, at, ledger);
    }
    if (!skipped.empty()) {
      considered.push_back({d.id, category, std::move(skipped)});
      continue;
    }
    eligible.push_back(&d);
  }
  // The one covering the fewest areas is the closest to the need; a tie
  // goes to the first id, so that the same inputs always give the same route.
  std::sort(eligible.begin(), eligible.end(), [](const Destination* a, const Destination* b) {
    if (a->areas.size() != b->areas.size()) return a->areas.size() < b->areas.size();
    return a->id < b->id;
  });
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    considered.push_back({eligible[i]->id, category,
                          i == 0 ? std::string("chosen")
                                 : "less specific than " + eligible[0]->id + " (" +
                                       std::to_string(eligible[i]->areas.size()) + " areas against " +
                                       std::to_string(eligible[0]->areas.size()) + ")"});
  }
  return eligible;
}

std::string where_text(const Triage& triage) { return triage.area.empty() ? "an unknown area" : triage.area; }

// The categories tried in order: the first with a candidate decides.
bool choose(const RoutingPolicy& policy, const Triage& triage, Instant at, const CapacityLedger& ledger,
            const std::set<std::string>& tried, RouteDecision& decision) {
  for (const auto& category : triage.categories) {
    auto eligible = candidates(policy.network, category, triage.area, at, ledger, tried, decision.considered);
    if (eligible.empty()) continue;
    decision.destinations.push_back(eligible.front()->id);
    decision.category = category;
    decision.reason =
        "the most specific open destination with capacity for " + category + " in " + where_text(triage);
    return true;
  }
  return false;
}

std::string categories_text(const Triage& triage) {
  std::string out;
  for (const auto& c : triage.categories) out += (out.empty() ? "" : ", ") + c;
  return out.empty() ? "no category" : out;
}

// The fallback when no candidate took the need; false when it cannot either.
bool to_fallback(const RoutingPolicy& policy, const Triage& triage, Instant at, const CapacityLedger& ledger,
                 const std::set<std::string>& tried, RouteDecision& decision) {
  const auto* fallback = policy.network.fallback();
  const std::string nobody =
      "no open destination with capacity for " + categories_text(triage) + " in " + where_text(triage);
  if (fallback == nullptr) {
    decision.reason = nobody + ", and the network has no fallback";
    return false;
  }
  if (tried.count(fallback->id) > 0) {
    decision.considered.push_back({fallback->id, "", "already had this need"});
    decision.reason = nobody + ", and the fallback already had it";
    return false;
  }
  if (full(*fallback, at, ledger)) {
    decision.considered.push_back({fallback->id, "", full_reason(*fallback, at, ledger)});
    decision.reason = nobody + ", and the fallback has no capacity left";
    return false;
  }
  decision.considered.push_back({fallback->id, "", "chosen as the fallback"});
  decision.destinations.push_back(fallback->id);
  decision.reason = nobody + ": sent to the fallback";
  return true;
}

void fill_days(const Network& network, RouteDecision& decision, Instant at) {
  for (const auto& id : decision.destinations) {
    if (const auto* d = network.find(id)) decision.days[id] = capacity_day(*d, at);
  }
}

}  // namespace

void CapacityLedger::load(const std::vector<Use>& uses) {
  std::lock_guard lock(mutex_);
  used_.clear();
  for (const auto& u : uses) used_[{u.destination, u.day}] += u.count;
}

std::int64_t CapacityLedger::used(const std::string& destination, const std::string& day) const {
  std::lock_guard lock(mutex_);
  const auto it = used_.find({destination, day});
  return it == used_.end() ? 0 : it->second;
}

void CapacityLedger::take(const std::string& destination, const std::string& day) {
  std::lock_guard lock(mutex_);
  ++used_[{destination, day}];
}

RouteDecision plan_route(const RoutingPolicy& policy, const Triage& triage, Instant at,
                         const CapacityLedger& ledger) {
  RouteDecision decision;
  const std::set<std::string> none;
  if (!choose(policy, triage, at, ledger, none, decision)) {
    to_fallback(policy, triage, at, ledger, none, decision);
  }
  const bool urgent = std::find(policy.urgent_copy.begin(), policy.urgent_copy.end(), triage.urgency) !=
                      policy.urgent_copy.end();
  const auto* fallback = policy.network.fallback();
  if (urgent && fallback != nullptr && !decision.destinations.empty() &&
      std::find(decision.destinations.begin(), decision.destinations.end(), fallback->id) ==
          decision.destinations.end()) {
    if (full(*fallback, at, ledger)) {
      decision.considered.push_back(
          {fallback->id, "", "no urgent copy: " + full_reason(*fallback, at, ledger)});
    } else {
      decision.considered.push_back({fallback->id, "", "chosen for the copy of an urgent need"});
      decision.destinations.push_back(fallback->id);
      decision.urgent_copy = true;
      decision.reason += "; urgency " + std::string(to_string(triage.urgency)) + ": a copy to the fallback";
    }
  }
  fill_days(policy.network, decision, at);
  return decision;
}

RouteDecision plan_next(const RoutingPolicy& policy, const Triage& triage, Instant at,
                        const CapacityLedger& ledger, const std::set<std::string>& tried) {
  RouteDecision decision;
  if (!choose(policy, triage, at, ledger, tried, decision)) {
    to_fallback(policy, triage, at, ledger, tried, decision);
  }
  fill_days(policy.network, decision, at);
  return decision;
}

std::vector<std::string> pools_for_offer(const Network& network, const Triage& triage) {
  std::vector<std::string> pools;
  for (const auto& d : network.destinations) {
    if (!d.pool || triage.area.empty() || !d.covers(triage.area)) continue;
    const bool handles = std::any_of(triage.categories.begin(), triage.categories.end(),
                                     [&](const std::string& c) { return d.handles(c); });
    if (handles) pools.push_back(d.id);
  }
  return pools;
}

void Router::take_all(const RouteDecision& decision) {
  for (const auto& [id, day] : decision.days) ledger_.take(id, day);
}

RouteDecision Router::route(const RoutingPolicy& policy, const Triage& triage, Instant at) {
  std::lock_guard lock(mutex_);
  auto decision = plan_route(policy, triage, at, ledger_);
  take_all(decision);
  return decision;
}

RouteDecision Router::next(const RoutingPolicy& policy, const Triage& triage, Instant at,
                           const std::set<std::string>& tried) {
  std::lock_guard lock(mutex_);
  auto decision = plan_next(policy, triage, at, ledger_, tried);
  take_all(decision);
  return decision;
}

std::string Router::take(const Destination& destination, Instant at) {
  std::lock_guard lock(mutex_);
  auto day = capacity_day(destination, at);
  ledger_.take(destination.id, day);
  return day;
}

}  // namespace relais::daemon
