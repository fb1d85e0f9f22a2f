// bench/eval: the real pipeline. Spawns relaisd on a state directory of its
// own, submits the labelled posts through the client library, waits for the
// pipeline to finish them and reads back what it decided.
#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "eval_dataset.hpp"
#include "eval_metrics.hpp"

namespace relais::eval {

struct RunOptions {
  std::filesystem::path relaisd;
  std::filesystem::path config;
  std::filesystem::path plugin_dir;
  std::filesystem::path state_dir;  // empty, or holds only what this run put there
  std::string posts_file;           // for messages about a post: file:line
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds timeout{300000};  // submission and pipeline together
  std::size_t window = 64;
};

// Why the run stopped; `status` is the exit status for it.
class RunError : public std::runtime_error {
 public:
  RunError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// What relaisd decided for each post, in the order of `posts`. Stops relaisd
// (SIGTERM) before returning or throwing. Progress goes to `progress`.
std::vector<Predicted> run_pipeline(const RunOptions& options, const std::vector<LabelledPost>& posts,
                                    std::ostream& progress);

}  // namespace relais::eval
