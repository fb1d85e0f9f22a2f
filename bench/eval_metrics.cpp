#include "eval_metrics.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

namespace relais::eval {
namespace {

namespace json = boost::json;

std::size_t action_index(std::string_view action) {
  const auto* it = std::find(kActions.begin(), kActions.end(), action);
  return static_cast<std::size_t>(it - kActions.begin());  // kActions.size() when unknown
}

bool blocked(const Predicted& p) { return p.action == "hold" || p.action == "reject"; }

bool high_or_critical(std::string_view urgency) { return urgency == "high" || urgency == "critical"; }

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Counts the triaged cases and those for which `hit` holds.
template <class Hit>
Rate over_triaged(const std::vector<Case>& cases, Hit&& hit) {
  Rate r;
  for (const auto& c : cases) {
    if (!c.predicted.triaged) continue;
    ++r.total;
    if (hit(c)) ++r.hits;
  }
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------
// Flag mapping

FlagMap FlagMap::defaults() {
  FlagMap m;
  for (auto [prefix, flag] :
       {std::pair{"SCAM_", "scam"}, std::pair{"PHISH_", "scam"}, std::pair{"SPAM_", "spam"},
        std::pair{"ABUSE_", "abuse"}, std::pair{"HATE_", "abuse"}, std::pair{"THREAT_", "abuse"},
        std::pair{"PII_THIRD_PARTY", "pii"}, std::pair{"OFF_TOPIC_", "off_topic"},
        std::pair{"DUPLICATE", "duplicate"}, std::pair{"NEAR_DUPLICATE", "duplicate"},
        std::pair{"POSSIBLE_DUPLICATE", "duplicate"}}) {
    m.by_prefix_[prefix] = flag;
  }
  return m;
}

Status FlagMap::add(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Error{"invalid", "--flag " + std::string(spec) + ": expected PREFIX=flag", "flag"};
  }
  const std::string flag(spec.substr(eq + 1));
  if (std::find(kFlags.begin(), kFlags.end(), flag) == kFlags.end()) {
    std::string names;
    for (auto f : kFlags) names += (names.empty() ? "" : ", ") + std::string(f);
    return Error{"invalid", "--flag " + std::string(spec) + ": \"" + flag + "\" is not one of " + names,
                 "flag"};
  }
  by_prefix_[std::string(spec.substr(0, eq))] = flag;
  return Done{};
}

std::optional<std::string> FlagMap::flag_of(std::string_view symbol) const {
  const std::pair<const std::string, std::string>* best = nullptr;
  for (const auto& entry : by_prefix_) {
    if (symbol.starts_with(entry.first) && (best == nullptr || entry.first.size() > best->first.size())) {
      best = &entry;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->second;
}

// ---------------------------------------------------------------------------
// Moderation

ActionMetric action_metric(const std::vector<Case>& cases) {
  ActionMetric m;
  for (const auto& c : cases) {
    const auto e = action_index(c.expected.expected_action);
    const auto p = action_index(c.predicted.action);
    ++m.accuracy.total;
    if (e >= kActions.size() || p >= kActions.size()) continue;  // read_posts and the reader rule this out
    ++m.confusion[e][p];
    if (e == p) ++m.accuracy.hits;
  }
  return m;
}

std::vector<std::string> predicted_flags(const Predicted& p, const FlagMap& map) {
  std::vector<std::string> flags;
  // A finding on an accepted post did not stop it: it flagged nothing.
  if (!blocked(p)) return flags;
  for (const auto& symbol : p.symbols) {
    if (auto flag = map.flag_of(symbol); flag && !contains(flags, *flag)) flags.push_back(*flag);
  }
  return flags;
}

FlagMetric flag_metric(const std::vector<Case>& cases, std::string_view flag, const FlagMap& map) {
  FlagMetric m;
  for (const auto& c : cases) {
    const bool expected = contains(c.expected.flags, flag);
    const bool predicted = contains(predicted_flags(c.predicted, map), flag);
    if (expected) ++m.support;
    if (expected && predicted) ++m.true_positives;
    if (!expected && predicted) ++m.false_positives;
    if (expected && !predicted) ++m.false_negatives;
  }
  return m;
}

Rate legit_requests_blocked(const std::vector<Case>& cases) {
  Rate r;
  for (const auto& c : cases) {
    if (c.expected.kind != "request" || c.expected.expected_action != "accept") continue;
    ++r.total;
    if (blocked(c.predicted)) ++r.hits;
  }
  return r;
}

// ---------------------------------------------------------------------------
// Triage and routing

Rate kind_accuracy(const std::vector<Case>& cases) {
  return over_triaged(cases, [](const Case& c) { return c.predicted.kind == c.expected.kind; });
}

Rate category_accuracy(const std::vector<Case>& cases) {
  return over_triaged(
      cases, [](const Case& c) { return contains(c.predicted.categories, c.expected.categories.front()); });
}

Rate urgency_accuracy(const std::vector<Case>& cases) {
  return over_triaged(cases, [](const Case& c) { return c.predicted.urgency == c.expected.urgency; });
}

Rate urgency_high_critical_recall(const std::vector<Case>& cases) {
  Rate r;
  for (const auto& c : cases) {
    if (!c.predicted.triaged || !high_or_critical(c.expected.urgency)) continue;
    ++r.total;
    if (high_or_critical(c.predicted.urgency)) ++r.hits;
  }
  return r;
}

Rate area_accuracy(const std::vector<Case>& cases) {
  return over_triaged(cases, [](const Case& c) { return c.predicted.area == c.expected.area; });
}

Rate route_accuracy(const std::vector<Case>& cases) {
  Rate r;
  for (const auto& c : cases) {
    ++r.total;
    const std::set<std::string> expected(c.expected.expected_route.begin(), c.expected.expected_route.end());
    const std::set<std::string> predicted(c.predicted.destinations.begin(), c.predicted.destinations.end());
    if (expected == predicted) ++r.hits;
  }
  return r;
}

// ---------------------------------------------------------------------------
// The report

Report evaluate(const std::vector<Case>& cases, const FlagMap& map) {
  Report r;
  r.posts = cases.size();
  r.action = action_metric(cases);
  for (auto flag : kFlags) r.flags.emplace_back(std::string(flag), flag_metric(cases, flag, map));
  r.legit_blocked = legit_requests_blocked(cases);
  r.kind = kind_accuracy(cases);
  r.category = category_accuracy(cases);
  r.urgency = urgency_accuracy(cases);
  r.urgency_high_critical = urgency_high_critical_recall(cases);
  r.area = area_accuracy(cases);
  r.route = route_accuracy(cases);
  for (const auto& c : cases) {
    if (c.predicted.action == c.expected.expected_action) continue;
    std::string line = c.id + " " + c.expected.expected_action + "\u2192" + c.predicted.action + " [";
    for (std::size_t i = 0; i < c.predicted.symbols.size(); ++i) {
      line += (i > 0 ? " " : "") + c.predicted.symbols[i];
    }
    r.misclassified.push_back(line + "]");
  }
  auto listed = [](const std::vector<std::string>& ids) {
    std::vector<std::string> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    std::string out = "[";
    for (std::size_t i = 0; i < sorted.size(); ++i) out += (i > 0 ? " " : "") + sorted[i];
    return out + "]";
  };
  for (const auto& c : cases) {
    const std::set<std::string> expected(c.expected.expected_route.begin(), c.expected.expected_route.end());
    const std::set<std::string> predicted(c.predicted.destinations.begin(), c.predicted.destinations.end());
    if (expected == predicted) continue;
    r.misrouted.push_back(c.id + " " + listed(c.expected.expected_route) + " \u2192 " +
                          listed(c.predicted.destinations));
  }
  return r;
}

namespace {

json::value rate_json(const Rate& r) {
  if (auto v = r.value()) return *v;
  return nullptr;
}

// For the second section: each object carries the number of posts it was
// computed over, since that differs from metric to metric.
json::object accuracy_json(const Rate& r) { return {{"accuracy", rate_json(r)}, {"posts", r.total}}; }

// Shortest round-trip form: 0.75, 0.3333333333333333, 1.
std::string number(double v) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  std::string s(buf.data(), ec == std::errc() ? end : buf.data());
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a floating-point number
  return s;
}

bool scalar(const json::value& v) { return !v.is_object() && !v.is_array(); }

// Pretty-printed, with an object of scalars kept on one line.
void write(std::string& out, const json::value& v, int indent) {
  if (v.is_double()) {
    out += number(v.get_double());
    return;
  }
  if (!v.is_object()) {
    out += json::serialize(v);
    return;
  }
  const auto& o = v.get_object();
  const bool flat = std::all_of(o.begin(), o.end(), [](const auto& kv) { return scalar(kv.value()); });
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  out += '{';
  bool first = true;
  for (const auto& kv : o) {
    out += first ? "" : ",";
    out += flat ? (first ? "" : " ") : "\n" + pad;
    first = false;
    out += json::serialize(json::value(kv.key())) + ": ";
    write(out, kv.value(), indent + 2);
  }
  if (!flat && !o.empty()) out += "\n" + std::string(static_cast<std::size_t>(indent), ' ');
  out += '}';
}

std::string fixed3(const Rate& r) {
  const auto v = r.value();
  if (!v) return "-";
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.3f", *v);
  return buf.data();
}

std::string with_counts(const Rate& r) {
  return fixed3(r) + " (" + std::to_string(r.hits) + "/" + std::to_string(r.total) + ")";
}

std::string padded(std::string s, std::size_t width, bool right = true) {
  if (s.size() >= width) return s;
  const std::string pad(width - s.size(), ' ');
  return right ? pad + s : s + pad;
}

}  // namespace

std::string report_json(const Report& r) {
  json::object confusion;
  for (std::size_t e = 0; e < kActions.size(); ++e) {
    json::object row;
    for (std::size_t p = 0; p < kActions.size(); ++p) row[kActions[p]] = r.action.confusion[e][p];
    confusion[kActions[e]] = std::move(row);
  }
  json::object flags;
  for (const auto& [name, m] : r.flags) {
    flags[name] = json::object{
        {"precision", rate_json(m.precision())}, {"recall", rate_json(m.recall())}, {"support", m.support}};
  }
  json::object urgency = accuracy_json(r.urgency);
  urgency["high_critical_recall"] = rate_json(r.urgency_high_critical);
  urgency["high_critical_posts"] = r.urgency_high_critical.total;
  const json::object doc{{"posts", r.posts},
                         {"action", json::object{{"accuracy", rate_json(r.action.accuracy)},
                                                 {"confusion", std::move(confusion)}}},
                         {"flags", std::move(flags)},
                         {"legit_requests_blocked", rate_json(r.legit_blocked)},
                         {"kind", accuracy_json(r.kind)},
                         {"category", accuracy_json(r.category)},
                         {"urgency", std::move(urgency)},
                         {"area", accuracy_json(r.area)},
                         {"route", accuracy_json(r.route)}};
  std::string out;
  write(out, doc, 0);
  return out + "\n";
}

std::string report_text(const Report& r) {
  std::ostringstream out;
  out << "posts: " << r.posts << "\n\nModeration\n"
      << "  expected \\ predicted" << padded("accept", 9) << padded("hold", 9) << padded("reject", 9) << "\n";
  for (std::size_t e = 0; e < kActions.size(); ++e) {
    out << "  " << padded(std::string(kActions[e]), 20, false);
    for (std::size_t p = 0; p < kActions.size(); ++p)
      out << padded(std::to_string(r.action.confusion[e][p]), 9);
    out << "\n";
  }
  out << "  action accuracy: " << with_counts(r.action.accuracy) << "\n\n"
      << "  " << padded("flag", 11, false) << padded("precision", 10) << padded("recall", 8)
      << padded("support", 9) << padded("tp", 5) << padded("fp", 5) << padded("fn", 5) << "\n";
  for (const auto& [name, m] : r.flags) {
    out << "  " << padded(name, 11, false) << padded(fixed3(m.precision()), 10)
        << padded(fixed3(m.recall()), 8) << padded(std::to_string(m.support), 9)
        << padded(std::to_string(m.true_positives), 5) << padded(std::to_string(m.false_positives), 5)
        << padded(std::to_string(m.false_negatives), 5) << "\n";
  }
  out << "  (a flag is predicted when the post is held or rejected with a finding that maps to it;\n"
      << "   precision - : no post predicted with the flag; recall - : no post labelled with it)\n"
      << "  legitimate requests held or rejected: " << with_counts(r.legit_blocked) << "\n\n"
      << "Triage and routing (kind, category, urgency, area: over the posts that got a triage)\n"
      << "  kind      " << with_counts(r.kind) << "\n"
      << "  category  " << with_counts(r.category) << "  (expected first category among the predicted)\n"
      << "  urgency   " << with_counts(r.urgency) << "; high/critical recall "
      << with_counts(r.urgency_high_critical) << "\n"
      << "  area      " << with_counts(r.area) << "\n"
      << "  route     " << with_counts(r.route) << "  (all posts; destinations compared as sets)\n";
  out << "\nMisclassified: " << r.misclassified.size() << " (id expected\u2192predicted [symbols])\n";
  for (const auto& line : r.misclassified) out << "  " << line << "\n";
  out << "\nMisrouted: " << r.misrouted.size() << " (id [expected] \u2192 [predicted])\n";
  for (const auto& line : r.misrouted) out << "  " << line << "\n";
  return out.str();
}

}  // namespace relais::eval
