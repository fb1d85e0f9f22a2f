// plugins/loader: turns a plugin file into a checked descriptor. It reads the
// ABI stamp from the file before loading it, so that no code of a plugin
// built against another ABI ever runs, then loads the library and takes its
// one descriptor. Boost.DLL stays inside loader.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "relais/expected.hpp"
#include "relais/plugin.hpp"

namespace relais::daemon {

// A loaded plugin library. Instances made by its factory must be destroyed
// before the last reference to it goes: they hold one (see host.hpp).
class PluginLibrary {
 public:
  virtual ~PluginLibrary() = default;
  virtual const PluginDescriptor& descriptor() const noexcept = 0;
  virtual const std::filesystem::path& file() const noexcept = 0;
};

// The stamp of this build of relaisd; a plugin must carry the same.
std::string_view host_abi_stamp() noexcept;

// Reads the ABI stamp a plugin file carries in its relais_abi section,
// without loading it. Errors say what is wrong with the file.
Expected<std::string> read_abi_stamp(const std::filesystem::path& file);

// Checks the stamp, loads the library and checks its descriptor. `wanted`
// is the plugin name relais.toml asked for. Errors name the plugin, the file
// and the reason.
Expected<std::shared_ptr<const PluginLibrary>> load_plugin(const std::string& wanted,
                                                           const std::filesystem::path& file);

}  // namespace relais::daemon
