// A plugin's own table of relais.toml, as the daemon hands it to the plugin's
// factory. Reading through it gives the plugin the core's error messages:
// file:line:column, the key, and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"

namespace relais {

class ConfigTable {
 public:
  virtual ~ConfigTable() = default;

  // Where the table is: "moderate[1]" for the second [[moderate]] entry.
  virtual std::string_view name() const noexcept = 0;

  // The relais.toml the table is in. A file a plugin's table names by a
  // relative path (a rule file, a lexicon) is relative to its directory.
  virtual std::string_view config_file() const noexcept = 0;

  // Each reader returns nothing when the key is absent, the value when it has
  // the type asked for, and an error (with the value's position) otherwise.
  // Reading a key marks it as known: see finish().
  virtual Expected<std::optional<std::string>> string(std::string_view key) const = 0;
  virtual Expected<std::optional<std::int64_t>> integer(std::string_view key) const = 0;
  // An integer is a number too.
  virtual Expected<std::optional<double>> number(std::string_view key) const = 0;
  virtual Expected<std::optional<bool>> boolean(std::string_view key) const = 0;
  virtual Expected<std::optional<std::vector<std::string>>> strings(std::string_view key) const = 0;

  // An error about `key`'s value (or, for an empty key, the table itself):
  // "file:line:column: name.key: message".
  virtual Error error(std::string_view key, std::string_view message) const = 0;

  // An error naming the first key nobody read: a typo is never ignored.
  // Call it last.
  virtual Status finish() const = 0;
};

}  // namespace relais
