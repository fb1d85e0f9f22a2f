// harness: what the benchmarks that drive a server share. The servers they
// run beside themselves (relaisd, the floor) with what each costs, a probe
// that pings and queries a server apart from the clients under test,
// latency percentiles and medians, and facts about the machine.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "child_process.hpp"
#include "protocol.hpp"
#include "scratch.hpp"
#include "stats.hpp"

namespace relais::bench {

using Clock = std::chrono::steady_clock;

// A server with a name for messages, and what it costs, read from /proc.
class Child : public ChildProcess {
 public:
  Child(std::string name, const std::vector<std::string>& argv, const std::filesystem::path& log)
      : ChildProcess(argv, log), name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // User + system CPU seconds of every thread so far; -1: unknown.
  double cpu_seconds() const;
  // The same, by thread name (/proc/PID/task/*/comm); threads of one name
  // add up.
  std::map<std::string, double> thread_cpu_seconds() const;
  // Bytes the process passed to write(2)-like calls so far (/proc/PID/io
  // wchar): its database and WAL writes, and little else; -1: unknown.
  double written_bytes() const;

 private:
  std::string name_;
};

// The last `bytes` of a file: a server's log when it failed.
std::string tail_of(const std::filesystem::path& file, std::size_t bytes = 2000);

// A DEALER for pings and queries, apart from the clients under test.
class Probe {
 public:
  explicit Probe(const std::string& endpoint);

  // The reply to one request, or nullopt after `timeout`.
  std::optional<protocol::Reply> ask(const std::string& frame, std::uint64_t seq,
                                     std::chrono::milliseconds timeout);
  // Pings until a pong comes, the child dies or the deadline passes.
  void wait_ready(Child* child, std::chrono::milliseconds timeout, const std::filesystem::path& log);
  // The result of a query, or nullopt when relaisd does not answer or refuses.
  std::optional<boost::json::value> query(
      const protocol::Query& q, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Whether relaisd still has posts its pipeline has not finished (state
  // `received`); nullopt when it does not answer.
  std::optional<bool> unfinished();

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::dealer};
  std::uint64_t next_seq_ = 1;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;  // milliseconds
};
// Of latencies in nanoseconds (sorts them).
Percentiles percentiles(std::vector<std::int64_t>& ns);
boost::json::object percentiles_json(const Percentiles& p);

std::string fixed(double v, int digits);

// User + system CPU seconds of this process so far.
double process_cpu_seconds();
// A TOML basic string.
std::string toml_string(const std::string& s);
// The value of the first "key: value" line of a file starting with `key`.
std::string read_line_starting(const std::string& file, const std::string& key);
std::string filesystem_of(const std::filesystem::path& dir);
std::string now_local();

// A server under test: relaisd, the floor, or a baseline relaisd.
struct Server {
  std::string target;  // floor | relaisd | baseline
  std::string endpoint;
  std::unique_ptr<Child> child;  // null: a relaisd already running
  std::filesystem::path log;
  bool has_pipeline = false;
};

// The floor (floor.cpp): a bare ROUTER + Boost.JSON + SQLite WAL server.
int serve_floor(const std::string& endpoint, const std::string& database, std::size_t batch_max,
                const std::string& synchronous, bool validate);

struct FloorOptions {
  std::size_t batch_max = 1024;
  std::string synchronous = "full";
  bool validate = false;
  int start_timeout_ms = 30000;
};
// Runs the floor in a child process: this same program, re-executed with
// `--serve-floor EP --floor-db FILE --batch-max N --synchronous S
// [--floor-validate]`, which its main() hands to serve_floor(). Its state
// goes to base/floor, its log to base/floor.log. Returns once it answers a
// ping.
Server start_floor(const FloorOptions& o, const std::filesystem::path& base);

}  // namespace relais::bench
