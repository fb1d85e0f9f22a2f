// config/network: the network a relaisd routes in, read from the file that
// relais.toml names in [routing] network: the areas of its gazetteer and
// the destinations (associations, volunteer pools) needs go to, with their
// categories, areas, opening hours, capacity and the sinks that reach them.
// Immutable once read; a reload reads a new one beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "router/hours.hpp"

namespace relais::daemon {

// One way of reaching a destination: a [[sink]] instance, by its name, and
// what that sink needs to reach it.
struct DeliverEntry {
  std::string sink;    // the [[sink]] entry's name
  std::string to;      // the sink's address for the destination
  std::string secret;  // a shared secret for the sink (a webhook's key); may be empty
  std::string where;   // "file:line:column: destination[2].deliver[0].to", for errors found later
};

// What a destination receives of the poster's personal data.
enum class PersonalData : std::uint8_t {
  always,    // the original text and the poster's contact, with every need
  on_claim,  // the public (redacted) text; the contact in the answer to its claim
};

struct Destination {
  std::string id;
  std::string name;
  std::string description;
  bool fallback = false;  // takes what nobody else can, and a copy of urgent needs
  bool pool = false;      // a volunteer pool: offers in its categories and areas join it
  std::vector<std::string> categories;
  std::vector<std::string> areas;
  bool unknown_area = false;  // also takes needs whose area is unknown
  std::shared_ptr<const TimeZone> zone;
  WeeklyHours hours;
  std::int64_t daily_capacity = std::numeric_limits<std::int64_t>::max();
  std::string lang = "fr";
  PersonalData personal_data = PersonalData::always;
  std::vector<DeliverEntry> deliver;
  // What it presents to act on its needs (HTTP API, ZeroMQ); empty: it
  // cannot act through them.
  std::string token;

  bool handles(std::string_view category) const;
  bool covers(std::string_view area) const;  // empty area: unknown_area
};

struct Area {
  std::string id;
  std::string name;
  std::string city;
  std::string postcode;
  std::vector<std::string> aliases;
  std::vector<std::string> streets;
  std::vector<std::string> landmarks;
};

struct Network {
  std::filesystem::path file;  // empty: no network file, no destinations
  std::string name;
  std::shared_ptr<const TimeZone> zone;  // the default of its destinations
  std::vector<Area> areas;
  std::vector<Destination> destinations;

  const Destination* find(std::string_view id) const;
  const Destination* fallback() const;  // nullptr: none
  const Area* area(std::string_view id) const;
};

// The reserved destination id of the moderators, told of what no
// destination can take ([escalation] moderators).
inline constexpr std::string_view kModerators = "moderators";

// Reads and validates a network file. `sinks` are the names of the [[sink]]
// entries of relais.toml, which `deliver` entries must name. Errors name
// file:line:column, the key and what was expected.
Expected<std::shared_ptr<const Network>> load_network(const std::filesystem::path& file,
                                                      const std::vector<std::string>& sinks);
// The same from a text; `file` names it in errors and is where relative
// secret and token files are found.
Expected<std::shared_ptr<const Network>> parse_network(std::string_view text,
                                                       const std::filesystem::path& file,
                                                       const std::vector<std::string>& sinks);

}  // namespace relais::daemon
