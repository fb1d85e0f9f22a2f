// Logging: one named spdlog logger per component. Messages use key=value
// fields and never carry personal data (post text, contacts) above debug.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace relais::daemon {

std::shared_ptr<spdlog::logger> component_logger(const std::string& name);
// Names the calling thread (seen in top -H, perf and gdb); at most 15 bytes.
void name_this_thread(const char* name);
// Applies a level ("info", "debug", ...) to every logger, now and later.
void set_log_level(std::string_view level);

}  // namespace relais::daemon
