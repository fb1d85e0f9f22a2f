// matcher: the rules compiled into one Hyperscan database per field, and
// the per-instance state that matches a post against them. The cost of a
// post is one scan per field plus the work of the terms that matched, never
// a walk over every rule.
#pragma once

#include <hs.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "relais/post.hpp"
#include "rules.hpp"
#include "text.hpp"

namespace relais::rules {

struct DatabaseDeleter {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct ScratchDeleter {
  void operator()(hs_scratch_t* scratch) const { hs_free_scratch(scratch); }
};
using Database = std::unique_ptr<hs_database_t, DatabaseDeleter>;
using Scratch = std::unique_ptr<hs_scratch_t, ScratchDeleter>;

// One expression of a field's database, by its Hyperscan id.
struct Entry {
  std::uint32_t length = 0;  // a literal's length, 0 for a pattern
  bool word_start = false;
  bool word_end = false;
  bool span = false;            // a redacting rule needs where it matched
  std::uint32_t first_use = 0;  // its uses: [first_use, end_use) of FieldDatabase::uses
  std::uint32_t end_use = 0;
};

// A rule that reads a term, and what for.
struct Use {
  std::uint32_t rule = 0;
  Role role = Role::main;
};

// The terms of every rule that reads one field. Fields whose rules and
// terms are the same (text and subject, by default) share one.
struct FieldDatabase {
  Database db;
  std::vector<Entry> entries;
  std::vector<Use> uses;
};

struct CompiledRules {
  std::vector<Rule> rules;
  std::array<std::shared_ptr<const FieldDatabase>, kFields> fields;  // null: no rule reads it
  Scratch scratch;              // sized for every database; instances clone it
  std::size_t expressions = 0;  // in all databases
  std::chrono::milliseconds compile_time{0};
};

// Compiles the rules. A pattern Hyperscan refuses is an error naming its
// file, line and column, its rule and its key.
Expected<std::shared_ptr<const CompiledRules>> compile(RuleSet set);

// Matches posts. It owns the scratch space and the per-post state, so it is
// used by one thread at a time: one per moderator instance.
class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const CompiledRules> rules);

  // One finding per rule that fires, in rule order.
  void match(const Post& post, std::vector<Finding>& findings);

 private:
  struct Hit {
    std::uint8_t field;
    std::uint32_t entry;
  };
  struct Span {
    std::uint8_t field;
    std::uint32_t entry;
    std::size_t begin;  // in the folded text
    std::size_t end;
  };
  struct ScanContext {
    Matcher* self;
    std::uint8_t field;
    const FieldDatabase* db;
  };

  static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                      void* context);
  void record(const ScanContext& scan, std::uint32_t id, std::size_t from, std::size_t to);
  bool word_byte(std::uint8_t field, std::size_t at);
  void next_generation();
  void fire(const Rule& rule, std::uint32_t index, std::vector<Finding>& findings);

  std::shared_ptr<const CompiledRules> rules_;
  Scratch scratch_;
  // Per post, reused: each field's folded text, and which of its bytes are
  // in words (worked out only when a literal's boundary falls on non-ASCII).
  std::array<text::Normalized, kFields> folded_;
  std::array<std::vector<bool>, kFields> words_;
  std::array<bool, kFields> words_ready_{};
  std::vector<std::string_view> word_views_;
  // Stamped with the post's generation rather than cleared, so that a post
  // costs nothing per rule or per expression that did not match.
  std::uint32_t generation_ = 0;
  std::array<std::vector<std::uint32_t>, kFields> entry_seen_;
  std::vector<std::uint32_t> rule_seen_;
  std::vector<std::uint8_t> rule_roles_;
  std::vector<Hit> hits_;
  std::vector<Span> spans_;
  std::vector<std::uint32_t> candidates_;
};

}  // namespace relais::rules
