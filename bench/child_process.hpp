// child_process: a program the benchmarks run beside themselves (relaisd,
// the floor server), its output in a log file. It never outlives the
// benchmark that started it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace relais::bench {

class ChildProcess {
 public:
  // argv[0] is the program's path. Throws std::runtime_error when it cannot fork.
  ChildProcess(const std::vector<std::string>& argv, std::filesystem::path log);
  // Stops it (SIGTERM, then SIGKILL after 5 s) if it still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running();
  // SIGTERM, then SIGKILL after `grace`; true when it exited with status 0.
  bool stop(std::chrono::seconds grace);
  // The exit status, or 128 + the signal that ended it; -1 while it runs.
  int exit_code() const;
  // "exit status 1", "killed by signal 9".
  std::string how_it_ended() const;

  pid_t pid() const { return pid_; }
  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;  // as waitpid(2) gives it
};

}  // namespace relais::bench
