// config/toml_reader: reading one TOML table of relais.toml or of the
// network file, key by key, with errors that name file:line:column, the key
// and what was expected. Only the config readers include it: toml++ stays
// out of the rest of the daemon.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"

namespace relais::daemon::toml_reader {

inline std::string where(const std::filesystem::path& file, const toml::source_region& region) {
  return file.string() + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

// "250ms", "30s", "15m", "2h", "3d": a count and a unit.
inline std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  std::int64_t count = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    if (count > 1'000'000'000) return std::nullopt;
    count = count * 10 + (text[digits] - '0');
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  using namespace std::chrono;
  if (unit == "ms") return milliseconds(count);
  if (unit == "s") return duration_cast<milliseconds>(seconds(count));
  if (unit == "m") return duration_cast<milliseconds>(minutes(count));
  if (unit == "h") return duration_cast<milliseconds>(hours(count));
  if (unit == "d") return duration_cast<milliseconds>(hours(24 * count));
  return std::nullopt;
}

// Reads one table; every key must be consumed, so a typo is an error. The
// first fault is kept in `fault`; later ones are ignored.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, const std::filesystem::path& file,
              std::optional<Error>& fault)
      : table_(table), name_(std::move(name)), file_(file), fault_(fault) {}

  const toml::table& table() const { return table_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& file() const { return file_; }
  bool failed() const { return fault_.has_value(); }

  void fail(const toml::node& node, std::string_view key, const std::string& expected) {
    fail_at(node.source(), key, expected);
  }

  void fail_at(const toml::source_region& region, std::string_view key, const std::string& expected) {
    if (fault_) return;
    fault_ = Error{"config", where(file_, region) + ": " + qualified(key) + ": " + expected, qualified(key)};
  }

  std::string qualified(std::string_view key) const {
    if (key.empty()) return name_;
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
  }

  // "file:line:column: name.key" of a key's value (or of the table), for an
  // error found later, once the plugins are loaded.
  std::string position(std::string_view key) const {
    const auto* node = key.empty() ? nullptr : table_.get(key);
    return where(file_, node != nullptr ? node->source() : table_.source()) + ": " + qualified(key);
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

  // A string that must be there and not be empty.
  void required_string(std::string_view key, std::string& out) {
    const auto* node = table_.get(key);
    if (node == nullptr) {
      get(key);
      return fail_at(table_.source(), key, "missing");
    }
    string(key, out);
    if (node->is_string() && out.empty()) fail(*node, key, "expected a non-empty string");
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

  void boolean(std::string_view key, bool& out) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* v = node->as_boolean();
    if (v == nullptr) return fail(*node, key, "expected true or false");
    out = v->get();
  }

  void integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* v = node->as_integer();
    if (v == nullptr) return fail(*node, key, "expected an integer");
    if (v->get() < min || v->get() > max) {
      return fail(*node, key,
                  "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", got " + std::to_string(v->get()));
    }
    out = v->get();
  }

  void size(std::string_view key, std::size_t& out, std::int64_t min, std::int64_t max) {
    std::int64_t value = static_cast<std::int64_t>(out);
    integer(key, value, min, max);
    out = static_cast<std::size_t>(value);
  }

  void number(std::string_view key, double& out, double min, double max = HUGE_VAL) {
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
    if (value > max) return fail(*node, key, "expected a number of at most " + std::to_string(max));
    out = value;
  }

  // A duration written "250ms", "30s", "15m", "2h" or "3d", within [min, max].
  void duration(std::string_view key, std::chrono::milliseconds& out, std::chrono::milliseconds min,
                std::chrono::milliseconds max) {
    const auto* node = get(key);
    if (node == nullptr) return;
    const auto* v = node->as_string();
    const auto parsed = v != nullptr ? parse_duration(v->get()) : std::nullopt;
    if (!parsed)
      return fail(*node, key, "expected a duration such as \"500ms\", \"30s\", \"15m\", \"2h\" or \"3d\"");
    if (*parsed < min || *parsed > max) {
      return fail(*node, key,
                  "expected a duration from " + std::to_string(min.count()) + "ms to " +
                      std::to_string(max.count()) + "ms, got \"" + v->get() + "\"");
    }
    out = *parsed;
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

  // A sub-table (`key = { ... }` or `[name.key]`), or nothing when absent.
  const toml::table* table(std::string_view key) {
    const auto* node = get(key);
    if (node == nullptr) return nullptr;
    const auto* t = node->as_table();
    if (t == nullptr) fail(*node, key, "expected a table");
    return t;
  }

  // An array of tables (`key = [{...}, {...}]` or `[[name.key]]`); an absent
  // key is an empty array.
  std::vector<const toml::table*> tables(std::string_view key) {
    std::vector<const toml::table*> out;
    const auto* node = get(key);
    if (node == nullptr) return out;
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      fail(*node, key, "expected an array of tables");
      return out;
    }
    for (const auto& item : *arr) {
      const auto* t = item.as_table();
      if (t == nullptr) {
        fail(item, key, "expected an array of tables");
        return {};
      }
      out.push_back(t);
    }
    return out;
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

}  // namespace relais::daemon::toml_reader
