#include "harness.hpp"

#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace relais::bench {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

// utime + stime of a /proc/.../stat line, in seconds; -1: unreadable.
double stat_cpu_seconds(const fs::path& stat_file) {
  std::ifstream in(stat_file);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

double Child::cpu_seconds() const { return stat_cpu_seconds("/proc/" + std::to_string(pid()) + "/stat"); }

std::map<std::string, double> Child::thread_cpu_seconds() const {
  std::map<std::string, double> out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid()) + "/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    const double s = stat_cpu_seconds(task.path() / "stat");
    if (s >= 0) out[name] += s;
  }
  return out;
}

double Child::written_bytes() const {
  std::ifstream in("/proc/" + std::to_string(pid()) + "/io");
  for (std::string key; in >> key;) {
    double value = 0;
    in >> value;
    if (key == "wchar:") return value;
  }
  return -1;
}

std::string tail_of(const fs::path& file, std::size_t bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

Probe::Probe(const std::string& endpoint) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

std::optional<protocol::Reply> Probe::ask(const std::string& frame, std::uint64_t seq, milliseconds timeout) {
  socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  const auto until = Clock::now() + timeout;
  for (auto now = Clock::now(); now < until; now = Clock::now()) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1));
    zmq::message_t msg;
    while (socket_.recv(msg, zmq::recv_flags::dontwait)) {
      auto reply = protocol::parse_reply(msg.to_string_view());
      if (reply && reply->seq == seq) return reply;  // earlier answers are dropped
    }
  }
  return std::nullopt;
}

void Probe::wait_ready(Child* child, milliseconds timeout, const fs::path& log) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (child != nullptr && !child->running()) {
      throw std::runtime_error(child->name() + " exited before answering a ping; its log:\n" + tail_of(log));
    }
    const auto seq = next_seq_++;
    auto reply = ask(protocol::encode_ping(seq), seq, milliseconds(200));
    if (reply && reply->type == "pong") return;
  }
  throw std::runtime_error((child != nullptr ? child->name() : std::string("the server")) +
                           " did not answer a ping within " + std::to_string(timeout.count()) + " ms" +
                           (child != nullptr ? "; its log:\n" + tail_of(log) : std::string()));
}

std::optional<json::value> Probe::query(const protocol::Query& q, milliseconds timeout) {
  const auto seq = next_seq_++;
  auto reply = ask(protocol::encode_query(seq, q), seq, timeout);
  if (!reply || reply->type != "result") return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(reply->result_json, ec);
  if (ec) return std::nullopt;
  return v;
}

std::optional<bool> Probe::unfinished() {
  protocol::Query q;
  q.what = "posts";
  q.state = "received";
  q.limit = 1;
  auto v = query(q);
  if (!v || !v->is_object()) return std::nullopt;
  const auto* posts = v->get_object().if_contains("posts");
  return posts != nullptr && posts->is_array() && !posts->get_array().empty();
}

Percentiles percentiles(std::vector<std::int64_t>& ns) {
  Percentiles p;
  if (ns.empty()) return p;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size()))) - 1;
    return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1e6;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(ns.back()) / 1e6;
  double sum = 0;
  for (auto v : ns) sum += static_cast<double>(v);
  p.mean = sum / static_cast<double>(ns.size()) / 1e6;
  return p;
}

json::object percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50}, {"p90", p.p90}, {"p99", p.p99}, {"p999", p.p999}, {"max", p.max}, {"mean", p.mean}};
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string read_line_starting(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "";
}

std::string filesystem_of(const fs::path& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    default: {
      std::ostringstream s;
      s << "0x" << std::hex << st.f_type;
      return s.str();
    }
  }
}

std::string now_local() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm);
  return buf;
}

Server start_floor(const FloorOptions& o, const fs::path& base) {
  Server s;
  s.target = "floor";
  const fs::path dir = base / "floor";
  fs::create_directories(dir);
  s.endpoint = "ipc://" + (dir / "floor.sock").string();
  s.log = base / "floor.log";
  std::vector<std::string> argv = {self_exe().string(),
                                   "--serve-floor",
                                   s.endpoint,
                                   "--floor-db",
                                   (dir / "floor.db").string(),
                                   "--batch-max",
                                   std::to_string(o.batch_max),
                                   "--synchronous",
                                   o.synchronous};
  if (o.validate) argv.emplace_back("--floor-validate");
  s.child = std::make_unique<Child>("the floor server", argv, s.log);
  Probe(s.endpoint).wait_ready(s.child.get(), milliseconds(o.start_timeout_ms), s.log);
  return s;
}

}  // namespace relais::bench
