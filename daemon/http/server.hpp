// http: relaisd's HTTP endpoint (Boost.Beast, one thread of its own): the
// API destinations use to see and act on their needs (a bearer token per
// destination, each acting only on its own needs), the pages behind the
// signed links of messages, a health check and the metrics. Beast stays in
// server.cpp: this header is all the daemon sees.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/live_config.hpp"
#include "counters.hpp"
#include "plugins/host.hpp"
#include "relais/expected.hpp"
#include "router/hours.hpp"

namespace relais::daemon {

class NeedTracker;
class LinkSigner;
class Store;

class HttpServer {
 public:
  using Clock = std::function<Instant()>;
  HttpServer(const LiveConfig& config, NeedTracker& needs, const LinkSigner& links, Counters& counters,
             const LivePlugins& plugins, Clock now);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen` ("127.0.0.1:8080"; port 0: any free port), opens its
  // read-only store connection and starts serving; the error says why not.
  Status start(const std::string& listen, const std::filesystem::path& database);
  // The address it listens on, with the port it got: "127.0.0.1:41234".
  std::string address() const;
  // Stops accepting, ends the connections, joins its thread.
  void stop();

  struct Impl;  // server.cpp's, and its connections'

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace relais::daemon
