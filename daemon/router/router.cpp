#include "router/router.hpp"

namespace relais::daemon {

RouteDecision route(const Post& /*post*/, const Triage& /*triage*/, const Config& config) {
  if (config.fallback.empty()) {
    return {{}, "no destination matches and routing.fallback is not set"};
  }
  return {{config.fallback}, "no destination matches; sent to the fallback"};
}

}  // namespace relais::daemon
