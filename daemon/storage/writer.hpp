// The single writer: every write to the store goes through this thread, in
// transactions that gather whatever has queued up meanwhile (group commit).
// A submission is acknowledged only after the transaction holding it has
// committed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/live_config.hpp"
#include "counters.hpp"
#include "storage/store.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

// Who to answer: the ZeroMQ peer, and whether it framed its request
// REQ-style with an empty delimiter (then its reply needs one too).
struct Peer {
  std::string identity;
  bool delimited = false;
};

struct Submission {
  Peer peer;
  std::uint64_t seq = 0;
  Post post;
};

struct Reply {
  Peer peer;
  std::string frame;
};

class Writer {
 public:
  using ReplySink = std::function<void(std::vector<Reply>)>;  // runs on the writer thread
  using StoredSink = std::function<void(std::vector<Post>)>;  // newly stored posts

  Writer(Store& store, const LiveConfig& config, Counters& counters, ReplySink replies, StoredSink stored);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start();
  // Commits everything queued, then stops.
  void stop();

  void submit(std::vector<Submission> submissions);
  void record(std::vector<StageRecord> records);
  // A person's decision (Store::decide), in a transaction of its own;
  // `done` runs on the writer thread once it is committed or refused.
  using DecisionDone = std::function<void(Expected<bool>)>;
  void decide(StageRecord record, std::string expected_state, DecisionDone done);
  // Submissions taken but not yet answered.
  std::size_t pending_submissions() const noexcept { return pending_.load(); }

 private:
  void run();

  Store& store_;
  const LiveConfig& config_;
  Counters& counters_;
  ReplySink replies_;
  StoredSink stored_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Submission> submissions_;
  std::vector<StageRecord> records_;
  struct PendingDecision {
    StageRecord record;
    std::string expected_state;
    DecisionDone done;
  };
  std::deque<PendingDecision> decisions_;
  std::atomic<std::size_t> pending_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relais::daemon
