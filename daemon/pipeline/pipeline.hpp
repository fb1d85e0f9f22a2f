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
#include <thread>
#include <vector>

#include "config/live_config.hpp"
#include "plugins/host.hpp"
#include "storage/store.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

class Pipeline {
 public:
  using RecordSink = std::function<void(std::vector<StageRecord>)>;

  Pipeline(const LiveConfig& config, const LivePlugins& plugins, RecordSink sink);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void start();
  // Finishes the posts already queued, then stops.
  void stop();
  void enqueue(std::vector<Post> posts);
  std::size_t queued() const;

  // One post through every stage; public so that tools and tests run the
  // real stages without a daemon.
  StageRecord process(const Post& post, const Config& config, const PluginSet& plugins);

 private:
  void run();

  const LiveConfig& config_;
  const LivePlugins& plugins_;
  RecordSink sink_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Post> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relais::daemon
