// plugins/sources: runs the source instances of a plugin set, each on a
// thread of its own, and runs a source again, after a pause that doubles
// each time, when it returns or throws before it was asked to stop.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plugins/host.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

struct RestartBackoff {
  std::chrono::milliseconds min{1000};
  std::chrono::milliseconds max{60000};
};

class SourceRunner {
 public:
  // `endpoint` and `zmq_context` are what each source submits to.
  SourceRunner(void* zmq_context, std::string endpoint);
  ~SourceRunner();
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  // Runs every source of `set`, which stays alive (and its libraries loaded)
  // until stop(). Call stop() before starting another set.
  void start(std::shared_ptr<const PluginSet> set, RestartBackoff backoff);
  // Asks every source to stop and waits for each to return.
  void stop();

 private:
  void supervise(const PluginInstance<Source>& source, RestartBackoff backoff, const std::stop_token& stop);

  void* zmq_context_;
  std::string endpoint_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<const PluginSet> set_;
  std::vector<std::jthread> threads_;
};

}  // namespace relais::daemon
