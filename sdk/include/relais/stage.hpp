// The stage interfaces a post passes after ingest: moderate, then triage.
// Built-in steps and plugins implement the same interfaces.
#pragma once

#include <string_view>
#include <vector>

#include "relais/post.hpp"

namespace relais {

// Adds findings to a post. Must be safe to call from one thread at a time;
// a step that throws is caught at the stage boundary and counted.
class Moderator {
 public:
  virtual ~Moderator() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void moderate(const Post& post, std::vector<Finding>& findings) = 0;
};

// Fills in what it can tell of a post. Steps run in order; each sees the
// triage the previous ones left and may refine it.
class Triager {
 public:
  virtual ~Triager() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void triage(const Post& post, Triage& triage) = 0;
};

}  // namespace relais
