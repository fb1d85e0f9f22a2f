#include "pipeline/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include <boost/json.hpp>

#include "clock.hpp"
#include "log.hpp"
#include "router/dispatch.hpp"

namespace relais::daemon {
namespace json = boost::json;

Instant system_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

Pipeline::Pipeline(const LiveConfig& config, const LivePlugins& plugins, RecordSink sink, Router& router,
                   Clock now)
    : config_(config),
      plugins_(plugins),
      sink_(std::move(sink)),
      router_(router),
      now_(std::move(now)),
      log_(component_logger("pipeline")) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    name_this_thread("pipeline");
    run();
  });
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Pipeline::decide(Decision decision, DecisionDone done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, d = std::move(decision), done = std::move(done)](
                        const Config& config, const PluginSet& plugins) mutable {
      run_decision(d, std::move(done), config, plugins);
    });
  }
  wake_.notify_one();
}

void Pipeline::learn(std::vector<std::pair<Post, Action>> examples, std::function<void(std::size_t)> done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, examples = std::move(examples), done = std::move(done)](const Config&,
                                                                                   const PluginSet& plugins) {
      for (const auto& [post, label] : examples) teach(plugins, post, label);
      done(examples.size());
    });
  }
  wake_.notify_one();
}

void Pipeline::teach(const PluginSet& plugins, const Post& post, Action decision) {
  for (const auto& step : plugins.moderators) {
    try {
      step.object->learn(post, decision);
    } catch (const std::exception& e) {
      step.counters->errors.fetch_add(1, std::memory_order_relaxed);
      if (step.log)
        step.log->log(LogLevel::error, fmt::format("learn_failed post={} error=\"{}\"", post.id, e.what()));
    } catch (...) {
      step.counters->errors.fetch_add(1, std::memory_order_relaxed);
      if (step.log)
        step.log->log(LogLevel::error, fmt::format("learn_failed post={} error=unknown", post.id));
    }
  }
}

void Pipeline::run_decision(Decision& d, DecisionDone done, const Config& config, const PluginSet& plugins) {
  StageRecord record;
  record.post_id = d.post.id;
  record.verdict.score = d.verdict.score;
  const std::string actor = "moderator:" + d.by;
  if (d.action == Action::accept) {
    record.events.push_back(
        {"approved", actor, json::serialize(json::object{{"note", d.note}, {"was", "held"}})});
    // On through the stages after moderation, as if moderation had let it by.
    record.verdict.action = Action::accept;
    after_moderation(d.post, config, plugins, record);
  } else {
    record.events.push_back(
        {"rejected", actor, json::serialize(json::object{{"reason", d.note}, {"was", "held"}})});
    record.verdict.action = Action::reject;
    record.state = state::rejected;
    record.triage = d.triage;
  }
  // The learning moderators hear of it once the decision is committed: a
  // refused decision (someone decided first) teaches nothing.
  decision_sink_(std::move(record), [this, post = std::move(d.post), action = d.action,
                                     done = std::move(done)](Expected<bool> committed) mutable {
    if (committed && *committed) {
      std::lock_guard lock(mutex_);
      jobs_.push_back([post = std::move(post), action](const Config&, const PluginSet& live) {
        teach(live, post, action);
      });
      wake_.notify_one();
    }
    done(std::move(committed));
  });
}

void Pipeline::enqueue(std::vector<Post> posts) {
  {
    std::lock_guard lock(mutex_);
    for (auto& p : posts) queue_.push_back(std::move(p));
  }
  wake_.notify_one();
}

std::size_t Pipeline::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Pipeline::run() {
  constexpr std::size_t kChunk = 256;
  for (;;) {
    std::vector<Post> batch;
    std::vector<Job> jobs;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !jobs_.empty(); });
      if (queue_.empty() && jobs_.empty()) return;  // stopping, and nothing left
      jobs.swap(jobs_);
      while (!queue_.empty() && batch.size() < kChunk) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const auto config = config_.get();
    const auto plugins = plugins_.get();
    for (auto& job : jobs) job(*config, *plugins);
    jobs.clear();
    if (batch.empty()) continue;
    std::vector<StageRecord> records;
    records.reserve(batch.size());
    for (const auto& post : batch) records.push_back(process(post, *config, *plugins));
    sink_(std::move(records));
  }
}

namespace {

json::object findings_detail(const Verdict& verdict, const std::vector<std::string>& stages,
                             const json::storage_ptr& sp) {
  json::object detail(sp);
  detail["action"] = to_string(verdict.action);
  detail["score"] = verdict.score;
  json::array findings(sp);
  for (std::size_t i = 0; i < verdict.findings.size(); ++i) {
    const auto& f = verdict.findings[i];
    json::object o(sp);
    o["stage"] = stages[i];
    o["symbol"] = f.symbol;
    o["score"] = f.score;
    if (f.forced) o["forced"] = to_string(*f.forced);
    if (f.related_post > 0) o["related_post"] = f.related_post;
    findings.push_back(std::move(o));
  }
  detail["findings"] = std::move(findings);
  return detail;
}

// Runs one instance on one post: times it, counts it, and turns whatever it
// throws into an error message. Returns the message, or nothing.
template <class Interface, class Call>
std::optional<std::string> run_contained(const PluginInstance<Interface>& instance, Call&& call) {
  auto& counters = *instance.counters;
  const auto start = std::chrono::steady_clock::now();
  std::optional<std::string> error;
  try {
    call(*instance.object);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  const auto spent = std::chrono::steady_clock::now() - start;
  counters.posts.fetch_add(1, std::memory_order_relaxed);
  counters.nanoseconds.fetch_add(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(spent).count()),
      std::memory_order_relaxed);
  if (error) counters.errors.fetch_add(1, std::memory_order_relaxed);
  return error;
}

// The event of a contained failure, and a line in the instance's own log,
// which rate-limits a failure that repeats on every post.
template <class Interface>
PostEvent stage_error(const PluginInstance<Interface>& instance, const Post& post, const std::string& error) {
  if (instance.log) {
    instance.log->log(LogLevel::error,
                      fmt::format("stage_error post={} error=\"{}\" action=hold", post.id, error));
  }
  return {"stage_error", instance.instance,
          json::serialize(json::object{{"plugin", instance.plugin}, {"error", error}})};
}

}  // namespace

void settle_verdict(Verdict& verdict, const Config& config, bool failed) {
  verdict.score = 0.0;
  std::optional<Action> forced;
  for (const auto& f : verdict.findings) {
    verdict.score += f.score;
    if (f.forced && (!forced || *f.forced > *forced)) forced = f.forced;
  }
  Action by_score = Action::accept;
  if (verdict.score >= config.reject_score)
    by_score = Action::reject;
  else if (verdict.score >= config.hold_score)
    by_score = Action::hold;
  // A forced hold or reject raises the action above what the score says; a
  // forced accept (an allow-list) overrides the score unless another
  // finding forces more.
  if (!forced)
    verdict.action = by_score;
  else if (*forced == Action::accept)
    verdict.action = Action::accept;
  else
    verdict.action = std::max(*forced, by_score);
  if (failed && verdict.action == Action::accept) verdict.action = Action::hold;
}

StageRecord moderate_post(const Post& post, const Config& config,
                          const std::vector<PluginInstance<Moderator>>& moderators) {
  StageRecord record;
  record.post_id = post.id;
  auto& verdict = record.verdict;
  // Moderate. A step that throws holds the post for a person: losing it or
  // letting it through unchecked would both be worse.
  bool failed = false;
  for (const auto& step : moderators) {
    const std::size_t before = verdict.findings.size();
    const auto error = run_contained(step, [&](Moderator& m) { m.moderate(post, verdict.findings); });
    if (error) {
      // What a failed instance added is not trusted; the others still run,
      // so that a person reviewing the post sees what they found.
      verdict.findings.resize(before);
      failed = true;
      record.events.push_back(stage_error(step, post, *error));
      continue;
    }
    step.counters->findings.fetch_add(verdict.findings.size() - before, std::memory_order_relaxed);
    record.finding_stages.resize(verdict.findings.size(), step.instance);
  }
  settle_verdict(verdict, config, failed);
  alignas(std::max_align_t) unsigned char arena_buffer[4096];
  json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  record.events.push_back(
      {"moderated", "moderate", json::serialize(findings_detail(verdict, record.finding_stages, &arena))});
  if (verdict.action == Action::reject) record.state = state::rejected;
  return record;
}

StageRecord Pipeline::process(const Post& post, const Config& config, const PluginSet& plugins) {
  StageRecord record = moderate_post(post, config, plugins.moderators);
  if (record.verdict.action == Action::reject) return record;
  after_moderation(post, config, plugins, record);
  return record;
}

void Pipeline::after_moderation(const Post& post, const Config& config, const PluginSet& plugins,
                                StageRecord& record) {
  // The event details are built and serialised here, then dropped: an arena
  // on the stack spares the allocator.
  alignas(std::max_align_t) unsigned char arena_buffer[4096];
  json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  const json::storage_ptr sp(&arena);
  auto& verdict = record.verdict;

  // Triage runs for held posts too: a moderator sees what the need is.
  Triage triage;
  for (const auto& step : plugins.triagers) {
    const auto error = run_contained(step, [&](Triager& t) { t.triage(post, triage); });
    if (error) {
      record.events.push_back(stage_error(step, post, *error));
      if (verdict.action == Action::accept) verdict.action = Action::hold;
    }
  }
  json::object t(sp);
  t["kind"] = to_string(triage.kind);
  json::array cats(sp);
  for (const auto& c : triage.categories) cats.emplace_back(c);
  t["categories"] = std::move(cats);
  t["urgency"] = to_string(triage.urgency);
  t["area"] = triage.area;
  t["lang"] = triage.lang;
  record.events.push_back({"triaged", "triage", json::serialize(t)});
  record.triage = triage;

  if (verdict.action == Action::hold) {
    record.state = state::held;
    return;
  }

  if (triage.kind != Kind::request) {
    record.state = state::accepted;
    const std::string reason =
        triage.kind == Kind::offer
            ? "offers are not routed: they are matched with open requests"
            : "only requests are routed; this post's kind is " + std::string(to_string(triage.kind));
    record.events.push_back({"not_routed", "route", json::serialize(json::object{{"reason", reason}})});
    return;
  }
  route(post, triage, config, record);
}

void Pipeline::route(const Post& post, const Triage& triage, const Config& config, StageRecord& record) {
  // The policy reads the time the source received the post: a need that
  // came in at 19:55 was for the pool open until 20:00, even if the
  // pipeline reaches it a little later. Timers start from now.
  const Instant now = now_();
  const Instant received = timestamp::post_time(post.received_at, now);
  const RoutingPolicy policy{*config.network, config.urgent_copy};
  const auto decision = router_.route(policy, triage, received);
  auto dispatch = dispatch_route(config, decision, post.id, triage.urgency, received, now);
  record.state = std::move(dispatch.state);
  record.need = std::move(dispatch.need);
  record.assignments = std::move(dispatch.assignments);
  record.deliveries = std::move(dispatch.deliveries);
  record.events.push_back(std::move(dispatch.event));
  if (record.state == state::unrouted) {
    log_->warn("unrouted post={} reason=\"{}\" moderators_told={}", post.id, decision.reason,
               !record.deliveries.empty());
  }
}

}  // namespace relais::daemon
