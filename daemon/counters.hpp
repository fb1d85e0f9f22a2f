// Counters shared between the daemon's threads and shown by `relaisctl stats`.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace relais::daemon {

struct Counters {
  // ingest
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> rejected{0};
  std::array<std::atomic<std::uint64_t>, 16> rejected_by_code{};  // by protocol::Code
  std::atomic<std::uint64_t> queries{0};
  // storage writer
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> commit_failures{0};
  // pipeline
  std::atomic<std::uint64_t> processed{0};
  // outbox
  std::atomic<std::uint64_t> deliveries_delivered{0};
  std::atomic<std::uint64_t> deliveries_retried{0};
  std::atomic<std::uint64_t> deliveries_dead{0};
  // configuration
  std::atomic<std::uint64_t> config_generation{1};
  std::atomic<std::uint64_t> reload_failures{0};

  void set_reload_error(std::string message) {
    std::lock_guard lock(mutex_);
    last_reload_error_ = std::move(message);
  }
  std::string reload_error() const {
    std::lock_guard lock(mutex_);
    return last_reload_error_;
  }

 private:
  mutable std::mutex mutex_;
  std::string last_reload_error_;
};

}  // namespace relais::daemon
