// config: the daemon's settings, read from TOML and validated in full.
// A Config is immutable once built; reload builds a new one beside it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "relais/expected.hpp"

namespace relais::daemon {

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

  std::filesystem::path database() const { return state_dir / db_path; }
  std::string ingest_socket() const { return "ipc://" + (state_dir / "ingest.sock").string(); }
};

struct ConfigOverrides {
  std::filesystem::path state_dir;  // --state-dir
  bool verbose = false;             // -v
};

// Parses and validates a file. The error message names file:line:column, the
// key and what was expected.
Expected<Config> load_config(const std::filesystem::path& file, const ConfigOverrides& overrides);
Expected<Config> parse_config(std::string_view text, const std::filesystem::path& file,
                              const ConfigOverrides& overrides);

// Keys whose change needs a restart; a reload keeps their running values.
std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded);

}  // namespace relais::daemon
