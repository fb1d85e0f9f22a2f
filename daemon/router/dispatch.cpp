#include "router/dispatch.hpp"

#include <boost/json.hpp>

namespace relais::daemon {
namespace json = boost::json;

std::int64_t claim_deadline(const Config& config, const Destination& destination, Urgency urgency,
                            Instant now) {
  const auto timeout = config.timeout_for(urgency);
  if (urgency != Urgency::critical) {
    if (auto t = add_open_time(destination.hours, *destination.zone, now, timeout)) return to_millis(*t);
  }
  return to_millis(now + timeout);
}

std::vector<DeliveryRequest> deliveries_to(const Config& config, std::string_view destination,
                                           std::int64_t post_id, DeliveryPurpose purpose,
                                           const std::string& reason, std::int64_t related_post) {
  const std::vector<DeliverEntry>* entries = &config.moderators;
  if (destination != kModerators) {
    const auto* d = config.network->find(destination);
    if (d == nullptr) return {};
    entries = &d->deliver;
  }
  std::vector<DeliveryRequest> out;
  for (const auto& e : *entries) {
    out.push_back({post_id, std::string(destination), e.sink, purpose, reason, related_post});
  }
  return out;
}

std::string decision_detail(const RouteDecision& decision, const Network& network, Instant at) {
  json::array destinations;
  for (const auto& d : decision.destinations) destinations.emplace_back(d);
  json::array considered;
  for (const auto& c : decision.considered) {
    json::object o{{"destination", c.destination}, {"outcome", c.outcome}};
    if (!c.category.empty()) o["category"] = c.category;
    considered.push_back(std::move(o));
  }
  json::object detail{{"destinations", std::move(destinations)},
                      {"reason", decision.reason},
                      {"considered", std::move(considered)}};
  if (!decision.category.empty()) detail["category"] = decision.category;
  if (decision.urgent_copy) detail["urgent_copy"] = true;
  if (network.zone) detail["at"] = describe(*network.zone, at);
  return json::serialize(detail);
}

Dispatch dispatch_route(const Config& config, const RouteDecision& decision, std::int64_t post_id,
                        Urgency urgency, Instant routed_at, Instant now) {
  Dispatch out;
  const auto detail = decision_detail(decision, *config.network, routed_at);
  if (decision.destinations.empty()) {
    out.state = std::string(state::unrouted);
    out.deliveries = deliveries_to(config, kModerators, post_id, DeliveryPurpose::unrouted, decision.reason);
    out.event = {"unrouted", "route", detail};
    return out;
  }
  out.state = std::string(state::routed);
  const auto* fallback = config.network->fallback();
  for (std::size_t i = 0; i < decision.destinations.size(); ++i) {
    const auto& id = decision.destinations[i];
    const bool is_copy = i > 0 && decision.urgent_copy && fallback != nullptr && id == fallback->id;
    const std::string reason = is_copy ? "urgent_copy" : (decision.category.empty() ? "fallback" : "route");
    const auto day = decision.days.find(id);
    out.assignments.push_back(
        {id, reason, day != decision.days.end() ? day->second : std::string(), "active"});
    const auto purpose = is_copy ? DeliveryPurpose::urgent_copy : DeliveryPurpose::need;
    for (auto& d : deliveries_to(config, id, post_id, purpose, decision.reason))
      out.deliveries.push_back(std::move(d));
  }
  const auto* owner = config.network->find(decision.destinations.front());
  out.need.owner = decision.destinations.front();
  if (owner != nullptr) out.need.deadline = claim_deadline(config, *owner, urgency, now);
  out.event = {"routed", "route", detail};
  return out;
}

}  // namespace relais::daemon
