// `relaisctl rules test` and `rules replay`: what moderation would do, with
// the real moderator plugins loaded here as shadow instances (they read
// their files but change nothing), so that trying a rule never touches the
// running daemon, its store or the state of its moderators.
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "config/config.hpp"
#include "ctl.hpp"
#include "log.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/host.hpp"
#include "protocol.hpp"
#include "storage/store.hpp"

namespace relais::ctl {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRulesPlugin = "moderate_rules";

// The configuration to moderate with: relaisd's, with the candidate rule
// files in the place of the configured ones.
Expected<daemon::Config> candidate_config(const Options& o, const RulesOptions& r, daemon::Config* live) {
  // The plugins' start-up lines would drown the outcomes; warnings still show.
  daemon::set_log_level("warn");
  daemon::ConfigOverrides overrides;
  if (o.state_dir_given) overrides.state_dir = o.state_dir;
  if (!r.plugin_dir.empty()) overrides.plugin_dir = r.plugin_dir;
  auto config = daemon::load_config(r.config, overrides);
  if (!config) return config.error();
  if (live != nullptr) *live = *config;
  if (r.rules.empty()) return config;
  std::vector<std::string> files;
  for (const auto& f : r.rules) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) return Error{"input", f + ": no such rule file", ""};
    files.push_back(fs::absolute(f).string());
  }
  return daemon::with_moderator_key(*config, kRulesPlugin, "rules", files, overrides);
}

json::object finding_json(const Finding& f, const std::string& stage) {
  json::object o{{"symbol", f.symbol}, {"score", f.score}, {"description", f.description}, {"stage", stage}};
  if (f.forced) o["forced"] = to_string(*f.forced);
  if (f.related_post > 0) o["related_post"] = f.related_post;
  if (!f.redactions.empty()) o["redactions"] = f.redactions.size();
  return o;
}

void print_finding(const Finding& f, const std::string& stage) {
  std::cout << "    " << f.symbol << " score=" << str(json::value(f.score));
  if (f.forced) std::cout << " forced=" << to_string(*f.forced);
  if (!f.redactions.empty()) std::cout << " redactions=" << f.redactions.size();
  if (f.related_post > 0) std::cout << " duplicate_of=" << f.related_post;
  std::cout << " (" << stage << "): " << f.description << "\n";
}

// "90m", "24h", "7d" as seconds.
std::optional<std::int64_t> parse_duration(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9' || n > 100'000'000) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  switch (text.back()) {
    case 's':
      return n;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    default:
      return std::nullopt;
  }
}

// What moderation decided when the post came in, before any person did.
Action moderated_action(const daemon::StoredPost& sp) {
  for (auto it = sp.events.rbegin(); it != sp.events.rend(); ++it) {
    if (it->type != "moderated") continue;
    boost::system::error_code ec;
    const auto detail = json::parse(it->detail_json, ec);
    if (!ec && detail.is_object()) {
      if (const auto* a = detail.get_object().if_contains("action"); a != nullptr && a->is_string()) {
        if (auto action = parse_action(a->get_string())) return *action;
      }
    }
  }
  return sp.verdict ? sp.verdict->action : Action::accept;
}

}  // namespace

int cmd_rules_test(const Options& o, const RulesOptions& r, const std::string& file) {
  auto config = candidate_config(o, r, nullptr);
  if (!config) return fail(config.error().message);
  auto set =
      daemon::build_plugin_set(*config, {.shadow = true, .moderators_only = true, .state_directory = {}});
  if (!set) return fail(set.error().message);
  auto posts = read_posts(file, "rules-test");
  if (!posts) return fail(posts.error().message);

  std::map<std::string, std::size_t> by_action;
  std::size_t labelled = 0;
  std::size_t agreed = 0;
  json::array out;
  for (const auto& p : *posts) {
    const auto record = daemon::moderate_post(p.post, *config, (*set)->moderators);
    const auto& v = record.verdict;
    ++by_action[std::string(to_string(v.action))];
    if (p.label) {
      ++labelled;
      if (*p.label == v.action) ++agreed;
    }
    if (o.as_json) {
      json::array findings;
      for (std::size_t i = 0; i < v.findings.size(); ++i)
        findings.push_back(finding_json(v.findings[i], record.finding_stages[i]));
      json::object line{{"line", p.line},
                        {"id", p.id},
                        {"action", to_string(v.action)},
                        {"score", v.score},
                        {"findings", std::move(findings)}};
      if (p.label) line["expected"] = to_string(*p.label);
      out.push_back(std::move(line));
      continue;
    }
    std::cout << "line " << p.line;
    if (!p.id.empty()) std::cout << " (" << p.id << ")";
    std::cout << ": " << to_string(v.action) << " score=" << str(json::value(v.score));
    if (p.label) std::cout << " expected=" << to_string(*p.label);
    std::cout << "\n";
    for (std::size_t i = 0; i < v.findings.size(); ++i)
      print_finding(v.findings[i], record.finding_stages[i]);
  }
  if (o.as_json) {
    std::cout << json::serialize(json::object{{"posts", std::move(out)}}) << "\n";
    return 0;
  }
  std::cout << posts->size() << " posts:";
  for (const auto& [action, n] : by_action) std::cout << " " << n << " " << action;
  if (labelled > 0) std::cout << "; " << agreed << " of " << labelled << " as labelled";
  std::cout << "\n";
  return 0;
}

int cmd_rules_replay(const Options& o, const RulesOptions& r) {
  daemon::Config live;
  auto config = candidate_config(o, r, &live);
  if (!config) return fail(config.error().message);
  std::optional<std::string> cutoff;
  if (!r.since.empty()) {
    const auto seconds = parse_duration(r.since);
    if (!seconds) return fail("--since " + r.since + ": expected a number and s, m, h or d, such as 24h");
    cutoff = protocol::rfc3339_utc(std::chrono::system_clock::now() - std::chrono::seconds(*seconds));
  }
  auto set =
      daemon::build_plugin_set(*config, {.shadow = true, .moderators_only = true, .state_directory = {}});
  if (!set) return fail(set.error().message);
  // Only the rule instances run again: what the other moderators found is
  // taken from the store, so flood and duplicate findings stay as they were.
  std::vector<daemon::PluginInstance<Moderator>> candidates;
  for (const auto& m : (*set)->moderators) {
    if (m.plugin == kRulesPlugin) candidates.push_back(m);
  }
  std::set<std::string> live_rule_stages;
  for (const auto& e : live.plugins) {
    if (e.kind == PluginKind::moderator && e.plugin == kRulesPlugin) live_rule_stages.insert(e.instance());
  }

  auto store = daemon::open_sqlite_store(live.database(), {.read_only = true});
  if (!store) return fail(store.error().message);
  auto summaries = (*store)->list_posts("", static_cast<std::size_t>(r.limit));
  if (!summaries) return fail(summaries.error().message);

  std::size_t replayed = 0;
  std::map<std::string, std::size_t> changes;
  json::array changed;
  // Oldest first, as they came in.
  for (auto it = summaries->rbegin(); it != summaries->rend(); ++it) {
    if (it->state == daemon::state::received) continue;
    auto found = (*store)->get_post(it->id);
    if (!found) return fail(found.error().message);
    if (!*found) continue;
    const auto& sp = **found;
    if (cutoff && sp.ingested_at < *cutoff) continue;
    ++replayed;
    const Action before = moderated_action(sp);
    Verdict verdict;
    std::vector<std::string> stages;
    std::set<std::string> old_rules;
    for (const auto& f : sp.findings) {
      if (live_rule_stages.count(f.stage) > 0) {
        old_rules.insert(f.finding.symbol);
        continue;
      }
      verdict.findings.push_back(f.finding);
      stages.push_back(f.stage);
    }
    const auto fresh = daemon::moderate_post(sp.post, *config, candidates);
    std::set<std::string> new_rules;
    for (std::size_t i = 0; i < fresh.verdict.findings.size(); ++i) {
      verdict.findings.push_back(fresh.verdict.findings[i]);
      stages.push_back(fresh.finding_stages[i]);
      new_rules.insert(fresh.verdict.findings[i].symbol);
    }
    daemon::settle_verdict(verdict, *config, false);
    if (verdict.action == before) continue;
    const std::string change =
        std::string(to_string(before)) + " -> " + std::string(to_string(verdict.action));
    ++changes[change];
    json::array added;
    json::array removed;
    for (const auto& s : new_rules) {
      if (old_rules.count(s) == 0) added.emplace_back(s);
    }
    for (const auto& s : old_rules) {
      if (new_rules.count(s) == 0) removed.emplace_back(s);
    }
    if (!o.as_json) {
      std::cout << sp.post.id << "  " << change << "  score=" << str(json::value(verdict.score))
                << "  state=" << sp.state;
      for (const auto& s : added) std::cout << "  +" << str(s);
      for (const auto& s : removed) std::cout << "  -" << str(s);
      std::cout << "\n";
    }
    changed.push_back(json::object{{"id", sp.post.id},
                                   {"before", to_string(before)},
                                   {"after", to_string(verdict.action)},
                                   {"score", verdict.score},
                                   {"state", sp.state},
                                   {"added", std::move(added)},
                                   {"removed", std::move(removed)}});
  }
  if (o.as_json) {
    std::cout << json::serialize(json::object{{"replayed", replayed}, {"changed", std::move(changed)}})
              << "\n";
    return 0;
  }
  std::cout << replayed << " posts replayed, " << changed.size() << " would change";
  for (const auto& [change, n] : changes) std::cout << "; " << n << " " << change;
  std::cout << "\n";
  return 0;
}

}  // namespace relais::ctl
