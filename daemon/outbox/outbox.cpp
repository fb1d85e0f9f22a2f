#include "outbox/outbox.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <cmath>
#include <random>

#include "http/links.hpp"
#include "log.hpp"
#include "privacy.hpp"
#include "storage/writer.hpp"

namespace relais::daemon {
namespace json = boost::json;
namespace {

// At most this many deliveries of one sink wait in its queue or are under
// way: a slow destination holds up only its own sink's rows.
constexpr std::size_t kMaxInFlightPerSink = 256;
constexpr std::chrono::seconds kIdleWait{30};
// Rows through a sink no [[sink]] entry has any more are looked for this often.
constexpr std::chrono::seconds kUnknownSinkCheck{5};

std::string error_text(const std::exception& e) { return std::string("the sink threw: ") + e.what(); }

}  // namespace

std::chrono::milliseconds retry_delay(const Config& config, unsigned attempts, double random,
                                      std::chrono::seconds retry_after) {
  using std::chrono::milliseconds;
  const unsigned doublings = attempts == 0 ? 0 : std::min(attempts - 1, 40U);
  const double base =
      std::min(static_cast<double>(config.retry_max.count()),
               static_cast<double>(config.retry_min.count()) * std::ldexp(1.0, static_cast<int>(doublings)));
  const double jittered = base * (1.0 - config.retry_jitter * std::clamp(random, 0.0, 1.0));
  return std::max(milliseconds(static_cast<std::int64_t>(jittered)),
                  std::chrono::duration_cast<milliseconds>(retry_after));
}

// One sink instance, its thread and its queue.
struct Outbox::Worker {
  std::string name;  // the [[sink]] entry's name
  PluginInstance<Sink> instance;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> queue;
  std::size_t in_flight = 0;  // queued or under way
  bool stopping = false;
  std::atomic<bool> exited{false};
  std::thread thread;
};

Outbox::Outbox(const LiveConfig& config, const LivePlugins& plugins, Writer& writer, Counters& counters,
               Clock now)
    : config_(config),
      plugins_(plugins),
      writer_(writer),
      counters_(counters),
      now_(std::move(now)),
      log_(component_logger("outbox")) {}

Outbox::~Outbox() { stop(); }

void Outbox::set_links(const LinkSigner* signer, std::string base_url) {
  signer_ = signer;
  base_url_ = std::move(base_url);
}

Status Outbox::start(const std::filesystem::path& database) {
  auto store = open_sqlite_store(database, {.read_only = true});
  if (!store) return store.error();
  store_ = std::move(*store);
  auto id = store_->database_id();
  if (!id) return id.error();
  database_id_ = std::move(*id);
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    name_this_thread("outbox");
    run();
  });
  return Done{};
}

void Outbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<std::unique_ptr<Worker>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [sink, w] : workers_) all.push_back(std::move(w));
    workers_.clear();
    for (auto& w : retired_) all.push_back(std::move(w));
    retired_.clear();
  }
  for (auto& w : all) {
    {
      std::lock_guard lock(w->mutex);
      w->stopping = true;
    }
    w->wake.notify_all();
  }
  for (auto& w : all) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void Outbox::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void Outbox::release(std::int64_t id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(id);
  released_.insert(id);
}

void Outbox::run() {
  auto last_unknown_check = std::chrono::steady_clock::time_point{};
  for (;;) {
    const auto config = config_.get();
    const auto plugins = plugins_.get();
    schedule(*config, *plugins);
    if (std::chrono::steady_clock::now() - last_unknown_check >= kUnknownSinkCheck) {
      dead_letter_unknown_sinks(*config, *plugins);
      last_unknown_check = std::chrono::steady_clock::now();
    }
    const auto now = to_millis(now_());
    auto next = store_->next_delivery_at(now);
    std::chrono::milliseconds wait = kIdleWait;
    if (next && *next)
      wait = std::clamp(std::chrono::milliseconds(**next - now), std::chrono::milliseconds(0), wait);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [&] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

void Outbox::schedule(const Config& config, const PluginSet& plugins) {
  // A worker for each sink instance of the live set; those of a set a
  // reload replaced finish what they hold, then stop.
  std::vector<Worker*> live;
  std::vector<std::unique_ptr<Worker>> finished;  // retired workers that have exited
  {
    std::lock_guard lock(mutex_);
    std::map<const Sink*, std::unique_ptr<Worker>> kept;
    for (const auto& instance : plugins.sinks) {
      const Sink* key = instance.object.get();
      auto it = workers_.find(key);
      if (it != workers_.end()) {
        kept.emplace(key, std::move(it->second));
        workers_.erase(it);
        continue;
      }
      auto w = std::make_unique<Worker>();
      const PluginEntry* entry = nullptr;
      for (const auto& e : config.plugins) {
        if (e.kind == PluginKind::sink && e.instance() == instance.instance) entry = &e;
      }
      w->name = entry != nullptr ? entry->name : instance.plugin;
      w->instance = instance;
      Worker* raw = w.get();
      w->thread = std::thread([this, raw] {
        name_this_thread("sink");
        for (;;) {
          Job job;
          std::deque<Job> left;
          bool stop = false;
          {
            std::unique_lock wl(raw->mutex);
            raw->wake.wait(wl, [&] { return raw->stopping || !raw->queue.empty(); });
            stop = raw->stopping;
            if (stop) {
              left.swap(raw->queue);
              raw->in_flight = 0;
            } else {
              job = std::move(raw->queue.front());
              raw->queue.pop_front();
            }
          }
          if (stop) {
            // What is queued stays pending in the store, for the next
            // worker of its sink. (Released outside the worker's lock: the
            // scheduler takes the outbox's lock, then a worker's.)
            for (const auto& j : left) release(j.row.id);
            raw->exited = true;
            wake();
            return;
          }
          attempt(*raw, job);
        }
      });
      kept.emplace(key, std::move(w));
    }
    for (auto& [sink, w] : workers_) {
      {
        std::lock_guard wl(w->mutex);
        w->stopping = true;
      }
      w->wake.notify_all();
      retired_.push_back(std::move(w));
    }
    workers_ = std::move(kept);
    for (auto& [sink, w] : workers_) live.push_back(w.get());
    for (auto it = retired_.begin(); it != retired_.end();) {
      if ((*it)->exited) {
        finished.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Joined outside the outbox's lock: a worker that has just exited may
  // still be in wake(), waiting for that lock.
  for (auto& w : finished) w->thread.join();
  finished.clear();

  const Instant now = now_();
  {
    // A row whose outcome commits between the reads below and its check
    // was read as pending, but is done: `released_` keeps those of this
    // pass apart. One released before this point committed before the
    // reads, which see it done.
    std::lock_guard lock(mutex_);
    released_.clear();
  }
  std::unordered_map<std::int64_t, StoredPost> posts;  // read once for the rows of this pass
  for (Worker* w : live) {
    std::size_t room = 0;
    {
      std::lock_guard wl(w->mutex);
      room = kMaxInFlightPerSink - std::min(w->in_flight, kMaxInFlightPerSink);
    }
    if (room == 0) continue;
    std::size_t taken = 0;
    {
      std::lock_guard lock(mutex_);
      taken = in_flight_.size();
    }
    // Rows already handed out are still pending in the store: ask for
    // enough to find `room` new ones among them.
    auto due =
        store_->due_deliveries(to_millis(now), w->name, room + std::min(taken, kMaxInFlightPerSink * 4));
    if (!due) {
      log_->error("outbox_read_failed sink={} error=\"{}\"", w->name, due.error().message);
      continue;
    }
    for (auto& row : *due) {
      if (room == 0) break;
      {
        std::lock_guard lock(mutex_);
        if (released_.count(row.id) > 0 || !in_flight_.insert(row.id).second) continue;
      }
      auto delivery = compose(config, row, now, posts);
      if (!delivery) {
        // The row can never be sent as it is (its destination or sink left
        // the configuration): a dead letter, for a person to look at.
        finish(row, {DeliveryStatus::failed, delivery.error().message, 0});
        continue;
      }
      {
        std::lock_guard wl(w->mutex);
        w->queue.push_back({std::move(*delivery), std::move(row)});
        ++w->in_flight;
      }
      w->wake.notify_one();
      --room;
    }
  }
}

void Outbox::dead_letter_unknown_sinks(const Config& config, const PluginSet& plugins) {
  auto sinks = store_->due_sinks(to_millis(now_()));
  if (!sinks) return;
  for (const auto& name : *sinks) {
    const bool known = config.sink_named(name) != nullptr &&
                       std::any_of(plugins.sinks.begin(), plugins.sinks.end(), [&](const auto& i) {
                         return i.instance == config.sink_named(name)->instance();
                       });
    if (known) continue;
    auto rows = store_->due_deliveries(to_millis(now_()), name, 100);
    if (!rows) continue;
    for (const auto& row : *rows) {
      {
        std::lock_guard lock(mutex_);
        if (!in_flight_.insert(row.id).second) continue;
      }
      finish(row, {DeliveryStatus::failed, "no [[sink]] entry is named \"" + name + "\" any more", 0});
    }
  }
}

Expected<Delivery> Outbox::compose(const Config& config, const StoredDelivery& row, Instant now,
                                   std::unordered_map<std::int64_t, StoredPost>& posts) {
  auto cached = posts.find(row.post_id);
  if (cached == posts.end()) {
    auto read = store_->get_post(row.post_id, false);
    if (!read) return read.error();
    if (!*read) return Error{"not_found", "post " + std::to_string(row.post_id) + " is not in the store", ""};
    cached = posts.emplace(row.post_id, std::move(**read)).first;
  }
  const StoredPost* stored = &cached->second;
  Delivery d;
  d.id = database_id_ + "-" + std::to_string(row.id);
  d.purpose = row.purpose;
  d.destination = row.destination;
  d.reason = row.reason;
  d.related_post = row.related_post;
  d.attempt = row.attempts + 1;
  d.triage = stored->triage.value_or(Triage{});
  const std::vector<DeliverEntry>* entries = &config.moderators;
  bool full = true;
  if (row.destination == kModerators) {
    d.destination_name = config.moderators_lang == "fr" ? "Modération" : "Moderators";
    d.lang = config.moderators_lang;
  } else {
    const auto* destination = config.network->find(row.destination);
    if (destination == nullptr) {
      return Error{"invalid", "destination \"" + row.destination + "\" is no longer in the network", ""};
    }
    d.destination_name = destination->name;
    d.lang = destination->lang;
    entries = &destination->deliver;
    full = destination->personal_data == PersonalData::always;
  }
  const DeliverEntry* entry = nullptr;
  for (const auto& e : *entries) {
    if (e.sink == row.sink) {
      entry = &e;
      break;
    }
  }
  if (entry == nullptr) {
    return Error{"invalid",
                 "\"" + row.destination + "\" is no longer reached through the sink \"" + row.sink + "\"",
                 ""};
  }
  d.address = entry->to;
  d.secret = entry->secret;
  // What the destination may see: a destination that is many people (a
  // chat group) gets the public text, and the contact once it claims.
  d.post = full ? stored->post : public_view(*stored);
  const std::int64_t acts_on = row.purpose == DeliveryPurpose::offer ? row.related_post : row.post_id;
  if (signer_ != nullptr && !base_url_.empty() && row.destination != kModerators && acts_on > 0) {
    const auto expires =
        std::chrono::duration_cast<std::chrono::seconds>((now + config.link_ttl).time_since_epoch()).count();
    for (auto act : {NeedAct::claim, NeedAct::decline, NeedAct::resolve}) {
      d.links[std::string(to_string(act))] =
          base_url_ + signer_->path(act, acts_on, row.destination, expires);
    }
  }
  return d;
}

void Outbox::attempt(Worker& worker, const Job& job) {
  auto& counters = *worker.instance.counters;
  const auto start = std::chrono::steady_clock::now();
  DeliveryResult result;
  try {
    result = worker.instance.object->deliver(job.delivery);
  } catch (const std::exception& e) {
    result = {DeliveryStatus::retry, error_text(e), 0};
  } catch (...) {
    result = {DeliveryStatus::retry, "the sink threw an unknown exception", 0};
  }
  counters.posts.fetch_add(1, std::memory_order_relaxed);
  counters.nanoseconds.fetch_add(
      static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
              .count()),
      std::memory_order_relaxed);
  if (result.status != DeliveryStatus::delivered) counters.errors.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard wl(worker.mutex);
    --worker.in_flight;
  }
  finish(job.row, std::move(result));
}

void Outbox::finish(const StoredDelivery& row, DeliveryResult result) {
  const auto config = config_.get();
  DeliveryOutcome o;
  o.id = row.id;
  o.post_id = row.post_id;
  o.attempts = row.attempts + 1;
  o.error = result.reason;
  json::object detail{
      {"delivery", row.id}, {"destination", row.destination}, {"sink", row.sink}, {"attempt", o.attempts}};
  if (result.status == DeliveryStatus::delivered) {
    o.state = std::string(delivery_state::delivered);
    o.next_at = row.next_at;
    o.event = {"delivered", "outbox", json::serialize(detail)};
    counters_.deliveries_delivered.fetch_add(1, std::memory_order_relaxed);
  } else if (result.status == DeliveryStatus::retry && o.attempts < config->max_attempts) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    const auto pause =
        retry_delay(*config, o.attempts, std::uniform_real_distribution<double>(0.0, 1.0)(random),
                    std::chrono::seconds(result.retry_after_s));
    o.state = std::string(delivery_state::pending);
    o.next_at = to_millis(now_() + pause);
    detail["error"] = result.reason;
    detail["retry_in_ms"] = pause.count();
    o.event = {"delivery_failed", "outbox", json::serialize(detail)};
    counters_.deliveries_retried.fetch_add(1, std::memory_order_relaxed);
    log_->debug(
        "delivery_retry delivery={} post={} destination={} sink={} attempt={} retry_in_ms={} error=\"{}\"",
        row.id, row.post_id, row.destination, row.sink, o.attempts, pause.count(), result.reason);
  } else {
    o.state = std::string(delivery_state::dead);
    o.next_at = row.next_at;
    detail["error"] = result.reason;
    o.event = {"dead_lettered", "outbox", json::serialize(detail)};
    counters_.deliveries_dead.fetch_add(1, std::memory_order_relaxed);
    // Rate-limited: a destination that is down dead-letters every delivery.
    problems_.log(LogLevel::warn,
                  fmt::format("dead_lettered delivery={} post={} destination={} sink={} attempts={} "
                              "error=\"{}\"",
                              row.id, row.post_id, row.destination, row.sink, o.attempts, result.reason));
  }
  const std::int64_t id = row.id;
  writer_.record_deliveries({std::move(o)}, [this, id](bool) {
    release(id);
    wake();
  });
}

}  // namespace relais::daemon
