// moderate_flood, loaded from the build's plugin directory as relaisd loads
// it: token buckets per sender and per source on the posts' own times, the
// exemptions, the bound on memory, and the errors of a bad table.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "support/plugin_set.hpp"

namespace {

using relais::Finding;
using relais::Post;

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys = "") {
  auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_flood\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

Post post_of(const std::string& source, const std::string& sender, const std::string& received_at) {
  Post post;
  post.source = source;
  post.sender = sender;
  post.received_at = received_at;
  post.text = "Bonjour, je cherche quelqu'un pour faire mes courses";
  return post;
}

// The symbols found for one post.
class Flood {
 public:
  explicit Flood(const std::string& keys = "") : set_(load(keys)) {}
  explicit operator bool() const { return set_ != nullptr; }

  std::vector<Finding> findings(const Post& post) {
    std::vector<Finding> out;
    set_->moderators.at(0).object->moderate(post, out);
    return out;
  }
  std::vector<std::string> symbols(const std::string& source, const std::string& sender,
                                   const std::string& received_at) {
    std::vector<std::string> out;
    for (const auto& f : findings(post_of(source, sender, received_at))) out.push_back(f.symbol);
    return out;
  }

 private:
  std::shared_ptr<const relais::daemon::PluginSet> set_;
};

using Symbols = std::vector<std::string>;
const Symbols kNone;
const Symbols kSender{"FLOOD_SENDER"};
const Symbols kSource{"FLOOD_SOURCE"};

TEST(moderate_flood, LoadsAsAModeratorPlugin) {
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->moderators.size(), 1u);
  EXPECT_EQ(set->moderators[0].instance, "moderate:flood:0");
  EXPECT_EQ(set->moderators[0].plugin, "moderate_flood");
  EXPECT_EQ(set->moderators[0].version, "1.0.0");
}

// The defaults: a fifth post from one sender within ten minutes is held; at
// the refill rate (4 an hour) a sender keeps posting freely.
TEST(moderate_flood, DefaultsHoldTheFifthPostInTenMinutes) {
  Flood flood;
  ASSERT_TRUE(flood);
  for (const char* t :
       {"2020-04-01T10:00:00Z", "2020-04-01T10:02:00Z", "2020-04-01T10:04:00Z", "2020-04-01T10:06:00Z"}) {
    EXPECT_EQ(flood.symbols("webform", "mireille.pal", t), kNone) << t;
  }
  const auto fifth = flood.findings(post_of("webform", "mireille.pal", "2020-04-01T10:09:00Z"));
  ASSERT_EQ(fifth.size(), 1u);
  EXPECT_EQ(fifth[0].symbol, "FLOOD_SENDER");
  EXPECT_EQ(fifth[0].forced, relais::Action::hold);
  EXPECT_DOUBLE_EQ(fifth[0].score, 0.0);
  EXPECT_EQ(fifth[0].description, "sender over its rate limit (4 posts per hour, bursts of 4)");
  // Personal data stays out of the description.
  EXPECT_EQ(fifth[0].description.find("mireille"), std::string::npos);

  // Another sender, and the same name on another source, have buckets of their own.
  EXPECT_EQ(flood.symbols("webform", "amina.t", "2020-04-01T10:09:00Z"), kNone);
  EXPECT_EQ(flood.symbols("chat", "mireille.pal", "2020-04-01T10:09:00Z"), kNone);

  // Two hours later the bucket is full again.
  for (const char* t :
       {"2020-04-01T12:10:00Z", "2020-04-01T12:11:00Z", "2020-04-01T12:12:00Z", "2020-04-01T12:13:00Z"}) {
    EXPECT_EQ(flood.symbols("webform", "mireille.pal", t), kNone) << t;
  }
}

// One token every ten minutes, two at once: the bucket refills with the
// posts' received_at, not with the wall clock.
TEST(moderate_flood, SenderBucketRefillsWithReceivedAt) {
  Flood flood("sender_rate = 6\nsender_burst = 2\n");
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:00:00Z"), kNone);
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:00:30Z"), kNone);
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:01:00Z"), kSender);
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:05:00Z"), kSender);
  // 11 minutes after the second post: one token back.
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:11:35Z"), kNone);
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:12:00Z"), kSender);
  // Posts over the limit took nothing: ten minutes later, one more passes.
  EXPECT_EQ(flood.symbols("email", "a@example.org", "2020-04-01T10:22:00Z"), kNone);
}

// RFC 3339 offsets and fractions: 10:00+02:00 and 08:11Z are 11 minutes
// apart (were the offset ignored, the second would be earlier and refill nothing).
TEST(moderate_flood, TimesWithOffsetsAreCompared) {
  Flood flood("sender_rate = 6\nsender_burst = 1\n");
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood.symbols("chat", "Lucas", "2020-04-01T10:00:00+02:00"), kNone);
  EXPECT_EQ(flood.symbols("chat", "Lucas", "2020-04-01T08:05:00.250Z"), kSender);
  EXPECT_EQ(flood.symbols("chat", "Lucas", "2020-04-01T09:11:00.5+01:00"), kNone);
  EXPECT_EQ(flood.symbols("chat", "Lucas", "2020-04-01t03:12:00-05:00"), kSender);
  EXPECT_EQ(flood.symbols("chat", "Lucas", "2020-04-01 08:22:00z"), kNone);
}

// Late posts (another source's clock, a delayed e-mail) refill nothing.
TEST(moderate_flood, TimeGoingBackwardsRefillsNothing) {
  Flood flood("sender_rate = 6\nsender_burst = 1\n");
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood.symbols("email", "b@example.org", "2020-04-01T10:00:00Z"), kNone);
  EXPECT_EQ(flood.symbols("email", "b@example.org", "2020-04-01T08:00:00Z"), kSender);
  EXPECT_EQ(flood.symbols("email", "b@example.org", "2020-04-01T10:05:00Z"), kSender);
  EXPECT_EQ(flood.symbols("email", "b@example.org", "2020-04-01T10:11:00Z"), kNone);
}

// Without a readable received_at a post is counted at the wall clock; a
// date to come is not believed, or a source could refill its own bucket.
TEST(moderate_flood, MissingBadOrFutureTimesCountAsNow) {
  Flood flood("sender_rate = 1\nsender_burst = 1\n");
  ASSERT_TRUE(flood);
  EXPECT_EQ(flood.symbols("webform", "c", ""), kNone);
  EXPECT_EQ(flood.symbols("webform", "c", "yesterday"), kSender);
  EXPECT_EQ(flood.symbols("webform", "c", "2020-02-30T10:00:00Z"), kSender);
  EXPECT_EQ(flood.symbols("webform", "c", "2999-01-01T00:00:00Z"), kSender);
}

TEST(moderate_flood, SourceLimit) {
  Flood flood("source_rate = 60\nsource_burst = 3\n");
  ASSERT_TRUE(flood);
  // Different senders: only the source's bucket is shared.
  EXPECT_EQ(flood.symbols("webform", "s1", "2020-04-01T10:00:00Z"), kNone);
  EXPECT_EQ(flood.symbols("webform", "s2", "2020-04-01T10:00:01Z"), kNone);
  EXPECT_EQ(flood.symbols("webform", "s3", "2020-04-01T10:00:02Z"), kNone);
  const auto fourth = flood.findings(post_of("webform", "s4", "2020-04-01T10:00:03Z"));
  ASSERT_EQ(fourth.size(), 1u);
  EXPECT_EQ(fourth[0].symbol, "FLOOD_SOURCE");
  EXPECT_EQ(fourth[0].forced, relais::Action::hold);
  EXPECT_EQ(fourth[0].description, "source \"webform\" over its rate limit (60 posts per hour, bursts of 3)");
  EXPECT_EQ(flood.symbols("email", "s5", "2020-04-01T10:00:03Z"), kNone);
  // One a minute comes back.
  EXPECT_EQ(flood.symbols("webform", "s6", "2020-04-01T10:01:05Z"), kNone);
  EXPECT_EQ(flood.symbols("webform", "s7", "2020-04-01T10:01:06Z"), kSource);
}

// The defaults against an attack: 200 posts a minute on the web form, each
// from a new sender, are held after a first burst; a busy day (60 posts an
// hour) never is.
TEST(moderate_flood, DefaultsCatchAnAttackNotABusyDay) {
  Flood busy;
  ASSERT_TRUE(busy);
  for (int i = 0; i < 600; ++i) {
    char t[32];
    (void)std::snprintf(t, sizeof t, "2020-04-01T%02d:%02d:00Z", 8 + i / 60, i % 60);
    ASSERT_EQ(busy.symbols("webform", "resident" + std::to_string(i), t), kNone) << i;
  }

  Flood attack;
  int first = -1;
  int held = 0;
  for (int i = 0; i < 200; ++i) {
    char t[40];
    (void)std::snprintf(t, sizeof t, "2020-04-01T10:00:%02d.%03dZ", (i * 300) / 1000, (i * 300) % 1000);
    if (attack.symbols("webform", "bot" + std::to_string(i), t) == kSource) {
      ++held;
      if (first < 0) first = i;
    }
  }
  EXPECT_GE(first, 100);
  EXPECT_LT(first, 160);
  EXPECT_GE(held, 40);
}

TEST(moderate_flood, ExemptSendersAndSources) {
  Flood flood(
      "sender_burst = 1\nsource_burst = 2\nsource_rate = 1\nexempt_senders = [\"Coordination@Example.org\"]\n"
      "exempt_sources = [\"ligne-mairie\"]\n");
  ASSERT_TRUE(flood);
  // An exempt sender is not limited, matched without regard to ASCII case...
  EXPECT_EQ(flood.symbols("email", "coordination@example.org", "2020-04-01T10:00:00Z"), kNone);
  EXPECT_EQ(flood.symbols("email", "coordination@example.org", "2020-04-01T10:00:01Z"), kNone);
  // ...but its posts count for the source.
  EXPECT_EQ(flood.symbols("email", "coordination@example.org", "2020-04-01T10:00:02Z"), kSource);
  // An exempt source's posts are not counted at all.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(flood.symbols("ligne-mairie", "operateur", "2020-04-01T10:00:03Z"), kNone);
  }
}

TEST(moderate_flood, ScoresAndActions) {
  Flood flood(
      "sender_burst = 1\nsender_score = 2.5\nsender_action = \"reject\"\n"
      "source_burst = 1\nsource_score = 4\nsource_action = \"none\"\n");
  ASSERT_TRUE(flood);
  EXPECT_TRUE(flood.findings(post_of("chat", "x", "2020-04-01T10:00:00Z")).empty());
  const auto both = flood.findings(post_of("chat", "x", "2020-04-01T10:00:01Z"));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].symbol, "FLOOD_SOURCE");
  EXPECT_DOUBLE_EQ(both[0].score, 4.0);
  EXPECT_FALSE(both[0].forced.has_value());
  EXPECT_EQ(both[1].symbol, "FLOOD_SENDER");
  EXPECT_DOUBLE_EQ(both[1].score, 2.5);
  EXPECT_EQ(both[1].forced, relais::Action::reject);
}

// A burst of 0 turns a limit off; an anonymous post has no sender bucket.
TEST(moderate_flood, ZeroBurstAndAnonymousPosts) {
  Flood flood("sender_burst = 0\nsource_burst = 0\n");
  ASSERT_TRUE(flood);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(flood.symbols("chat", "x", "2020-04-01T10:00:00Z"), kNone);

  Flood anonymous("sender_burst = 1\n");
  ASSERT_TRUE(anonymous);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(anonymous.symbols("webform", "", "2020-04-01T10:00:00Z"), kNone);
}

// Past max_senders, the least recently seen sender is forgotten: it starts
// again with a full bucket.
TEST(moderate_flood, MemoryIsBoundedByMaxSenders) {
  const std::string keys = "sender_rate = 1\nsender_burst = 1\n";
  for (const auto& [max, expected] : {std::pair<int, Symbols>{2, kNone}, {10, kSender}}) {
    SCOPED_TRACE(max);
    Flood flood(keys + "max_senders = " + std::to_string(max) + "\n");
    ASSERT_TRUE(flood);
    EXPECT_EQ(flood.symbols("chat", "a", "2020-04-01T10:00:00Z"), kNone);
    EXPECT_EQ(flood.symbols("chat", "a", "2020-04-01T10:00:01Z"), kSender);
    EXPECT_EQ(flood.symbols("chat", "b", "2020-04-01T10:00:02Z"), kNone);
    EXPECT_EQ(flood.symbols("chat", "c", "2020-04-01T10:00:03Z"), kNone);
    EXPECT_EQ(flood.symbols("chat", "a", "2020-04-01T10:00:04Z"), expected);
  }
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(moderate_flood, BadTablesAreRefusedWithTheirPosition) {
  for (const auto& bad : std::vector<BadTable>{
           {"sender_rate = 0\n",
            "relais.toml:3:15: moderate[0].sender_rate: expected a number of posts per hour above 0"},
           {"sender_rate = \"fast\"\n", "relais.toml:3:15: moderate[0].sender_rate"},
           {"source_rate = -5\n", "relais.toml:3:15: moderate[0].source_rate"},
           {"sender_burst = -1\n",
            "relais.toml:3:16: moderate[0].sender_burst: expected an integer of at least 0"},
           {"source_burst = 2.5\n", "relais.toml:3:16: moderate[0].source_burst"},
           {"sender_action = \"accept\"\n",
            "relais.toml:3:17: moderate[0].sender_action: expected \"hold\", \"reject\" or \"none\""},
           {"source_action = \"drop\"\n", "relais.toml:3:17: moderate[0].source_action"},
           {"sender_score = \"high\"\n", "relais.toml:3:16: moderate[0].sender_score"},
           {"max_senders = 0\n",
            "relais.toml:3:15: moderate[0].max_senders: expected an integer of at least 1"},
           {"exempt_senders = [\"\"]\n", "relais.toml:3:18: moderate[0].exempt_senders"},
           {"exempt_sources = \"webform\"\n", "relais.toml:3:18: moderate[0].exempt_sources"},
           {"sender_rates = 3\n", "relais.toml:3:1: moderate[0].sender_rates: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_flood\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
