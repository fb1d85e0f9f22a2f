// load: client threads that submit posts to a server, each with its own
// relais::Client, closed loop (as fast as the window allows) or open loop
// (posts due at fixed times, latency taken from the due time, so that a
// server that falls behind is charged for it: no coordinated omission).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "relais/post.hpp"

namespace relais::bench {

struct LoadOptions {
  std::size_t clients = 4;
  std::size_t window = 256;
  double rate = 0;  // posts/s offered in total; 0: closed loop, as fast as possible
  int ack_timeout_ms = 10000;
  int start_timeout_ms = 30000;
};

// The posts one client sends. Called from that client's thread only.
class PostFeed {
 public:
  virtual ~PostFeed() = default;
  // The post sent before the clock starts, so that the connection is up;
  // the load gives it its external_id.
  virtual Post hello() = 0;
  // The k-th post of the run (k from 0); the load sets its external_id and
  // sends it before asking for the next one.
  virtual Post& next(std::size_t k) = 0;
};
// Client `c`'s feed, made in its thread before the clock starts.
using FeedFactory = std::function<std::unique_ptr<PostFeed>(std::size_t c)>;

// A post acknowledged during the run: the id the store gave it and when it
// was due (open loop) or sent (closed loop).
struct Acked {
  std::int64_t post_id = 0;
  Clock::time_point due;
};

struct LoadResult {
  std::size_t posts = 0;   // acknowledged: stored + duplicates
  Clock::time_point t0;    // the start signal (open loop: the first due time)
  Clock::time_point end;   // the last ack
  double elapsed_s = 0;    // t0 to the last ack
  double posts_per_s = 0;  // acknowledged posts / elapsed_s
  Percentiles latency;     // ack latency: from the due time (open loop), else as sdk
  Percentiles sdk;         // SubmitResult::latency: first send to ack
  std::size_t stored = 0, duplicates = 0, rejected = 0, gave_up = 0, resent = 0;
  double client_cpu_s = 0;  // CPU of this process during the run
  std::vector<Acked> acked;
  std::string error;
};

// Submits `posts` posts over o.clients clients to `endpoint`; every
// external_id starts with `prefix`. `on_start` runs once every client is
// connected, just before the start signal (to read a server's counters).
LoadResult run_load(const LoadOptions& o, const std::string& endpoint, const std::string& prefix,
                    std::size_t posts, const FeedFactory& feeds, const std::function<void()>& on_start = {});

}  // namespace relais::bench
