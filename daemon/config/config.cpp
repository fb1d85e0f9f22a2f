#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include "config/plugin_table.hpp"

namespace relais::daemon {
namespace {

std::string where(const std::filesystem::path& file, const toml::source_region& region) {
  return file.string() + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

// Reads one table; every key must be consumed, so a typo is an error.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, const std::filesystem::path& file,
              std::optional<Error>& fault)
      : table_(table), name_(std::move(name)), file_(file), fault_(fault) {}

  void fail(const toml::node& node, std::string_view key, const std::string& expected) {
    fail_at(node.source(), key, expected);
  }

  void fail_at(const toml::source_region& region, std::string_view key, const std::string& expected) {
    if (fault_) return;
    fault_ = Error{"config", where(file_, region) + ": " + qualified(key) + ": " + expected, qualified(key)};
  }

  std::string qualified(std::string_view key) const {
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
  }

  const toml::node* get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }

  void string(std::string_view key, std::string& out, const std::set<std::string>& allowed = {}) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* v = node->as_string();
    if (v == nullptr) return fail(*node, key, "expected a string");
    if (!allowed.empty() && allowed.count(v->get()) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return fail(*node, key, "expected one of " + list + ", got \"" + v->get() + "\"");
    }
    out = v->get();
  }

  void path(std::string_view key, std::filesystem::path& out) {
    std::string s;
    const auto* node = table_.get(key);
    string(key, s);
    if (node != nullptr && node->is_string()) {
      if (s.empty()) return fail(*node, key, "expected a non-empty path");
      out = s;
    }
  }

  void size(std::string_view key, std::size_t& out, std::int64_t min, std::int64_t max) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* v = node->as_integer();
    if (v == nullptr) return fail(*node, key, "expected an integer");
    if (v->get() < min || v->get() > max) {
      return fail(*node, key,
                  "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", got " + std::to_string(v->get()));
    }
    out = static_cast<std::size_t>(v->get());
  }

  void number(std::string_view key, double& out, double min) {
    const auto* node = get(key);
    if (node == nullptr) return;
    double value = 0;
    if (const auto* f = node->as_floating_point())
      value = f->get();
    else if (const auto* i = node->as_integer())
      value = static_cast<double>(i->get());
    else
      return fail(*node, key, "expected a number");
    if (!std::isfinite(value)) return fail(*node, key, "expected a finite number");
    if (value < min) return fail(*node, key, "expected a number of at least " + std::to_string(min));
    out = value;
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* arr = node->as_array();
    if (arr == nullptr) return fail(*node, key, "expected an array of strings");
    out.clear();
    for (const auto& item : *arr) {
      const auto* s = item.as_string();
      if (s == nullptr) return fail(item, key, "expected an array of strings");
      out.push_back(s->get());
    }
  }

  void finish() {
    for (const auto& [key, node] : table_) {
      if (seen_.count(std::string(key.str())) == 0) {
        // The key's own position: the value may be lines away.
        fail_at(key.source(), key.str(), "unknown key");
      }
    }
  }

 private:
  const toml::table& table_;
  std::string name_;
  const std::filesystem::path& file_;
  std::optional<Error>& fault_;
  std::set<std::string> seen_;
};

bool valid_plugin_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool valid_endpoint(const std::string& ep) {
  return ep.rfind("ipc://", 0) == 0 || ep.rfind("tcp://", 0) == 0 || ep.rfind("inproc://", 0) == 0;
}

}  // namespace

Expected<Config> parse_config(std::string_view text, const std::filesystem::path& file,
                              const ConfigOverrides& overrides) {
  // Shared with the plugin entries, which point into it: a copied table
  // would lose the source positions their errors need.
  auto document = std::make_shared<toml::table>();
  toml::table& root = *document;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return Error{"config", where(file, e.source()) + ": " + std::string(e.description()), ""};
  }
  Config config;
  config.file = file;
  std::optional<Error> fault;
  TableReader top(root, "", file, fault);
  auto section = [&](std::string_view name, auto&& read) {
    const auto* node = top.get(name);
    if (node == nullptr) return;
    const auto* table = node->as_table();
    if (table == nullptr) return top.fail(*node, name, "expected a table");
    TableReader r(*table, std::string(name), file, fault);
    read(r, *table);
    r.finish();
  };
  section("daemon", [&](TableReader& r, const toml::table&) { r.path("state_dir", config.state_dir); });
  section("log", [&](TableReader& r, const toml::table&) {
    r.string("level", config.log_level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
  });
  section("ingest", [&](TableReader& r, const toml::table& t) {
    r.strings("endpoints", config.endpoints);
    if (const auto* arr = t.get_as<toml::array>("endpoints")) {
      for (const auto& item : *arr) {
        if (const auto* s = item.as_string(); s != nullptr && !valid_endpoint(s->get())) {
          r.fail(item, "endpoints",
                 "expected ipc://, tcp:// or inproc:// endpoints, got \"" + s->get() + "\"");
        }
      }
    }
    r.size("max_message_bytes", config.max_message_bytes, 1024, std::int64_t{16} * 1024 * 1024);
    r.size("max_text_bytes", config.max_text_bytes, 256, std::int64_t{16} * 1024 * 1024);
    r.size("batch_max", config.batch_max, 1, 100000);
    if (config.max_text_bytes > config.max_message_bytes) {
      const auto* node = t.get("max_text_bytes");
      r.fail(node != nullptr ? *node : *t.get("max_message_bytes"),
             node != nullptr ? "max_text_bytes" : "max_message_bytes",
             "expected at most ingest.max_message_bytes (" + std::to_string(config.max_message_bytes) +
                 "), got " + std::to_string(config.max_text_bytes));
    }
  });
  section("storage", [&](TableReader& r, const toml::table&) {
    r.string("backend", config.backend, {"sqlite"});
    r.path("path", config.db_path);
    r.string("synchronous", config.synchronous, {"full", "normal"});
  });
  section("moderation", [&](TableReader& r, const toml::table& t) {
    r.number("hold_score", config.hold_score, 0.0);
    r.number("reject_score", config.reject_score, 0.0);
    if (config.reject_score < config.hold_score) {
      if (const auto* node = t.get("reject_score")) {
        r.fail(*node, "reject_score", "expected a score not below hold_score");
      } else if (const auto* hold = t.get("hold_score")) {
        r.fail(*hold, "hold_score", "expected a score not above reject_score");
      }
    }
  });
  section("routing", [&](TableReader& r, const toml::table&) { r.string("fallback", config.fallback); });
  section("plugins", [&](TableReader& r, const toml::table& t) {
    r.path("directory", config.plugin_dir);
    std::size_t min_ms = static_cast<std::size_t>(config.source_restart_min.count());
    std::size_t max_ms = static_cast<std::size_t>(config.source_restart_max.count());
    r.size("source_restart_min_ms", min_ms, 1, 3600000);
    r.size("source_restart_max_ms", max_ms, 1, 3600000);
    if (max_ms < min_ms) {
      if (const auto* node = t.get("source_restart_max_ms")) {
        r.fail(*node, "source_restart_max_ms", "expected at least source_restart_min_ms");
      } else if (const auto* low = t.get("source_restart_min_ms")) {
        r.fail(*low, "source_restart_min_ms", "expected at most source_restart_max_ms");
      }
    }
    config.source_restart_min = std::chrono::milliseconds(min_ms);
    config.source_restart_max = std::chrono::milliseconds(max_ms);
  });
  // Plugin entries: the daemon reads `plugin` and `path`; the rest of each
  // table is the plugin's own, validated by its factory when it is loaded.
  for (const PluginKind kind :
       {PluginKind::source, PluginKind::moderator, PluginKind::triager, PluginKind::sink}) {
    const std::string key(to_string(kind));
    const auto* node = top.get(key);
    if (node == nullptr) continue;
    const auto* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      top.fail(*node, key, "expected an array of tables ([[" + key + "]] entries)");
      continue;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto& table = *array->get(i)->as_table();
      const std::string name = key + "[" + std::to_string(i) + "]";
      PluginEntry entry;
      entry.kind = kind;
      entry.index = i;
      TableReader r(table, name, file, fault);
      r.string("plugin", entry.plugin);
      r.path("path", entry.path);
      if (table.get("plugin") == nullptr) {
        r.fail_at(table.source(), "plugin", "missing: every [[" + key + "]] entry names its plugin");
      } else if (!valid_plugin_name(entry.plugin)) {
        r.fail(
            *table.get("plugin"), "plugin",
            "expected a plugin name of lowercase letters, digits, '_' and '-', got \"" + entry.plugin + "\"");
      }
      auto data = std::make_shared<PluginTableData>();
      data->document = document;
      data->table = &table;
      data->file = file;
      data->file_name = file.string();
      data->name = name;
      entry.table = std::move(data);
      config.plugins.push_back(std::move(entry));
    }
  }
  top.finish();
  if (fault) return *fault;

  if (!overrides.state_dir.empty()) config.state_dir = overrides.state_dir;
  if (!overrides.plugin_dir.empty()) config.plugin_dir = overrides.plugin_dir;
  if (overrides.verbose && config.log_level != "trace") config.log_level = "debug";
  if (config.endpoints.empty()) config.endpoints.push_back(config.ingest_socket());
  return config;
}

Expected<Config> load_config(const std::filesystem::path& file, const ConfigOverrides& overrides) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"config", file.string() + ": cannot open the file", ""};
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), file, overrides);
}

Expected<Config> with_moderator_key(const Config& config, std::string_view plugin, std::string_view key,
                                    const std::vector<std::string>& values,
                                    const ConfigOverrides& overrides) {
  toml::table root;
  try {
    root = toml::parse_file(config.file.string());
  } catch (const toml::parse_error& e) {
    return Error{"config", where(config.file, e.source()) + ": " + std::string(e.description()), ""};
  }
  toml::array list;
  for (const auto& v : values) list.push_back(v);
  bool found = false;
  if (auto* entries = root["moderate"].as_array()) {
    for (auto& node : *entries) {
      auto* entry = node.as_table();
      if (entry == nullptr || entry->get_as<std::string>("plugin") == nullptr ||
          entry->get_as<std::string>("plugin")->get() != plugin) {
        continue;
      }
      entry->insert_or_assign(key, list);
      found = true;
    }
  }
  if (!found) {
    if (root["moderate"].as_array() == nullptr) root.insert_or_assign("moderate", toml::array{});
    toml::table entry;
    entry.insert_or_assign("plugin", std::string(plugin));
    entry.insert_or_assign(key, list);
    root["moderate"].as_array()->push_back(std::move(entry));
  }
  std::ostringstream text;
  text << root;
  return parse_config(text.str(), config.file, overrides);
}

std::string PluginEntry::instance() const {
  const std::string prefix = std::string(to_string(kind)) + "_";
  const std::string_view shortname = plugin.rfind(prefix, 0) == 0
                                         ? std::string_view(plugin).substr(prefix.size())
                                         : std::string_view(plugin);
  return std::string(to_string(kind)) + ":" + std::string(shortname) + ":" + std::to_string(index);
}

std::filesystem::path PluginEntry::file(const std::filesystem::path& directory) const {
  return path.empty() ? directory / (plugin + ".so") : path;
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
  std::vector<std::string> keys;
  if (running.state_dir != loaded.state_dir) keys.emplace_back("daemon.state_dir");
  if (running.endpoints != loaded.endpoints) keys.emplace_back("ingest.endpoints");
  if (running.backend != loaded.backend) keys.emplace_back("storage.backend");
  if (running.db_path != loaded.db_path) keys.emplace_back("storage.path");
  if (running.synchronous != loaded.synchronous) keys.emplace_back("storage.synchronous");
  return keys;
}

}  // namespace relais::daemon
