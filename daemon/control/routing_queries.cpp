#include "control/routing_queries.hpp"

#include <future>

#include "router/needs.hpp"
#include "storage/store.hpp"
#include "storage/writer.hpp"

namespace relais::daemon {
namespace json = boost::json;
namespace {

// How long an act may take to be carried out and committed.
constexpr std::chrono::seconds kTimeout{30};

std::string instant_text(std::int64_t ms) {
  return protocol::rfc3339_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

json::object need_json(const StoredNeed& n) {
  json::array categories;
  for (const auto& c : n.triage.categories) categories.emplace_back(c);
  json::array destinations;
  for (const auto& a : n.assignments) {
    destinations.push_back(json::object{
        {"destination", a.destination}, {"reason", a.reason}, {"state", a.state}, {"day", a.day}});
  }
  json::object o{{"id", n.post_id},
                 {"state", n.state},
                 {"owner", n.need.owner},
                 {"claimed_by", n.need.claimed_by},
                 {"urgency", to_string(n.triage.urgency)},
                 {"categories", std::move(categories)},
                 {"area", n.triage.area},
                 {"received_at", n.received_at},
                 {"destinations", std::move(destinations)}};
  o["deadline"] = n.need.deadline ? json::value(instant_text(*n.need.deadline)) : json::value(nullptr);
  return o;
}

json::object delivery_json(const StoredDelivery& d) {
  json::object o{{"id", d.id},
                 {"post", d.post_id},
                 {"destination", d.destination},
                 {"sink", d.sink},
                 {"purpose", to_string(d.purpose)},
                 {"reason", d.reason},
                 {"state", d.state},
                 {"attempts", d.attempts},
                 {"last_error", d.last_error},
                 {"created_at", d.created_at},
                 {"updated_at", d.updated_at}};
  if (d.related_post > 0) o["related_post"] = d.related_post;
  if (d.state == delivery_state::pending)
    o["next_at"] = d.next_at > 0 ? json::value(instant_text(d.next_at)) : json::value("now");
  return o;
}

json::object post_json(const Post& p) {
  json::object fields;
  for (const auto& [k, v] : p.private_data) fields[k] = v;
  json::object o{{"id", p.id}, {"channel", p.channel}, {"text", p.text}, {"received_at", p.received_at}};
  o["subject"] = p.subject ? json::value(*p.subject) : json::value(nullptr);
  if (!p.sender.empty()) o["sender"] = p.sender;
  if (!fields.empty()) o["private"] = std::move(fields);
  return o;
}

template <class T>
Expected<T> wait_for(std::future<Expected<T>>& future, const std::string& what) {
  if (future.wait_for(kTimeout) != std::future_status::ready) {
    return Error{"unavailable", what + " was not committed within 30 s; check before trying again", ""};
  }
  return future.get();
}

}  // namespace

bool RoutingQueries::handles(std::string_view what) {
  return what == "needs" || what == "need" || what == "deliveries" || what == "redrive" || what == "assign" ||
         what == "claim" || what == "decline" || what == "resolve";
}

Expected<json::value> RoutingQueries::answer(const protocol::Query& q) {
  if (q.what == "needs") return list_needs(q);
  if (q.what == "need") return need(q);
  if (q.what == "deliveries") return deliveries(q);
  if (q.what == "redrive") return redrive(q);
  if (q.what == "assign") return assign(q);
  return act(q);
}

Expected<json::value> RoutingQueries::list_needs(const protocol::Query& q) {
  auto found = store.list_needs(q.state, q.destination, static_cast<std::size_t>(q.limit));
  if (!found) return found.error();
  json::array list;
  for (const auto& n : *found) list.push_back(need_json(n));
  return json::value(json::object{{"needs", std::move(list)}});
}

Expected<json::value> RoutingQueries::need(const protocol::Query& q) {
  auto found = store.get_need(q.id);
  if (!found) return found.error();
  if (!*found) return Error{"not_found", "no need with id " + std::to_string(q.id), "id"};
  auto o = need_json(**found);
  auto rows = store.list_deliveries("", q.id, 1000);
  if (!rows) return rows.error();
  json::array list;
  for (const auto& d : *rows) list.push_back(delivery_json(d));
  o["deliveries"] = std::move(list);
  return json::value(json::object{{"need", std::move(o)}});
}

Expected<json::value> RoutingQueries::deliveries(const protocol::Query& q) {
  auto rows = store.list_deliveries(q.state, q.id, static_cast<std::size_t>(q.limit));
  if (!rows) return rows.error();
  json::array list;
  for (const auto& d : *rows) list.push_back(delivery_json(d));
  return json::value(json::object{{"deliveries", std::move(list)}});
}

Expected<json::value> RoutingQueries::redrive(const protocol::Query& q) {
  auto found = store.get_delivery(q.id);
  if (!found) return found.error();
  if (!*found) return Error{"not_found", "no delivery with id " + std::to_string(q.id), "id"};
  if ((*found)->state != delivery_state::dead) {
    return Error{"invalid_value",
                 "delivery " + std::to_string(q.id) + " is " + (*found)->state + ", not dead", "id"};
  }
  auto promise = std::make_shared<std::promise<Expected<bool>>>();
  auto future = promise->get_future();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  writer.redrive(q.id, now,
                 {"redriven", "moderator:" + q.by,
                  json::serialize(json::object{{"delivery", q.id}, {"destination", (*found)->destination}})},
                 [promise](Expected<bool> r) { promise->set_value(std::move(r)); });
  auto done = wait_for(future, "the redrive");
  if (!done) return done.error();
  if (!*done) return Error{"invalid_value", "delivery " + std::to_string(q.id) + " is no longer dead", "id"};
  return json::value(json::object{{"id", q.id}, {"state", "pending"}});
}

Expected<json::value> RoutingQueries::assign(const protocol::Query& q) {
  auto promise = std::make_shared<std::promise<Expected<NeedActResult>>>();
  auto future = promise->get_future();
  needs.assign(q.id, q.destination, q.by,
               [promise](Expected<NeedActResult> r) { promise->set_value(std::move(r)); });
  auto done = wait_for(future, "the assignment");
  if (!done) return done.error();
  return json::value(json::object{{"id", done->post_id}, {"state", done->state}, {"owner", done->owner}});
}

Expected<json::value> RoutingQueries::act(const protocol::Query& q) {
  NeedActRequest request;
  request.post_id = q.id;
  request.act = parse_need_act(q.what).value_or(NeedAct::claim);
  request.destination = q.destination;
  request.token = q.token;
  request.via = "zeromq";
  request.note = q.note;
  auto promise = std::make_shared<std::promise<Expected<NeedActResult>>>();
  auto future = promise->get_future();
  needs.act(std::move(request), [promise](Expected<NeedActResult> r) { promise->set_value(std::move(r)); });
  auto done = wait_for(future, "the " + q.what);
  if (!done) return done.error();
  json::object o{
      {"id", done->post_id}, {"state", done->state}, {"owner", done->owner}, {"changed", done->changed}};
  if (done->post) o["post"] = post_json(*done->post);
  return json::value(std::move(o));
}

}  // namespace relais::daemon
