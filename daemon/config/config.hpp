// config: the daemon's settings, read from TOML and validated in full.
// A Config is immutable once built; reload builds a new one beside it.
#pragma once

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/network.hpp"
#include "relais/expected.hpp"
#include "relais/plugin.hpp"

namespace relais::daemon {

struct PluginTableData;  // config/plugin_table.hpp

// One [[source]], [[moderate]], [[triage]] or [[sink]] entry.
struct PluginEntry {
  PluginKind kind = PluginKind::moderator;
  std::string plugin;          // "moderate_rules"
  std::filesystem::path path;  // an explicit file; empty: <plugins.directory>/<plugin>.so
  std::size_t index = 0;       // its place among the entries of its kind
  // Sinks only: how destinations name it in their `deliver` entries;
  // `name` in the entry, by default the plugin without "sink_" ("webhook").
  std::string name;
  std::shared_ptr<const PluginTableData> table;

  // "moderate:rules:0": the kind, the plugin without its kind prefix, the index.
  std::string instance() const;
  std::filesystem::path file(const std::filesystem::path& directory) const;
};

struct Config {
  std::filesystem::path file;  // where it was read from, for messages

  // [daemon]
  std::filesystem::path state_dir = "/var/lib/relais";
  // [log]
  std::string log_level = "info";
  // [ingest]
  std::vector<std::string> endpoints;  // empty in the file: ipc://<state_dir>/ingest.sock
  std::size_t max_message_bytes = std::size_t{256} * 1024;
  std::size_t max_text_bytes = std::size_t{64} * 1024;
  std::size_t batch_max = 1024;
  // [storage]
  std::string backend = "sqlite";
  std::filesystem::path db_path = "relais.db";  // relative to state_dir
  std::string synchronous = "full";
  // [moderation]
  double hold_score = 5.0;
  double reject_score = 10.0;
  // [routing]
  std::filesystem::path network_file;  // empty: no destinations, every need waits for a person
  std::shared_ptr<const Network> network = std::make_shared<const Network>();
  // Urgencies whose needs also go to the fallback.
  std::vector<Urgency> urgent_copy = {Urgency::high, Urgency::critical};
  // An offer is matched with the open requests of this last while.
  std::chrono::milliseconds offer_window = std::chrono::hours(24 * 14);
  // [escalation]
  // How long a need may wait unclaimed at a destination before it goes to
  // the next one, by urgency (low, normal, high, critical). Counted during
  // the destination's opening hours, except for critical needs.
  std::array<std::chrono::milliseconds, 4> claim_timeout = {std::chrono::hours(72), std::chrono::hours(24),
                                                            std::chrono::hours(2), std::chrono::minutes(30)};
  // How the moderators are told of a need no destination can take.
  std::vector<DeliverEntry> moderators;
  std::string moderators_lang = "fr";
  // [outbox]
  unsigned max_attempts = 8;  // then the delivery is dead-lettered
  std::chrono::milliseconds retry_min = std::chrono::seconds(10);
  std::chrono::milliseconds retry_max = std::chrono::minutes(30);
  double retry_jitter = 0.5;  // a pause is shortened by up to this share, at random
  // [http]
  std::string http_listen;  // "127.0.0.1:8080"; empty: no HTTP server
  std::string public_url;   // the base of links in messages; empty: http://<listen>
  std::chrono::milliseconds link_ttl = std::chrono::hours(24 * 14);
  // [plugins]
  std::filesystem::path plugin_dir = "/usr/lib/relais/plugins";
  // A source that dies is run again after min, then twice as long each time
  // it dies again, up to max; a source that ran for max starts over at min.
  std::chrono::milliseconds source_restart_min{1000};
  std::chrono::milliseconds source_restart_max{60000};
  // [[source]], [[moderate]], [[triage]], [[sink]], each in file order.
  std::vector<PluginEntry> plugins;

  std::filesystem::path database() const { return state_dir / db_path; }
  std::chrono::milliseconds timeout_for(Urgency u) const {
    return claim_timeout[static_cast<std::size_t>(u)];
  }
  const PluginEntry* sink_named(std::string_view name) const;
  std::string ingest_socket() const { return "ipc://" + (state_dir / "ingest.sock").string(); }
};

struct ConfigOverrides {
  std::filesystem::path state_dir;   // --state-dir
  std::filesystem::path plugin_dir;  // --plugin-dir
  bool verbose = false;              // -v
};

// Parses and validates a file. The error message names file:line:column, the
// key and what was expected.
Expected<Config> load_config(const std::filesystem::path& file, const ConfigOverrides& overrides);
Expected<Config> parse_config(std::string_view text, const std::filesystem::path& file,
                              const ConfigOverrides& overrides);

// The config as read from its file again, with `key = values` in every
// [[moderate]] entry of `plugin` (or in a new entry of it at the end): how
// `relaisctl rules` puts a candidate rule set in the place of the live one.
// Positions in its errors refer to the rewritten text.
Expected<Config> with_moderator_key(const Config& config, std::string_view plugin, std::string_view key,
                                    const std::vector<std::string>& values, const ConfigOverrides& overrides);

// Keys whose change needs a restart; a reload keeps their running values.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded);

}  // namespace relais::daemon
