// control: answers the operator's queries (posts, one post with its trail,
// the review queue, needs, the outbox, stats, the loaded plugins) and the
// destinations' claims, declines and resolutions on its own thread and its own
// read-only store connection, so that a slow query never holds up ingest;
// and takes the moderators' decisions (approve, reject, learn), which it
// hands to the pipeline and answers once they are committed.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "config/live_config.hpp"
#include "counters.hpp"
#include "plugins/host.hpp"

namespace zmq {
class context_t;
}

namespace relais::daemon {

class Pipeline;
class NeedTracker;
class Writer;

class Control {
 public:
  Control(zmq::context_t& context, const LiveConfig& config, const LivePlugins& plugins, Counters& counters,
          Pipeline& pipeline, NeedTracker& needs, Writer& writer);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // Where the HTTP endpoint listens, for `stats`; before start().
  void set_http_address(std::string address);
  // Opens the read-only store; throws std::runtime_error when it cannot.
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::daemon
