// A receiver of deliveries for tests: one of the scripts beside this file
// (webhook_receiver.py, smtp_receiver.py) run by Debian's python3 on a
// loopback port of its own, what it received read back as JSON lines.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace relais::test {

class ScriptReceiver {
 public:
  // `script` is a file name in tests/support; `options` follow the script's
  // own --port-file and --out.
  ScriptReceiver(const std::string& script, const std::vector<std::string>& options = {});
  ~ScriptReceiver();
  ScriptReceiver(const ScriptReceiver&) = delete;
  ScriptReceiver& operator=(const ScriptReceiver&) = delete;

  int port() const { return port_; }
  // Everything received so far: the scripts write each line before they
  // answer, so what was answered is here.
  std::vector<boost::json::object> received() const;
  // Stops the server (SIGTERM) and waits for it.
  void stop();

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

}  // namespace relais::test
