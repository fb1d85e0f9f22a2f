// storage: the SQLite store on a real file: commits, duplicates, stage
// records, queries, schema migrations and persistence.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocol.hpp"
#include "storage/store.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using relais::Action;
using relais::Finding;
using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;
using relais::Verdict;
using relais::daemon::IngestOutcome;
using relais::daemon::PostEvent;
using relais::daemon::SqliteOptions;
using relais::daemon::StageRecord;
using relais::daemon::Store;
using relais::daemon::StoredPost;

namespace {

Post make_post(const std::string& source, const std::string& external_id,
               const std::string& text = "bonjour") {
  Post p;
  p.source = source;
  p.external_id = external_id;
  p.channel = source + "-channel";
  p.text = text;
  p.received_at = "2020-04-01T08:12:00+02:00";
  return p;
}

Post full_post() {
  Post p =
      make_post("webform", "f-2020-04-01-0042", "J'ai besoin d'aide pour mes courses, \xE2\x82\xAC \"x\"");
  p.sender = "mireille.pal";
  p.subject = "Courses";
  p.lang = "fr";
  p.fields = {{"category", "groceries"}, {"area", "vitry"}};
  p.private_data = {{"name", "Mireille P."}, {"phone", "01 99 00 12 34"}};
  return p;
}

void expect_same_post(const Post& stored, const Post& sent) {
  EXPECT_EQ(stored.source, sent.source);
  EXPECT_EQ(stored.external_id, sent.external_id);
  EXPECT_EQ(stored.channel, sent.channel);
  EXPECT_EQ(stored.sender, sent.sender);
  EXPECT_EQ(stored.subject, sent.subject);
  EXPECT_EQ(stored.text, sent.text);
  EXPECT_EQ(stored.received_at, sent.received_at);
  EXPECT_EQ(stored.lang, sent.lang);
  EXPECT_EQ(stored.fields, sent.fields);
  EXPECT_EQ(stored.private_data, sent.private_data);
}

class store_sqlite : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open(const SqliteOptions& options = {}) {
    store.reset();
    auto opened = relais::daemon::open_sqlite_store(db(), options);
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }

  std::filesystem::path db() const { return dir / "relais.db"; }

  std::vector<IngestOutcome> commit(const std::vector<Post>& posts,
                                    const std::vector<StageRecord>& records = {}) {
    auto outcomes = store->commit(posts, records);
    if (!outcomes) {
      ADD_FAILURE() << "commit failed: " << outcomes.error().message;
      return {};
    }
    EXPECT_EQ(outcomes->size(), posts.size());
    return *outcomes;
  }

  std::int64_t commit_one(const Post& post) {
    const auto outcomes = commit({post});
    if (outcomes.size() != 1) return 0;
    EXPECT_FALSE(outcomes[0].duplicate);
    return outcomes[0].post_id;
  }

  StoredPost get(std::int64_t id) {
    auto post = store->get_post(id);
    if (!post) {
      ADD_FAILURE() << "get_post failed: " << post.error().message;
      return {};
    }
    if (!post->has_value()) {
      ADD_FAILURE() << "no post " << id;
      return {};
    }
    return **post;
  }

  relais::daemon::StoreStats stats() {
    auto st = store->stats();
    if (!st) {
      ADD_FAILURE() << "stats failed: " << st.error().message;
      return {};
    }
    return *st;
  }

  std::vector<std::int64_t> unfinished_ids(std::int64_t after, std::size_t limit) {
    return ids_of(store->unfinished(after, limit), "unfinished");
  }

  std::vector<std::int64_t> listed_ids(std::string_view state, std::size_t limit) {
    return ids_of(store->list_posts(state, limit), "list_posts");
  }

  template <class T>
  static std::vector<std::int64_t> ids_of(const relais::Expected<std::vector<T>>& posts, const char* what) {
    if (!posts) {
      ADD_FAILURE() << what << " failed: " << posts.error().message;
      return {};
    }
    std::vector<std::int64_t> ids;
    for (const auto& p : *posts) ids.push_back(p.id);
    return ids;
  }

  relais::test::TempDir dir;
  std::unique_ptr<Store> store;
};

// A record that moves a post out of `received`, with no findings.
StageRecord moved_to(std::int64_t id, std::string_view state, Action action = Action::accept) {
  StageRecord r;
  r.post_id = id;
  r.state = std::string(state);
  r.verdict.action = action;
  return r;
}

// ---------------------------------------------------------------------------
// Raw SQLite, for building old and foreign databases.

class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << file << ": " << sqlite3_errmsg(db_);
    }
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err != nullptr ? err : "?");
    }
    sqlite3_free(err);
  }

  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::int64_t out = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return out;
  }

  std::vector<std::string> columns(const std::string& table) {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "PRAGMA table_info(" + table + ")";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------
// commit

TEST_F(store_sqlite, FreshDatabaseIsAtTheNewestSchema) {
  EXPECT_EQ(relais::daemon::sqlite_schema_version(), 4);
  const auto st = stats();
  EXPECT_EQ(st.schema_version, relais::daemon::sqlite_schema_version());
  EXPECT_EQ(st.posts, 0);
  EXPECT_EQ(st.events, 0);
  EXPECT_TRUE(st.by_state.empty());
  RawDb raw(db());
  EXPECT_EQ(raw.integer("PRAGMA user_version"), relais::daemon::sqlite_schema_version());
}

TEST_F(store_sqlite, CommitStoresNewPostsAndReturnsTheirIds) {
  const Post a = full_post();
  const Post b = make_post("mail", "<1@example.org>");
  const Post c = make_post("xmpp:room", "m-1");
  const auto outcomes = commit({a, b, c});
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.duplicate);
    EXPECT_GT(o.post_id, 0);
  }
  EXPECT_LT(outcomes[0].post_id, outcomes[1].post_id);
  EXPECT_LT(outcomes[1].post_id, outcomes[2].post_id);

  const StoredPost stored = get(outcomes[0].post_id);
  EXPECT_EQ(stored.post.id, outcomes[0].post_id);
  expect_same_post(stored.post, a);
  EXPECT_EQ(stored.state, "received");
  EXPECT_TRUE(relais::protocol::valid_timestamp(stored.ingested_at)) << stored.ingested_at;
  EXPECT_FALSE(stored.verdict.has_value());
  EXPECT_FALSE(stored.triage.has_value());
  EXPECT_TRUE(stored.findings.empty());

  expect_same_post(get(outcomes[1].post_id).post, b);
  expect_same_post(get(outcomes[2].post_id).post, c);
}

// The WAL is copied back into the database as it grows, on the store's own
// checkpoint connection: without it the WAL grows without bound, and every
// read pays for its length.
TEST_F(store_sqlite, TheWalIsCheckpointedIntoTheDatabaseAsItGrows) {
  const auto size_of = [&](const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    return ec ? std::uintmax_t{0} : size;
  };
  const auto empty = size_of(db());
  // Each commit of 200 posts of 4 KB writes a few hundred pages: the
  // checkpoint is due past 1,000.
  std::string text(4000, 'a');
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Post> posts;
    for (int i = 0; i < 200; ++i) {
      Post p = make_post("wal", std::to_string(batch) + "-" + std::to_string(i));
      p.text = text;
      posts.push_back(std::move(p));
    }
    commit(posts);
  }
  // 16 MB went through the WAL; the database file holds them once the
  // checkpoint has run.
  EXPECT_TRUE(relais::test::wait_until([&] { return size_of(db()) > empty + 8'000'000; }))
      << "database " << size_of(db()) << " bytes, WAL " << size_of(dir / "relais.db-wal") << " bytes";
}

TEST_F(store_sqlite, ANullSubjectStaysNullAndAnEmptyOneStaysEmpty) {
  Post none = make_post("s", "no-subject");
  Post empty = make_post("s", "empty-subject");
  empty.subject = "";
  const auto outcomes = commit({none, empty});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(get(outcomes[0].post_id).post.subject.has_value());
  EXPECT_EQ(get(outcomes[1].post_id).post.subject, std::optional<std::string>(""));
}

TEST_F(store_sqlite, EachStoredPostGetsAReceivedEvent) {
  const auto outcomes = commit({make_post("webform", "a"), make_post("mail", "b")});
  ASSERT_EQ(outcomes.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const StoredPost stored = get(outcomes[i].post_id);
    ASSERT_EQ(stored.events.size(), 1u);
    const auto& e = stored.events[0];
    EXPECT_EQ(e.type, "received");
    EXPECT_EQ(e.actor, "source:" + stored.post.source);
    EXPECT_EQ(json::parse(e.detail_json), json::parse(R"({"channel":")" + stored.post.channel + "\"}"));
    EXPECT_TRUE(relais::protocol::valid_timestamp(e.at)) << e.at;
    EXPECT_EQ(e.id, 0);  // the post row itself records its reception
  }
  EXPECT_EQ(stats().events, 2);
}

TEST_F(store_sqlite, DuplicateInALaterCommitIsReportedWithTheFirstId) {
  const std::int64_t first = commit_one(make_post("webform", "f-1", "the original"));
  const auto again = commit({make_post("webform", "f-1", "a resent copy, edited")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].post_id, first);

  const StoredPost stored = get(first);
  EXPECT_EQ(stored.post.text, "the original");
  EXPECT_EQ(stored.events.size(), 1u);
  const auto st = stats();
  EXPECT_EQ(st.posts, 1);
  EXPECT_EQ(st.events, 1);
}

TEST_F(store_sqlite, DuplicateWithinOneCommitIsReportedWithTheFirstId) {
  const auto outcomes = commit({make_post("webform", "f-1", "first"), make_post("webform", "f-2"),
                                make_post("webform", "f-1", "second")});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_FALSE(outcomes[0].duplicate);
  EXPECT_FALSE(outcomes[1].duplicate);
  EXPECT_TRUE(outcomes[2].duplicate);
  EXPECT_EQ(outcomes[2].post_id, outcomes[0].post_id);
  EXPECT_NE(outcomes[1].post_id, outcomes[0].post_id);

  EXPECT_EQ(get(outcomes[0].post_id).post.text, "first");
  EXPECT_EQ(get(outcomes[0].post_id).events.size(), 1u);
  const auto st = stats();
  EXPECT_EQ(st.posts, 2);
  EXPECT_EQ(st.events, 2);
}

TEST_F(store_sqlite, SameExternalIdFromAnotherSourceIsAnotherPost) {
  const auto outcomes = commit({make_post("webform", "42"), make_post("mail", "42")});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(outcomes[1].duplicate);
  EXPECT_NE(outcomes[0].post_id, outcomes[1].post_id);
}

TEST_F(store_sqlite, EmptyCommitSucceeds) {
  EXPECT_TRUE(commit({}).empty());
  EXPECT_EQ(stats().posts, 0);
}

TEST_F(store_sqlite, GetPostOfAnUnknownIdIsEmpty) {
  commit_one(make_post("s", "e"));
  auto post = store->get_post(999);
  ASSERT_TRUE(post) << post.error().message;
  EXPECT_FALSE(post->has_value());
}

// ---------------------------------------------------------------------------
// Stage records

TEST_F(store_sqlite, StageRecordIsReadableThroughGetPost) {
  const std::int64_t id = commit_one(full_post());

  StageRecord r;
  r.post_id = id;
  r.state = "held";
  r.verdict.action = Action::hold;
  r.verdict.score = 6.5;
  r.verdict.findings = {Finding{"MANY_LINKS", 3.0, "4 links", std::nullopt, {}},
                        Finding{"BLOCKLIST", 3.5, "a known spammer", Action::hold, {}}};
  r.finding_stages = {"moderate:basic", "moderate:blocklist"};
  Triage t;
  t.kind = Kind::request;
  t.categories = {"groceries", "pharmacy"};
  t.urgency = Urgency::high;
  t.area = "vitry";
  t.lang = "fr";
  r.triage = t;
  r.events = {PostEvent{"moderated", "moderate", R"({"action":"hold","score":6.5})"},
              PostEvent{"triaged", "triage", R"({"kind":"request"})"}};
  EXPECT_TRUE(commit({}, {r}).empty());

  const StoredPost stored = get(id);
  EXPECT_EQ(stored.state, "held");
  ASSERT_TRUE(stored.verdict.has_value());
  EXPECT_EQ(stored.verdict->action, Action::hold);
  EXPECT_DOUBLE_EQ(stored.verdict->score, 6.5);
  ASSERT_EQ(stored.verdict->findings.size(), 2u);
  ASSERT_EQ(stored.findings.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(stored.findings[i].stage, r.finding_stages[i]);
    EXPECT_EQ(stored.findings[i].finding.symbol, r.verdict.findings[i].symbol);
    EXPECT_DOUBLE_EQ(stored.findings[i].finding.score, r.verdict.findings[i].score);
    EXPECT_EQ(stored.findings[i].finding.description, r.verdict.findings[i].description);
    EXPECT_EQ(stored.findings[i].finding.forced, r.verdict.findings[i].forced);
    EXPECT_EQ(stored.verdict->findings[i].symbol, r.verdict.findings[i].symbol);
  }
  ASSERT_TRUE(stored.triage.has_value());
  EXPECT_EQ(stored.triage->kind, Kind::request);
  EXPECT_EQ(stored.triage->categories, t.categories);
  EXPECT_EQ(stored.triage->urgency, Urgency::high);
  EXPECT_EQ(stored.triage->area, "vitry");
  EXPECT_EQ(stored.triage->lang, "fr");

  ASSERT_EQ(stored.events.size(), 3u);
  EXPECT_EQ(stored.events[0].type, "received");
  EXPECT_EQ(stored.events[1].type, "moderated");
  EXPECT_EQ(stored.events[1].actor, "moderate");
  EXPECT_EQ(json::parse(stored.events[1].detail_json), json::parse(r.events[0].detail_json));
  EXPECT_EQ(stored.events[2].type, "triaged");
  EXPECT_EQ(stored.events[2].actor, "triage");
  EXPECT_LT(stored.events[1].id, stored.events[2].id);

  // The post itself is untouched.
  expect_same_post(stored.post, full_post());
}

// What moderation hides from the public and the post a duplicate links to
// are kept with their finding.
TEST_F(store_sqlite, RedactionsAndTheRelatedPostOfAFindingAreKept) {
  const std::int64_t first = commit_one(make_post("webform", "a"));
  const std::int64_t id = commit_one(full_post());
  StageRecord r;
  r.post_id = id;
  r.state = "held";
  r.verdict.action = Action::hold;
  Finding phone{"PII_PHONE", 0.0, "1 phone number", std::nullopt, {}};
  phone.redactions = {{"text", 12, 14, "[phone]"}, {"subject", 0, 3, "[x]"}};
  Finding dup{"DUPLICATE", 0.0, "same need as an earlier post", Action::reject, {}};
  dup.related_post = first;
  r.verdict.findings = {phone, dup, Finding{"PLAIN", 1.0, "nothing else", std::nullopt, {}}};
  r.finding_stages = {"moderate:pii:0", "moderate:dedup:1", "moderate:basic:2"};
  EXPECT_TRUE(commit({}, {r}).empty());

  const StoredPost stored = get(id);
  ASSERT_EQ(stored.findings.size(), 3u);
  const auto& redactions = stored.findings[0].finding.redactions;
  ASSERT_EQ(redactions.size(), 2u);
  EXPECT_EQ(redactions[0].field, "text");
  EXPECT_EQ(redactions[0].offset, 12u);
  EXPECT_EQ(redactions[0].length, 14u);
  EXPECT_EQ(redactions[0].replacement, "[phone]");
  EXPECT_EQ(redactions[1].field, "subject");
  EXPECT_EQ(stored.findings[0].finding.related_post, 0);
  EXPECT_EQ(stored.findings[1].finding.related_post, first);
  EXPECT_EQ(stored.findings[1].stage, "moderate:dedup:1");
  EXPECT_TRUE(stored.findings[2].finding.redactions.empty());
}

// A decision is recorded only while the post is in the state the person saw.
TEST_F(store_sqlite, ADecisionAppliesOnlyToAPostStillInTheExpectedState) {
  const std::int64_t id = commit_one(make_post("webform", "held-1"));
  StageRecord held;
  held.post_id = id;
  held.state = "held";
  held.verdict.action = Action::hold;
  held.verdict.score = 6.0;
  held.events = {PostEvent{"moderated", "moderate", R"({"action":"hold"})"}};
  EXPECT_TRUE(commit({}, {held}).empty());

  StageRecord approve;
  approve.post_id = id;
  approve.state = "accepted";
  approve.verdict.action = Action::accept;
  approve.verdict.score = 6.0;
  approve.events = {PostEvent{"approved", "moderator:alice", R"({"note":"fine"})"}};
  auto first = store->decide(approve, "held");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);

  StageRecord reject = approve;
  reject.state = "rejected";
  reject.verdict.action = Action::reject;
  reject.events = {PostEvent{"rejected", "moderator:bob", R"({"reason":"spam"})"}};
  auto second = store->decide(reject, "held");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(*second);

  const StoredPost stored = get(id);
  EXPECT_EQ(stored.state, "accepted");
  ASSERT_EQ(stored.events.size(), 3u);
  EXPECT_EQ(stored.events[2].type, "approved");
  EXPECT_EQ(stored.events[2].actor, "moderator:alice");
  EXPECT_DOUBLE_EQ(stored.verdict->score, 6.0);

  // A post the pipeline has not decided about is not held either.
  const std::int64_t fresh = commit_one(make_post("webform", "fresh"));
  approve.post_id = fresh;
  auto unheld = store->decide(approve, "held");
  ASSERT_TRUE(unheld);
  EXPECT_FALSE(*unheld);
  EXPECT_EQ(get(fresh).state, "received");
}

// One pipeline pass is stored as one row; reading gives back each of its
// events, in order, each with an id no other event has, even after a reopen.
TEST_F(store_sqlite, EventsOfOnePassKeepTheirOrderAndOwnIdsAcrossReopen) {
  const std::int64_t a = commit_one(make_post("s", "a"));
  const std::int64_t b = commit_one(make_post("s", "b"));
  StageRecord first = moved_to(a, "routed");
  first.events = {PostEvent{"moderated", "moderate", R"({"action":"accept"})"},
                  PostEvent{"triaged", "triage", R"({"kind":"request","note":"\"quoted\""})"},
                  PostEvent{"routed", "route", R"({"destinations":["x"]})"}};
  commit({}, {first});
  store.reset();
  open();
  StageRecord second = moved_to(b, "held", Action::hold);
  second.events = {PostEvent{"moderated", "moderate", "{}"}, PostEvent{"triaged", "triage", "{}"}};
  StageRecord lone = moved_to(a, "routed");
  lone.events = {PostEvent{"claimed", "person:ana", "{}"}};
  commit({}, {second, lone});

  const StoredPost pa = get(a);
  ASSERT_EQ(pa.events.size(), 5u);
  const std::vector<std::string> types = {"received", "moderated", "triaged", "routed", "claimed"};
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < types.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(pa.events[i].type, types[i]);
    if (i > 0) ids.push_back(pa.events[i].id);
  }
  EXPECT_EQ(pa.events[4].actor, "person:ana");
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(json::parse(pa.events[i].detail_json), json::parse(first.events[i - 1].detail_json));
  }
  const StoredPost pb = get(b);
  ASSERT_EQ(pb.events.size(), 3u);
  EXPECT_EQ(pb.events[1].type, "moderated");
  EXPECT_EQ(pb.events[2].type, "triaged");
  ids.push_back(pb.events[1].id);
  ids.push_back(pb.events[2].id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an event id is used twice";
  EXPECT_LT(pa.events[1].id, pa.events[2].id);
  EXPECT_LT(pa.events[3].id, pa.events[4].id);

  EXPECT_EQ(stats().events, 2 + 3 + 2 + 1);
}

TEST_F(store_sqlite, RejectedRecordWithoutTriage) {
  const std::int64_t id = commit_one(make_post("s", "spam"));
  StageRecord r = moved_to(id, "rejected", Action::reject);
  r.verdict.score = 12;
  r.verdict.findings = {Finding{"SPAM", 12.0, "spam", Action::reject, {}}};
  r.finding_stages = {"moderate:basic"};
  commit({}, {r});
  const StoredPost stored = get(id);
  EXPECT_EQ(stored.state, "rejected");
  ASSERT_TRUE(stored.verdict);
  EXPECT_EQ(stored.verdict->action, Action::reject);
  EXPECT_FALSE(stored.triage.has_value());
  ASSERT_EQ(stored.findings.size(), 1u);
  EXPECT_EQ(stored.findings[0].finding.forced, Action::reject);
}

TEST_F(store_sqlite, PostsAndRecordsInOneCommit) {
  const std::int64_t first = commit_one(make_post("s", "1"));
  const auto outcomes = commit({make_post("s", "2")}, {moved_to(first, "accepted")});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(get(first).state, "accepted");
  EXPECT_EQ(get(outcomes[0].post_id).state, "received");
}

TEST_F(store_sqlite, AFailingCommitStoresNothing) {
  commit_one(make_post("s", "before"));
  // A finding for a post that does not exist breaks a foreign key: the whole
  // transaction, with the new post in it, must roll back.
  StageRecord r = moved_to(4242, "held", Action::hold);
  r.verdict.findings = {Finding{"X", 1.0, "", std::nullopt, {}}};
  r.finding_stages = {"moderate:x"};
  const std::vector<Post> posts = {make_post("s", "during")};
  const std::vector<StageRecord> records = {r};
  auto outcome = store->commit(posts, records);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, "storage");
  EXPECT_FALSE(outcome.error().message.empty());
  const auto st = stats();
  EXPECT_EQ(st.posts, 1);
  EXPECT_EQ(st.events, 1);

  // The store goes on working, and the refused post can come again.
  const auto again = commit({make_post("s", "during")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(again[0].duplicate);
}

// ---------------------------------------------------------------------------
// Queries

TEST_F(store_sqlite, ListPostsByStateNewestFirstWithALimit) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(commit_one(make_post(i % 2 == 0 ? "webform" : "mail", std::to_string(i))));
  StageRecord routed = moved_to(ids[3], "routed");
  Triage t;
  t.kind = Kind::request;
  t.urgency = Urgency::critical;
  t.area = "ivry";
  routed.triage = t;
  commit({}, {moved_to(ids[0], "held", Action::hold), moved_to(ids[2], "held", Action::hold),
              moved_to(ids[1], "rejected", Action::reject), routed});

  EXPECT_EQ(listed_ids("held", 10), (std::vector<std::int64_t>{ids[2], ids[0]}));
  EXPECT_EQ(listed_ids("held", 1), (std::vector<std::int64_t>{ids[2]}));
  EXPECT_EQ(listed_ids("rejected", 10), (std::vector<std::int64_t>{ids[1]}));
  EXPECT_EQ(listed_ids("received", 10), (std::vector<std::int64_t>{ids[5], ids[4]}));
  EXPECT_EQ(listed_ids("", 3), (std::vector<std::int64_t>{ids[5], ids[4], ids[3]}));
  EXPECT_EQ(listed_ids("", 100).size(), 6u);
  EXPECT_TRUE(listed_ids("unrouted", 10).empty());
  EXPECT_TRUE(listed_ids("no-such-state", 10).empty());

  auto summaries = store->list_posts("routed", 10);
  ASSERT_TRUE(summaries) << summaries.error().message;
  ASSERT_EQ(summaries->size(), 1u);
  const auto& s = summaries->front();
  EXPECT_EQ(s.id, ids[3]);
  EXPECT_EQ(s.source, "mail");
  EXPECT_EQ(s.external_id, "3");
  EXPECT_EQ(s.channel, "mail-channel");
  EXPECT_EQ(s.state, "routed");
  EXPECT_EQ(s.received_at, "2020-04-01T08:12:00+02:00");
  EXPECT_EQ(s.kind, "request");
  EXPECT_EQ(s.urgency, "critical");
  EXPECT_EQ(s.area, "ivry");
  EXPECT_EQ(s.action, "accept");

  auto untriaged = store->list_posts("received", 1);
  ASSERT_TRUE(untriaged);
  ASSERT_EQ(untriaged->size(), 1u);
  EXPECT_EQ(untriaged->front().kind, "");
  EXPECT_EQ(untriaged->front().action, "");
}

TEST_F(store_sqlite, UnfinishedReturnsReceivedPostsInIdOrderAfterAnId) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(commit_one(make_post("s", std::to_string(i))));
  commit({}, {moved_to(ids[1], "held", Action::hold), moved_to(ids[4], "accepted")});

  EXPECT_EQ(unfinished_ids(0, 100), (std::vector<std::int64_t>{ids[0], ids[2], ids[3], ids[5]}));
  EXPECT_EQ(unfinished_ids(ids[0], 100), (std::vector<std::int64_t>{ids[2], ids[3], ids[5]}));
  EXPECT_EQ(unfinished_ids(ids[2], 2), (std::vector<std::int64_t>{ids[3], ids[5]}));
  EXPECT_EQ(unfinished_ids(0, 1), (std::vector<std::int64_t>{ids[0]}));
  EXPECT_TRUE(unfinished_ids(ids[5], 100).empty());

  // The posts come back whole, for the pipeline to run again.
  auto posts = store->unfinished(0, 1);
  ASSERT_TRUE(posts);
  ASSERT_EQ(posts->size(), 1u);
  EXPECT_EQ(posts->front().id, ids[0]);
  expect_same_post(posts->front(), make_post("s", "0"));
}

TEST_F(store_sqlite, StatsCountPostsEventsStatesAndSources) {
  std::vector<std::int64_t> ids;
  for (const char* source : {"webform", "webform", "mail", "xmpp:room", "webform"}) {
    ids.push_back(commit_one(make_post(source, "id-" + std::to_string(ids.size()))));
  }
  StageRecord held = moved_to(ids[0], "held", Action::hold);
  held.events = {PostEvent{"moderated", "moderate", "{}"}, PostEvent{"triaged", "triage", "{}"}};
  commit({}, {held, moved_to(ids[2], "routed")});
  commit({make_post("webform", "id-0")});  // a duplicate: no new post, no event

  const auto st = stats();
  EXPECT_EQ(st.schema_version, relais::daemon::sqlite_schema_version());
  EXPECT_EQ(st.posts, 5);
  EXPECT_EQ(st.events, 7);
  EXPECT_EQ(st.by_state, (std::map<std::string, std::int64_t>{{"held", 1}, {"received", 3}, {"routed", 1}}));
  EXPECT_EQ(st.by_source,
            (std::map<std::string, std::int64_t>{{"mail", 1}, {"webform", 3}, {"xmpp:room", 1}}));
}

// ---------------------------------------------------------------------------
// Persistence and read-only stores

TEST_F(store_sqlite, DataSurvivesCloseAndReopen) {
  const std::int64_t id = commit_one(full_post());
  StageRecord r = moved_to(id, "unrouted");
  Triage t;
  t.kind = Kind::request;
  t.categories = {"groceries"};
  r.triage = t;
  commit({}, {r});
  store.reset();

  open();
  const StoredPost stored = get(id);
  expect_same_post(stored.post, full_post());
  EXPECT_EQ(stored.state, "unrouted");
  ASSERT_TRUE(stored.triage);
  EXPECT_EQ(stored.triage->categories, std::vector<std::string>{"groceries"});
  EXPECT_EQ(stored.events.size(), 1u);

  // Duplicates are still known, and new posts get new ids.
  const auto again = commit({full_post(), make_post("s", "new")});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].post_id, id);
  EXPECT_FALSE(again[1].duplicate);
  EXPECT_GT(again[1].post_id, id);
}

TEST_F(store_sqlite, SynchronousNormalOpens) {
  store.reset();
  SqliteOptions options;
  options.synchronous = "normal";
  open(options);
  EXPECT_GT(commit_one(make_post("s", "e")), 0);
}

TEST_F(store_sqlite, ReadOnlyStoreReadsBesideTheWriter) {
  const std::int64_t id = commit_one(full_post());
  SqliteOptions ro;
  ro.read_only = true;
  auto reader = relais::daemon::open_sqlite_store(db(), ro);
  ASSERT_TRUE(reader) << reader.error().message;
  auto post = (*reader)->get_post(id);
  ASSERT_TRUE(post) << post.error().message;
  ASSERT_TRUE(post->has_value());
  expect_same_post((*post)->post, full_post());

  // A later commit of the writer is seen by the reader.
  const std::int64_t later = commit_one(make_post("s", "later"));
  auto listed = (*reader)->list_posts("", 10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(listed->front().id, later);
  auto st = (*reader)->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->posts, 2);
}

// The Store interface lets anyone holding a read-only store call commit():
// it must be refused with an error, not crash the daemon. The commit runs in
// a child process (no SQLite connection is open across the fork), so that a
// crash fails this test alone.
TEST(store_read_only, CommitIsRefusedWithAnError) {
  relais::test::TempDir dir;
  {
    auto writer = relais::daemon::open_sqlite_store(dir / "relais.db", {});
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE((*writer)->commit(std::vector<Post>{make_post("s", "e")}, {}));
  }
  const auto file = dir / "relais.db";
  EXPECT_EXIT(
      {
        SqliteOptions ro;
        ro.read_only = true;
        auto reader = relais::daemon::open_sqlite_store(file, ro);
        if (!reader) std::exit(3);
        auto outcome = (*reader)->commit(std::vector<Post>{make_post("s", "via-reader")}, {});
        std::exit(!outcome && !outcome.error().message.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  RawDb raw(file);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM posts"), 1);
}

TEST(store_open, ReadOnlyDoesNotCreateADatabase) {
  relais::test::TempDir dir;
  SqliteOptions ro;
  ro.read_only = true;
  auto store = relais::daemon::open_sqlite_store(dir / "absent.db", ro);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, "storage");
  EXPECT_TRUE(contains(store.error().message, (dir / "absent.db").string())) << store.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir / "absent.db"));
}

TEST(store_open, ADirectoryThatDoesNotExistIsAnError) {
  relais::test::TempDir dir;
  auto store = relais::daemon::open_sqlite_store(dir / "no" / "such" / "relais.db", {});
  ASSERT_FALSE(store);
  EXPECT_TRUE(contains(store.error().message, "cannot open")) << store.error().message;
}

// ---------------------------------------------------------------------------
// Migrations

// A database as the first schema left it, written by the store itself.
void create_version1_database(const std::filesystem::path& file) {
  SqliteOptions v1;
  v1.migrate_to = 1;
  auto old = relais::daemon::open_sqlite_store(file, v1);
  ASSERT_TRUE(old) << old.error().message;
}

TEST(store_migration, Version1DatabaseIsMigratedAndKeepsItsPosts) {
  relais::test::TempDir dir;
  const auto file = dir / "relais.db";
  ASSERT_NO_FATAL_FAILURE(create_version1_database(file));
  {
    RawDb raw(file);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
    const auto columns = raw.columns("posts");
    EXPECT_EQ(std::count(columns.begin(), columns.end(), "kind"), 0);
    raw.exec(
        "INSERT INTO posts(id, source, external_id, channel, sender, subject, text, lang, fields, private, "
        "received_at, ingested_at) VALUES (7, 'webform', 'old-1', 'webform', 'jeanne', NULL, "
        "'Besoin de pain', 'fr', '{\"category\":\"groceries\"}', '{\"name\":\"Jeanne\"}', "
        "'2020-03-20T10:00:00Z', '2020-03-20T10:00:01.000Z')");
    raw.exec(
        "INSERT INTO events(post_id, id, at, type, actor, detail) VALUES (7, 1, '2020-03-20T10:00:02.000Z', "
        "'moderated', 'moderate', '{\"action\":\"hold\"}')");
  }

  auto opened = relais::daemon::open_sqlite_store(file, {});
  ASSERT_TRUE(opened) << opened.error().message;
  Store& store = **opened;
  auto st = store.stats();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->schema_version, relais::daemon::sqlite_schema_version());
  EXPECT_EQ(st->posts, 1);
  // Version 1 kept no outcomes: the post waits for the pipeline again.
  EXPECT_EQ(st->by_state, (std::map<std::string, std::int64_t>{{"received", 1}}));

  auto got = store.get_post(7);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const StoredPost& old = **got;
  EXPECT_EQ(old.post.id, 7);
  EXPECT_EQ(old.post.source, "webform");
  EXPECT_EQ(old.post.external_id, "old-1");
  EXPECT_EQ(old.post.sender, "jeanne");
  EXPECT_FALSE(old.post.subject.has_value());
  EXPECT_EQ(old.post.text, "Besoin de pain");
  EXPECT_EQ(old.post.fields, (std::map<std::string, std::string>{{"category", "groceries"}}));
  EXPECT_EQ(old.post.private_data, (std::map<std::string, std::string>{{"name", "Jeanne"}}));
  EXPECT_EQ(old.post.received_at, "2020-03-20T10:00:00Z");
  EXPECT_EQ(old.state, "received");
  EXPECT_FALSE(old.verdict.has_value());
  EXPECT_FALSE(old.triage.has_value());
  ASSERT_EQ(old.events.size(), 2u);
  EXPECT_EQ(old.events[0].type, "received");
  EXPECT_EQ(old.events[1].type, "moderated");

  // The new columns and the findings table work for the old post.
  StageRecord r;
  r.post_id = 7;
  r.state = "routed";
  r.verdict.findings = {Finding{"OK", 0.5, "fine", std::nullopt, {}}};
  r.verdict.score = 0.5;
  r.finding_stages = {"moderate:basic"};
  Triage t;
  t.kind = Kind::request;
  t.categories = {"groceries"};
  t.area = "vitry";
  r.triage = t;
  auto applied = store.commit({}, std::vector<StageRecord>{r});
  ASSERT_TRUE(applied) << applied.error().message;
  auto after = store.get_post(7);
  ASSERT_TRUE(after && after->has_value());
  EXPECT_EQ((*after)->state, "routed");
  ASSERT_TRUE((*after)->verdict);
  EXPECT_DOUBLE_EQ((*after)->verdict->score, 0.5);
  ASSERT_TRUE((*after)->triage);
  EXPECT_EQ((*after)->triage->area, "vitry");
  ASSERT_EQ((*after)->findings.size(), 1u);

  // Duplicates of an old post are still recognised; new posts follow its id.
  auto more =
      store.commit(std::vector<Post>{make_post("webform", "old-1"), make_post("webform", "new-1")}, {});
  ASSERT_TRUE(more) << more.error().message;
  ASSERT_EQ(more->size(), 2u);
  EXPECT_TRUE((*more)[0].duplicate);
  EXPECT_EQ((*more)[0].post_id, 7);
  EXPECT_FALSE((*more)[1].duplicate);
  EXPECT_GT((*more)[1].post_id, 7);

  opened->reset();  // closes the store
  RawDb raw(file);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), relais::daemon::sqlite_schema_version());
  const auto columns = raw.columns("outcomes");
  for (const char* column : {"state", "action", "score", "kind", "categories", "urgency", "area", "lang"}) {
    EXPECT_EQ(std::count(columns.begin(), columns.end(), column), 1) << column;
  }
  EXPECT_EQ(raw.columns("findings").empty(), false);
}

TEST(store_migration, Version2FindingsGainRedactionsAndARelatedPost) {
  relais::test::TempDir dir;
  const auto file = dir / "relais.db";
  {
    SqliteOptions v2;
    v2.migrate_to = 2;
    auto old = relais::daemon::open_sqlite_store(file, v2);
    ASSERT_TRUE(old) << old.error().message;
  }
  {
    RawDb raw(file);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 2);
    raw.exec(
        "INSERT INTO posts(id, source, external_id, channel, sender, subject, text, lang, fields, private, "
        "received_at, ingested_at) VALUES (3, 'chat', 'c-1', 'chat', 'x', NULL, 'Besoin de pain', 'fr', "
        "'{}', "
        "'{}', '2020-03-20T10:00:00Z', '2020-03-20T10:00:01.000Z')");
    raw.exec("INSERT INTO outcomes(post_id, state, action, score) VALUES (3, 'held', 'hold', 5)");
    raw.exec(
        "INSERT INTO findings(post_id, id, stage, symbol, score, description, forced) VALUES "
        "(3, 1, 'moderate:basic:0', 'SHOUTING', 5, 'capitals', 'hold')");
  }
  auto opened = relais::daemon::open_sqlite_store(file, {});
  ASSERT_TRUE(opened) << opened.error().message;
  auto got = (*opened)->get_post(3);
  ASSERT_TRUE(got && got->has_value());
  ASSERT_EQ((*got)->findings.size(), 1u);
  EXPECT_EQ((*got)->findings[0].finding.symbol, "SHOUTING");
  EXPECT_TRUE((*got)->findings[0].finding.redactions.empty());
  EXPECT_EQ((*got)->findings[0].finding.related_post, 0);
  opened->reset();
  RawDb raw(file);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), relais::daemon::sqlite_schema_version());
  const auto columns = raw.columns("findings");
  EXPECT_EQ(std::count(columns.begin(), columns.end(), "redactions"), 1);
  EXPECT_EQ(std::count(columns.begin(), columns.end(), "related_post"), 1);
}

TEST(store_migration, NewerDatabaseIsRefused) {
  relais::test::TempDir dir;
  const auto file = dir / "relais.db";
  {
    auto store = relais::daemon::open_sqlite_store(file, {});
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->commit(std::vector<Post>{make_post("s", "e")}, {}));
  }
  const int newer = relais::daemon::sqlite_schema_version() + 1;
  {
    RawDb raw(file);
    raw.exec("PRAGMA user_version = " + std::to_string(newer));
  }
  for (const bool read_only : {false, true}) {
    SCOPED_TRACE(read_only ? "read-only" : "writer");
    SqliteOptions options;
    options.read_only = read_only;
    auto store = relais::daemon::open_sqlite_store(file, options);
    ASSERT_FALSE(store);
    const std::string& message = store.error().message;
    EXPECT_EQ(store.error().code, "storage");
    EXPECT_TRUE(contains(message, file.string())) << message;
    EXPECT_TRUE(contains(message, "schema version " + std::to_string(newer))) << message;
    EXPECT_TRUE(contains(message, "written by a newer relais")) << message;
  }
  // Refusing it did not touch it.
  RawDb raw(file);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), newer);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM posts"), 1);
}

TEST(store_migration, ReadOnlyStoreOnAnOlderDatabaseIsRefused) {
  relais::test::TempDir dir;
  const auto file = dir / "relais.db";
  ASSERT_NO_FATAL_FAILURE(create_version1_database(file));
  SqliteOptions ro;
  ro.read_only = true;
  auto store = relais::daemon::open_sqlite_store(file, ro);
  ASSERT_FALSE(store);
  const std::string& message = store.error().message;
  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "schema version 1")) << message;
  EXPECT_TRUE(contains(message, "start relaisd once to migrate it to " +
                                    std::to_string(relais::daemon::sqlite_schema_version())))
      << message;
  // A reader never migrates.
  RawDb raw(file);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
}

TEST(store_migration, OpeningTwiceAtTheNewestVersionChangesNothing) {
  relais::test::TempDir dir;
  const auto file = dir / "relais.db";
  std::int64_t id = 0;
  {
    auto store = relais::daemon::open_sqlite_store(file, {});
    ASSERT_TRUE(store) << store.error().message;
    auto out = (*store)->commit(std::vector<Post>{make_post("s", "e")}, {});
    ASSERT_TRUE(out);
    id = out->front().post_id;
  }
  auto again = relais::daemon::open_sqlite_store(file, {});
  ASSERT_TRUE(again) << again.error().message;
  auto post = (*again)->get_post(id);
  ASSERT_TRUE(post && post->has_value());
  EXPECT_EQ((*post)->post.external_id, "e");
}

}  // namespace
