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

namespace relais::daemon {

// Post states. `received` is the only one the pipeline still has to work on.
namespace state {
inline constexpr std::string_view received = "received";
inline constexpr std::string_view held = "held";
inline constexpr std::string_view rejected = "rejected";
inline constexpr std::string_view accepted = "accepted";  // offers, info: not routed
inline constexpr std::string_view routed = "routed";
inline constexpr std::string_view unrouted = "unrouted";
}  // namespace state

struct PostEvent {
  std::string type;         // received, moderated, triaged, routed, ...
  std::string actor;        // who or what caused it: source:<name>, moderate:<step>, ...
  std::string detail_json;  // a JSON object; never personal data
};

// What the pipeline decided about one stored post.
struct StageRecord {
  std::int64_t post_id = 0;
  std::string state;
  Verdict verdict;
  std::optional<Triage> triage;
  std::vector<std::string> finding_stages;  // parallel to verdict.findings
  std::vector<PostEvent> events;
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
  virtual Expected<std::vector<IngestOutcome>> commit(std::span<const Post> posts,
                                                      std::span<const StageRecord> records) = 0;

  // A person's decision about a post in `expected_state` (held): records
  // the outcome and events of `record` in one transaction, only if the post
  // is still in that state. false: it was not, and nothing was written.
  virtual Expected<bool> decide(const StageRecord& record, std::string_view expected_state) = 0;

  // Posts the pipeline has not finished, oldest first, with ids above `after`.
  virtual Expected<std::vector<Post>> unfinished(std::int64_t after, std::size_t limit) = 0;

  virtual Expected<std::vector<PostSummary>> list_posts(std::string_view state, std::size_t limit) = 0;
  virtual Expected<std::optional<StoredPost>> get_post(std::int64_t id) = 0;
  virtual Expected<StoreStats> stats() = 0;
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
