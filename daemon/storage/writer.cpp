#include "storage/writer.hpp"

#include <spdlog/spdlog.h>

#include "log.hpp"
#include "protocol.hpp"

namespace relais::daemon {

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

void Writer::run() {
  std::vector<Submission> batch;
  std::vector<Post> posts;
  std::vector<StageRecord> records;
  bool retrying = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (retrying) {
        // The last commit failed: give the disk a moment instead of spinning.
        wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; });
      } else {
        wake_.wait(lock, [&] { return stopping_ || !submissions_.empty() || !records_.empty(); });
      }
      if (stopping_ && submissions_.empty() && records_.empty() && records.empty()) return;
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

    auto result = store_.commit(posts, records);
    std::vector<Reply> replies;
    replies.reserve(batch.size());
    if (!result) {
      ++counters_.commit_failures;
      log_->error("commit_failed posts={} records={} error=\"{}\"", batch.size(), records.size(),
                  result.error().message);
      for (const auto& s : batch) {
        protocol::Rejection r{s.seq, protocol::Code::unavailable, "",
                              "the store could not commit; resend later"};
        replies.push_back({s.peer, protocol::encode_nack(r)});
      }
      // Stage outcomes are kept and tried again: the posts stay `received`
      // in the store until they are committed.
      retrying = !records.empty();
      if (stopping_ && retrying) {
        log_->error("giving_up records={} reason=stopping; posts resume at next start", records.size());
        records.clear();
        retrying = false;
      }
    } else {
      ++counters_.commits;
      retrying = false;
      records.clear();
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
  }
}

}  // namespace relais::daemon
