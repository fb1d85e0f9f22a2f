// Test support: temporary state directories, spawning relaisd and relaisctl,
// and waiting for conditions with a deadline instead of sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace relais::test {

// A fresh directory, removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path bin_dir();     // the build tree
std::filesystem::path source_dir();  // the source tree
std::filesystem::path plugin_dir();  // the plugins built with the tree (plugins/*)

// The plugin entries of config/relais.toml: the shipped moderator and
// triager, found in plugin_dir().
inline constexpr const char* kShippedPlugins =
    "[[moderate]]\nplugin = \"moderate_basic\"\n\n[[triage]]\nplugin = \"triage_basic\"\n";
void write_file(const std::filesystem::path& file, const std::string& text);
std::string read_file(const std::filesystem::path& file);

// Polls `condition` until it holds or `timeout` passes; true if it held.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A child process, its output sent to a file.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::filesystem::path& output);
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  // Waits for the exit; returns the exit status, or 128+signal.
  int wait();
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

struct RunResult {
  int status = -1;
  std::string output;  // standard output and error together
};
// Runs a command to completion, standard input from `input`.
RunResult run(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace relais::test
