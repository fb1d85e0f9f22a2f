// relaisd: the moderation and routing daemon.
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "daemon.hpp"
#include "log.hpp"
#include "plugins/host.hpp"

namespace {

void wait_for_signals(boost::asio::signal_set& signals, relais::daemon::Daemon& daemon,
                      boost::asio::io_context& loop) {
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      // Handlers run on the event loop, never inside the raw signal handler.
      sd_notify(0, "RELOADING=1");
      (void)daemon.reload();
      sd_notify(0, "READY=1");
      wait_for_signals(signals, daemon, loop);
      return;
    }
    sd_notify(0, "STOPPING=1");
    loop.stop();
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"relaisd: moderates and routes the posts of mutual-aid networks"};
  std::string config_file = "/etc/relais/relais.toml";
  std::string check_file;
  std::string state_dir;
  std::string plugin_dir;
  bool verbose = false;
  app.add_option("-c,--config", config_file, "configuration file")->capture_default_str();
  app.add_option("--state-dir", state_dir, "where the database and the ingest socket live");
  app.add_option("--plugin-dir", plugin_dir, "where plugins named in the configuration are found");
  app.add_option("--check-config", check_file,
                 "validate this configuration file, load and configure its plugins, and exit");
  app.add_flag("-v,--verbose", verbose, "log at debug level");
  app.set_version_flag("--version", std::string("relaisd ") + RELAIS_VERSION);
  CLI11_PARSE(app, argc, argv);

  relais::daemon::ConfigOverrides overrides{state_dir, plugin_dir, verbose};
  if (!check_file.empty()) {
    auto config = relais::daemon::load_config(check_file, overrides);
    if (!config) {
      std::cerr << config.error().message << "\n";
      return 1;
    }
    // A plugin's table is the plugin's to validate: each is loaded and
    // configured as at start-up, in shadow mode, so that a check changes
    // no plugin's files.
    auto plugins = relais::daemon::build_plugin_set(
        *config, {.shadow = true, .moderators_only = false, .state_directory = {}});
    if (!plugins) {
      std::cerr << plugins.error().message << "\n";
      return 1;
    }
    std::cout << check_file << ": ok (" << config->plugins.size() << " plugin instances)\n";
    return 0;
  }

  auto config = relais::daemon::load_config(config_file, overrides);
  if (!config) {
    std::cerr << "relaisd: " << config.error().message << "\n";
    return 1;
  }
  relais::daemon::set_log_level(config->log_level);
  relais::daemon::Daemon daemon(std::move(*config), overrides);
  if (auto started = daemon.start(); !started) {
    std::cerr << "relaisd: " << started.error().message << "\n";
    return 1;
  }
  boost::asio::io_context loop;
  boost::asio::signal_set signals(loop, SIGINT, SIGTERM, SIGHUP);
  wait_for_signals(signals, daemon, loop);
  sd_notify(0, "READY=1");
  loop.run();
  daemon.stop();
  return 0;
}
