// What a plugin exports, and what the daemon gives it.
//
// A plugin is a shared library exporting exactly one PluginDescriptor, named
// `relais_plugin`, through one of the RELAIS_*_PLUGIN macros below. Nothing
// runs when the library is loaded: the descriptor is constant data, and the
// factory is built on first use. Before loading, the daemon reads the ABI
// stamp the macro puts in the library's `relais_abi` section and refuses
// a plugin whose stamp differs from its own.
//
// Life of a plugin instance: the factory validates the instance's table of
// relais.toml once into an immutable PluginConfig, then creates instances
// from it. A reload configures the new tables beside the running ones and
// swaps only when every plugin accepted its table.
#pragma once

#include <boost/version.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

#include "relais/config_table.hpp"
#include "relais/expected.hpp"
#include "relais/sink.hpp"
#include "relais/source.hpp"
#include "relais/stage.hpp"

// Bump on any change to a public header that changes what crosses the plugin
// boundary (a type's layout, a virtual function, a descriptor field).
// tests/sdk/abi_lock_test checks sdk/abi.lock against a hash of the headers.
#define RELAIS_SDK_ABI 4

#define RELAIS_ABI_STR2(x) #x
#define RELAIS_ABI_STR(x) RELAIS_ABI_STR2(x)
#if defined(__clang__)
#define RELAIS_ABI_COMPILER "clang-" RELAIS_ABI_STR(__clang_major__)
#elif defined(__GNUC__)
#define RELAIS_ABI_COMPILER "gcc-" RELAIS_ABI_STR(__GNUC__)
#else
#define RELAIS_ABI_COMPILER "unknown"
#endif
#if defined(_GLIBCXX_RELEASE)
#define RELAIS_ABI_STDLIB \
  "libstdc++-" RELAIS_ABI_STR(_GLIBCXX_RELEASE) "-cxx11abi" RELAIS_ABI_STR(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define RELAIS_ABI_STDLIB "libc++-" RELAIS_ABI_STR(_LIBCPP_VERSION)
#else
#define RELAIS_ABI_STDLIB "unknown"
#endif

// C++ types cross the boundary, so everything that shapes them is stamped:
// the SDK's ABI number, the compiler, its standard library and that
// library's ABI, and the Boost version.
#define RELAIS_ABI_STAMP                                                            \
  "relais-sdk-abi=" RELAIS_ABI_STR(RELAIS_SDK_ABI) " compiler=" RELAIS_ABI_COMPILER \
                                                   " stdlib=" RELAIS_ABI_STDLIB     \
                                                   " boost=" RELAIS_ABI_STR(BOOST_VERSION)

namespace relais {

enum class PluginKind : std::uint32_t { source = 1, moderator = 2, triager = 3, sink = 4 };

// As in relais.toml's arrays of tables: [[source]], [[moderate]], ...
constexpr std::string_view to_string(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::source:
      return "source";
    case PluginKind::moderator:
      return "moderate";
    case PluginKind::triager:
      return "triage";
    case PluginKind::sink:
      return "sink";
  }
  return "unknown";
}

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error };

// The instance's own logger, named after it ("moderate:rules:0"). Per-post
// messages at warn and error are rate-limited by the daemon. Personal data
// (post text, phone numbers, addresses) never goes above debug.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const noexcept = 0;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

// What the daemon gives an instance when it creates it.
struct PluginContext {
  std::string_view instance;  // "moderate:rules:0": kind, plugin, position
  Logger* log = nullptr;      // never null; outlives the instance
  // The daemon's state directory: an instance that keeps files (learned
  // statistics, recent posts) puts them there, under names of its own.
  std::string_view state_directory;
  // A shadow instance moderates posts to show what would happen (`relaisctl
  // rules test`, `rules replay`): it may read its files but must change
  // nothing that a live instance would see.
  bool shadow = false;
};

// A factory's reading of one table. Immutable once made; each plugin derives
// its own and casts back to it in create().
class PluginConfig {
 public:
  virtual ~PluginConfig() = default;
};

template <class Instance>
class Factory {
 public:
  virtual ~Factory() = default;
  // Validates the instance's table. Errors come from ConfigTable (with their
  // file:line:column); call table.finish() last so that typos are refused.
  virtual Expected<std::shared_ptr<const PluginConfig>> configure(const ConfigTable& table) const = 0;
  // Makes an instance from a config this factory made. May throw; the
  // daemon then refuses the plugin set, naming the instance.
  virtual std::unique_ptr<Instance> create(std::shared_ptr<const PluginConfig> config,
                                           const PluginContext& context) const = 0;
};

using SourceFactory = Factory<Source>;
using ModeratorFactory = Factory<Moderator>;
using TriagerFactory = Factory<Triager>;
using SinkFactory = Factory<Sink>;

// The one thing a plugin exports. Exactly one factory getter is set, the one
// of `kind`.
struct PluginDescriptor {
  const char* abi;  // RELAIS_ABI_STAMP as the plugin was built
  PluginKind kind;
  const char* name;     // as written in relais.toml: "moderate_rules"
  const char* version;  // the plugin's own version
  const SourceFactory& (*source)();
  const ModeratorFactory& (*moderator)();
  const TriagerFactory& (*triager)();
  const SinkFactory& (*sink)();
};

}  // namespace relais

#define RELAIS_PLUGIN_SYMBOL relais_plugin
#define RELAIS_PLUGIN_SYMBOL_NAME "relais_plugin"
// No leading dot: the assembler takes any ".rel..." name for a relocation
// table, and the linker would fold the stamp into .rela.dyn.
#define RELAIS_PLUGIN_ABI_SECTION "relais_abi"

// The descriptor, and the stamp in its own section so that the daemon can
// read it from the file without loading the library.
#define RELAIS_PLUGIN_DESCRIPTOR_(kind_, name_, version_, src_, mod_, tri_, snk_)                      \
  extern "C" {                                                                                         \
  __attribute__((section(RELAIS_PLUGIN_ABI_SECTION), used, retain)) const char relais_plugin_abi[] =   \
      RELAIS_ABI_STAMP;                                                                                \
  __attribute__((visibility("default"))) extern const ::relais::PluginDescriptor RELAIS_PLUGIN_SYMBOL; \
  const ::relais::PluginDescriptor RELAIS_PLUGIN_SYMBOL = {                                            \
      RELAIS_ABI_STAMP, kind_, name_, version_, src_, mod_, tri_, snk_};                               \
  }

// The factory is a function-local static: built on first call, after the
// daemon checked the stamp, never by a static constructor at load time.
#define RELAIS_PLUGIN_FACTORY_(FactoryType, Base) \
  namespace {                                     \
  const ::relais::Base& relais_plugin_factory() { \
    static const FactoryType factory;             \
    return factory;                               \
  }                                               \
  }

#define RELAIS_SOURCE_PLUGIN(name, version, FactoryType)                                                  \
  RELAIS_PLUGIN_FACTORY_(FactoryType, SourceFactory)                                                      \
  RELAIS_PLUGIN_DESCRIPTOR_(::relais::PluginKind::source, name, version, &relais_plugin_factory, nullptr, \
                            nullptr, nullptr)
#define RELAIS_MODERATOR_PLUGIN(name, version, FactoryType)                                                  \
  RELAIS_PLUGIN_FACTORY_(FactoryType, ModeratorFactory)                                                      \
  RELAIS_PLUGIN_DESCRIPTOR_(::relais::PluginKind::moderator, name, version, nullptr, &relais_plugin_factory, \
                            nullptr, nullptr)
#define RELAIS_TRIAGER_PLUGIN(name, version, FactoryType)                                   \
  RELAIS_PLUGIN_FACTORY_(FactoryType, TriagerFactory)                                       \
  RELAIS_PLUGIN_DESCRIPTOR_(::relais::PluginKind::triager, name, version, nullptr, nullptr, \
                            &relais_plugin_factory, nullptr)
#define RELAIS_SINK_PLUGIN(name, version, FactoryType)                                            \
  RELAIS_PLUGIN_FACTORY_(FactoryType, SinkFactory)                                                \
  RELAIS_PLUGIN_DESCRIPTOR_(::relais::PluginKind::sink, name, version, nullptr, nullptr, nullptr, \
                            &relais_plugin_factory)
