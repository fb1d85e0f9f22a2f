#include "config/network.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/toml_reader.hpp"

namespace relais::daemon {
namespace {

using toml_reader::TableReader;

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

// A secret or a token, given in the file or read from a file of its own
// (relative to the network file), without its final newline.
void secret(TableReader& r, std::string_view key, std::string& out) {
  const std::string file_key = std::string(key) + "_file";
  const auto* inline_node = r.table().get(key);
  const auto* file_node = r.table().get(file_key);
  r.string(key, out);
  std::filesystem::path file;
  r.path(file_key, file);
  if (inline_node != nullptr && file_node != nullptr) {
    return r.fail(*file_node, file_key, "give " + std::string(key) + " or " + file_key + ", not both");
  }
  if (file_node == nullptr || r.failed()) return;
  if (file.is_relative()) file = r.file().parent_path() / file;
  std::ifstream in(file, std::ios::binary);
  if (!in) return r.fail(*file_node, file_key, file.string() + ": cannot read the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) r.fail(*file_node, file_key, file.string() + ": the file is empty");
}

void read_hours(TableReader& r, const toml::table& table, WeeklyHours& hours) {
  std::set<unsigned> seen;
  // In the order they are written, so that a day given twice is reported
  // where it is given the second time.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : table) entries.emplace_back(&key, &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& x = a.first->source().begin;
    const auto& y = b.first->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto& [key_ptr, node_ptr] : entries) {
    const auto& key = *key_ptr;
    const auto& node = *node_ptr;
    const std::string name(key.str());
    r.get(name);
    // "mon", or a range of days "mon-fri".
    std::optional<unsigned> first;
    std::optional<unsigned> last;
    if (const auto dash = name.find('-'); dash == std::string::npos) {
      first = last = WeeklyHours::parse_day(name);
    } else {
      first = WeeklyHours::parse_day(name.substr(0, dash));
      last = WeeklyHours::parse_day(name.substr(dash + 1));
    }
    if (!first || !last || *last < *first) {
      return r.fail_at(key.source(), name, "expected a day (mon ... sun) or a range of days such as mon-fri");
    }
    const auto* list = node.as_array();
    if (list == nullptr)
      return r.fail(node, name, "expected an array of intervals such as [\"08:00-20:00\"]");
    std::vector<Interval> intervals;
    for (const auto& item : *list) {
      const auto* s = item.as_string();
      const auto interval = s != nullptr ? WeeklyHours::parse_interval(s->get()) : std::nullopt;
      if (!interval) {
        return r.fail(
            item, name,
            "expected an interval \"HH:MM-HH:MM\" (24:00 for midnight; an end before the start runs "
            "past midnight)");
      }
      intervals.push_back(*interval);
    }
    std::sort(intervals.begin(), intervals.end(),
              [](const auto& a, const auto& b) { return a.start < b.start; });
    for (unsigned d = *first; d <= *last; ++d) {
      if (!seen.insert(d).second) return r.fail_at(key.source(), name, "this day is given twice");
      hours.days[d] = intervals;
    }
  }
}

WeeklyHours always_open() {
  WeeklyHours h;
  for (auto& d : h.days) d.push_back({0, 24 * 60});
  return h;
}

}  // namespace

bool Destination::handles(std::string_view category) const {
  return std::find(categories.begin(), categories.end(), category) != categories.end();
}

bool Destination::covers(std::string_view area) const {
  if (area.empty()) return unknown_area;
  return std::find(areas.begin(), areas.end(), area) != areas.end();
}

const Destination* Network::find(std::string_view id) const {
  for (const auto& d : destinations) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

const Destination* Network::fallback() const {
  for (const auto& d : destinations) {
    if (d.fallback) return &d;
  }
  return nullptr;
}

const Area* Network::area(std::string_view id) const {
  for (const auto& a : areas) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

Expected<std::shared_ptr<const Network>> load_network(const std::filesystem::path& file,
                                                      const std::vector<std::string>& sinks) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"open", file.string() + ": cannot open the network file", ""};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_network(buffer.str(), file, sinks);
}

Expected<std::shared_ptr<const Network>> parse_network(std::string_view text,
                                                       const std::filesystem::path& file,
                                                       const std::vector<std::string>& sinks) {
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return Error{"config", toml_reader::where(file, e.source()) + ": " + std::string(e.description()), ""};
  }
  auto network = std::make_shared<Network>();
  network->file = file;
  std::optional<Error> fault;
  TableReader top(root, "", file, fault);

  std::string zone_name = "UTC";
  const toml::node* zone_node = nullptr;
  if (const auto* t = top.table("network")) {
    TableReader r(*t, "network", file, fault);
    r.string("name", network->name);
    zone_node = t->get("timezone");
    r.string("timezone", zone_name);
    r.finish();
  }
  auto zone = TimeZone::named(zone_name);
  if (!zone) {
    if (zone_node != nullptr) top.fail(*zone_node, "network.timezone", zone.error().message);
    return fault.value_or(zone.error());
  }
  network->zone = *zone;

  std::set<std::string> area_ids;
  const auto areas = top.tables("area");
  for (std::size_t i = 0; i < areas.size(); ++i) {
    TableReader r(*areas[i], "area[" + std::to_string(i) + "]", file, fault);
    Area a;
    r.required_string("id", a.id);
    if (!a.id.empty() && !valid_id(a.id)) {
      r.fail(*areas[i]->get("id"), "id", "expected letters, digits, '_', '-' or '.', got \"" + a.id + "\"");
    } else if (!a.id.empty() && !area_ids.insert(a.id).second) {
      r.fail(*areas[i]->get("id"), "id", "area \"" + a.id + "\" is declared twice");
    }
    r.string("name", a.name);
    r.string("city", a.city);
    r.string("postcode", a.postcode);
    r.strings("aliases", a.aliases);
    r.strings("streets", a.streets);
    r.strings("landmarks", a.landmarks);
    r.finish();
    if (a.name.empty()) a.name = a.id;
    network->areas.push_back(std::move(a));
  }

  std::set<std::string> destination_ids;
  const toml::node* first_fallback = nullptr;
  const auto destinations = top.tables("destination");
  for (std::size_t i = 0; i < destinations.size(); ++i) {
    const auto& table = *destinations[i];
    TableReader r(table, "destination[" + std::to_string(i) + "]", file, fault);
    Destination d;
    r.required_string("id", d.id);
    if (!d.id.empty()) {
      const auto& node = *table.get("id");
      if (!valid_id(d.id)) {
        r.fail(node, "id", "expected letters, digits, '_', '-' or '.', got \"" + d.id + "\"");
      } else if (d.id == kModerators) {
        r.fail(node, "id", "\"moderators\" is reserved for [escalation] moderators");
      } else if (!destination_ids.insert(d.id).second) {
        r.fail(node, "id", "destination \"" + d.id + "\" is declared twice");
      }
    }
    r.string("name", d.name);
    if (d.name.empty()) d.name = d.id;
    r.string("description", d.description);
    r.boolean("fallback", d.fallback);
    if (d.fallback) {
      if (first_fallback != nullptr) {
        r.fail(*table.get("fallback"), "fallback",
               "a second fallback: the first is at " + toml_reader::where(file, first_fallback->source()));
      }
      first_fallback = table.get("fallback");
    }
    r.boolean("pool", d.pool);
    r.strings("categories", d.categories);
    if (table.get("categories") == nullptr) {
      r.fail_at(table.source(), "categories", "missing: the categories of needs it takes");
    } else if (d.categories.empty()) {
      r.fail(*table.get("categories"), "categories", "expected at least one category");
    }
    r.strings("areas", d.areas);
    r.boolean("unknown_area", d.unknown_area);
    if (const auto* node = table.get("areas")) {
      for (std::size_t k = 0; k < d.areas.size(); ++k) {
        if (!area_ids.empty() && area_ids.count(d.areas[k]) == 0) {
          r.fail(*node->as_array()->get(k), "areas",
                 "\"" + d.areas[k] + "\" is not an [[area]] of this file");
        }
      }
    } else if (!d.unknown_area) {
      r.fail_at(table.source(), "areas", "missing: the areas it covers (or unknown_area = true)");
    }
    std::string tz;
    r.string("timezone", tz);
    if (!tz.empty()) {
      auto z = TimeZone::named(tz);
      if (!z)
        r.fail(*table.get("timezone"), "timezone", z.error().message);
      else
        d.zone = *z;
    } else {
      d.zone = network->zone;
    }
    if (const auto* hours = r.table("hours")) {
      TableReader hr(*hours, r.qualified("hours"), file, fault);
      read_hours(hr, *hours, d.hours);
      hr.finish();
    } else {
      d.hours = always_open();
    }
    r.integer("daily_capacity", d.daily_capacity, 1, std::numeric_limits<std::int32_t>::max());
    r.string("lang", d.lang, {"en", "fr"});
    std::string personal = "always";
    r.string("personal_data", personal, {"always", "on_claim"});
    d.personal_data = personal == "on_claim" ? PersonalData::on_claim : PersonalData::always;
    const auto entries = r.tables("deliver");
    for (std::size_t k = 0; k < entries.size(); ++k) {
      TableReader er(*entries[k], r.qualified("deliver[" + std::to_string(k) + "]"), file, fault);
      DeliverEntry e;
      er.required_string("sink", e.sink);
      if (std::count(sinks.begin(), sinks.end(), e.sink) > 1) {
        er.fail(*entries[k]->get("sink"), "sink",
                "two [[sink]] entries of relais.toml are named \"" + e.sink + "\": give them a `name` each");
      } else if (!e.sink.empty() && std::find(sinks.begin(), sinks.end(), e.sink) == sinks.end()) {
        std::string names;
        for (const auto& s : sinks) names += (names.empty() ? "" : ", ") + s;
        er.fail(*entries[k]->get("sink"), "sink",
                "no [[sink]] entry is named \"" + e.sink + "\"" +
                    (names.empty() ? std::string(" (relais.toml has none)") : " (there are: " + names + ")"));
      }
      // Absent: the destination's id (a topic, a room named after it).
      er.string("to", e.to);
      if (entries[k]->get("to") == nullptr) e.to = d.id;
      e.where = er.position(entries[k]->get("to") != nullptr ? "to" : "");
      secret(er, "secret", e.secret);
      er.finish();
      d.deliver.push_back(std::move(e));
    }
    secret(r, "token", d.token);
    r.finish();
    network->destinations.push_back(std::move(d));
  }
  top.finish();
  if (fault) return *fault;
  return std::shared_ptr<const Network>(std::move(network));
}

}  // namespace relais::daemon
