#include "plugins/host.hpp"

#include <spdlog/spdlog.h>

#include "config/plugin_table.hpp"
#include "log.hpp"
#include "plugins/loader.hpp"

namespace relais::daemon {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

template <class Interface>
const Factory<Interface>& factory_of(const PluginDescriptor& d);
template <>
const Factory<Source>& factory_of<Source>(const PluginDescriptor& d) {
  return d.source();
}
template <>
const Factory<Moderator>& factory_of<Moderator>(const PluginDescriptor& d) {
  return d.moderator();
}
template <>
const Factory<Triager>& factory_of<Triager>(const PluginDescriptor& d) {
  return d.triager();
}
template <>
const Factory<Sink>& factory_of<Sink>(const PluginDescriptor& d) {
  return d.sink();
}

template <class Interface>
Expected<PluginInstance<Interface>> make_instance(const PluginEntry& entry,
                                                  const std::shared_ptr<const PluginLibrary>& library,
                                                  const PluginSetOptions& options) {
  const auto& d = library->descriptor();
  PluginInstance<Interface> out;
  out.instance = entry.instance();
  out.plugin = entry.plugin;
  out.version = d.version != nullptr ? d.version : "";
  out.file = library->file().string();
  out.abi = d.abi != nullptr ? d.abi : "";
  const std::string who = entry.table->name + " (plugin " + entry.plugin + ", " + out.file + "): ";
  try {
    const auto& factory = factory_of<Interface>(d);
    const TomlConfigTable table(*entry.table);
    auto config = factory.configure(table);
    if (!config) {
      Error e = config.error();
      // A table error already carries its position; anything else gets the entry's.
      if (e.message.rfind(entry.table->file.string() + ":", 0) != 0) e.message = who + e.message;
      return e;
    }
    out.log = std::make_shared<PluginLogger>(out.instance);
    const std::string state_directory = options.state_directory.string();
    const PluginContext context{out.instance, out.log.get(), state_directory, options.shadow};
    std::unique_ptr<Interface> made = factory.create(*config, context);
    if (!made) return Error{"plugin", who + "its factory made no instance", entry.plugin};
    // The library stays loaded while the instance lives: its code and
    // vtable are in it.
    out.object = std::shared_ptr<Interface>(made.release(), [library](Interface* p) { delete p; });
  } catch (const std::exception& e) {
    return Error{"plugin", who + "threw while configuring: " + e.what(), entry.plugin};
  } catch (...) {
    return Error{"plugin", who + "threw while configuring", entry.plugin};
  }
  return out;
}

}  // namespace

PluginLogger::PluginLogger(const std::string& instance, Clock now)
    : log_(component_logger(instance)), now_(std::move(now)) {}

bool PluginLogger::enabled(LogLevel level) const noexcept { return log_->should_log(to_spdlog(level)); }

void PluginLogger::log(LogLevel level, std::string_view message) {
  const auto lvl = to_spdlog(level);
  if (!log_->should_log(lvl)) return;
  if (level >= LogLevel::warn) {
    std::uint64_t suppressed = 0;
    {
      std::lock_guard lock(mutex_);
      const auto now = now_();
      if (now - window_start_ >= kWindow) {
        window_start_ = now;
        in_window_ = 0;
      }
      if (++in_window_ > kBurst) {
        ++suppressed_;
        return;
      }
      suppressed = std::exchange(suppressed_, 0);
    }
    if (suppressed > 0) {
      log_->log(lvl, "{} suppressed={}", message, suppressed);
      return;
    }
  }
  log_->log(lvl, "{}", message);
}

namespace {

// Each destination's `to`, and the moderators', as its sink reads it: a
// typo refused at start-up or reload rather than dead-lettered later.
Status check_addresses(const Config& config, const PluginSet& set) {
  auto check = [&](const DeliverEntry& e) -> Status {
    const auto* entry = config.sink_named(e.sink);
    if (entry == nullptr)
      return Error{"config", e.where + ": no [[sink]] entry is named \"" + e.sink + "\"", ""};
    for (const auto& sink : set.sinks) {
      if (sink.instance != entry->instance()) continue;
      auto ok = sink.object->check_address(e.to);
      if (!ok) {
        return Error{"config",
                     e.where + ": " + ok.error().message + " (sink " + e.sink + ", " + sink.plugin + ")", ""};
      }
    }
    return Done{};
  };
  for (const auto& d : config.network->destinations) {
    for (const auto& e : d.deliver) {
      if (auto ok = check(e); !ok) return ok;
    }
  }
  for (const auto& e : config.moderators) {
    if (auto ok = check(e); !ok) return ok;
  }
  return Done{};
}

}  // namespace

Expected<std::shared_ptr<const PluginSet>> build_plugin_set(const Config& config,
                                                            const PluginSetOptions& options) {
  auto set = std::make_shared<PluginSet>();
  PluginSetOptions opts = options;
  if (opts.state_directory.empty()) opts.state_directory = config.state_dir;
  for (const auto& entry : config.plugins) {
    if (opts.moderators_only && entry.kind != PluginKind::moderator) continue;
    auto library = load_plugin(entry.plugin, entry.file(config.plugin_dir));
    if (!library) {
      Error e = library.error();
      e.message = entry.table->name + ": " + e.message;
      return e;
    }
    if ((*library)->descriptor().kind != entry.kind) {
      return Error{"plugin",
                   entry.table->name + ": plugin " + entry.plugin + " (" + (*library)->file().string() +
                       ") is a " + std::string(to_string((*library)->descriptor().kind)) + " plugin, not a " +
                       std::string(to_string(entry.kind)) + " one",
                   entry.plugin};
    }
    Status added = Done{};
    const auto add = [&](auto& into, auto made) {
      if (!made) {
        added = made.error();
        return;
      }
      into.push_back(std::move(*made));
    };
    switch (entry.kind) {
      case PluginKind::source:
        add(set->sources, make_instance<Source>(entry, *library, opts));
        break;
      case PluginKind::moderator:
        add(set->moderators, make_instance<Moderator>(entry, *library, opts));
        break;
      case PluginKind::triager:
        add(set->triagers, make_instance<Triager>(entry, *library, opts));
        break;
      case PluginKind::sink:
        add(set->sinks, make_instance<Sink>(entry, *library, opts));
        break;
    }
    if (!added) return added.error();
  }
  if (!opts.moderators_only) {
    if (auto checked = check_addresses(config, *set); !checked) return checked.error();
  }
  return std::shared_ptr<const PluginSet>(std::move(set));
}

}  // namespace relais::daemon
