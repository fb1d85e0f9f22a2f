// pipeline: runs every stored post through moderate -> triage -> route on its
// own thread and hands each outcome to the store writer. A post whose outcome
// is not committed stays `received` and is run again after a restart. The
// moderators and triagers are the plugin instances of the live set, taken
// once per batch, so that a reload never changes them in the middle of one.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/live_config.hpp"
#include "plugins/host.hpp"
#include "router/router.hpp"
#include "storage/store.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

// The wall clock, to the millisecond.
Instant system_now();

// Sums the findings' scores and turns them, the thresholds and the forced
// actions into an action. `failed`: a moderator threw, so accept is not safe.
void settle_verdict(Verdict& verdict, const Config& config, bool failed);

// The moderate stage alone: every moderator on one post, contained, and the
// resulting verdict (state `rejected` when it rejects). Used by the pipeline
// and by the tools that show what moderation would do.
StageRecord moderate_post(const Post& post, const Config& config,
                          const std::vector<PluginInstance<Moderator>>& moderators);

// A person's decision about a held post.
struct Decision {
  Post post;
  Verdict verdict;  // as stored
  std::optional<Triage> triage;
  Action action = Action::accept;  // accept: approve; reject
  std::string by;
  std::string note;  // approve's note, or reject's reason
};

class Pipeline {
 public:
  using RecordSink = std::function<void(std::vector<StageRecord>)>;
  using DecisionDone = std::function<void(Expected<bool>)>;
  // Commits one decision's record if the post is still held; see Writer::decide.
  using DecisionSink = std::function<void(StageRecord, DecisionDone)>;

  using Clock = std::function<Instant()>;

  // `router` keeps the capacity ledger, shared with whatever else routes;
  // `now` is the clock escalation timers start from.
  Pipeline(const LiveConfig& config, const LivePlugins& plugins, RecordSink sink, Router& router,
           Clock now = system_now);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Finishes the posts already queued, then stops.
  void stop();
  void enqueue(std::vector<Post> posts);
  void on_decision(DecisionSink sink) { decision_sink_ = std::move(sink); }
  // Approve: the post goes on through triage and routing; reject: it ends.
  // Either way the learning moderators are taught once it is committed.
  // `done` runs on the writer's thread.
  void decide(Decision decision, DecisionDone done);
  // Labelled examples for the learning moderators; `done` gets the count.
  void learn(std::vector<std::pair<Post, Action>> examples, std::function<void(std::size_t)> done);
  std::size_t queued() const;

  // One post through every stage; public so that tools and tests run the
  // real stages without a daemon.
  StageRecord process(const Post& post, const Config& config, const PluginSet& plugins);

 private:
  using Job = std::function<void(const Config&, const PluginSet&)>;
  void run();
  void after_moderation(const Post& post, const Config& config, const PluginSet& plugins,
                        StageRecord& record);
  void run_decision(Decision& decision, DecisionDone done, const Config& config, const PluginSet& plugins);
  static void teach(const PluginSet& plugins, const Post& post, Action decision);
  // The route stage: a request that moderation let through goes to its
  // destinations, or waits for a person.
  void route(const Post& post, const Triage& triage, const Config& config, StageRecord& record);

  const LiveConfig& config_;
  const LivePlugins& plugins_;
  RecordSink sink_;
  Router& router_;
  Clock now_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Post> queue_;
  std::vector<Job> jobs_;  // decisions and learning, run between batches
  DecisionSink decision_sink_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relais::daemon
