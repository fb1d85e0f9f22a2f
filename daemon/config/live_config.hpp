// The running configuration: readers take a snapshot, reload swaps it whole.
#pragma once

#include <memory>
#include <mutex>

#include "config/config.hpp"

namespace relais::daemon {

class LiveConfig {
 public:
  explicit LiveConfig(Config initial) : current_(std::make_shared<const Config>(std::move(initial))) {}
  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(Config next) {
    auto ptr = std::make_shared<const Config>(std::move(next));
    std::lock_guard lock(mutex_);
    current_ = std::move(ptr);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Config> current_;
};

}  // namespace relais::daemon
