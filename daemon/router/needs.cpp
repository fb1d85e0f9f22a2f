#include "router/needs.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <future>

#include "log.hpp"
#include "privacy.hpp"
#include "protocol.hpp"
#include "router/dispatch.hpp"
#include "storage/writer.hpp"

namespace relais::daemon {
namespace json = boost::json;
namespace {

constexpr std::size_t kDueBatch = 100;
constexpr std::size_t kMaxOfferMatches = 5;
// How long the thread sleeps when no timer is due sooner: a timer is also
// found by a wake-up, this only bounds a missed one.
constexpr std::chrono::seconds kIdleWait{30};
constexpr std::chrono::seconds kCommitTimeout{30};
// A change refused because the need moved meanwhile is read and tried again.
constexpr int kChangeAttempts = 3;

Error refused(std::string_view code, std::string message) {
  return Error{std::string(code), std::move(message), "id"};
}

bool same_token(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

const AssignmentRecord* assignment_of(const StoredNeed& need, std::string_view destination) {
  for (const auto& a : need.assignments) {
    if (a.destination == destination) return &a;
  }
  return nullptr;
}

json::value parsed(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

std::string minutes_text(std::chrono::milliseconds d) {
  const auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  constexpr std::int64_t kDay = std::int64_t{60} * 24;
  if (m % kDay == 0) return std::to_string(m / kDay) + " d";
  if (m % 60 == 0) return std::to_string(m / 60) + " h";
  return std::to_string(m) + " min";
}

}  // namespace

std::string_view to_string(NeedAct act) noexcept {
  switch (act) {
    case NeedAct::claim:
      return "claim";
    case NeedAct::decline:
      return "decline";
    case NeedAct::resolve:
      return "resolve";
  }
  return "?";
}

std::optional<NeedAct> parse_need_act(std::string_view text) noexcept {
  for (auto a : {NeedAct::claim, NeedAct::decline, NeedAct::resolve}) {
    if (to_string(a) == text) return a;
  }
  return std::nullopt;
}

NeedTracker::NeedTracker(const LiveConfig& config, Router& router, Writer& writer, Clock now)
    : config_(config),
      router_(router),
      writer_(writer),
      now_(std::move(now)),
      log_(component_logger("needs")) {}

NeedTracker::~NeedTracker() { stop(); }

Status NeedTracker::start(const std::filesystem::path& database) {
  auto store = open_sqlite_store(database, {.read_only = true});
  if (!store) return store.error();
  store_ = std::move(*store);
  if (sodium_init() < 0) return Error{"start", "libsodium could not be initialised", ""};
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    name_this_thread("needs");
    run();
  });
  return Done{};
}

void NeedTracker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NeedTracker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void NeedTracker::post(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void NeedTracker::match_offers(std::vector<std::int64_t> offers) {
  post([this, offers = std::move(offers)] {
    const auto config = config_.get();
    // What the offers of one commit bring is committed together: each
    // change only adds (events, deliveries), none depends on another.
    std::vector<NeedChange> changes;
    for (const auto id : offers) {
      if (auto change = do_match(*config, id)) changes.push_back(std::move(*change));
    }
    if (changes.empty()) return;
    auto promise = std::make_shared<std::promise<bool>>();
    auto future = promise->get_future();
    const auto count = changes.size();
    writer_.change_needs(std::move(changes), [promise](bool ok) { promise->set_value(ok); });
    if (future.wait_for(kCommitTimeout) != std::future_status::ready || !future.get()) {
      log_->error("offer_match_failed offers={} error=\"the matches were not committed\"", count);
    }
  });
}

void NeedTracker::act(NeedActRequest request, ActDone done) {
  post([this, request = std::move(request), done = std::move(done)] {
    const auto config = config_.get();
    done(do_act(*config, request));
  });
}

void NeedTracker::assign(std::int64_t post_id, std::string destination, std::string by, ActDone done) {
  post([this, post_id, destination = std::move(destination), by = std::move(by), done = std::move(done)] {
    const auto config = config_.get();
    done(do_assign(*config, post_id, destination, by));
  });
}

void NeedTracker::run() {
  for (;;) {
    std::deque<Job> jobs;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      auto wait = std::chrono::milliseconds(kIdleWait);
      auto next = store_->next_need_deadline();
      if (next && *next) {
        const auto until = from_millis(**next) - now_();
        wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                          std::chrono::milliseconds(0), std::chrono::milliseconds(kIdleWait));
      }
      wake_.wait_for(lock, wait, [&] { return stopping_ || woken_ || !jobs_.empty(); });
      woken_ = false;
      jobs.swap(jobs_);
      stopping = stopping_;
    }
    // Jobs queued before a stop are carried out (offers committed just
    // before it are still matched); timers wait for the next start.
    for (auto& job : jobs) job();
    if (stopping) return;
    escalate_due(*config_.get());
  }
}

Expected<bool> NeedTracker::commit(NeedChange change) {
  auto promise = std::make_shared<std::promise<Expected<bool>>>();
  auto future = promise->get_future();
  writer_.change_need(std::move(change), [promise](Expected<bool> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kCommitTimeout) != std::future_status::ready) {
    return Error{std::string(need_error::unavailable), "the change was not committed within 30 s", ""};
  }
  return future.get();
}

void NeedTracker::escalate_due(const Config& config) {
  auto due = store_->due_needs(to_millis(now_()), kDueBatch);
  if (!due) {
    log_->error("escalation_failed error=\"{}\"", due.error().message);
    return;
  }
  for (const auto& need : *due) escalate(config, need);
}

NeedChange NeedTracker::reroute(const Config& config, const StoredNeed& need,
                                const std::set<std::string>& tried, DeliveryPurpose purpose,
                                const std::string& why, const std::string& actor, Instant now) {
  NeedChange change;
  change.post_id = need.post_id;
  change.expected_version = need.need.version;
  const RoutingPolicy policy{*config.network, config.urgent_copy};
  const auto decision = router_.next(policy, need.triage, now, tried);
  json::object detail{{"from", need.need.owner}, {"why", why}};
  detail["decision"] = parsed(decision_detail(decision, *config.network, now));
  const std::string type = purpose == DeliveryPurpose::reroute ? "rerouted" : "escalated";
  std::string to;
  if (!decision.destinations.empty()) {
    to = decision.destinations.front();
    const auto day = decision.days.find(to);
    change.assignments.push_back({to, purpose == DeliveryPurpose::reroute ? "reroute" : "escalation",
                                  day != decision.days.end() ? day->second : std::string(), "active"});
    change.deliveries = deliveries_to(config, to, need.post_id, purpose, why + "; " + decision.reason);
  } else if (const auto* fallback = config.network->fallback();
             fallback != nullptr && fallback->id != need.need.owner) {
    // The fallback had the urgent copy: nobody else can take the need, so
    // it is now the fallback's to claim.
    const auto* a = assignment_of(need, fallback->id);
    if (a != nullptr && a->state == "active") {
      to = fallback->id;
      change.deliveries = deliveries_to(config, to, need.post_id, purpose, why + "; the fallback had a copy");
    }
  }
  if (!to.empty()) {
    const auto* destination = config.network->find(to);
    change.state = std::string(state::routed);
    change.need = NeedRecord{to, "", claim_deadline(config, *destination, need.triage.urgency, now), 0};
    detail["to"] = to;
    change.events.push_back({need.post_id, {type, actor, json::serialize(detail)}});
    log_->info("{} post={} from={} to={}", type, need.post_id, need.need.owner, to);
    return change;
  }
  // Nobody left: the moderators.
  change.state = std::string(state::unrouted);
  change.need = NeedRecord{"", "", std::nullopt, 0};
  change.deliveries = deliveries_to(config, kModerators, need.post_id, DeliveryPurpose::unrouted,
                                    why + "; no destination left");
  detail["to"] = std::string(kModerators);
  change.events.push_back({need.post_id, {type, actor, json::serialize(detail)}});
  log_->warn("unrouted post={} from={} reason=\"{}\" moderators_told={}", need.post_id, need.need.owner, why,
             !change.deliveries.empty());
  return change;
}

void NeedTracker::escalate(const Config& config, const StoredNeed& due) {
  StoredNeed need = due;
  for (int attempt = 0; attempt < kChangeAttempts; ++attempt) {
    const Instant now = now_();
    std::set<std::string> tried;
    for (const auto& a : need.assignments) tried.insert(a.destination);
    const std::string why = "not claimed by " + need.need.owner + " within " +
                            minutes_text(config.timeout_for(need.triage.urgency)) +
                            (need.triage.urgency == Urgency::critical ? "" : " of its opening hours");
    auto committed =
        commit(reroute(config, need, tried, DeliveryPurpose::escalation, why, "escalation", now));
    if (!committed) {
      log_->error("escalation_failed post={} error=\"{}\"", need.post_id, committed.error().message);
      return;
    }
    if (*committed) return;
    // Claimed or changed meanwhile: read it again; escalate only if still due.
    auto again = store_->get_need(need.post_id);
    if (!again || !*again || (*again)->state != state::routed || !(*again)->need.deadline ||
        *(*again)->need.deadline > to_millis(now_())) {
      return;
    }
    need = std::move(**again);
  }
}

std::optional<Post> NeedTracker::visible_post(const Config& config, const StoredNeed& need,
                                              const std::string& destination) {
  auto stored = store_->get_post(need.post_id, false);
  if (!stored || !*stored) return std::nullopt;
  const auto* d = config.network->find(destination);
  const bool holds = need.need.claimed_by == destination;
  if (d != nullptr && d->personal_data == PersonalData::on_claim && !holds) return public_view(**stored);
  return (*stored)->post;
}

Expected<NeedActResult> NeedTracker::do_act(const Config& config, const NeedActRequest& request) {
  const auto* destination = config.network->find(request.destination);
  // The same answer for an unknown destination and a wrong token: a caller
  // learns nothing about which destinations exist.
  if (destination == nullptr || (!request.authenticated && !same_token(request.token, destination->token))) {
    return refused(need_error::forbidden, "unknown destination or wrong token");
  }
  for (int attempt = 0; attempt < kChangeAttempts; ++attempt) {
    auto found = store_->get_need(request.post_id);
    if (!found) return refused(need_error::unavailable, found.error().message);
    if (!*found) return refused(need_error::not_found, "no need with id " + std::to_string(request.post_id));
    const StoredNeed& need = **found;
    const auto* mine = assignment_of(need, destination->id);
    if (mine == nullptr) {
      return refused(need_error::forbidden,
                     "need " + std::to_string(need.post_id) + " was not given to " + destination->id);
    }
    NeedActResult result;
    result.post_id = need.post_id;
    result.state = need.state;
    result.owner = need.need.owner;
    const Instant now = now_();
    NeedChange change;
    change.post_id = need.post_id;
    change.expected_version = need.need.version;
    json::object detail{{"destination", destination->id}, {"via", request.via}};
    if (!request.note.empty()) detail["note"] = request.note;
    const std::string actor = "destination:" + destination->id;
    const bool claimed_by_other = !need.need.claimed_by.empty() && need.need.claimed_by != destination->id;

    switch (request.act) {
      case NeedAct::claim: {
        if (need.state == state::resolved)
          return refused(need_error::conflict, "the need is already resolved");
        if (mine->state != "active")
          return refused(need_error::conflict, destination->id + " declined this need");
        if (claimed_by_other)
          return refused(need_error::conflict, "the need is already claimed by another destination");
        if (need.need.claimed_by == destination->id) {
          result.post = visible_post(config, need, destination->id);
          return result;  // claimed already: nothing to change
        }
        change.state = std::string(state::claimed);
        change.need = NeedRecord{destination->id, destination->id, std::nullopt, 0};
        change.events.push_back({need.post_id, {"claimed", actor, json::serialize(detail)}});
        result.state = std::string(state::claimed);
        result.owner = destination->id;
        break;
      }
      case NeedAct::resolve: {
        if (need.state == state::resolved) return result;
        if (claimed_by_other)
          return refused(need_error::conflict, "the need is claimed by another destination");
        change.state = std::string(state::resolved);
        change.need = NeedRecord{destination->id, destination->id, std::nullopt, 0};
        change.events.push_back({need.post_id, {"resolved", actor, json::serialize(detail)}});
        result.state = std::string(state::resolved);
        result.owner = destination->id;
        break;
      }
      case NeedAct::decline: {
        if (need.state == state::resolved)
          return refused(need_error::conflict, "the need is already resolved");
        if (mine->state != "active") return result;  // declined already
        change.assignments.push_back({destination->id, "", "", "declined"});
        const bool holds = need.need.owner == destination->id || need.need.claimed_by == destination->id;
        if (!holds || claimed_by_other) {
          // A copy declined, or a need someone else has: noted, nothing moves.
          change.events.push_back({need.post_id, {"declined", actor, json::serialize(detail)}});
        } else {
          std::set<std::string> tried;
          for (const auto& a : need.assignments) tried.insert(a.destination);
          StoredNeed released = need;
          released.need.owner = destination->id;
          auto next = reroute(config, released, tried, DeliveryPurpose::reroute,
                              "declined by " + destination->id, actor, now);
          change.state = next.state;
          change.need = next.need;
          change.assignments.insert(change.assignments.end(), next.assignments.begin(),
                                    next.assignments.end());
          change.deliveries = std::move(next.deliveries);
          change.events.push_back({need.post_id, {"declined", actor, json::serialize(detail)}});
          change.events.insert(change.events.end(), next.events.begin(), next.events.end());
          result.state = next.state;
          result.owner = next.need ? next.need->owner : std::string();
        }
        break;
      }
    }
    auto committed = commit(std::move(change));
    if (!committed) return refused(need_error::unavailable, committed.error().message);
    if (!*committed) continue;  // changed meanwhile: read it again
    result.changed = true;
    log_->info("need_{} post={} destination={} via={}", to_string(request.act), need.post_id, destination->id,
               request.via);
    if (request.act == NeedAct::claim) {
      StoredNeed claimed = need;
      claimed.need.claimed_by = destination->id;
      result.post = visible_post(config, claimed, destination->id);
    }
    return result;
  }
  return refused(need_error::conflict, "the need kept changing; try again");
}

Expected<NeedActResult> NeedTracker::do_assign(const Config& config, std::int64_t post_id,
                                               const std::string& destination_id, const std::string& by) {
  const auto* destination = config.network->find(destination_id);
  if (destination == nullptr) {
    return Error{"invalid_value", "no destination \"" + destination_id + "\" in the network", "destination"};
  }
  for (int attempt = 0; attempt < kChangeAttempts; ++attempt) {
    auto found = store_->get_need(post_id);
    if (!found) return refused(need_error::unavailable, found.error().message);
    if (!*found) return refused(need_error::not_found, "no need with id " + std::to_string(post_id));
    const StoredNeed& need = **found;
    if (need.state == state::resolved) return refused(need_error::conflict, "the need is already resolved");
    const Instant now = now_();
    NeedChange change;
    change.post_id = post_id;
    change.expected_version = need.need.version;
    change.state = std::string(state::routed);
    change.need =
        NeedRecord{destination->id, "", claim_deadline(config, *destination, need.triage.urgency, now), 0};
    const std::string why = "assigned by moderator " + by;
    change.assignments.push_back({destination->id, "manual", router_.take(*destination, now), "active"});
    change.deliveries = deliveries_to(config, destination->id, post_id, DeliveryPurpose::need, why);
    change.events.push_back(
        {post_id,
         {"assigned", "moderator:" + by,
          json::serialize(json::object{{"destination", destination->id}, {"was", need.state}})}});
    auto committed = commit(std::move(change));
    if (!committed) return refused(need_error::unavailable, committed.error().message);
    if (!*committed) continue;
    log_->info("need_assigned post={} destination={} by={}", post_id, destination->id, by);
    return NeedActResult{post_id, std::string(state::routed), destination->id, true, std::nullopt};
  }
  return refused(need_error::conflict, "the need kept changing; try again");
}

std::optional<NeedChange> NeedTracker::do_match(const Config& config, std::int64_t offer_id) {
  auto stored = store_->get_post(offer_id, false);
  if (!stored || !*stored || !(*stored)->triage) return std::nullopt;
  const Triage& triage = *(*stored)->triage;
  const Instant now = now_();
  const std::string since = protocol::rfc3339_utc(
      std::chrono::system_clock::time_point(now.time_since_epoch() - config.offer_window));
  NeedChange change;
  change.post_id = offer_id;
  std::vector<std::int64_t> needs;
  if (!triage.area.empty()) {
    for (const auto& category : triage.categories) {
      auto matching = store_->open_needs_matching(category, triage.area, since, kMaxOfferMatches);
      if (!matching) {
        log_->error("offer_match_failed post={} error=\"{}\"", offer_id, matching.error().message);
        return std::nullopt;
      }
      for (const auto id : *matching) {
        if (needs.size() < kMaxOfferMatches && std::find(needs.begin(), needs.end(), id) == needs.end()) {
          needs.push_back(id);
        }
      }
    }
  }
  json::array matched;
  for (const auto id : needs) {
    auto need = store_->get_need(id);
    if (!need || !*need) continue;
    const std::string& holder =
        (*need)->need.claimed_by.empty() ? (*need)->need.owner : (*need)->need.claimed_by;
    if (holder.empty()) continue;
    const std::string why = "a volunteer's offer matches need " + std::to_string(id);
    for (auto& d : deliveries_to(config, holder, offer_id, DeliveryPurpose::offer, why, id)) {
      change.deliveries.push_back(std::move(d));
    }
    change.events.push_back(
        {id,
         {"offer_available", "match", json::serialize(json::object{{"offer", offer_id}, {"to", holder}})}});
    matched.push_back(json::object{{"need", id}, {"destination", holder}});
  }
  json::array joined;
  for (const auto& pool : pools_for_offer(*config.network, triage)) {
    for (auto& d :
         deliveries_to(config, pool, offer_id, DeliveryPurpose::offer, "a volunteer joins the pool")) {
      change.deliveries.push_back(std::move(d));
    }
    joined.emplace_back(pool);
  }
  const bool any = !matched.empty() || !joined.empty();
  json::object detail{{"needs", std::move(matched)}, {"pools", std::move(joined)}};
  if (!any) {
    detail["reason"] = triage.area.empty()
                           ? "the offer's area is unknown"
                           : "no open need and no volunteer pool for its categories in " + triage.area;
  }
  change.events.push_back(
      {offer_id, {any ? "offer_matched" : "offer_unmatched", "match", json::serialize(detail)}});
  return change;
}

}  // namespace relais::daemon
