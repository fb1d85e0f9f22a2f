// The default steps of the moderate and triage stages, built into relaisd.
#pragma once

#include <memory>

#include "relais/stage.hpp"

namespace relais::daemon {

// Scores link-stuffed and shouted posts, the marks of bulk spam.
std::unique_ptr<Moderator> make_basic_moderator();

// Takes kind, category, urgency, area and language from structured form
// fields, then guesses what the fields left open from the text.
std::unique_ptr<Triager> make_basic_triager();

}  // namespace relais::daemon
