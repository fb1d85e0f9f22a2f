// storage: where posts, their stage outcomes and their event trail live.
// The interface keeps the backend replaceable (SQLite now, PostgreSQL later);
// nothing outside storage/ sees SQL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relais/expected.hpp"
#include "relais/post.hpp"
#include "relais/sink.hpp"

namespace relais::daemon {

// Post states. `received` is the only one the pipeline still has to work on.
namespace state {
inline constexpr std::string_view received = "received";
inline constexpr std::string_view held = "held";
inline constexpr std::string_view rejected = "rejected";
inline constexpr std::string_view accepted = "accepted";  // offers, info: not routed
inline constexpr std::string_view routed = "routed";      // a need waiting for a destination to claim it
inline constexpr std::string_view unrouted = "unrouted";  // a need no destination can take: for a person
inline constexpr std::string_view claimed = "claimed";    // a destination said it takes the need
inline constexpr std::string_view resolved = "resolved";  // the need was met
}  // namespace state

// Delivery states in the outbox.
namespace delivery_state {
inline constexpr std::string_view pending = "pending";  // to be sent at next_at
inline constexpr std::string_view delivered = "delivered";
inline constexpr std::string_view dead =
    "dead";  // dead-lettered: it failed for good; `redrive` sends it again
}  // namespace delivery_state

struct PostEvent {
  std::string type;         // received, moderated, triaged, routed, ...
  std::string actor;        // who or what caused it: source:<name>, moderate:<step>, ...
  std::string detail_json;  // a JSON object; never personal data
};

// Who holds a need and until when: the destination whose claim is awaited
// (its clock runs), the one that claimed it, and the escalation timer.
struct NeedRecord {
  std::string owner;                     // empty: nobody (unrouted)
  std::string claimed_by;                // empty: not claimed
  std::optional<std::int64_t> deadline;  // ms since the epoch; none: no timer
  std::int64_t version = 0;              // counts the changes; a change names the version it read
};

// A destination given a need, with the local day whose capacity it used.
struct AssignmentRecord {
  std::string destination;
  std::string reason;            // route, urgent_copy, fallback, escalation, reroute, manual
  std::string day;               // empty: it used no capacity
  std::string state = "active";  // active | declined
};

// A delivery to put in the outbox, in the same transaction as what caused it.
struct DeliveryRequest {
  std::int64_t post_id = 0;  // the post it carries
  std::string destination;   // a destination id, or kModerators
  std::string sink;          // the [[sink]] entry's name
  DeliveryPurpose purpose = DeliveryPurpose::need;
  std::string reason;
  std::int64_t related_post = 0;
};

// What the pipeline decided about one stored post.
struct StageRecord {
  std::int64_t post_id = 0;
  std::string state;
  Verdict verdict;
  std::optional<Triage> triage;
  std::vector<std::string> finding_stages;  // parallel to verdict.findings
  std::vector<PostEvent> events;
  // A routed request: the need, the destinations given it, and the outbox
  // rows that reach them, all committed with the outcome.
  std::optional<NeedRecord> need;
  std::vector<AssignmentRecord> assignments;
  std::vector<DeliveryRequest> deliveries;
};

// A change to a need after routing (a claim, a decline, an escalation), or
// the effects of matching an offer. Applied in one transaction, and only if
// the need's version is still `expected_version` (none: unconditional).
struct NeedChange {
  std::int64_t post_id = 0;
  std::optional<std::int64_t> expected_version;
  std::string state;                          // the post's new state; empty: unchanged
  std::optional<NeedRecord> need;             // written with version expected_version + 1
  std::vector<AssignmentRecord> assignments;  // inserted, or updated by destination
  std::vector<DeliveryRequest> deliveries;
  std::vector<std::pair<std::int64_t, PostEvent>> events;  // by post
};

// A need as stored, with every destination it was given.
struct StoredNeed {
  std::int64_t post_id = 0;
  std::string state;  // the post's: routed, claimed, resolved, unrouted
  NeedRecord need;
  Triage triage;
  std::string received_at;
  std::vector<AssignmentRecord> assignments;
};

// One row of the outbox.
struct StoredDelivery {
  std::int64_t id = 0;
  std::int64_t post_id = 0;
  std::string destination;
  std::string sink;
  DeliveryPurpose purpose = DeliveryPurpose::need;
  std::string reason;
  std::int64_t related_post = 0;
  std::string state;  // delivery_state
  unsigned attempts = 0;
  std::int64_t next_at = 0;  // ms since the epoch
  std::string last_error;
  std::string created_at;
  std::string updated_at;
};

// What an attempt at a delivery came to.
struct DeliveryOutcome {
  std::int64_t id = 0;
  std::int64_t post_id = 0;
  std::string state;  // delivery_state
  unsigned attempts = 0;
  std::int64_t next_at = 0;
  std::string error;
  PostEvent event;  // on the post's trail
};

struct CapacityUse {
  std::string destination;
  std::string day;
  std::int64_t count = 0;
};

struct IngestOutcome {
  std::int64_t post_id = 0;
  bool duplicate = false;
};

struct PostSummary {
  std::int64_t id = 0;
  std::string source;
  std::string external_id;
  std::string channel;
  std::string state;
  std::string received_at;
  std::string kind;
  std::string urgency;
  std::string area;
  std::string action;
};

struct StoredEvent {
  std::int64_t id = 0;
  std::string at;
  std::string type;
  std::string actor;
  std::string detail_json;
};

struct StoredFinding {
  std::string stage;
  Finding finding;
};

struct StoredPost {
  Post post;
  std::string state;
  std::string ingested_at;
  std::optional<Verdict> verdict;
  std::optional<Triage> triage;
  std::vector<StoredFinding> findings;
  std::vector<StoredEvent> events;
};

struct StoreStats {
  int schema_version = 0;
  std::int64_t posts = 0;
  std::int64_t events = 0;
  std::map<std::string, std::int64_t> by_state;
  std::map<std::string, std::int64_t> by_source;
};

class Store {
 public:
  virtual ~Store() = default;

  // One transaction: inserts the posts that are new (a known
  // (source, external_id) is reported as a duplicate and left alone) and
  // records the stage outcomes. Outcomes come back in the order of `posts`.
  // The outcomes of delivery attempts go in the same transaction: one
  // commit (one sync of the disk) for whatever has queued up meanwhile.
  virtual Expected<std::vector<IngestOutcome>> commit(std::span<const Post> posts,
                                                      std::span<const StageRecord> records,
                                                      std::span<const DeliveryOutcome> outcomes = {}) = 0;

  // A person's decision about a post in `expected_state` (held): records
  // the outcome and events of `record` in one transaction, only if the post
  // is still in that state. false: it was not, and nothing was written.
  virtual Expected<bool> decide(const StageRecord& record, std::string_view expected_state) = 0;

  // Posts the pipeline has not finished, oldest first, with ids above `after`.
  virtual Expected<std::vector<Post>> unfinished(std::int64_t after, std::size_t limit) = 0;

  virtual Expected<std::vector<PostSummary>> list_posts(std::string_view state, std::size_t limit) = 0;
  // The post with its outcome and findings; its event trail too unless
  // `trail` is false.
  virtual Expected<std::optional<StoredPost>> get_post(std::int64_t id, bool trail = true) = 0;
  virtual Expected<StoreStats> stats() = 0;

  // --- Needs: routed requests, their destinations and escalation timers.

  // Applies a change (see NeedChange); false: the need's version moved, and
  // nothing was written.
  virtual Expected<bool> change_need(const NeedChange& change) = 0;
  // Several changes in one transaction, each applied or refused as
  // change_need() would; the answers come in their order.
  virtual Expected<std::vector<bool>> change_needs(std::span<const NeedChange> changes) = 0;
  virtual Expected<std::optional<StoredNeed>> get_need(std::int64_t post_id) = 0;
  // Needs in `state` (routed, claimed, unrouted), newest first; those given
  // to `destination` only, when it is not empty.
  virtual Expected<std::vector<StoredNeed>> list_needs(std::string_view state, std::string_view destination,
                                                       std::size_t limit) = 0;
  // Routed needs whose timer is due at `now`, oldest deadline first.
  virtual Expected<std::vector<StoredNeed>> due_needs(std::int64_t now, std::size_t limit) = 0;
  // The earliest timer of a routed need; none when there is none.
  virtual Expected<std::optional<std::int64_t>> next_need_deadline() = 0;
  // Routed needs received since `since` (RFC 3339) with `category` among
  // their categories, in `area`, oldest first: what an offer can meet.
  virtual Expected<std::vector<std::int64_t>> open_needs_matching(std::string_view category,
                                                                  std::string_view area,
                                                                  std::string_view since,
                                                                  std::size_t limit) = 0;
  // How much capacity each destination used, by local day.
  virtual Expected<std::vector<CapacityUse>> capacity_uses() = 0;

  // --- The outbox.

  // Pending deliveries through `sink` due at `now`, by next_at then id.
  virtual Expected<std::vector<StoredDelivery>> due_deliveries(std::int64_t now, std::string_view sink,
                                                               std::size_t limit) = 0;
  // The sinks that have deliveries due at `now`.
  virtual Expected<std::vector<std::string>> due_sinks(std::int64_t now) = 0;
  // The earliest next_at of a pending delivery after `after`; none when none.
  virtual Expected<std::optional<std::int64_t>> next_delivery_at(std::int64_t after) = 0;
  // Outcomes of attempts, and their events, in one transaction.
  virtual Status record_deliveries(std::span<const DeliveryOutcome> outcomes) = 0;
  // A dead delivery made pending again, due at `now`, with `event`; false
  // when it is not dead.
  virtual Expected<bool> redrive(std::int64_t id, std::int64_t now, const PostEvent& event) = 0;
  // Newest first; `state` and `post_id` (0: any) narrow the list.
  virtual Expected<std::vector<StoredDelivery>> list_deliveries(std::string_view state, std::int64_t post_id,
                                                                std::size_t limit) = 0;
  virtual Expected<std::optional<StoredDelivery>> get_delivery(std::int64_t id) = 0;
  // A random id made when the database was created: with a delivery's id,
  // the key a receiver drops duplicates by, unique across databases.
  virtual Expected<std::string> database_id() = 0;
};

struct SqliteOptions {
  bool read_only = false;
  std::string synchronous = "full";  // full | normal
  int migrate_to = 0;                // 0: the newest schema (tests build older ones)
};

// The schema version this build writes.
int sqlite_schema_version() noexcept;

Expected<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file,
                                                   const SqliteOptions& options);

}  // namespace relais::daemon
