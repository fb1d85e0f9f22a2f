// toml_reader: reading triage_lexicon's own TOML files (lexicons, the
// gazetteer) with errors that say "file:line:column: what: message", and
// every key checked against the ones the table may hold.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relais/expected.hpp"

namespace relais::triage {

class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  std::string position(const toml::source_region& region) const {
    return file_ + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
  }

  Error error(const toml::source_region& region, std::string_view what, std::string_view message) const {
    std::string text = position(region);
    if (!what.empty()) text += ": " + std::string(what);
    text += ": " + std::string(message);
    return Error{"config", std::move(text), std::string(what)};
  }

  // The whole file, or its syntax error.
  Expected<toml::table> parse() const {
    try {
      return toml::parse_file(file_);
    } catch (const toml::parse_error& e) {
      return error(e.source(), "", e.description());
    }
  }

  // Refuses the first key of `table` that is not in `known`.
  Status known_keys(const toml::table& table, std::string_view what,
                    std::initializer_list<std::string_view> known) const {
    for (const auto& [key, node] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        return error(key.source(), join(what, key.str()), "unknown key");
      }
    }
    return Done{};
  }

  // A table under `key`, or nothing when it is absent.
  Expected<const toml::table*> table(const toml::table& parent, std::string_view key,
                                     std::string_view what) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    const toml::table* table = node->as_table();
    if (table == nullptr) return error(node->source(), join(what, key), "expected a table");
    return table;
  }

  Expected<std::optional<std::string>> string(const toml::table& table, std::string_view key,
                                              std::string_view what) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::optional<std::string>();
    const auto* value = node->as_string();
    if (value == nullptr) return error(node->source(), join(what, key), "expected a string");
    return std::optional<std::string>(value->get());
  }

  // The strings of an array, each with where it is.
  using Strings = std::vector<std::pair<std::string, toml::source_region>>;
  Expected<Strings> strings(const toml::table& table, std::string_view key, std::string_view what) const {
    Strings out;
    const toml::node* node = table.get(key);
    if (node == nullptr) return out;
    const auto* array = node->as_array();
    if (array == nullptr) return error(node->source(), join(what, key), "expected an array of strings");
    for (const auto& item : *array) {
      const auto* value = item.as_string();
      if (value == nullptr) return error(item.source(), join(what, key), "expected an array of strings");
      out.emplace_back(value->get(), item.source());
    }
    return out;
  }

  static std::string join(std::string_view what, std::string_view key) {
    if (what.empty()) return std::string(key);
    return std::string(what) + "." + std::string(key);
  }

 private:
  std::string file_;
};

}  // namespace relais::triage
