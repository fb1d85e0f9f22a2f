// The stage interfaces a post passes after ingest: moderate, then triage.
// A moderator or triager plugin implements one of them (see plugin.hpp).
#pragma once

#include <vector>

#include "relais/post.hpp"

namespace relais {

// Adds findings to a post: a symbol and a score each, optionally a forced
// action or redactions. The scores of all moderators add up, and the
// daemon's thresholds turn the sum into accept, hold or reject.
//
// Called for one post at a time, from one thread. An instance that throws
// is caught at the stage boundary: its findings for that post are dropped,
// the post is held for a person, and the error is counted and logged.
class Moderator {
 public:
  virtual ~Moderator() = default;
  virtual void moderate(const Post& post, std::vector<Finding>& findings) = 0;

  // What a person decided about a post: accept (a held post approved) or
  // reject; also the labelled examples of `relaisctl learn`. A learning
  // moderator updates what it knows; the others ignore it. Called from the
  // same thread as moderate(), never at the same time.
  virtual void learn(const Post& /*post*/, Action /*decision*/) {}
};

// Fills in what it can tell of a post: kind, categories, urgency, area,
// language. Triagers run in configuration order; each sees what the previous
// ones left and may refine it. Called as a Moderator is, and contained the
// same way.
class Triager {
 public:
  virtual ~Triager() = default;
  virtual void triage(const Post& post, Triage& triage) = 0;
};

}  // namespace relais
