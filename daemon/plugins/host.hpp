// plugins/host: builds the set of plugin instances a config asks for. Each
// entry's library is loaded and checked, its factory validates the entry's
// table, then makes the instance, with a logger and counters of its own. A
// set is built whole or not at all: at reload the running set keeps serving
// until a new one is complete.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "relais/plugin.hpp"
#include "snapshot.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

class PluginLibrary;

// What an instance did, for `relaisctl stats`. Written relaxed by the thread
// that runs the instance, read by the control service.
struct PluginCounters {
  std::atomic<std::uint64_t> posts{0};     // moderators, triagers: posts seen
  std::atomic<std::uint64_t> findings{0};  // moderators: findings added
  std::atomic<std::uint64_t> errors{0};    // exceptions caught; a source's deaths
  std::atomic<std::uint64_t> nanoseconds{0};
  std::atomic<std::uint64_t> restarts{0};  // sources: runs after a death
};

// Logs as the instance, and keeps a post-by-post failure from flooding the
// log: past a burst, warn and error lines are counted, and the count is
// reported with the next line let through.
class PluginLogger final : public Logger {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // A burst of this many warn/error lines per window, then a count.
  static constexpr unsigned kBurst = 20;
  static constexpr std::chrono::seconds kWindow{10};

  explicit PluginLogger(const std::string& instance, Clock now = std::chrono::steady_clock::now);
  bool enabled(LogLevel level) const noexcept override;
  void log(LogLevel level, std::string_view message) override;

 private:
  std::shared_ptr<spdlog::logger> log_;
  Clock now_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_start_{};
  unsigned in_window_ = 0;
  std::uint64_t suppressed_ = 0;
};

// One plugin instance. Members are destroyed in reverse order: the object
// first (its deleter then lets go of the library), its logger after it.
template <class Interface>
struct PluginInstance {
  std::string instance;  // "moderate:rules:0"
  std::string plugin;    // "moderate_rules"
  std::string version;
  std::string file;
  std::string abi;  // the stamp it was built with, equal to the daemon's
  std::shared_ptr<PluginCounters> counters = std::make_shared<PluginCounters>();
  std::shared_ptr<PluginLogger> log;
  std::shared_ptr<Interface> object;
};

struct PluginSet {
  std::vector<PluginInstance<Source>> sources;
  std::vector<PluginInstance<Moderator>> moderators;
  std::vector<PluginInstance<Triager>> triagers;
  std::vector<PluginInstance<Sink>> sinks;
};

// Loads, configures and creates every plugin of `config`. The error names
// the entry (file:line:column where the table is at fault), the plugin, its
// file and the reason.
struct PluginSetOptions {
  // Instances that only show what would happen (see PluginContext::shadow).
  bool shadow = false;
  bool moderators_only = false;
  std::filesystem::path state_directory;  // empty: the config's
};
Expected<std::shared_ptr<const PluginSet>> build_plugin_set(const Config& config,
                                                            const PluginSetOptions& options = {});

// The set in use; read by the pipeline for each batch and by the control
// service, replaced whole at reload.
class LivePlugins : public Snapshot<PluginSet> {
 public:
  LivePlugins() : Snapshot(std::make_shared<const PluginSet>()) {}
};

}  // namespace relais::daemon
