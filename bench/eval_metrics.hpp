// bench/eval: what the pipeline decided for each post, set against its
// labels. Each metric is a small function of the cases alone, so that it can
// be checked apart from any daemon.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eval_dataset.hpp"
#include "relais/expected.hpp"

namespace relais::eval {

// What relaisd recorded for one post (`post` query).
struct Predicted {
  std::string state;
  std::string action;                // accept | hold | reject
  std::vector<std::string> symbols;  // of the verdict's findings, in order
  bool triaged = false;              // rejected posts are never triaged
  std::string kind;
  std::vector<std::string> categories;
  std::string urgency;
  std::string area;                       // empty: none
  std::vector<std::string> destinations;  // of the last `routed` event; empty: none
};

struct Case {
  std::string id;
  Labels expected;
  Predicted predicted;
};

// Finding symbols to flags, by prefix; the longest matching prefix wins.
class FlagMap {
 public:
  // SCAM_ scam, SPAM_ spam, ABUSE_ HATE_ THREAT_ abuse, PII_THIRD_PARTY pii,
  // OFF_TOPIC_ off_topic, DUPLICATE NEAR_DUPLICATE duplicate.
  static FlagMap defaults();
  // "PREFIX=flag": adds the prefix, or gives a prefix already there another
  // flag. The flag must be one of kFlags.
  Status add(std::string_view spec);
  std::optional<std::string> flag_of(std::string_view symbol) const;
  const std::map<std::string, std::string, std::less<>>& entries() const { return by_prefix_; }

 private:
  std::map<std::string, std::string, std::less<>> by_prefix_;
};

// A share of posts: hits out of total. nullopt when there is no post to
// count (0/0 says nothing, and 0 or 1 would each claim something).
struct Rate {
  std::size_t hits = 0;
  std::size_t total = 0;
  std::optional<double> value() const {
    if (total == 0) return std::nullopt;
    return static_cast<double>(hits) / static_cast<double>(total);
  }
};

// --- Moderation

struct ActionMetric {
  // confusion[expected][predicted], indices in kActions order.
  std::array<std::array<std::size_t, 3>, 3> confusion{};
  Rate accuracy;
};
ActionMetric action_metric(const std::vector<Case>& cases);

// The flags a post was given: it was held or rejected, and one of its
// findings maps to the flag.
std::vector<std::string> predicted_flags(const Predicted& p, const FlagMap& map);

struct FlagMetric {
  std::size_t true_positives = 0, false_positives = 0, false_negatives = 0;
  std::size_t support = 0;  // posts labelled with the flag
  Rate precision() const { return {true_positives, true_positives + false_positives}; }
  Rate recall() const { return {true_positives, support}; }
};
FlagMetric flag_metric(const std::vector<Case>& cases, std::string_view flag, const FlagMap& map);

// Of the accepted requests (kind request, expected accept), those held or
// rejected.
Rate legit_requests_blocked(const std::vector<Case>& cases);

// --- Triage and routing. Kind, category, urgency and area count the posts
// that got a triage; the route counts every post.

Rate kind_accuracy(const std::vector<Case>& cases);
// The expected primary category is among the predicted ones.
Rate category_accuracy(const std::vector<Case>& cases);
Rate urgency_accuracy(const std::vector<Case>& cases);
// Of the posts expected high or critical, those predicted high or critical.
Rate urgency_high_critical_recall(const std::vector<Case>& cases);
// Exact match; a null area is matched by none.
Rate area_accuracy(const std::vector<Case>& cases);
// The destinations as a set: no destination matches [].
Rate route_accuracy(const std::vector<Case>& cases);

// --- The whole report.

struct Report {
  std::size_t posts = 0;
  ActionMetric action;
  std::vector<std::pair<std::string, FlagMetric>> flags;  // kFlags order
  Rate legit_blocked;
  Rate kind, category, urgency, urgency_high_critical, area, route;
  // The posts whose predicted action is not the expected one:
  // "id expected→predicted [symbols]"; ids and symbols only, never text.
  std::vector<std::string> misclassified;
  // The posts whose route is not the expected one:
  // "id [expected] → [predicted]", destination ids only.
  std::vector<std::string> misrouted;
};
Report evaluate(const std::vector<Case>& cases, const FlagMap& map);

// The --json document, serialised (two-space indent, numbers as written by
// hand: 0.75, not 7.5E-1).
std::string report_json(const Report& report);
// The human-readable report.
std::string report_text(const Report& report);

}  // namespace relais::eval
