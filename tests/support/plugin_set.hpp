// A plugin set built from a relais.toml text, as relaisd builds it: the
// plugins are loaded from the build's plugin directory unless an entry says
// `path`. For tests that link relais_core.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "support/support.hpp"

namespace relais::test {

// The set, or the error message of the config or of the plugins.
inline Expected<std::shared_ptr<const daemon::PluginSet>> plugin_set(const std::string& toml) {
  auto config = daemon::parse_config(toml, "relais.toml",
                                     {.state_dir = {}, .plugin_dir = plugin_dir(), .verbose = false});
  if (!config) return config.error();
  return daemon::build_plugin_set(*config);
}

}  // namespace relais::test
