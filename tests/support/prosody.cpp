#include "support/prosody.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace relais::test {

namespace {
// Debian's (the prosody package), whatever comes first on PATH.
constexpr const char* kProsody = "/usr/bin/prosody";
constexpr const char* kProsodyctl = "/usr/bin/prosodyctl";
}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

Prosody::Prosody(ProsodyOptions options) : port_(free_port()) {
  if (!std::filesystem::exists(kProsody)) {
    throw std::runtime_error(std::string("no ") + kProsody + ": install prosody (scripts/install-deps)");
  }
  const auto dir = dir_.path().string();
  std::filesystem::create_directories(dir_ / "data");
  std::filesystem::create_directories(dir_ / "certs");
  config_ = dir_ / "prosody.cfg.lua";
  // The tests may run as root (containers): prosody refuses that unless told.
  write_file(config_,
             "run_as_root = true\n"
             "pidfile = \"" +
                 dir +
                 "/prosody.pid\"\n"
                 "data_path = \"" +
                 dir +
                 "/data\"\n"
                 "certificates = \"" +
                 dir +
                 "/certs\"\n"
                 "log = { { levels = { min = \"debug\" }, to = \"file\", filename = \"" +
                 dir +
                 "/prosody.log\" } }\n"
                 "interfaces = { \"127.0.0.1\" }\n"
                 "c2s_ports = { " +
                 std::to_string(port_) +
                 " }\n"
                 "s2s_ports = { }\nhttp_ports = { }\nhttps_ports = { }\n"
                 "c2s_require_encryption = false\n"
                 "allow_unencrypted_plain_auth = true\n"
                 "authentication = \"internal_plain\"\n"
                 "storage = \"internal\"\n"
                 "modules_enabled = { \"roster\", \"saslauth\", \"disco\", \"ping\", \"posix\" }\n"
                 "modules_disabled = { \"s2s\" }\n"
                 "VirtualHost \"" +
                 std::string(kHost) +
                 "\"\n"
                 "Component \"" +
                 std::string(kMuc) + "\" \"muc\"\n" +
                 (options.mam ? "  modules_enabled = { \"muc_mam\" }\n" : "") +
                 "  muc_room_locking = false\n"
                 "  muc_room_default_persistent = true\n"
                 "  muc_room_default_change_subject = true\n"
                 "  muc_tombstones = false\n"
                 "  muc_room_default_public_jids = false\n");
}

Prosody::~Prosody() { stop(); }

void Prosody::add_user(const std::string& user, const std::string& password) {
  const auto r = run({kProsodyctl, "--config", config_.string(), "register", user, kHost, password});
  if (r.status != 0) throw std::runtime_error("prosodyctl register failed: " + r.output);
}

bool Prosody::start() {
  process_ = std::make_unique<Process>(std::vector<std::string>{kProsody, "--config", config_.string(), "-F"},
                                       dir_ / "prosody.out");
  return wait_until([&] { return port_accepts(port_) || !process_->running(); }) && process_->running();
}

void Prosody::stop() {
  if (!process_) return;
  if (process_->running()) {
    process_->signal(SIGTERM);
    process_->wait();
  }
  process_.reset();
}

bool Prosody::running() const { return process_ != nullptr && process_->running(); }

std::string Prosody::log() const { return read_file(dir_ / "prosody.out") + read_file(dir_ / "prosody.log"); }

}  // namespace relais::test
