#include "support/support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace relais::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "relais-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path bin_dir() {
  const char* v = std::getenv("RELAIS_BIN_DIR");
  return v != nullptr ? v : RELAIS_BIN_DIR;
}

std::filesystem::path plugin_dir() {
  const char* v = std::getenv("RELAIS_PLUGIN_DIR");
  return v != nullptr ? std::filesystem::path(v) : bin_dir() / "lib" / "relais" / "plugins";
}

std::filesystem::path source_dir() {
  const char* v = std::getenv("RELAIS_SOURCE_DIR");
  return v != nullptr ? v : RELAIS_SOURCE_DIR;
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    // Backs off between polls; the deadline, not the pause, bounds the wait.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return true;
}

namespace {
std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

Process::Process(const std::vector<std::string>& argv, const std::filesystem::path& output) {
  auto args = c_argv(argv);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test that crashes takes its servers with it, rather than leaving
    // them running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Process::signal(int signo) const { ::kill(pid_, signo); }

int Process::wait() {
  if (status_ >= 0) return status_;
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) status_ = decode(status);
  return status_;
}

bool Process::running() {
  if (status_ >= 0 || pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode(status);
    return false;
  }
  return r == 0;
}

RunResult run(const std::vector<std::string>& argv, const std::string& input) {
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
  auto args = c_argv(argv);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  // Feed the input from a thread so a large output cannot block the child.
  std::thread feeder([&] {
    std::size_t done = 0;
    while (done < input.size()) {
      const auto n = ::write(in_pipe[1], input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(in_pipe[1]);
  });
  RunResult result;
  char buf[4096];
  for (;;) {
    const auto n = ::read(out_pipe[0], buf, sizeof buf);
    if (n <= 0) break;
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out_pipe[0]);
  feeder.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = decode(status);
  return result;
}

}  // namespace relais::test
