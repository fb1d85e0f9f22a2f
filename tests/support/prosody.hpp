// A real prosody for tests: Debian's /usr/bin/prosody on a loopback port of
// its own, with a config, accounts and data in a temporary folder. Without
// TLS, which is fine on loopback only.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "support/support.hpp"

namespace relais::test {

struct ProsodyOptions {
  bool mam = true;  // mod_muc_mam: rooms give stanza-ids and keep history in an archive
};

class Prosody {
 public:
  static constexpr const char* kHost = "relais.test";
  static constexpr const char* kMuc = "conference.relais.test";

  explicit Prosody(ProsodyOptions options = {});
  ~Prosody();
  Prosody(const Prosody&) = delete;
  Prosody& operator=(const Prosody&) = delete;

  // An account on kHost; before or after start().
  void add_user(const std::string& user, const std::string& password);
  // Starts the server and waits until its port accepts; false if it did not.
  bool start();
  // SIGTERM, and waits for the exit. The port and the data stay for start().
  void stop();
  bool running() const;
  int port() const { return port_; }
  std::string log() const;

 private:
  TempDir dir_;
  std::filesystem::path config_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// A TCP port on 127.0.0.1 that nobody listens on now.
int free_port();
// Whether 127.0.0.1:port accepts a connection.
bool port_accepts(int port);

}  // namespace relais::test
