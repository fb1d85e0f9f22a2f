// config: the daemon's settings, read from TOML and validated in full.
// A Config is immutable once built; reload builds a new one beside it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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
  std::string fallback;  // destination id; empty: unrouted posts wait for a person
  // [plugins]
  std::filesystem::path plugin_dir = "/usr/lib/relais/plugins";
  // A source that dies is run again after min, then twice as long each time
  // it dies again, up to max; a source that ran for max starts over at min.
  std::chrono::milliseconds source_restart_min{1000};
  std::chrono::milliseconds source_restart_max{60000};
  // [[source]], [[moderate]], [[triage]], [[sink]], each in file order.
  std::vector<PluginEntry> plugins;

  std::filesystem::path database() const { return state_dir / db_path; }
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
