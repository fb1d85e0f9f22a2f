// storage/sqlite_routing: the SQLite tables of what happens to a need after
// moderation: the need itself (who holds it, its escalation timer), the
// destinations it was given (with the capacity day each used) and the
// outbox. Internal to storage/: SqliteStore owns the transactions and calls
// these inside them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace relais::daemon::sqlite {

// Appends an event to a post's trail, inside the caller's transaction.
class EventWriter {
 public:
  virtual ~EventWriter() = default;
  virtual void add_event(std::int64_t post_id, const PostEvent& event, const std::string& now) = 0;
};

// The writes, on the writer's connection, with statements prepared once.
class RoutingWrites {
 public:
  RoutingWrites(sqlite3* db, EventWriter& events);

  // The need, assignments and deliveries of a pipeline outcome.
  void write(const StageRecord& record, const std::string& now);
  // false: the need's version moved; the caller rolls back.
  bool change(const NeedChange& change, const std::string& now);
  void record(const DeliveryOutcome& outcome, const std::string& now);
  bool redrive(std::int64_t id, std::int64_t due, const PostEvent& event, const std::string& now);

 private:
  void put_need(std::int64_t post_id, const NeedRecord& need);
  void put_assignment(std::int64_t post_id, const AssignmentRecord& a, const std::string& now);
  void put_delivery(const DeliveryRequest& d, const std::string& now);

  sqlite3* db_;
  EventWriter& events_;
  Stmt version_, upsert_need_, set_state_, upsert_assignment_, insert_delivery_, update_delivery_, redrive_,
      post_of_delivery_;
};

// The reads, on any connection, through its statement cache.
std::optional<StoredNeed> read_need(StatementCache& cache, std::int64_t post_id);
std::vector<StoredNeed> read_needs(StatementCache& cache, std::string_view state,
                                   std::string_view destination, std::size_t limit);
std::vector<StoredNeed> read_due_needs(StatementCache& cache, std::int64_t now, std::size_t limit);
std::optional<std::int64_t> read_next_need_deadline(StatementCache& cache);
// Where the posts received since a time begin: post ids grow with their
// reception, so the first id in the window only moves forward, and each
// search resumes from where the previous one stopped.
struct WindowCursor {
  std::string since;
  std::int64_t first_id = 0;
};
std::vector<std::int64_t> read_open_needs_matching(StatementCache& cache, std::string_view category,
                                                   std::string_view area, std::string_view since,
                                                   std::size_t limit, WindowCursor& cursor);
std::vector<CapacityUse> read_capacity_uses(StatementCache& cache);
std::vector<StoredDelivery> read_due_deliveries(StatementCache& cache, std::int64_t now,
                                                std::string_view sink, std::size_t limit);
std::vector<std::string> read_due_sinks(StatementCache& cache, std::int64_t now);
std::optional<std::int64_t> read_next_delivery_at(StatementCache& cache, std::int64_t after);
std::vector<StoredDelivery> read_deliveries(StatementCache& cache, std::string_view state,
                                            std::int64_t post_id, std::size_t limit);
std::optional<StoredDelivery> read_delivery(StatementCache& cache, std::int64_t id);
std::string read_database_id(StatementCache& cache);

}  // namespace relais::daemon::sqlite
