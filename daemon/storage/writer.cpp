#include "storage/writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "log.hpp"
#include "protocol.hpp"

namespace relais::daemon {
namespace {
constexpr unsigned kMaxRecordAttempts = 5;
}

Writer::Writer(Store& store, const LiveConfig& config, Counters& counters, ReplySink replies,
               StoredSink stored)
    : store_(store),
      config_(config),
      counters_(counters),
      replies_(std::move(replies)),
      stored_(std::move(stored)),
      log_(component_logger("storage")) {}

Writer::~Writer() { stop(); }

void Writer::start() {
  thread_ = std::thread([this] {
    name_this_thread("writer");
    run();
  });
}

void Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Writer::flush() {
  if (!thread_.joinable()) return;
  std::promise<void> done;
  auto future = done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    jobs_.push_back([&done](Store&) { done.set_value(); });
  }
  wake_.notify_one();
  future.wait();
}

void Writer::submit(std::vector<Submission> submissions) {
  {
    std::lock_guard lock(mutex_);
    pending_ += submissions.size();
    for (auto& s : submissions) submissions_.push_back(std::move(s));
  }
  wake_.notify_one();
}

void Writer::record(std::vector<StageRecord> records) {
  {
    std::lock_guard lock(mutex_);
    for (auto& r : records) records_.push_back(std::move(r));
  }
  wake_.notify_one();
}

void Writer::decide(StageRecord record, std::string expected_state, DecisionDone done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, record = std::move(record), expected = std::move(expected_state),
                     done = std::move(done)](Store& store) {
      auto decided = store.decide(record, expected);
      if (!decided)
        log_->error("decision_failed post={} error=\"{}\"", record.post_id, decided.error().message);
      if (decided && *decided) committed({&record, 1});
      done(std::move(decided));
    });
  }
  wake_.notify_one();
}

void Writer::change_need(NeedChange change, DecisionDone done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, change = std::move(change), done = std::move(done)](Store& store) {
      auto changed = store.change_need(change);
      if (!changed) {
        log_->error("need_change_failed post={} error=\"{}\"", change.post_id, changed.error().message);
      } else if (*changed) {
        if (!change.deliveries.empty() && listener_.deliveries_added) listener_.deliveries_added();
        if (change.need && listener_.needs_changed) listener_.needs_changed();
      }
      done(std::move(changed));
    });
  }
  wake_.notify_one();
}

void Writer::change_needs(std::vector<NeedChange> changes, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, changes = std::move(changes), done = std::move(done)](Store& store) {
      auto changed = store.change_needs(changes);
      if (!changed) {
        log_->error("need_changes_failed count={} error=\"{}\"", changes.size(), changed.error().message);
      } else if (listener_.deliveries_added && std::any_of(changes.begin(), changes.end(), [](const auto& c) {
                   return !c.deliveries.empty();
                 })) {
        listener_.deliveries_added();
      }
      done(changed.has_value());
    });
  }
  wake_.notify_one();
}

void Writer::record_deliveries(std::vector<DeliveryOutcome> outcomes, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mutex_);
    outcomes_.push_back({std::move(outcomes), std::move(done)});
  }
  wake_.notify_one();
}

void Writer::redrive(std::int64_t id, std::int64_t now, PostEvent event, DecisionDone done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back([this, id, now, event = std::move(event), done = std::move(done)](Store& store) {
      auto redriven = store.redrive(id, now, event);
      if (!redriven) log_->error("redrive_failed delivery={} error=\"{}\"", id, redriven.error().message);
      if (redriven && *redriven && listener_.deliveries_added) listener_.deliveries_added();
      done(std::move(redriven));
    });
  }
  wake_.notify_one();
}

void Writer::committed(std::span<const StageRecord> records) {
  bool deliveries = false;
  bool needs = false;
  std::vector<std::int64_t> offers;
  for (const auto& r : records) {
    deliveries = deliveries || !r.deliveries.empty();
    needs = needs || r.need.has_value();
    if (r.state == state::accepted && r.triage && r.triage->kind == Kind::offer) offers.push_back(r.post_id);
  }
  if (deliveries && listener_.deliveries_added) listener_.deliveries_added();
  if (needs && listener_.needs_changed) listener_.needs_changed();
  if (!offers.empty() && listener_.offers_accepted) listener_.offers_accepted(std::move(offers));
}

void Writer::run() {
  std::vector<Submission> batch;
  std::vector<Post> posts;
  std::vector<StageRecord> records;
  std::deque<Job> jobs;
  std::vector<PendingOutcomes> outcomes;
  unsigned record_failures = 0;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      if (record_failures > 0) {
        // Stage outcomes failed to commit: give the disk a moment rather
        // than spin, unless posts are waiting.
        wake_.wait_for(lock, std::chrono::milliseconds(200),
                       [&] { return stopping_ || !submissions_.empty(); });
      } else {
        wake_.wait(lock, [&] {
          return stopping_ || !submissions_.empty() || !records_.empty() || !jobs_.empty() ||
                 !outcomes_.empty();
        });
      }
      stopping = stopping_;
      if (stopping && submissions_.empty() && records_.empty() && records.empty() && jobs_.empty() &&
          outcomes_.empty()) {
        return;
      }
      jobs.swap(jobs_);
      outcomes.swap(outcomes_);
      const std::size_t max = config_.get()->batch_max;
      while (!submissions_.empty() && batch.size() < max) {
        batch.push_back(std::move(submissions_.front()));
        submissions_.pop_front();
      }
      for (auto& r : records_) records.push_back(std::move(r));
      records_.clear();
    }
    posts.clear();
    posts.reserve(batch.size());
    for (auto& s : batch) posts.push_back(std::move(s.post));

    std::vector<DeliveryOutcome> attempts;
    for (auto& o : outcomes) attempts.insert(attempts.end(), o.outcomes.begin(), o.outcomes.end());
    auto result = store_.commit(posts, records, attempts);
    if (result) {
      committed(records);
      records.clear();
      record_failures = 0;
      for (auto& o : outcomes) o.done(true);
      outcomes.clear();
    } else if (!records.empty() || !attempts.empty()) {
      // Whatever is wrong with a stage outcome must not stop ingest nor the
      // other outcomes: commit the posts alone, then each outcome on its own.
      result = store_.commit(posts, {});
      ++record_failures;
      std::vector<StageRecord> failing;
      std::string last_error;
      for (auto& r : records) {
        auto one = store_.commit({}, std::span<const StageRecord>(&r, 1));
        if (one) committed({&r, 1});
        if (!one) {
          last_error = one.error().message;
          failing.push_back(std::move(r));
        }
      }
      records = std::move(failing);
      if (records.empty()) {
        record_failures = 0;
      } else {
        log_->error("commit_failed records={} attempt={} error=\"{}\"", records.size(), record_failures,
                    last_error);
        if (record_failures >= kMaxRecordAttempts || stopping) {
          // Their posts stay `received` and run through the pipeline again
          // at the next start.
          log_->error("records_dropped records={} reason=repeated_failure", records.size());
          records.clear();
          record_failures = 0;
        }
      }
    }
    std::vector<Reply> replies;
    replies.reserve(batch.size());
    if (!result) {
      ++counters_.commit_failures;
      log_->error("commit_failed posts={} error=\"{}\"", batch.size(), result.error().message);
      for (const auto& s : batch) {
        protocol::Rejection r{s.seq, protocol::Code::unavailable, "",
                              "the store could not commit; resend later"};
        replies.push_back({s.peer, protocol::encode_nack(r)});
      }
    } else {
      ++counters_.commits;
      std::vector<Post> fresh;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& outcome = (*result)[i];
        replies.push_back(
            {batch[i].peer, protocol::encode_ack(batch[i].seq, outcome.duplicate, outcome.post_id)});
        if (outcome.duplicate) {
          ++counters_.duplicates;
        } else {
          ++counters_.stored;
          fresh.push_back(std::move(posts[i]));
          fresh.back().id = outcome.post_id;
        }
      }
      if (!fresh.empty()) stored_(std::move(fresh));
    }
    const std::size_t answered = batch.size();
    if (!replies.empty()) replies_(std::move(replies));
    pending_ -= answered;
    batch.clear();
    if (!outcomes.empty()) {
      // The common commit failed: the attempts' outcomes on their own, so
      // that a faulty record does not hold them up.
      const auto recorded = store_.record_deliveries(attempts);
      if (!recorded) {
        log_->error("delivery_outcomes_failed count={} error=\"{}\"", attempts.size(),
                    recorded.error().message);
      }
      for (auto& o : outcomes) o.done(recorded.has_value());
      outcomes.clear();
    }
    for (auto& job : jobs) job(store_);
    jobs.clear();
  }
}

}  // namespace relais::daemon
