// router/needs: what happens to a need once it is routed. Destinations
// claim, decline and resolve it; a need nobody claims in time escalates to
// the next candidate, then the fallback, then the moderators; an offer is
// matched with the open needs it can meet and joins the volunteer pools of
// its categories and area. All of it runs on one thread, reading on a
// connection of its own and writing through the writer, each change
// conditional on the need's version, so that a claim racing an escalation
// cannot both win.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/live_config.hpp"
#include "router/router.hpp"
#include "storage/store.hpp"

namespace spdlog {
class logger;
}

namespace relais::daemon {

class Writer;

enum class NeedAct : std::uint8_t { claim, decline, resolve };
std::string_view to_string(NeedAct act) noexcept;
std::optional<NeedAct> parse_need_act(std::string_view text) noexcept;

// A destination acting on a need.
struct NeedActRequest {
  std::int64_t post_id = 0;
  NeedAct act = NeedAct::claim;
  std::string destination;  // who acts
  // The destination's token, checked here; empty with `authenticated` when
  // the caller checked who it is another way (a signed link).
  std::string token;
  bool authenticated = false;
  std::string via;   // "http", "zeromq", "link": for the trail
  std::string note;  // optional, for the trail (a decline's reason)
};

// What came of it.
struct NeedActResult {
  std::int64_t post_id = 0;
  std::string state;     // the need's state after the act
  std::string owner;     // the destination now expected to claim it (a decline re-routes)
  bool changed = false;  // false: it was so already
  // The need as the destination may now see it: with the poster's contact
  // once it holds the need.
  std::optional<Post> post;
};

// Error codes of a refused act, for the HTTP status and the protocol's nack.
namespace need_error {
inline constexpr std::string_view not_found = "not_found";
inline constexpr std::string_view forbidden = "forbidden";  // bad token, or not this destination's need
inline constexpr std::string_view conflict = "conflict";    // claimed by another, already resolved
inline constexpr std::string_view unavailable = "unavailable";
}  // namespace need_error

class NeedTracker {
 public:
  using Clock = std::function<Instant()>;
  NeedTracker(const LiveConfig& config, Router& router, Writer& writer, Clock now);
  ~NeedTracker();
  NeedTracker(const NeedTracker&) = delete;
  NeedTracker& operator=(const NeedTracker&) = delete;

  // Opens its read connection and starts its thread; the error says why not.
  Status start(const std::filesystem::path& database);
  void stop();

  // Timers may have changed (a commit gave a need a deadline).
  void wake();
  // Accepted offers to match.
  void match_offers(std::vector<std::int64_t> offers);

  using ActDone = std::function<void(Expected<NeedActResult>)>;
  // Carries out `request` on the tracker's thread; `done` runs there once it
  // is committed or refused.
  void act(NeedActRequest request, ActDone done);
  // A moderator gives a need to a destination by hand (from the unrouted
  // queue, or over the policy's choice).
  void assign(std::int64_t post_id, std::string destination, std::string by, ActDone done);

 private:
  using Job = std::function<void()>;
  void run();
  void post(Job job);
  void escalate_due(const Config& config);
  void escalate(const Config& config, const StoredNeed& need);
  Expected<NeedActResult> do_act(const Config& config, const NeedActRequest& request);
  Expected<NeedActResult> do_assign(const Config& config, std::int64_t post_id,
                                    const std::string& destination, const std::string& by);
  // What matching an offer writes; nothing when it cannot be read.
  std::optional<NeedChange> do_match(const Config& config, std::int64_t offer);
  // Hands the change to the writer and waits for its commit: the next step
  // reads what it wrote.
  Expected<bool> commit(NeedChange change);
  // The need given to the next destination; or to the moderators.
  NeedChange reroute(const Config& config, const StoredNeed& need, const std::set<std::string>& tried,
                     DeliveryPurpose purpose, const std::string& why, const std::string& actor, Instant now);
  std::optional<Post> visible_post(const Config& config, const StoredNeed& need,
                                   const std::string& destination);

  const LiveConfig& config_;
  Router& router_;
  Writer& writer_;
  Clock now_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<Store> store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relais::daemon
