// The running configuration: readers take a snapshot, reload swaps it whole.
#pragma once

#include "config/config.hpp"
#include "snapshot.hpp"

namespace relais::daemon {

class LiveConfig : public Snapshot<Config> {
 public:
  explicit LiveConfig(Config initial) : Snapshot(std::make_shared<const Config>(std::move(initial))) {}
  using Snapshot::set;
  void set(Config next) { Snapshot::set(std::make_shared<const Config>(std::move(next))); }
};

}  // namespace relais::daemon
