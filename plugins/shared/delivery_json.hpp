// delivery_json: the JSON document a delivery becomes for the sinks that
// hand it to a program (a webhook, a ZeroMQ subscriber). One rendering, so
// that a receiver written for one sink reads the other's messages too. The
// format is documented field by field in plugins/sink_webhook/README.md.
#pragma once

#include <string>

#include "relais/sink.hpp"

namespace relais::delivery_json {

// Bumped when a field changes meaning or goes away; new fields may appear
// without a bump, so a receiver ignores what it does not know.
inline constexpr int kVersion = 1;

// The delivery as one line of JSON (no trailing newline). Only what the
// delivery carries: the post is already reduced to what its destination
// may see, and nothing is added to it.
std::string render(const Delivery& delivery);

}  // namespace relais::delivery_json
