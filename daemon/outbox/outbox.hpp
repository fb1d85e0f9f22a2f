// outbox: sends what the outbox table holds through the sink plugins. Rows
// are written in the transaction that routed their need, so a crash at any
// point loses none: they are sent at the next start. Each sink instance has
// a thread of its own (a sink is called from one thread at a time); a
// failed attempt is tried again after an exponential backoff with jitter,
// and after the last attempt the delivery is dead-lettered, for a person to
// redrive. A delivery is marked delivered only once the sink said so: a
// crash in between sends it again, with the same id, which the receiver
// drops.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/live_config.hpp"
#include "counters.hpp"
#include "plugins/host.hpp"
#include "router/hours.hpp"
#include "storage/store.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

class Writer;
class LinkSigner;

// The pause before attempt `attempts + 1`, after `attempts` failed ones:
// retry_min doubled each time up to retry_max, shortened by up to
// retry_jitter of itself (`random` in [0, 1)), and at least what the
// receiver asked for.
std::chrono::milliseconds retry_delay(const Config& config, unsigned attempts, double random,
                                      std::chrono::seconds retry_after);

class Outbox {
 public:
  using Clock = std::function<Instant()>;
  Outbox(const LiveConfig& config, const LivePlugins& plugins, Writer& writer, Counters& counters, Clock now);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Signed links for the messages: `base_url` + LinkSigner::path(). Set
  // before start(); without them, messages carry no links.
  void set_links(const LinkSigner* signer, std::string base_url);
  Status start(const std::filesystem::path& database);
  // Finishes the attempts under way and hands their outcomes to the writer.
  void stop();
  // The outbox has new rows, or a row's time moved.
  void wake();

 private:
  struct Worker;
  struct Job {
    Delivery delivery;
    StoredDelivery row;
  };
  void run();
  void schedule(const Config& config, const PluginSet& plugins);
  void dead_letter_unknown_sinks(const Config& config, const PluginSet& plugins);
  Expected<Delivery> compose(const Config& config, const StoredDelivery& row, Instant now,
                             std::unordered_map<std::int64_t, StoredPost>& posts);
  void attempt(Worker& worker, const Job& job);
  void finish(const StoredDelivery& row, DeliveryResult result);
  void release(std::int64_t id);

  const LiveConfig& config_;
  const LivePlugins& plugins_;
  Writer& writer_;
  Counters& counters_;
  Clock now_;
  std::shared_ptr<spdlog::logger> log_;
  PluginLogger problems_{"outbox"};  // per-delivery warnings, rate-limited
  std::unique_ptr<Store> store_;
  std::string database_id_;
  const LinkSigner* signer_ = nullptr;
  std::string base_url_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::set<std::int64_t> in_flight_;  // handed to a worker, outcome not committed yet
  std::set<std::int64_t> released_;   // outcomes committed since this scheduling pass began
  std::map<const Sink*, std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Worker>> retired_;
  std::thread thread_;
};

}  // namespace relais::daemon
