#include "support/receiver.hpp"

#include <signal.h>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <sstream>

namespace relais::test {

namespace {
// Debian's interpreter, the one with python3-aiosmtpd and the standard
// library the scripts are written against, whatever python3 comes first on
// PATH.
constexpr const char* kPython = "/usr/bin/python3";
}  // namespace

ScriptReceiver::ScriptReceiver(const std::string& script, const std::vector<std::string>& options) {
  const auto port_file = dir_ / "port";
  std::vector<std::string> argv{kPython,       (source_dir() / "tests" / "support" / script).string(),
                                "--port-file", port_file.string(),
                                "--out",       (dir_ / "received.jsonl").string()};
  argv.insert(argv.end(), options.begin(), options.end());
  process_ = std::make_unique<Process>(argv, dir_ / "receiver.log");
  const bool listening =
      wait_until([&] { return std::filesystem::exists(port_file) || !process_->running(); });
  if (!listening || !std::filesystem::exists(port_file)) {
    ADD_FAILURE() << script << " did not start: " << read_file(dir_ / "receiver.log");
    return;
  }
  port_ = std::stoi(read_file(port_file));
}

ScriptReceiver::~ScriptReceiver() = default;

std::vector<boost::json::object> ScriptReceiver::received() const {
  std::vector<boost::json::object> out;
  if (!std::filesystem::exists(dir_ / "received.jsonl")) return out;
  std::istringstream lines(read_file(dir_ / "received.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (!ec && v.is_object()) out.push_back(v.as_object());
  }
  return out;
}

void ScriptReceiver::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait();
}

}  // namespace relais::test
