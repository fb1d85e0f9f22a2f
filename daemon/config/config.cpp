#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "config/plugin_table.hpp"
#include "config/toml_reader.hpp"

namespace relais::daemon {
namespace {

using toml_reader::TableReader;
using toml_reader::where;

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
  const toml::node* network_node = nullptr;
  section("routing", [&](TableReader& r, const toml::table& t) {
    network_node = t.get("network");
    r.path("network", config.network_file);
    if (const auto* node = t.get("urgent_copy")) {
      std::vector<std::string> names;
      r.strings("urgent_copy", names);
      config.urgent_copy.clear();
      for (const auto& n : names) {
        if (auto u = parse_urgency(n)) {
          config.urgent_copy.push_back(*u);
        } else {
          r.fail(*node, "urgent_copy",
                 "expected urgencies among low, normal, high, critical, got \"" + n + "\"");
        }
      }
    }
    r.duration("offer_window", config.offer_window, std::chrono::minutes(1), std::chrono::hours(24 * 366));
  });
  std::vector<const toml::table*> moderator_entries;
  std::string moderators_where;
  section("escalation", [&](TableReader& r, const toml::table&) {
    if (const auto* timeouts = r.table("claim_timeout")) {
      TableReader tr(*timeouts, "escalation.claim_timeout", file, fault);
      for (auto u : {Urgency::low, Urgency::normal, Urgency::high, Urgency::critical}) {
        tr.duration(to_string(u), config.claim_timeout[static_cast<std::size_t>(u)], std::chrono::seconds(1),
                    std::chrono::hours(24 * 366));
      }
      tr.finish();
    }
    moderator_entries = r.tables("moderators");
    moderators_where = r.qualified("moderators");
    r.string("moderators_lang", config.moderators_lang, {"en", "fr"});
  });
  section("outbox", [&](TableReader& r, const toml::table& t) {
    std::int64_t attempts = config.max_attempts;
    r.integer("max_attempts", attempts, 1, 1000);
    config.max_attempts = static_cast<unsigned>(attempts);
    r.duration("retry_min", config.retry_min, std::chrono::milliseconds(1), std::chrono::hours(24));
    r.duration("retry_max", config.retry_max, std::chrono::milliseconds(1), std::chrono::hours(24 * 7));
    r.number("retry_jitter", config.retry_jitter, 0.0, 1.0);
    if (config.retry_max < config.retry_min) {
      const auto* node = t.get("retry_max");
      r.fail(node != nullptr ? *node : *t.get("retry_min"), node != nullptr ? "retry_max" : "retry_min",
             "expected retry_max not below retry_min");
    }
  });
  section("http", [&](TableReader& r, const toml::table& t) {
    r.string("listen", config.http_listen);
    if (const auto* node = t.get("listen"); node != nullptr && !config.http_listen.empty()) {
      const auto colon = config.http_listen.rfind(':');
      const bool port_ok = colon != std::string::npos && colon + 1 < config.http_listen.size() &&
                           config.http_listen.size() - colon <= 6 &&
                           std::all_of(config.http_listen.begin() + static_cast<std::ptrdiff_t>(colon) + 1,
                                       config.http_listen.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!port_ok || colon == 0 || std::stoul(config.http_listen.substr(colon + 1)) > 65535) {
        r.fail(*node, "listen", "expected ADDRESS:PORT such as \"127.0.0.1:8080\" (port 0: any free port)");
      }
    }
    r.string("public_url", config.public_url);
    if (const auto* node = t.get("public_url"); node != nullptr && !config.public_url.empty() &&
                                                config.public_url.rfind("http://", 0) != 0 &&
                                                config.public_url.rfind("https://", 0) != 0) {
      r.fail(*node, "public_url", "expected an http:// or https:// URL");
    }
    while (!config.public_url.empty() && config.public_url.back() == '/') config.public_url.pop_back();
    r.duration("link_ttl", config.link_ttl, std::chrono::minutes(1), std::chrono::hours(24 * 366));
  });
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
      if (kind == PluginKind::sink) {
        r.string("name", entry.name);
        if (table.get("name") == nullptr) {
          entry.name = entry.plugin.rfind("sink_", 0) == 0 ? entry.plugin.substr(5) : entry.plugin;
        } else if (!valid_plugin_name(entry.name)) {
          r.fail(*table.get("name"), "name",
                 "expected a name of lowercase letters, digits, '_' and '-', got \"" + entry.name + "\"");
        }
        // Two entries of one plugin may both go by its default name, as
        // long as no destination names it; two names given must differ.
        for (const auto& other : config.plugins) {
          if (other.kind == PluginKind::sink && other.name == entry.name && table.get("name") != nullptr) {
            r.fail(*table.get("name"), "name",
                   "two [[sink]] entries are named \"" + entry.name + "\": give one of them another `name`");
          }
        }
      }
      auto data = std::make_shared<PluginTableData>();
      if (kind == PluginKind::sink) data->daemon_keys.insert("name");
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

  // The network file, once the sinks its destinations name are known.
  std::vector<std::string> sink_names;
  for (const auto& e : config.plugins) {
    if (e.kind == PluginKind::sink) sink_names.push_back(e.name);
  }
  if (!config.network_file.empty()) {
    if (config.network_file.is_relative()) config.network_file = file.parent_path() / config.network_file;
    auto network = load_network(config.network_file, sink_names);
    if (!network) {
      if (network_node != nullptr && network.error().code == "open") {
        // The file itself could not be read: point at the key naming it.
        return Error{"config",
                     where(file, network_node->source()) + ": routing.network: " + network.error().message,
                     "routing.network"};
      }
      return network.error();
    }
    config.network = std::move(*network);
  }
  for (std::size_t i = 0; i < moderator_entries.size(); ++i) {
    TableReader r(*moderator_entries[i], moderators_where + "[" + std::to_string(i) + "]", file, fault);
    DeliverEntry e;
    r.required_string("sink", e.sink);
    const auto named = std::count(sink_names.begin(), sink_names.end(), e.sink);
    if (!e.sink.empty() && named == 0) {
      r.fail(*moderator_entries[i]->get("sink"), "sink", "no [[sink]] entry is named \"" + e.sink + "\"");
    } else if (named > 1) {
      r.fail(*moderator_entries[i]->get("sink"), "sink",
             "two [[sink]] entries are named \"" + e.sink + "\": give them a `name` each");
    }
    r.required_string("to", e.to);
    e.where = r.position("to");
    r.string("secret", e.secret);
    r.finish();
    config.moderators.push_back(std::move(e));
  }
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

const PluginEntry* Config::sink_named(std::string_view name) const {
  for (const auto& e : plugins) {
    if (e.kind == PluginKind::sink && e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
  std::vector<std::string> keys;
  if (running.state_dir != loaded.state_dir) keys.emplace_back("daemon.state_dir");
  if (running.endpoints != loaded.endpoints) keys.emplace_back("ingest.endpoints");
  if (running.backend != loaded.backend) keys.emplace_back("storage.backend");
  if (running.db_path != loaded.db_path) keys.emplace_back("storage.path");
  if (running.synchronous != loaded.synchronous) keys.emplace_back("storage.synchronous");
  if (running.http_listen != loaded.http_listen) keys.emplace_back("http.listen");
  return keys;
}

}  // namespace relais::daemon
