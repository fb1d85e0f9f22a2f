// table: reading a plugin's table, for the shipped plugins: the steps each
// of them would otherwise write again.
#pragma once

#include <optional>
#include <string_view>

#include "relais/config_table.hpp"
#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais::table {

// Reads one key with `read` (a ConfigTable reader bound to its key) into
// `into` when the key is there; `into` keeps its default otherwise.
template <class Read, class T>
Status read_into(Read&& read, T& into) {
  auto value = read();
  if (!value) return value.error();
  if (*value) into = **value;
  return Done{};
}

// A forced action: "hold", "reject", or "none" for a finding that only
// scores. Absent: `into` keeps its default.
inline Status read_action(const ConfigTable& table, std::string_view key, std::optional<Action>& into) {
  auto value = table.string(key);
  if (!value) return value.error();
  if (!*value) return Done{};
  if (**value == "none") {
    into.reset();
    return Done{};
  }
  const auto action = parse_action(**value);
  if (!action || *action == Action::accept)
    return table.error(key, "expected \"hold\", \"reject\" or \"none\"");
  into = action;
  return Done{};
}

}  // namespace relais::table
