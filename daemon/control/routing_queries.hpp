// control/routing_queries: the operator's and the destinations' queries
// about needs and deliveries: the needs (the unrouted queue among them),
// one need with its destinations and deliveries, the outbox, a redrive, a
// moderator's assignment, and a destination's claim, decline and resolve.
// Internal to control/: Boost.JSON stays out of control.hpp.
#pragma once

#include <boost/json.hpp>

#include "protocol.hpp"
#include "relais/expected.hpp"

namespace relais::daemon {

class Store;
class NeedTracker;
class Writer;

struct RoutingQueries {
  Store& store;  // control's read-only connection
  NeedTracker& needs;
  Writer& writer;

  // Whether `what` is one of these queries.
  static bool handles(std::string_view what);
  Expected<boost::json::value> answer(const protocol::Query& q);

 private:
  Expected<boost::json::value> list_needs(const protocol::Query& q);
  Expected<boost::json::value> need(const protocol::Query& q);
  Expected<boost::json::value> deliveries(const protocol::Query& q);
  Expected<boost::json::value> redrive(const protocol::Query& q);
  Expected<boost::json::value> assign(const protocol::Query& q);
  Expected<boost::json::value> act(const protocol::Query& q);
};

}  // namespace relais::daemon
