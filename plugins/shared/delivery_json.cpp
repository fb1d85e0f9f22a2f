#include "delivery_json.hpp"

#include <boost/json.hpp>

namespace relais::delivery_json {

namespace json = boost::json;

namespace {

// Unknown or absent values are null rather than "" so that a receiver tells
// "not known" from a value.
json::value string_or_null(const std::string& value) {
  if (value.empty()) return nullptr;
  return json::string(value);
}

json::object post_object(const Post& post) {
  json::object out;
  out["id"] = post.id;
  out["source"] = post.source;
  out["channel"] = string_or_null(post.channel);
  out["received_at"] = string_or_null(post.received_at);
  out["subject"] = post.subject ? json::value(json::string(*post.subject)) : json::value(nullptr);
  out["text"] = post.text;
  out["lang"] = string_or_null(post.lang);
  // Present only when the destination may see the poster's contact: its
  // absence is how a receiver knows it got the public view.
  if (!post.private_data.empty()) {
    json::object contact;
    for (const auto& [key, value] : post.private_data) contact[key] = value;
    out["private"] = std::move(contact);
  }
  return out;
}

json::object triage_object(const Triage& triage) {
  json::object out;
  out["kind"] = to_string(triage.kind);
  json::array categories;
  for (const auto& category : triage.categories) categories.emplace_back(category);
  out["categories"] = std::move(categories);
  out["urgency"] = to_string(triage.urgency);
  out["area"] = string_or_null(triage.area);
  out["lang"] = string_or_null(triage.lang);
  return out;
}

}  // namespace

std::string render(const Delivery& delivery) {
  json::object out;
  out["version"] = kVersion;
  out["delivery_id"] = delivery.id;
  out["purpose"] = to_string(delivery.purpose);
  out["destination"] = delivery.destination;
  out["destination_name"] = string_or_null(delivery.destination_name);
  out["lang"] = string_or_null(delivery.lang);
  out["reason"] = delivery.reason;
  out["attempt"] = delivery.attempt;
  out["post"] = post_object(delivery.post);
  out["triage"] = triage_object(delivery.triage);
  json::object links;
  for (const auto& [action, url] : delivery.links) links[action] = url;
  out["links"] = std::move(links);
  out["related_post"] =
      delivery.related_post != 0 ? json::value(delivery.related_post) : json::value(nullptr);
  return json::serialize(out);
}

}  // namespace relais::delivery_json
