// A value the running daemon replaces whole (the config, the plugin set):
// readers take a snapshot and keep it as long as they use it; a reload swaps
// in the next one without waiting for them.
#pragma once

#include <memory>
#include <mutex>

namespace relais::daemon {

template <class T>
class Snapshot {
 public:
  explicit Snapshot(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace relais::daemon
