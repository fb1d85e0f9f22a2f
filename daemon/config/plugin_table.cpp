#include "config/plugin_table.hpp"

#include <cmath>

namespace relais::daemon {

TomlConfigTable::TomlConfigTable(const PluginTableData& data)
    : data_(data), seen_(kPluginEntryKeys.begin(), kPluginEntryKeys.end()) {
  seen_.insert(data.daemon_keys.begin(), data.daemon_keys.end());
}

std::string_view TomlConfigTable::name() const noexcept { return data_.name; }

std::string_view TomlConfigTable::config_file() const noexcept { return data_.file_name; }

const toml::node* TomlConfigTable::get(std::string_view key) const {
  seen_.emplace(key);
  return data_.table->get(key);
}

Error TomlConfigTable::error_at(const toml::source_region& region, std::string_view key,
                                std::string_view message) const {
  const std::string qualified = key.empty() ? data_.name : data_.name + "." + std::string(key);
  return Error{"config",
               data_.file.string() + ":" + std::to_string(region.begin.line) + ":" +
                   std::to_string(region.begin.column) + ": " + qualified + ": " + std::string(message),
               qualified};
}

Error TomlConfigTable::error(std::string_view key, std::string_view message) const {
  const auto* node = key.empty() ? nullptr : data_.table->get(key);
  return error_at(node != nullptr ? node->source() : data_.table->source(), key, message);
}

Expected<std::optional<std::string>> TomlConfigTable::string(std::string_view key) const {
  const auto* node = get(key);
  if (node == nullptr) return std::optional<std::string>();
  const auto* v = node->as_string();
  if (v == nullptr) return error_at(node->source(), key, "expected a string");
  return std::optional<std::string>(v->get());
}

Expected<std::optional<std::int64_t>> TomlConfigTable::integer(std::string_view key) const {
  const auto* node = get(key);
  if (node == nullptr) return std::optional<std::int64_t>();
  const auto* v = node->as_integer();
  if (v == nullptr) return error_at(node->source(), key, "expected an integer");
  return std::optional<std::int64_t>(v->get());
}

Expected<std::optional<double>> TomlConfigTable::number(std::string_view key) const {
  const auto* node = get(key);
  if (node == nullptr) return std::optional<double>();
  double value = 0;
  if (const auto* f = node->as_floating_point()) {
    value = f->get();
  } else if (const auto* i = node->as_integer()) {
    value = static_cast<double>(i->get());
  } else {
    return error_at(node->source(), key, "expected a number");
  }
  if (!std::isfinite(value)) return error_at(node->source(), key, "expected a finite number");
  return std::optional<double>(value);
}

Expected<std::optional<bool>> TomlConfigTable::boolean(std::string_view key) const {
  const auto* node = get(key);
  if (node == nullptr) return std::optional<bool>();
  const auto* v = node->as_boolean();
  if (v == nullptr) return error_at(node->source(), key, "expected true or false");
  return std::optional<bool>(v->get());
}

Expected<std::optional<std::vector<std::string>>> TomlConfigTable::strings(std::string_view key) const {
  const auto* node = get(key);
  if (node == nullptr) return std::optional<std::vector<std::string>>();
  const auto* arr = node->as_array();
  if (arr == nullptr) return error_at(node->source(), key, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *arr) {
    const auto* s = item.as_string();
    if (s == nullptr) return error_at(item.source(), key, "expected an array of strings");
    out.push_back(s->get());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Status TomlConfigTable::finish() const {
  for (const auto& [key, node] : *data_.table) {
    if (seen_.count(key.str()) == 0) return error_at(key.source(), key.str(), "unknown key");
  }
  return Done{};
}

}  // namespace relais::daemon
