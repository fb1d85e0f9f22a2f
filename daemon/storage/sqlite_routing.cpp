#include "storage/sqlite_routing.hpp"

namespace relais::daemon::sqlite {
namespace {

constexpr const char* kNeedColumns =
    "SELECT n.post_id, o.state, n.owner, n.claimed_by, n.deadline, n.version, o.kind, o.categories, "
    "o.urgency, "
    "o.area, o.lang, p.received_at FROM needs n JOIN outcomes o ON o.post_id = n.post_id "
    "JOIN posts p ON p.id = n.post_id ";

StoredNeed need_of(const Stmt& s) {
  StoredNeed n;
  n.post_id = s.integer(0);
  n.state = s.text(1);
  n.need.owner = s.text(2);
  n.need.claimed_by = s.text(3);
  if (!s.is_null(4)) n.need.deadline = s.integer(4);
  n.need.version = s.integer(5);
  n.triage.kind = parse_kind(s.text(6)).value_or(Kind::request);
  n.triage.categories = json_to_list(s.text(7));
  n.triage.urgency = parse_urgency(s.text(8)).value_or(Urgency::normal);
  n.triage.area = s.text(9);
  n.triage.lang = s.text(10);
  n.received_at = s.text(11);
  return n;
}

void read_assignments(StatementCache& cache, StoredNeed& n) {
  auto s =
      cache.get("SELECT destination, reason, day, state FROM assignments WHERE post_id = ? ORDER BY rowid");
  s->bind(1, n.post_id);
  while (s->step()) n.assignments.push_back({s->text(0), s->text(1), s->text(2), s->text(3)});
}

constexpr const char* kDeliveryColumns =
    "SELECT id, post_id, destination, sink, purpose, reason, related_post, state, attempts, next_at, "
    "last_error, "
    "created_at, updated_at FROM deliveries ";

StoredDelivery delivery_of(const Stmt& s) {
  StoredDelivery d;
  d.id = s.integer(0);
  d.post_id = s.integer(1);
  d.destination = s.text(2);
  d.sink = s.text(3);
  d.purpose = parse_delivery_purpose(s.text(4)).value_or(DeliveryPurpose::need);
  d.reason = s.text(5);
  d.related_post = s.is_null(6) ? 0 : s.integer(6);
  d.state = s.text(7);
  d.attempts = static_cast<unsigned>(s.integer(8));
  d.next_at = s.integer(9);
  d.last_error = s.text(10);
  d.created_at = s.text(11);
  d.updated_at = s.text(12);
  return d;
}

}  // namespace

RoutingWrites::RoutingWrites(sqlite3* db, EventWriter& events)
    : db_(db),
      events_(events),
      version_(db, "SELECT version FROM needs WHERE post_id = ?"),
      upsert_need_(
          db,
          "INSERT INTO needs(post_id, owner, claimed_by, deadline, version) VALUES (?,?,?,?,?) "
          "ON CONFLICT(post_id) DO UPDATE SET owner = excluded.owner, claimed_by = excluded.claimed_by, "
          "deadline = excluded.deadline, version = excluded.version"),
      set_state_(db, "UPDATE outcomes SET state = ? WHERE post_id = ?"),
      // An assignment given again keeps the reason and day it was first
      // given with, unless new ones are given: its capacity was used then.
      upsert_assignment_(db,
                         "INSERT INTO assignments(post_id, destination, reason, day, state, at) "
                         "VALUES (?,?,?,?,?,?) ON CONFLICT(post_id, destination) DO UPDATE SET "
                         "state = excluded.state, "
                         "reason = CASE WHEN excluded.reason = '' THEN reason ELSE excluded.reason END, "
                         "day = CASE WHEN excluded.day = '' THEN day ELSE excluded.day END"),
      insert_delivery_(
          db,
          "INSERT INTO deliveries(post_id, destination, sink, purpose, reason, related_post, state, "
          "attempts, next_at, last_error, created_at, updated_at) "
          "VALUES (?,?,?,?,?,?,'pending',0,0,'',?,?)"),
      update_delivery_(
          db,
          "UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, updated_at = ? "
          "WHERE id = ?"),
      redrive_(db,
               "UPDATE deliveries SET state = 'pending', attempts = 0, next_at = ?, updated_at = ? "
               "WHERE id = ? AND state = 'dead'"),
      post_of_delivery_(db, "SELECT post_id FROM deliveries WHERE id = ?") {}

void RoutingWrites::put_need(std::int64_t post_id, const NeedRecord& need) {
  upsert_need_.reset()
      .bind(1, post_id)
      .bind(2, need.owner)
      .bind(3, need.claimed_by)
      .bind(4, need.deadline)
      .bind(5, need.version)
      .run();
}

void RoutingWrites::put_assignment(std::int64_t post_id, const AssignmentRecord& a, const std::string& now) {
  upsert_assignment_.reset()
      .bind(1, post_id)
      .bind(2, a.destination)
      .bind(3, a.reason)
      .bind(4, a.day)
      .bind(5, a.state)
      .bind(6, now)
      .run();
}

void RoutingWrites::put_delivery(const DeliveryRequest& d, const std::string& now) {
  insert_delivery_.reset()
      .bind(1, d.post_id)
      .bind(2, d.destination)
      .bind(3, d.sink)
      .bind(4, to_string(d.purpose))
      .bind(5, d.reason)
      .bind(6, d.related_post > 0 ? std::optional<std::int64_t>(d.related_post) : std::nullopt)
      .bind(7, now)
      .bind(8, now)
      .run();
}

void RoutingWrites::write(const StageRecord& record, const std::string& now) {
  if (record.need) {
    NeedRecord first = *record.need;
    first.version = 1;
    put_need(record.post_id, first);
  }
  for (const auto& a : record.assignments) put_assignment(record.post_id, a, now);
  for (const auto& d : record.deliveries) put_delivery(d, now);
}

bool RoutingWrites::change(const NeedChange& c, const std::string& now) {
  std::int64_t version = 0;
  if (c.expected_version) {
    version_.reset().bind(1, c.post_id);
    const bool found = version_.step();
    const std::int64_t current = found ? version_.integer(0) : 0;
    version_.reset();
    if (current != *c.expected_version) return false;
    version = current;
  }
  if (c.need) {
    NeedRecord next = *c.need;
    next.version = version + 1;
    put_need(c.post_id, next);
  }
  if (!c.state.empty()) set_state_.reset().bind(1, c.state).bind(2, c.post_id).run();
  for (const auto& a : c.assignments) put_assignment(c.post_id, a, now);
  for (const auto& d : c.deliveries) put_delivery(d, now);
  for (const auto& [post_id, event] : c.events) events_.add_event(post_id, event, now);
  return true;
}

void RoutingWrites::record(const DeliveryOutcome& o, const std::string& now) {
  update_delivery_.reset()
      .bind(1, o.state)
      .bind(2, static_cast<std::int64_t>(o.attempts))
      .bind(3, o.next_at)
      .bind(4, o.error)
      .bind(5, now)
      .bind(6, o.id)
      .run();
  if (!o.event.type.empty()) events_.add_event(o.post_id, o.event, now);
}

bool RoutingWrites::redrive(std::int64_t id, std::int64_t due, const PostEvent& event,
                            const std::string& now) {
  redrive_.reset().bind(1, due).bind(2, now).bind(3, id).run();
  if (sqlite3_changes(db_) == 0) return false;
  post_of_delivery_.reset().bind(1, id);
  if (post_of_delivery_.step()) events_.add_event(post_of_delivery_.integer(0), event, now);
  post_of_delivery_.reset();
  return true;
}

std::optional<StoredNeed> read_need(StatementCache& cache, std::int64_t post_id) {
  static const std::string sql = std::string(kNeedColumns) + "WHERE n.post_id = ?";
  StoredNeed n;
  {
    auto s = cache.get(sql);
    s->bind(1, post_id);
    if (!s->step()) return std::nullopt;
    n = need_of(*s);
  }
  read_assignments(cache, n);
  return n;
}

std::vector<StoredNeed> read_needs(StatementCache& cache, std::string_view state,
                                   std::string_view destination, std::size_t limit) {
  static const std::string sql =
      std::string(kNeedColumns) +
      "WHERE (?1 = '' OR o.state = ?1) AND (?2 = '' OR EXISTS (SELECT 1 FROM assignments a "
      "WHERE a.post_id = n.post_id AND a.destination = ?2)) ORDER BY n.post_id DESC LIMIT ?3";
  std::vector<StoredNeed> out;
  {
    auto s = cache.get(sql);
    s->bind(1, state).bind(2, destination).bind(3, static_cast<std::int64_t>(limit));
    while (s->step()) out.push_back(need_of(*s));
  }
  for (auto& n : out) read_assignments(cache, n);
  return out;
}

std::vector<StoredNeed> read_due_needs(StatementCache& cache, std::int64_t now, std::size_t limit) {
  // Asked after every commit: driven by the deadlines' index, so that it
  // costs the due needs, not all the routed ones. The unary + keeps SQLite
  // from the outcomes' state index, which it would prefer without
  // statistics, scanning every routed need.
  static const std::string sql = std::string(kNeedColumns) +
                                 "WHERE n.deadline IS NOT NULL AND n.deadline <= ? AND +o.state = 'routed' "
                                 "ORDER BY n.deadline, n.post_id LIMIT ?";
  std::vector<StoredNeed> out;
  {
    auto s = cache.get(sql);
    s->bind(1, now).bind(2, static_cast<std::int64_t>(limit));
    while (s->step()) out.push_back(need_of(*s));
  }
  for (auto& n : out) read_assignments(cache, n);
  return out;
}

std::optional<std::int64_t> read_next_need_deadline(StatementCache& cache) {
  // Only a routed need has a timer (a claim, a resolution or the
  // moderators clear it): the index's first entry is the answer.
  auto s = cache.get("SELECT min(deadline) FROM needs WHERE deadline IS NOT NULL");
  if (!s->step() || s->is_null(0)) return std::nullopt;
  return s->integer(0);
}

std::vector<std::int64_t> read_open_needs_matching(StatementCache& cache, std::string_view category,
                                                   std::string_view area, std::string_view since,
                                                   std::size_t limit, WindowCursor& cursor) {
  // A window that moved back (the clock did) is searched from the start.
  if (since < cursor.since) cursor.first_id = 0;
  if (since != cursor.since) {
    auto first = cache.get("SELECT id FROM posts WHERE id >= ? AND ingested_at >= ? ORDER BY id LIMIT 1");
    first->bind(1, cursor.first_id).bind(2, since);
    // Nothing in the window yet: the next post to come is the first.
    if (first->step()) {
      cursor.first_id = first->integer(0);
    } else {
      auto last = cache.get("SELECT coalesce(max(id), 0) + 1 FROM posts");
      if (last->step()) cursor.first_id = last->integer(0);
    }
    cursor.since = std::string(since);
  }
  // The area's routed needs in the window, by the outcomes' (area, state,
  // post id) index; the categories of those few are then checked.
  auto s = cache.get(
      "SELECT n.post_id FROM outcomes o JOIN needs n ON n.post_id = o.post_id JOIN posts p ON p.id = "
      "o.post_id "
      "WHERE o.area = ? AND o.state = 'routed' AND o.post_id >= ? AND p.ingested_at >= ? "
      "AND EXISTS (SELECT 1 FROM json_each(o.categories) WHERE value = ?) ORDER BY o.post_id LIMIT ?");
  s->bind(1, area)
      .bind(2, cursor.first_id)
      .bind(3, since)
      .bind(4, category)
      .bind(5, static_cast<std::int64_t>(limit));
  std::vector<std::int64_t> out;
  while (s->step()) out.push_back(s->integer(0));
  return out;
}

std::vector<CapacityUse> read_capacity_uses(StatementCache& cache) {
  auto s = cache.get(
      "SELECT destination, day, count(*) FROM assignments WHERE day != '' GROUP BY destination, day");
  std::vector<CapacityUse> out;
  while (s->step()) out.push_back({s->text(0), s->text(1), s->integer(2)});
  return out;
}

std::vector<StoredDelivery> read_due_deliveries(StatementCache& cache, std::int64_t now,
                                                std::string_view sink, std::size_t limit) {
  static const std::string sql =
      std::string(kDeliveryColumns) +
      "WHERE state = 'pending' AND next_at <= ? AND sink = ? ORDER BY next_at, id LIMIT ?";
  auto s = cache.get(sql);
  s->bind(1, now).bind(2, sink).bind(3, static_cast<std::int64_t>(limit));
  std::vector<StoredDelivery> out;
  while (s->step()) out.push_back(delivery_of(*s));
  return out;
}

std::vector<std::string> read_due_sinks(StatementCache& cache, std::int64_t now) {
  auto s = cache.get("SELECT DISTINCT sink FROM deliveries WHERE state = 'pending' AND next_at <= ?");
  s->bind(1, now);
  std::vector<std::string> out;
  while (s->step()) out.push_back(s->text(0));
  return out;
}

std::optional<std::int64_t> read_next_delivery_at(StatementCache& cache, std::int64_t after) {
  auto s = cache.get("SELECT min(next_at) FROM deliveries WHERE state = 'pending' AND next_at > ?");
  s->bind(1, after);
  if (!s->step() || s->is_null(0)) return std::nullopt;
  return s->integer(0);
}

std::vector<StoredDelivery> read_deliveries(StatementCache& cache, std::string_view state,
                                            std::int64_t post_id, std::size_t limit) {
  // "failed": dead letters, and pending rows that failed at least once.
  static const std::string sql =
      std::string(kDeliveryColumns) +
      "WHERE (?1 = '' OR state = ?1 OR (?1 = 'failed' AND (state = 'dead' OR "
      "(state = 'pending' AND attempts > 0)))) AND (?2 = 0 OR post_id = ?2) ORDER BY id DESC LIMIT ?3";
  auto s = cache.get(sql);
  s->bind(1, state).bind(2, post_id).bind(3, static_cast<std::int64_t>(limit));
  std::vector<StoredDelivery> out;
  while (s->step()) out.push_back(delivery_of(*s));
  return out;
}

std::optional<StoredDelivery> read_delivery(StatementCache& cache, std::int64_t id) {
  static const std::string sql = std::string(kDeliveryColumns) + "WHERE id = ?";
  auto s = cache.get(sql);
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return delivery_of(*s);
}

std::string read_database_id(StatementCache& cache) {
  auto s = cache.get("SELECT value FROM meta WHERE key = 'database_id'");
  return s->step() ? s->text(0) : std::string();
}

}  // namespace relais::daemon::sqlite
