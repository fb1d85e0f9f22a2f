// The daemon assembled: store, writer, pipeline, control and ingest, started
// in the order that loses nothing and stopped in the reverse one.
#pragma once

#include <filesystem>
#include <memory>

#include "config/config.hpp"
#include "relais/expected.hpp"

namespace relais::daemon {

class Daemon {
 public:
  Daemon(Config config, ConfigOverrides overrides);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Fails with a message fit for a person when the daemon cannot start.
  Status start();
  // Stops taking posts, answers those taken, finishes the pipeline, commits.
  void stop();
  // Parses, validates and builds the new configuration, then swaps it in.
  // On error the running one stays and the error is returned.
  Status reload();

  // The ZeroMQ context (a zmq::context_t*), for in-process sources.
  void* zmq_context() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::daemon
