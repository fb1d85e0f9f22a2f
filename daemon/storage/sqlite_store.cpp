// The embedded default backend: one SQLite file in WAL mode. A writer Store
// owns the only write connection; readers open their own read-only Store.
#include <sqlite3.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "log.hpp"
#include "protocol.hpp"
#include "storage/sqlite.hpp"
#include "storage/sqlite_routing.hpp"
#include "storage/store.hpp"

namespace relais::daemon {
namespace json = boost::json;
namespace {

using sqlite::Db;
using sqlite::exec;
using sqlite::json_to_list;
using sqlite::list_to_json;
using sqlite::ReadTransaction;
using sqlite::Stmt;
using sqlite::user_version;

// Each step brings the schema from version N-1 to N. Never edit a released
// step: add a new one.
struct Migration {
  int version;
  const char* sql;
};

// Posts are written once and never rewritten; what the pipeline and people
// decide lives in narrow tables beside them, so that a state change does not
// rewrite a post's text. Events and findings are clustered by post.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE posts(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT,
  text TEXT NOT NULL,
  lang TEXT NOT NULL,
  fields TEXT NOT NULL,
  private TEXT NOT NULL,
  received_at TEXT NOT NULL,
  ingested_at TEXT NOT NULL,
  UNIQUE(source, external_id)
);
CREATE TABLE events(
  post_id INTEGER NOT NULL REFERENCES posts(id),
  id INTEGER NOT NULL,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY(post_id, id)
) WITHOUT ROWID;
)sql"},
    {2, R"sql(
CREATE TABLE outcomes(
  post_id INTEGER PRIMARY KEY REFERENCES posts(id),
  state TEXT NOT NULL,
  action TEXT NOT NULL,
  score REAL NOT NULL,
  kind TEXT,
  categories TEXT,
  urgency TEXT,
  area TEXT,
  lang TEXT
);
CREATE INDEX outcomes_by_state ON outcomes(state, post_id);
CREATE TABLE findings(
  post_id INTEGER NOT NULL REFERENCES posts(id),
  id INTEGER NOT NULL,
  stage TEXT NOT NULL,
  symbol TEXT NOT NULL,
  score REAL NOT NULL,
  description TEXT NOT NULL,
  forced TEXT,
  PRIMARY KEY(post_id, id)
) WITHOUT ROWID;
)sql"},
    // What a finding hides from the public view, and the post it links to
    // (a duplicate's first post).
    {3, R"sql(
ALTER TABLE findings ADD COLUMN redactions TEXT;
ALTER TABLE findings ADD COLUMN related_post INTEGER;
)sql"},
    // Routing: the needs with their timers, the destinations given each
    // (and the capacity day each used), the outbox; the database's own id.
    {4, R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('database_id', lower(hex(randomblob(8))));
CREATE TABLE needs(
  post_id INTEGER PRIMARY KEY REFERENCES posts(id),
  owner TEXT NOT NULL,
  claimed_by TEXT NOT NULL,
  deadline INTEGER,
  version INTEGER NOT NULL
);
CREATE INDEX needs_by_deadline ON needs(deadline) WHERE deadline IS NOT NULL;
CREATE TABLE assignments(
  post_id INTEGER NOT NULL REFERENCES posts(id),
  destination TEXT NOT NULL,
  reason TEXT NOT NULL,
  day TEXT NOT NULL,
  state TEXT NOT NULL,
  at TEXT NOT NULL,
  UNIQUE(post_id, destination)
);
CREATE INDEX assignments_by_destination ON assignments(destination, post_id);
CREATE TABLE deliveries(
  id INTEGER PRIMARY KEY,
  post_id INTEGER NOT NULL REFERENCES posts(id),
  destination TEXT NOT NULL,
  sink TEXT NOT NULL,
  purpose TEXT NOT NULL,
  reason TEXT NOT NULL,
  related_post INTEGER,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_by_post ON deliveries(post_id);
CREATE INDEX deliveries_by_state ON deliveries(state, id);
CREATE INDEX outcomes_by_area ON outcomes(area, state, post_id);
)sql"},
};

constexpr int kSchemaVersion = 4;

// An events row of this type holds the events of one pipeline pass, as a JSON
// array of [type, actor, detail]; reading expands it into those events. The
// row's id is its first event's; the next ones follow it.
constexpr std::string_view kPassEvent = "pipeline_pass";

std::string map_to_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return json::serialize(o);
}

std::map<std::string, std::string> json_to_map(const std::string& text) {
  std::map<std::string, std::string> m;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return m;
  for (const auto& kv : v.get_object()) {
    if (kv.value().is_string()) m.emplace(kv.key(), kv.value().get_string());
  }
  return m;
}

// [[field, offset, length, replacement], ...]; NULL when there are none.
std::optional<std::string> redactions_to_json(const std::vector<Redaction>& redactions) {
  if (redactions.empty()) return std::nullopt;
  json::array a;
  for (const auto& r : redactions) {
    a.push_back(json::array{json::value(r.field), json::value(static_cast<std::uint64_t>(r.offset)),
                            json::value(static_cast<std::uint64_t>(r.length)), json::value(r.replacement)});
  }
  return json::serialize(a);
}

std::vector<Redaction> json_to_redactions(const std::string& text) {
  std::vector<Redaction> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.get_array()) {
    const auto* r = item.if_array();
    if (r == nullptr || r->size() != 4 || !(*r)[0].is_string() || !(*r)[1].is_number() ||
        !(*r)[2].is_number() || !(*r)[3].is_string()) {
      continue;
    }
    out.push_back({std::string((*r)[0].get_string()), (*r)[1].to_number<std::size_t>(),
                   (*r)[2].to_number<std::size_t>(), std::string((*r)[3].get_string())});
  }
  return out;
}

// Copies the WAL back into the database file on its own thread and
// connection, so that the writer's commits never pay for it.
class Checkpointer {
 public:
  explicit Checkpointer(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), db_.out(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      throw std::runtime_error(file.string() + ": cannot open the checkpoint connection: " + db_.error());
    }
    sqlite3_busy_timeout(db_.get(), 1000);
    // A connection learns that the database is in WAL mode, and opens the
    // WAL, only when it first reads it: until then a checkpoint on it does
    // nothing at all, and the WAL grows without bound.
    exec(db_.get(), "SELECT count(*) FROM sqlite_schema");
    thread_ = std::thread([this] {
      name_this_thread("checkpoint");
      run();
    });
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // From the writer's WAL hook: the WAL holds `pages` pages.
  void wal_grew(int pages) {
    if (pages < kPagesBeforeCheckpoint) return;
    {
      std::lock_guard lock(mutex_);
      due_ = true;
    }
    wake_.notify_one();
  }

 private:
  static constexpr int kPagesBeforeCheckpoint = 1000;

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || due_; });
      if (stopping_) return;
      due_ = false;
      lock.unlock();
      // PASSIVE: copies what it can without waiting for readers or the writer.
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  Db db_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

class SqliteStore final : public Store, public sqlite::EventWriter {
 public:
  SqliteStore(const std::filesystem::path& file, const SqliteOptions& options)
      : read_only_(options.read_only) {
    const int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(file.c_str(), db_.out(), flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      throw std::runtime_error(file.string() + ": cannot open the database: " + db_.error());
    }
    sqlite3_busy_timeout(db_.get(), 5000);
    const int version = user_version(db_.get());
    if (version > kSchemaVersion) {
      throw std::runtime_error(
          file.string() + ": the database has schema version " + std::to_string(version) +
          ", written by a newer relais; this build knows up to " + std::to_string(kSchemaVersion) +
          ". Upgrade relais or use a copy made before.");
    }
    if (!read_only_) {
      exec(db_.get(), "PRAGMA journal_mode=WAL");
      exec(db_.get(),
           options.synchronous == "normal" ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
      exec(db_.get(), "PRAGMA foreign_keys=ON");
      migrate(options.migrate_to == 0 ? kSchemaVersion : options.migrate_to);
    } else if (version != kSchemaVersion) {
      throw std::runtime_error(file.string() + ": the database has schema version " +
                               std::to_string(version) + "; start relaisd once to migrate it to " +
                               std::to_string(kSchemaVersion));
    }
    if (!read_only_ && (options.migrate_to == 0 || options.migrate_to == kSchemaVersion)) {
      try {
        prepare();
      } catch (const std::exception& e) {
        // The version number says the schema is current, the tables disagree.
        throw std::runtime_error(file.string() + ": the database claims schema version " +
                                 std::to_string(kSchemaVersion) + " but does not match it (" + e.what() +
                                 "); it was not written by a release of relais");
      }
      checkpointer_ = std::make_unique<Checkpointer>(file);
      exec(db_.get(), "PRAGMA wal_autocheckpoint=0");
      sqlite3_wal_hook(
          db_.get(),
          [](void* self, sqlite3*, const char*, int pages) {
            static_cast<Checkpointer*>(self)->wal_grew(pages);
            return SQLITE_OK;
          },
          checkpointer_.get());
      writable_ = true;
    }
  }

  ~SqliteStore() override {
    if (writable_) sqlite3_wal_hook(db_.get(), nullptr, nullptr);
  }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Expected<std::vector<IngestOutcome>> commit(std::span<const Post> posts,
                                              std::span<const StageRecord> records,
                                              std::span<const DeliveryOutcome> deliveries = {}) override {
    if (!writable_) return Error{"storage", "this store connection is read-only", ""};
    try {
      exec(db_.get(), "BEGIN IMMEDIATE");
      std::vector<IngestOutcome> outcomes;
      outcomes.reserve(posts.size());
      try {
        const std::string now = protocol::now_rfc3339();
        for (const auto& post : posts) outcomes.push_back(insert_post(post, now));
        for (const auto& record : records) apply(record, now);
        for (const auto& o : deliveries) routing_->record(o, now);
        exec(db_.get(), "COMMIT");
      } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      return outcomes;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  Expected<bool> decide(const StageRecord& record, std::string_view expected_state) override {
    if (!writable_) return Error{"storage", "this store connection is read-only", ""};
    try {
      exec(db_.get(), "BEGIN IMMEDIATE");
      try {
        // Checked inside the transaction: two people deciding at once, or
        // a decision racing a reload's re-run, cannot both win.
        Stmt current(db_.get(), "SELECT state FROM outcomes WHERE post_id = ?");
        current.bind(1, record.post_id);
        if (!current.step() || current.text(0) != expected_state) {
          current.reset();
          exec(db_.get(), "ROLLBACK");
          return false;
        }
        current.reset();
        apply(record, protocol::now_rfc3339());
        exec(db_.get(), "COMMIT");
      } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      return true;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  Expected<std::vector<Post>> unfinished(std::int64_t after, std::size_t limit) override {
    try {
      Stmt s(db_.get(),
             "SELECT id, source, external_id, channel, sender, subject, text, lang, fields, private, "
             "received_at FROM posts p WHERE id > ? AND NOT EXISTS "
             "(SELECT 1 FROM outcomes o WHERE o.post_id = p.id) ORDER BY id LIMIT ?");
      s.bind(1, after).bind(2, static_cast<std::int64_t>(limit));
      std::vector<Post> out;
      while (s.step()) out.push_back(read_post(s));
      return out;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  Expected<std::vector<PostSummary>> list_posts(std::string_view wanted, std::size_t limit) override {
    try {
      static constexpr const char* kColumns =
          "SELECT p.id, p.source, p.external_id, p.channel, coalesce(o.state, 'received'), p.received_at, "
          "o.kind, o.urgency, o.area, o.action ";
      std::string sql = kColumns;
      if (wanted.empty()) {
        sql += "FROM posts p LEFT JOIN outcomes o ON o.post_id = p.id ORDER BY p.id DESC LIMIT ?1";
      } else if (wanted == state::received) {
        sql +=
            "FROM posts p LEFT JOIN outcomes o ON o.post_id = p.id WHERE o.post_id IS NULL "
            "ORDER BY p.id DESC LIMIT ?1";
      } else {
        sql +=
            "FROM outcomes o JOIN posts p ON p.id = o.post_id WHERE o.state = ?2 "
            "ORDER BY o.post_id DESC LIMIT ?1";
      }
      auto use = cache_.get(sql);
      Stmt& s = *use;
      s.bind(1, static_cast<std::int64_t>(limit));
      if (!wanted.empty() && wanted != state::received) s.bind(2, wanted);
      std::vector<PostSummary> out;
      while (s.step()) {
        PostSummary p;
        p.id = s.integer(0);
        p.source = s.text(1);
        p.external_id = s.text(2);
        p.channel = s.text(3);
        p.state = s.text(4);
        p.received_at = s.text(5);
        p.kind = s.text(6);
        p.urgency = s.text(7);
        p.area = s.text(8);
        p.action = s.text(9);
        out.push_back(std::move(p));
      }
      return out;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  Expected<bool> change_need(const NeedChange& change) override {
    return write_transaction([&](const std::string& now) { return routing_->change(change, now); });
  }

  Expected<std::vector<bool>> change_needs(std::span<const NeedChange> changes) override {
    std::vector<bool> applied;
    auto done = write_transaction([&](const std::string& now) {
      for (const auto& c : changes) applied.push_back(routing_->change(c, now));
      return true;
    });
    if (!done) return done.error();
    return applied;
  }

  Expected<std::optional<StoredNeed>> get_need(std::int64_t post_id) override {
    return reading([&] { return sqlite::read_need(cache_, post_id); });
  }

  Expected<std::vector<StoredNeed>> list_needs(std::string_view wanted, std::string_view destination,
                                               std::size_t limit) override {
    return reading([&] { return sqlite::read_needs(cache_, wanted, destination, limit); });
  }

  Expected<std::vector<StoredNeed>> due_needs(std::int64_t now, std::size_t limit) override {
    return reading([&] { return sqlite::read_due_needs(cache_, now, limit); });
  }

  Expected<std::optional<std::int64_t>> next_need_deadline() override {
    return reading([&] { return sqlite::read_next_need_deadline(cache_); });
  }

  Expected<std::vector<std::int64_t>> open_needs_matching(std::string_view category, std::string_view area,
                                                          std::string_view since,
                                                          std::size_t limit) override {
    return reading([&] {
      return sqlite::read_open_needs_matching(cache_, category, area, since, limit, offer_window_);
    });
  }

  Expected<std::vector<CapacityUse>> capacity_uses() override {
    return reading([&] { return sqlite::read_capacity_uses(cache_); });
  }

  Expected<std::vector<StoredDelivery>> due_deliveries(std::int64_t now, std::string_view sink,
                                                       std::size_t limit) override {
    return reading([&] { return sqlite::read_due_deliveries(cache_, now, sink, limit); });
  }

  Expected<std::vector<std::string>> due_sinks(std::int64_t now) override {
    return reading([&] { return sqlite::read_due_sinks(cache_, now); });
  }

  Expected<std::optional<std::int64_t>> next_delivery_at(std::int64_t after) override {
    return reading([&] { return sqlite::read_next_delivery_at(cache_, after); });
  }

  Status record_deliveries(std::span<const DeliveryOutcome> outcomes) override {
    auto done = write_transaction([&](const std::string& now) {
      for (const auto& o : outcomes) routing_->record(o, now);
      return true;
    });
    if (!done) return done.error();
    return Done{};
  }

  Expected<bool> redrive(std::int64_t id, std::int64_t now, const PostEvent& event) override {
    return write_transaction([&](const std::string& at) { return routing_->redrive(id, now, event, at); });
  }

  Expected<std::vector<StoredDelivery>> list_deliveries(std::string_view wanted, std::int64_t post_id,
                                                        std::size_t limit) override {
    return reading([&] { return sqlite::read_deliveries(cache_, wanted, post_id, limit); });
  }

  Expected<std::optional<StoredDelivery>> get_delivery(std::int64_t id) override {
    return reading([&] { return sqlite::read_delivery(cache_, id); });
  }

  Expected<std::string> database_id() override {
    return reading([&] { return sqlite::read_database_id(cache_); });
  }

  Expected<std::optional<StoredPost>> get_post(std::int64_t id, bool trail) override {
    try {
      // One read transaction, so the post and its trail agree.
      const ReadTransaction snapshot(db_.get());
      StoredPost sp;
      {
        auto s = cache_.get(
            "SELECT p.id, p.source, p.external_id, p.channel, p.sender, p.subject, p.text, p.lang, p.fields, "
            "p.private, p.received_at, coalesce(o.state, 'received'), p.ingested_at, o.action, o.score, "
            "o.kind, o.categories, o.urgency, o.area, o.lang "
            "FROM posts p LEFT JOIN outcomes o ON o.post_id = p.id WHERE p.id = ?");
        s->bind(1, id);
        if (!s->step()) return std::optional<StoredPost>();
        sp.post = read_post(*s);
        sp.state = s->text(11);
        sp.ingested_at = s->text(12);
        if (!s->is_null(13)) {
          Verdict v;
          v.action = parse_action(s->text(13)).value_or(Action::accept);
          v.score = s->real(14);
          sp.verdict = v;
        }
        if (!s->is_null(15)) {
          Triage t;
          t.kind = parse_kind(s->text(15)).value_or(Kind::other);
          t.categories = json_to_list(s->text(16));
          t.urgency = parse_urgency(s->text(17)).value_or(Urgency::normal);
          t.area = s->text(18);
          t.lang = s->text(19);
          sp.triage = t;
        }
      }
      {
        auto f = cache_.get(
            "SELECT stage, symbol, score, description, forced, redactions, related_post FROM findings "
            "WHERE post_id = ? ORDER BY id");
        f->bind(1, id);
        while (f->step()) {
          StoredFinding sf;
          sf.stage = f->text(0);
          sf.finding.symbol = f->text(1);
          sf.finding.score = f->real(2);
          sf.finding.description = f->text(3);
          if (!f->is_null(4)) sf.finding.forced = parse_action(f->text(4));
          if (!f->is_null(5)) sf.finding.redactions = json_to_redactions(f->text(5));
          if (!f->is_null(6)) sf.finding.related_post = f->integer(6);
          if (sp.verdict) sp.verdict->findings.push_back(sf.finding);
          sp.findings.push_back(std::move(sf));
        }
      }
      if (!trail) return std::optional<StoredPost>(std::move(sp));
      // The post row is the record of its reception: its first event.
      json::object received{{"channel", sp.post.channel}};
      sp.events.push_back(
          {0, sp.ingested_at, "received", "source:" + sp.post.source, json::serialize(received)});
      auto e = cache_.get("SELECT id, at, type, actor, detail FROM events WHERE post_id = ? ORDER BY id");
      e->bind(1, id);
      while (e->step())
        expand_events(e->integer(0), e->text(1), e->text(2), e->text(3), e->text(4), sp.events);
      return std::optional<StoredPost>(std::move(sp));
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  Expected<StoreStats> stats() override {
    try {
      const ReadTransaction snapshot(db_.get());
      StoreStats st;
      st.schema_version = user_version(db_.get());
      Stmt b(db_.get(), "SELECT source, count(*) FROM posts GROUP BY source");
      while (b.step()) {
        st.by_source[b.text(0)] = b.integer(1);
        st.posts += b.integer(1);
      }
      std::int64_t decided = 0;
      Stmt a(db_.get(), "SELECT state, count(*) FROM outcomes GROUP BY state");
      while (a.step()) {
        st.by_state[a.text(0)] = a.integer(1);
        decided += a.integer(1);
      }
      if (st.posts > decided) st.by_state[std::string(state::received)] = st.posts - decided;
      Stmt c(db_.get(),
             "SELECT coalesce(sum(CASE WHEN type = ? THEN json_array_length(detail) ELSE 1 END), 0) "
             "FROM events");
      c.bind(1, kPassEvent);
      // Every post's reception counts as its first event.
      if (c.step()) st.events = c.integer(0) + st.posts;
      return st;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

 private:
  void migrate(int target) {
    int version = user_version(db_.get());
    for (const auto& m : kMigrations) {
      if (m.version <= version || m.version > target) continue;
      exec(db_.get(), "BEGIN IMMEDIATE");
      try {
        exec(db_.get(), m.sql);
        exec(db_.get(), ("PRAGMA user_version = " + std::to_string(m.version)).c_str());
        exec(db_.get(), "COMMIT");
      } catch (const std::exception& e) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw std::runtime_error("schema migration to version " + std::to_string(m.version) +
                                 " failed: " + e.what());
      }
      version = m.version;
    }
  }

  void prepare() {
    insert_post_ = Stmt(db_.get(),
                        "INSERT INTO posts(source, external_id, channel, sender, subject, text, lang, "
                        "fields, private, received_at, ingested_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT(source, external_id) DO NOTHING");
    find_post_ = Stmt(db_.get(), "SELECT id FROM posts WHERE source = ? AND external_id = ?");
    insert_event_ =
        Stmt(db_.get(), "INSERT INTO events(post_id, id, at, type, actor, detail) VALUES (?,?,?,?,?,?)");
    insert_finding_ = Stmt(db_.get(),
                           "INSERT INTO findings(post_id, id, stage, symbol, score, description, forced, "
                           "redactions, related_post) VALUES (?,?,?,?,?,?,?,?,?)");
    upsert_outcome_ =
        Stmt(db_.get(),
             "INSERT INTO outcomes(post_id, state, action, score, kind, categories, urgency, "
             "area, lang) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(post_id) DO UPDATE SET "
             "state = excluded.state, action = excluded.action, score = excluded.score, "
             "kind = excluded.kind, categories = excluded.categories, urgency = excluded.urgency, "
             "area = excluded.area, lang = excluded.lang");
    // Event and finding ids are given by this, the only writer.
    Stmt last_event(db_.get(),
                    "SELECT coalesce(max(id + CASE WHEN type = ? THEN json_array_length(detail) - 1 "
                    "ELSE 0 END), 0) FROM events");
    last_event.bind(1, kPassEvent);
    if (last_event.step()) last_event_id_ = last_event.integer(0);
    Stmt last_finding(db_.get(), "SELECT coalesce(max(id), 0) FROM findings");
    if (last_finding.step()) last_finding_id_ = last_finding.integer(0);
    routing_ = std::make_unique<sqlite::RoutingWrites>(db_.get(), *this);
  }

  void add_event(std::int64_t post_id, const PostEvent& event, const std::string& now) override {
    insert_event_.reset()
        .bind(1, post_id)
        .bind(2, ++last_event_id_)
        .bind(3, now)
        .bind(4, event.type)
        .bind(5, event.actor)
        .bind(6, event.detail_json)
        .run();
  }

  // Runs `body` in a write transaction; it returns false to roll back.
  template <class Body>
  Expected<bool> write_transaction(Body&& body) {
    if (!writable_) return Error{"storage", "this store connection is read-only", ""};
    try {
      exec(db_.get(), "BEGIN IMMEDIATE");
      const std::int64_t events_before = last_event_id_;
      try {
        if (!body(protocol::now_rfc3339())) {
          exec(db_.get(), "ROLLBACK");
          last_event_id_ = events_before;
          return false;
        }
        exec(db_.get(), "COMMIT");
      } catch (...) {
        sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
        last_event_id_ = events_before;
        throw;
      }
      return true;
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  // Runs `read` on this connection, turning what SQLite throws into an error.
  template <class Read>
  auto reading(Read&& read) -> Expected<decltype(read())> {
    try {
      return read();
    } catch (const std::exception& e) {
      return Error{"storage", e.what(), ""};
    }
  }

  IngestOutcome insert_post(const Post& post, const std::string& now) {
    insert_post_.reset()
        .bind(1, post.source)
        .bind(2, post.external_id)
        .bind(3, post.channel)
        .bind(4, post.sender)
        .bind_optional(5, post.subject)
        .bind(6, post.text)
        .bind(7, post.lang)
        .bind(8, map_to_json(post.fields))
        .bind(9, map_to_json(post.private_data))
        .bind(10, post.received_at)
        .bind(11, now)
        .run();
    if (sqlite3_changes(db_.get()) == 0) {
      find_post_.reset().bind(1, post.source).bind(2, post.external_id);
      const std::int64_t id = find_post_.step() ? find_post_.integer(0) : 0;
      find_post_.reset();
      return {id, true};
    }
    return {sqlite3_last_insert_rowid(db_.get()), false};
  }

  void apply(const StageRecord& r, const std::string& now) {
    upsert_outcome_.reset()
        .bind(1, r.post_id)
        .bind(2, r.state)
        .bind(3, to_string(r.verdict.action))
        .bind(4, r.verdict.score);
    const std::string categories = r.triage ? list_to_json(r.triage->categories) : std::string();
    if (r.triage) {
      upsert_outcome_.bind(5, to_string(r.triage->kind))
          .bind(6, categories)
          .bind(7, to_string(r.triage->urgency))
          .bind(8, r.triage->area)
          .bind(9, r.triage->lang);
    } else {
      for (int i = 5; i <= 9; ++i) upsert_outcome_.bind_optional(i, std::nullopt);
    }
    upsert_outcome_.run();
    for (std::size_t i = 0; i < r.verdict.findings.size(); ++i) {
      const auto& f = r.verdict.findings[i];
      // Bound without a copy: it must live until run().
      const auto redactions = redactions_to_json(f.redactions);
      const auto forced = f.forced ? std::optional<std::string>(to_string(*f.forced)) : std::nullopt;
      const std::string_view stage = i < r.finding_stages.size() ? std::string_view(r.finding_stages[i]) : "";
      insert_finding_.reset()
          .bind(1, r.post_id)
          .bind(2, ++last_finding_id_)
          .bind(3, stage)
          .bind(4, f.symbol)
          .bind(5, f.score)
          .bind(6, f.description)
          .bind_optional(7, forced)
          .bind_optional(8, redactions);
      if (f.related_post > 0) {
        insert_finding_.bind(9, f.related_post);
      } else {
        insert_finding_.bind_optional(9, std::nullopt);
      }
      insert_finding_.run();
    }
    routing_->write(r, now);
    if (r.events.empty()) return;
    // The events of one pipeline pass are committed together: they go in one
    // row (kPassEvent), which costs a third of separate rows in the writer.
    const bool one = r.events.size() == 1;
    const std::string detail = one ? std::string() : pass_detail(r.events);
    // The row takes the id of its first event and reserves the ids of the
    // others, so that every event keeps an id of its own.
    const std::int64_t first_id = last_event_id_ + 1;
    last_event_id_ += static_cast<std::int64_t>(r.events.size());
    insert_event_.reset()
        .bind(1, r.post_id)
        .bind(2, first_id)
        .bind(3, now)
        .bind(4, one ? std::string_view(r.events[0].type) : kPassEvent)
        .bind(5, one ? std::string_view(r.events[0].actor) : "pipeline")
        .bind(6, one ? std::string_view(r.events[0].detail_json) : std::string_view(detail))
        .run();
  }

  // [[type, actor, detail], ...]: arrays rather than objects, because every
  // byte of an event row is written for every post. Details are JSON already.
  static std::string pass_detail(const std::vector<PostEvent>& events) {
    std::string out = "[";
    for (const auto& e : events) {
      if (out.size() > 1) out += ',';
      out += '[';
      out += json::serialize(json::string_view(e.type));
      out += ',';
      out += json::serialize(json::string_view(e.actor));
      out += ',';
      out += e.detail_json;
      out += ']';
    }
    out += ']';
    return out;
  }

  // Appends the events one row holds: itself, or the events of a pass.
  static void expand_events(std::int64_t id, const std::string& at, const std::string& type,
                            const std::string& actor, const std::string& detail,
                            std::vector<StoredEvent>& out) {
    if (type != kPassEvent) {
      out.push_back({id, at, type, actor, detail});
      return;
    }
    boost::system::error_code ec;
    const auto v = json::parse(detail, ec);
    if (ec || !v.is_array()) {
      out.push_back({id, at, type, actor, detail});  // shown as stored rather than lost
      return;
    }
    for (const auto& item : v.get_array()) {
      const std::int64_t event_id = id++;
      const auto* e = item.if_array();
      if (e == nullptr || e->size() != 3 || !(*e)[0].is_string() || !(*e)[1].is_string()) continue;
      out.push_back({event_id, at, std::string((*e)[0].get_string()), std::string((*e)[1].get_string()),
                     json::serialize((*e)[2])});
    }
  }

  static Post read_post(const Stmt& s) {
    Post p;
    p.id = s.integer(0);
    p.source = s.text(1);
    p.external_id = s.text(2);
    p.channel = s.text(3);
    p.sender = s.text(4);
    if (!s.is_null(5)) p.subject = s.text(5);
    p.text = s.text(6);
    p.lang = s.text(7);
    p.fields = json_to_map(s.text(8));
    p.private_data = json_to_map(s.text(9));
    p.received_at = s.text(10);
    return p;
  }

  // Destroyed in reverse: statements, then the checkpointer, then the
  // connection (whose close checkpoints what is left).
  Db db_;
  sqlite::StatementCache cache_{db_};
  sqlite::WindowCursor offer_window_;
  bool read_only_;
  bool writable_ = false;  // read-write, at the newest schema, statements prepared
  std::unique_ptr<Checkpointer> checkpointer_;
  std::int64_t last_event_id_ = 0;
  std::int64_t last_finding_id_ = 0;
  Stmt insert_post_, find_post_, insert_event_, insert_finding_, upsert_outcome_;
  std::unique_ptr<sqlite::RoutingWrites> routing_;
};

}  // namespace

int sqlite_schema_version() noexcept { return kSchemaVersion; }

Expected<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file,
                                                   const SqliteOptions& options) {
  try {
    return std::unique_ptr<Store>(std::make_unique<SqliteStore>(file, options));
  } catch (const std::exception& e) {
    return Error{"storage", e.what(), ""};
  }
}

}  // namespace relais::daemon
