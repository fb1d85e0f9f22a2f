// Needs and deliveries: what relaisd routed where, the unrouted queue, the
// outbox with its dead letters, and the acts on a need. A moderator assigns
// a need or redrives a dead delivery; a destination claims, declines or
// resolves its needs with its token. relaisd checks and records every act
// and answers once it is committed.
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>

#include "ctl.hpp"

namespace relais::ctl {
namespace json = boost::json;

namespace {

// The one-line reason of a refusal: the protocol's code first, so that a
// script can tell "forbidden" from "not_found" without parsing prose.
int refused(const Error& e) {
  const bool coded = !e.code.empty() && e.code != "timeout" && e.code != "protocol";
  return fail(coded ? e.code + ": " + e.message : e.message);
}

// reported() with the code in the reason.
std::optional<int> answered(const Options& o, const Expected<json::value>& answer) {
  if (!answer) return refused(answer.error());
  if (!o.as_json) return std::nullopt;
  std::cout << json::serialize(*answer) << "\n";
  return 0;
}

std::string list_text(const json::value& v) {
  if (!v.is_array()) return str(v);
  std::string out;
  for (const auto& item : v.get_array()) out += (out.empty() ? "" : ",") + str(item);
  return out.empty() ? "-" : out;
}

std::string or_dash(const json::value& v) {
  const std::string s = str(v);
  return s.empty() ? "-" : s;
}

const json::value& field(const json::object& o, std::string_view key) {
  static const json::value kNull;
  const auto* v = o.if_contains(key);
  return v != nullptr ? *v : kNull;
}

void print_needs_header() {
  std::printf("%-8s %-9s %-9s %-20s %-22s %-22s %-22s %s\n", "ID", "STATE", "URGENCY", "CATEGORIES", "AREA",
              "OWNER", "CLAIMED_BY", "DEADLINE");
}

void print_need_row(const json::object& n) {
  std::printf("%-8lld %-9s %-9s %-20s %-22s %-22s %-22s %s\n", static_cast<long long>(n.at("id").as_int64()),
              str(n.at("state")).c_str(), str(n.at("urgency")).c_str(), list_text(n.at("categories")).c_str(),
              or_dash(n.at("area")).c_str(), or_dash(n.at("owner")).c_str(),
              or_dash(n.at("claimed_by")).c_str(), str(field(n, "deadline")).c_str());
}

void print_deliveries(const json::array& rows, const std::string& indent) {
  std::printf("%s%-7s %-7s %-9s %-22s %-10s %-11s %-8s %-24s %s\n", indent.c_str(), "ID", "POST", "STATE",
              "DESTINATION", "SINK", "PURPOSE", "ATTEMPTS", "NEXT/UPDATED", "LAST_ERROR");
  for (const auto& value : rows) {
    const auto& d = value.as_object();
    const std::string state = str(d.at("state"));
    // A pending row says when it goes next; the others when they ended.
    const std::string when =
        state == "pending" ? "next " + str(field(d, "next_at")) : str(d.at("updated_at"));
    std::printf("%s%-7lld %-7lld %-9s %-22s %-10s %-11s %-8s %-24s %s\n", indent.c_str(),
                static_cast<long long>(d.at("id").as_int64()),
                static_cast<long long>(d.at("post").as_int64()), state.c_str(),
                str(d.at("destination")).c_str(), str(d.at("sink")).c_str(), str(d.at("purpose")).c_str(),
                str(d.at("attempts")).c_str(), when.c_str(), or_dash(d.at("last_error")).c_str());
  }
}

void print_destinations(const json::array& list, const std::string& indent) {
  for (const auto& value : list) {
    const auto& a = value.as_object();
    const std::string day = str(a.at("day"));
    std::printf("%s%-24s %-12s %-9s %s\n", indent.c_str(), str(a.at("destination")).c_str(),
                str(a.at("reason")).c_str(), str(a.at("state")).c_str(),
                day.empty() ? "no capacity used" : ("capacity of " + day).c_str());
  }
}

// Why a need is unrouted, from its trail: the last event that sent it to
// the moderators (the first routing, an escalation or a decline).
std::string why_unrouted(const json::object& post) {
  const auto& events = post.at("events").as_array();
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    const auto& e = it->as_object();
    const std::string type = str(e.at("type"));
    const auto* detail = e.at("detail").if_object();
    if (detail == nullptr) continue;
    if (type == "unrouted") return str(field(*detail, "reason"));
    if (type == "escalated" || type == "rerouted") {
      std::string why = str(field(*detail, "why"));
      if (const auto* decision = detail->if_contains("decision");
          decision != nullptr && decision->is_object()) {
        why += "; " + str(field(decision->get_object(), "reason"));
      }
      return why;
    }
  }
  return events.empty() ? std::string("-") : "its last event is " + str(events.back().at("type"));
}

Expected<std::string> read_token(const std::string& file) {
  std::string token;
  try {
    token = read_input(file);
  } catch (const std::exception& e) {
    return Error{"input", e.what(), ""};
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty())
    return Error{"input", (file == "-" ? "<stdin>" : file) + ": the token file is empty", ""};
  return token;
}

}  // namespace

int cmd_needs(const Options& o, const std::string& state, const std::string& destination, int limit) {
  protocol::Query q;
  q.what = "needs";
  q.state = state;
  q.destination = destination;
  q.limit = limit;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  const auto& needs = r->at("needs").as_array();
  if (needs.empty()) {
    std::cout << "no need" << (state.empty() ? "" : " in state " + state)
              << (destination.empty() ? "" : " given to " + destination) << "\n";
    return 0;
  }
  print_needs_header();
  for (const auto& n : needs) print_need_row(n.as_object());
  return 0;
}

int cmd_unrouted(const Options& o, int limit) {
  protocol::Query q;
  q.what = "needs";
  q.state = "unrouted";
  q.limit = limit;
  auto r = query(o, q);
  if (!r) return refused(r.error());
  auto& needs = r->at("needs").as_array();
  // Why each is there: its trail says.
  for (auto& value : needs) {
    auto& n = value.as_object();
    protocol::Query pq;
    pq.what = "post";
    pq.id = n.at("id").as_int64();
    auto post = query(o, pq);
    if (!post) return refused(post.error());
    n["why"] = why_unrouted(post->at("post").as_object());
  }
  if (o.as_json) {
    std::cout << json::serialize(*r) << "\n";
    return 0;
  }
  if (needs.empty()) {
    std::cout << "no unrouted need: every need has a destination\n";
    return 0;
  }
  for (const auto& value : needs) {
    const auto& n = value.as_object();
    std::printf("%-8lld unrouted  %-9s %-20s %-22s received %s\n",
                static_cast<long long>(n.at("id").as_int64()), str(n.at("urgency")).c_str(),
                list_text(n.at("categories")).c_str(), or_dash(n.at("area")).c_str(),
                str(n.at("received_at")).c_str());
    std::cout << "         why: " << str(n.at("why")) << "\n";
  }
  std::cout << needs.size() << " unrouted; give one to a destination with relaisctl assign ID DESTINATION\n";
  return 0;
}

int cmd_need(const Options& o, std::int64_t id) {
  protocol::Query q;
  q.what = "need";
  q.id = id;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  const auto& n = r->at("need").as_object();
  std::cout << "need " << id << "  state=" << str(n.at("state")) << "  owner=" << or_dash(n.at("owner"))
            << "  claimed_by=" << or_dash(n.at("claimed_by")) << "  deadline=" << str(field(n, "deadline"))
            << "\n"
            << "urgency: " << str(n.at("urgency")) << "  categories: " << list_text(n.at("categories"))
            << "  area: " << or_dash(n.at("area")) << "  received_at: " << str(n.at("received_at")) << "\n";
  const auto& destinations = n.at("destinations").as_array();
  std::cout << "destinations:" << (destinations.empty() ? " none" : "") << "\n";
  print_destinations(destinations, "  ");
  const auto& deliveries = n.at("deliveries").as_array();
  std::cout << "deliveries:" << (deliveries.empty() ? " none" : "") << "\n";
  if (!deliveries.empty()) print_deliveries(deliveries, "  ");
  return 0;
}

int cmd_deliveries(const Options& o, const std::string& state, std::int64_t post, int limit) {
  protocol::Query q;
  q.what = "deliveries";
  q.state = state;
  q.id = post;
  q.limit = limit;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  const auto& rows = r->at("deliveries").as_array();
  if (rows.empty()) {
    std::cout << "no " << (state.empty() ? "" : state + " ") << "delivery"
              << (post > 0 ? " of post " + std::to_string(post) : "") << "\n";
    return 0;
  }
  print_deliveries(rows, "");
  std::size_t dead = 0;
  for (const auto& d : rows) dead += str(d.at("state")) == "dead" ? 1 : 0;
  if (dead > 0) std::cout << dead << " dead; send one again with relaisctl redrive ID\n";
  return 0;
}

int cmd_redrive(const Options& o, std::int64_t id, const std::string& by) {
  protocol::Query q;
  q.what = "redrive";
  q.id = id;
  q.by = by;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  std::cout << "delivery " << id << " redriven by " << by << "; it is now " << str(r->at("state")) << "\n";
  return 0;
}

int cmd_assign(const Options& o, std::int64_t id, const std::string& destination, const std::string& by) {
  protocol::Query q;
  q.what = "assign";
  q.id = id;
  q.destination = destination;
  q.by = by;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  std::cout << "need " << id << " assigned to " << str(r->at("owner")) << " by " << by << "; it is now "
            << str(r->at("state")) << "\n";
  return 0;
}

int cmd_act(const Options& o, const std::string& act, std::int64_t id, const std::string& destination,
            const std::string& token_file, const std::string& note) {
  auto token = read_token(token_file);
  if (!token) return fail(token.error().message);
  protocol::Query q;
  q.what = act;
  q.id = id;
  q.destination = destination;
  q.token = *token;
  q.note = note;
  auto r = query(o, q);
  if (auto done = answered(o, r)) return *done;
  const auto& a = r->as_object();
  const bool changed = a.at("changed").as_bool();
  const std::string state = str(a.at("state"));
  const std::string owner = or_dash(a.at("owner"));
  std::cout << "need " << id;
  if (act == "claim") {
    std::cout << (changed ? " claimed by " : " was already claimed by ") << destination << "\n";
  } else if (act == "resolve") {
    std::cout << (changed ? " resolved by " : " was already resolved by ") << owner << "\n";
  } else if (!changed) {
    std::cout << " was already declined by " << destination << "\n";
  } else {
    std::cout << " declined by " << destination << "; it is now " << state;
    if (state == "unrouted") {
      std::cout << ": no destination left, it waits for a moderator\n";
    } else {
      std::cout << (owner != destination ? " with " + owner : "") << "\n";
    }
  }
  // What the destination may now see of the need: the poster's contact once
  // it holds it.
  if (const auto* post = a.if_contains("post"); post != nullptr && post->is_object()) {
    const auto& p = post->get_object();
    std::cout << "post " << str(p.at("id")) << "  channel: " << str(p.at("channel"))
              << "  received_at: " << str(p.at("received_at")) << "\n";
    if (const auto* subject = p.if_contains("subject"); subject != nullptr && !subject->is_null()) {
      std::cout << "subject: " << str(*subject) << "\n";
    }
    std::cout << "text:\n" << str(p.at("text")) << "\n";
    if (const auto* contact = p.if_contains("private"))
      std::cout << "contact: " << json::serialize(*contact) << "\n";
  }
  return 0;
}

void show_routing(const Options& o, std::int64_t id, json::object& answer) {
  // Older daemons, and posts that are no need, answer with a refusal: then
  // there is simply nothing to show.
  protocol::Query nq;
  nq.what = "need";
  nq.id = id;
  auto need = query(o, nq);
  protocol::Query dq;
  dq.what = "deliveries";
  dq.id = id;
  dq.limit = 1000;
  auto deliveries = query(o, dq);
  const auto member = [](const Expected<json::value>& r, std::string_view key) -> const json::value* {
    if (!r || !r->is_object()) return nullptr;
    return r->get_object().if_contains(key);
  };
  const auto* nv = member(need, "need");
  const auto* dv = member(deliveries, "deliveries");
  const json::object* n = nv != nullptr ? nv->if_object() : nullptr;
  const json::array* rows = dv != nullptr ? dv->if_array() : nullptr;
  if (o.as_json) {
    if (n != nullptr) answer["need"] = *n;
    if (rows != nullptr) answer["deliveries"] = *rows;
    return;
  }
  if (n != nullptr) {
    std::cout << "need: state=" << str(n->at("state")) << "  owner=" << or_dash(n->at("owner"))
              << "  claimed_by=" << or_dash(n->at("claimed_by"))
              << "  deadline=" << str(field(*n, "deadline")) << "\n";
    print_destinations(n->at("destinations").as_array(), "  ");
  }
  if (rows != nullptr && !rows->empty()) {
    std::cout << "deliveries:\n";
    print_deliveries(*rows, "  ");
  }
}

}  // namespace relais::ctl
