// config/plugin_table: one [[source]], [[moderate]], [[triage]] or [[sink]]
// entry of relais.toml, kept as TOML until the plugin's factory reads it
// through relais::ConfigTable. Only config.cpp and the plugin host include
// this header: toml++ stays out of the rest of the daemon.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "relais/config_table.hpp"

namespace relais::daemon {

struct PluginTableData {
  std::shared_ptr<const toml::table> document;  // the whole file, which `table` is part of
  const toml::table* table = nullptr;           // the entry, `plugin` and `path` included
  std::filesystem::path file;                   // the config file, for positions
  std::string name;                             // "moderate[1]"
  std::string file_name;                        // `file` as a string, for config_file()
  // Keys of the entry the daemon reads beyond kPluginEntryKeys (a sink's `name`).
  std::set<std::string, std::less<>> daemon_keys;
};

// The keys every entry has, read by the daemon rather than the plugin.
inline const std::set<std::string, std::less<>> kPluginEntryKeys = {"plugin", "path"};

class TomlConfigTable final : public ConfigTable {
 public:
  explicit TomlConfigTable(const PluginTableData& data);

  std::string_view name() const noexcept override;
  std::string_view config_file() const noexcept override;
  Expected<std::optional<std::string>> string(std::string_view key) const override;
  Expected<std::optional<std::int64_t>> integer(std::string_view key) const override;
  Expected<std::optional<double>> number(std::string_view key) const override;
  Expected<std::optional<bool>> boolean(std::string_view key) const override;
  Expected<std::optional<std::vector<std::string>>> strings(std::string_view key) const override;
  Error error(std::string_view key, std::string_view message) const override;
  Status finish() const override;

 private:
  const toml::node* get(std::string_view key) const;
  Error error_at(const toml::source_region& region, std::string_view key, std::string_view message) const;

  const PluginTableData& data_;
  mutable std::set<std::string, std::less<>> seen_;
};

}  // namespace relais::daemon
