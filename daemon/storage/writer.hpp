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
#include <span>
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
  // Returns once everything queued before the call is committed.
  void flush();

  // Told, on the writer thread, of what a commit made due: keep it short.
  struct Listener {
    std::function<void()> deliveries_added;                          // the outbox has new rows
    std::function<void()> needs_changed;                             // a need's timer may have moved
    std::function<void(std::vector<std::int64_t>)> offers_accepted;  // offers to match
  };
  void listen(Listener listener) { listener_ = std::move(listener); }

  void submit(std::vector<Submission> submissions);
  void record(std::vector<StageRecord> records);
  // A person's decision (Store::decide), in a transaction of its own;
  // `done` runs on the writer thread once it is committed or refused.
  using DecisionDone = std::function<void(Expected<bool>)>;
  void decide(StageRecord record, std::string expected_state, DecisionDone done);
  // A change to a need (Store::change_need), in a transaction of its own.
  void change_need(NeedChange change, DecisionDone done);
  // Unconditional changes (an offer's matches), together in one transaction;
  // `done` gets whether they were committed.
  void change_needs(std::vector<NeedChange> changes, std::function<void(bool)> done);
  // Outcomes of delivery attempts, committed together with whatever else is
  // queued; `done` runs once they are (false: they could not be).
  void record_deliveries(std::vector<DeliveryOutcome> outcomes, std::function<void(bool)> done);
  // A dead-lettered delivery sent again (Store::redrive).
  void redrive(std::int64_t id, std::int64_t now, PostEvent event, DecisionDone done);
  // Submissions taken but not yet answered.
  std::size_t pending_submissions() const noexcept { return pending_.load(); }

 private:
  void run();
  // Tells the listener what committed records made due.
  void committed(std::span<const StageRecord> records);

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
  // Decisions, need changes and redrives: one transaction each, in order.
  using Job = std::function<void(Store&)>;
  std::deque<Job> jobs_;
  struct PendingOutcomes {
    std::vector<DeliveryOutcome> outcomes;
    std::function<void(bool)> done;
  };
  std::vector<PendingOutcomes> outcomes_;
  Listener listener_;
  std::atomic<std::size_t> pending_{0};
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relais::daemon
