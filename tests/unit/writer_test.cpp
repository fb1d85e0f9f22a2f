// The store writer: group commit, acknowledgements after commit, and a
// stage outcome that cannot be committed never holding up new posts.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>

#include "config/live_config.hpp"
#include "storage/writer.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using namespace relais::daemon;

namespace {

struct Collected {
  std::mutex mutex;
  std::vector<Reply> replies;
  std::vector<relais::Post> stored;

  std::size_t reply_count() {
    std::lock_guard lock(mutex);
    return replies.size();
  }
};

relais::Post post(const std::string& id) {
  relais::Post p;
  p.source = "test";
  p.external_id = id;
  p.channel = "test";
  p.text = "Bonjour";
  p.received_at = "2020-04-01T08:12:00+02:00";
  return p;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_sqlite_store(dir / "relais.db", {});
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
    writer = std::make_unique<Writer>(
        *store, config, counters,
        [this](std::vector<Reply> r) {
          std::lock_guard lock(got.mutex);
          for (auto& x : r) got.replies.push_back(std::move(x));
        },
        [this](std::vector<relais::Post> p) {
          std::lock_guard lock(got.mutex);
          for (auto& x : p) got.stored.push_back(std::move(x));
        });
    writer->start();
  }

  void submit(const std::string& id, std::uint64_t seq) {
    std::vector<Submission> s;
    s.push_back({Peer{"peer", false}, seq, post(id)});
    writer->submit(std::move(s));
  }

  relais::test::TempDir dir;
  LiveConfig config{Config{}};
  Counters counters;
  std::unique_ptr<Store> store;
  Collected got;
  std::unique_ptr<Writer> writer;
};

TEST_F(WriterTest, AcknowledgesAfterCommitAndHandsNewPostsOn) {
  for (std::uint64_t i = 0; i < 50; ++i) submit("p" + std::to_string(i % 25), i);
  ASSERT_TRUE(relais::test::wait_until([&] { return got.reply_count() == 50; }));
  writer->stop();
  std::size_t duplicates = 0;
  for (const auto& r : got.replies) {
    const auto reply = json::parse(r.frame).as_object();
    EXPECT_EQ(reply.at("type"), "ack");
    duplicates += reply.at("status") == "duplicate" ? 1 : 0;
  }
  EXPECT_EQ(duplicates, 25U);
  EXPECT_EQ(got.stored.size(), 25U);
  for (const auto& p : got.stored) EXPECT_GT(p.id, 0);
  EXPECT_EQ(writer->pending_submissions(), 0U);
  auto st = store->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->posts, 25);
}

TEST_F(WriterTest, AnOutcomeThatCannotBeCommittedDoesNotHoldUpPosts) {
  // An outcome for a post that does not exist fails its foreign key on
  // every attempt.
  StageRecord bad;
  bad.post_id = 999999;
  bad.state = "routed";
  writer->record({bad});
  for (std::uint64_t i = 0; i < 10; ++i) submit("q" + std::to_string(i), i);
  ASSERT_TRUE(relais::test::wait_until([&] { return got.reply_count() == 10; }));
  for (const auto& r : got.replies) {
    EXPECT_EQ(json::parse(r.frame).at("type"), "ack") << r.frame;
  }
  // The bad outcome is given up after its attempts; good ones still commit.
  StageRecord good;
  good.post_id = got.stored.front().id;
  good.state = "unrouted";
  writer->record({good});
  // Read on a connection of its own, as the writer's belongs to its thread.
  auto reader = open_sqlite_store(dir / "relais.db", {.read_only = true});
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE(relais::test::wait_until([&] {
    auto p = (*reader)->get_post(good.post_id);
    return p && *p && (*p)->state == "unrouted";
  }));
  writer->stop();
  EXPECT_GE(counters.commits.load(), 1U);
}

}  // namespace
