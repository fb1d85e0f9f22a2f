#include "receiver.hpp"

#include <boost/json.hpp>

namespace relais::bench {
namespace json = boost::json;

void DeliveryReceiver::record(Clock::time_point at, std::string_view body, std::string delivery_id) {
  boost::system::error_code ec;
  const json::value doc = json::parse(body, ec);
  const json::object* o = !ec ? doc.if_object() : nullptr;
  const json::value* post = o != nullptr ? o->if_contains("post") : nullptr;
  const json::value* id =
      post != nullptr && post->is_object() ? post->get_object().if_contains("id") : nullptr;
  if (id == nullptr || !id->is_int64()) {
    ++unreadable_;
    return;
  }
  Arrival a;
  a.at = at;
  a.post_id = id->get_int64();
  if (const auto* p = o->if_contains("purpose"); p != nullptr && p->is_string()) a.purpose = p->get_string();
  if (const auto* d = o->if_contains("destination"); d != nullptr && d->is_string())
    a.destination = d->get_string();
  if (delivery_id.empty()) {
    if (const auto* d = o->if_contains("delivery_id"); d != nullptr && d->is_string()) {
      delivery_id = d->get_string();
    }
  }
  std::lock_guard lock(mutex_);
  if (!seen_.insert(std::move(delivery_id)).second) ++repeated_;
  arrivals_.push_back(std::move(a));
  last_ = at;
}

std::vector<DeliveryReceiver::Arrival> DeliveryReceiver::take() {
  std::lock_guard lock(mutex_);
  std::vector<Arrival> out;
  out.swap(arrivals_);
  return out;
}

std::size_t DeliveryReceiver::pending_count() const {
  std::lock_guard lock(mutex_);
  return arrivals_.size();
}

Clock::time_point DeliveryReceiver::last_arrival() const {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace relais::bench
