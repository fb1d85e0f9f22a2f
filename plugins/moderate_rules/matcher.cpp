#include "matcher.hpp"

#include <algorithm>
#include <climits>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace relais::rules {
namespace {

constexpr std::uint8_t role_bit(Role role) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(role));
}

// What goes into one field's database before it is compiled.
struct Plan {
  std::vector<std::string> expressions;
  std::vector<unsigned int> flags;
  std::vector<Entry> entries;
  std::vector<std::vector<Use>> uses;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> first;  // (rule, term) that brought each expression

  bool same_as(const Plan& other) const {
    const auto same_uses = [](const std::vector<Use>& a, const std::vector<Use>& b) {
      return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                        [](const Use& x, const Use& y) { return x.rule == y.rule && x.role == y.role; });
    };
    return expressions == other.expressions && flags == other.flags &&
           std::equal(uses.begin(), uses.end(), other.uses.begin(), other.uses.end(), same_uses);
  }
};

// Flags per expression: SOM only where a redaction needs the start of a
// pattern's match, since it costs; a single match wherever nothing needs
// the later ones. A literal whose boundaries are checked after the match
// needs every match: the first may sit inside a longer word.
unsigned int flags_of(const Term& term, bool span) {
  unsigned int flags = HS_FLAG_UTF8;
  if (term.literal || term.ucp) flags |= HS_FLAG_UCP;
  if (term.literal) {
    if (!term.word_start && !term.word_end && !span) flags |= HS_FLAG_SINGLEMATCH;
  } else {
    flags |= span ? HS_FLAG_SOM_LEFTMOST : HS_FLAG_SINGLEMATCH;
  }
  return flags;
}

Plan plan_field(const std::vector<Rule>& rules, Field field) {
  Plan plan;
  std::map<std::tuple<std::string, unsigned int, bool, bool, bool>, std::uint32_t> index;
  const auto f = static_cast<std::size_t>(field);
  for (std::uint32_t r = 0; r < rules.size(); ++r) {
    const Rule& rule = rules[r];
    if (!rule.fields[f]) continue;
    for (std::uint32_t t = 0; t < rule.terms.size(); ++t) {
      const Term& term = rule.terms[t];
      const bool span = term.role == Role::main && rule.redact && field != Field::sender;
      const unsigned int flags = flags_of(term, span);
      const auto [it, added] =
          index.try_emplace({term.expression, flags, term.word_start, term.word_end, span},
                            static_cast<std::uint32_t>(plan.expressions.size()));
      if (added) {
        plan.expressions.push_back(term.expression);
        plan.flags.push_back(flags);
        Entry entry;
        entry.length = term.literal ? static_cast<std::uint32_t>(term.length) : 0;
        entry.word_start = term.word_start;
        entry.word_end = term.word_end;
        entry.span = span;
        plan.entries.push_back(entry);
        plan.uses.emplace_back();
        plan.first.emplace_back(r, t);
      }
      plan.uses[it->second].push_back({r, term.role});
    }
  }
  return plan;
}

Expected<std::shared_ptr<FieldDatabase>> compile_plan(Plan plan, const std::vector<Rule>& rules) {
  auto out = std::make_shared<FieldDatabase>();
  for (std::size_t i = 0; i < plan.entries.size(); ++i) {
    plan.entries[i].first_use = static_cast<std::uint32_t>(out->uses.size());
    out->uses.insert(out->uses.end(), plan.uses[i].begin(), plan.uses[i].end());
    plan.entries[i].end_use = static_cast<std::uint32_t>(out->uses.size());
  }
  out->entries = std::move(plan.entries);

  std::vector<const char*> expressions;
  std::vector<unsigned int> ids;
  expressions.reserve(plan.expressions.size());
  for (std::size_t i = 0; i < plan.expressions.size(); ++i) {
    expressions.push_back(plan.expressions[i].c_str());
    ids.push_back(static_cast<unsigned int>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  const hs_error_t status =
      hs_compile_multi(expressions.data(), plan.flags.data(), ids.data(),
                       static_cast<unsigned int>(ids.size()), HS_MODE_BLOCK, nullptr, &db, &error);
  if (status != HS_SUCCESS) {
    const std::string message = error != nullptr ? error->message : "unknown error";
    const int which = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    if (which < 0 || static_cast<std::size_t>(which) >= plan.first.size()) {
      return Error{"config", "the rules do not compile together: " + message, ""};
    }
    const auto [r, t] = plan.first[static_cast<std::size_t>(which)];
    const Term& term = rules[r].terms[t];
    std::string text = to_string(term.where) + ": rule " + rules[r].id + ": " + term.key + ": " + message;
    if ((plan.flags[static_cast<std::size_t>(which)] & HS_FLAG_SOM_LEFTMOST) != 0U) {
      text += " (the rule redacts, which needs where each match starts: simplify the pattern)";
    }
    return Error{"config", std::move(text), term.key};
  }
  out->db.reset(db);
  return out;
}

bool ascii_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

Expected<std::shared_ptr<const CompiledRules>> compile(RuleSet set) {
  const auto start = std::chrono::steady_clock::now();
  auto out = std::make_shared<CompiledRules>();
  out->rules = std::move(set.rules);
  std::array<Plan, kFields> plans;
  for (std::size_t f = 0; f < kFields; ++f) {
    plans[f] = plan_field(out->rules, static_cast<Field>(f));
    if (plans[f].expressions.empty()) continue;
    const auto shared = std::find_if(
        plans.begin(), plans.begin() + static_cast<std::ptrdiff_t>(f),
        [&](const Plan& earlier) { return !earlier.expressions.empty() && earlier.same_as(plans[f]); });
    if (shared != plans.begin() + static_cast<std::ptrdiff_t>(f)) {
      out->fields[f] = out->fields[static_cast<std::size_t>(shared - plans.begin())];
      continue;
    }
    out->expressions += plans[f].expressions.size();
    auto compiled = compile_plan(plans[f], out->rules);
    if (!compiled) return compiled.error();
    hs_scratch_t* scratch = out->scratch.release();
    const hs_error_t status = hs_alloc_scratch((*compiled)->db.get(), &scratch);
    out->scratch.reset(scratch);
    if (status != HS_SUCCESS) {
      return Error{"config", "cannot allocate Hyperscan scratch space (error " + std::to_string(status) + ")",
                   ""};
    }
    out->fields[f] = std::move(*compiled);
  }
  out->compile_time =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return std::shared_ptr<const CompiledRules>(std::move(out));
}

Matcher::Matcher(std::shared_ptr<const CompiledRules> rules) : rules_(std::move(rules)) {
  if (rules_->scratch) {
    hs_scratch_t* scratch = nullptr;
    if (hs_clone_scratch(rules_->scratch.get(), &scratch) != HS_SUCCESS) {
      throw std::runtime_error("cannot allocate Hyperscan scratch space");
    }
    scratch_.reset(scratch);
  }
  for (std::size_t f = 0; f < kFields; ++f) {
    if (rules_->fields[f]) entry_seen_[f].assign(rules_->fields[f]->entries.size(), 0);
  }
  rule_seen_.assign(rules_->rules.size(), 0);
  rule_roles_.assign(rules_->rules.size(), 0);
}

void Matcher::next_generation() {
  if (++generation_ != 0) return;
  // Wrapped: stamps from 2^32 posts ago would look current.
  for (auto& seen : entry_seen_) std::fill(seen.begin(), seen.end(), 0);
  std::fill(rule_seen_.begin(), rule_seen_.end(), 0);
  generation_ = 1;
}

bool Matcher::word_byte(std::uint8_t field, std::size_t at) {
  const std::string& s = folded_[field].text;
  if (static_cast<unsigned char>(s[at]) < 0x80) return ascii_word(s[at]);
  if (!words_ready_[field]) {
    auto& words = words_[field];
    words.assign(s.size(), false);
    text::words(s, word_views_);
    for (const std::string_view word : word_views_) {
      const auto begin = static_cast<std::size_t>(word.data() - s.data());
      std::fill(words.begin() + static_cast<std::ptrdiff_t>(begin),
                words.begin() + static_cast<std::ptrdiff_t>(begin + word.size()), true);
    }
    words_ready_[field] = true;
  }
  return words_[field][at];
}

int Matcher::on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int /*flags*/,
                      void* context) {
  const auto& scan = *static_cast<const ScanContext*>(context);
  scan.self->record(scan, id, static_cast<std::size_t>(from), static_cast<std::size_t>(to));
  return 0;
}

void Matcher::record(const ScanContext& scan, std::uint32_t id, std::size_t from, std::size_t to) {
  const Entry& entry = scan.db->entries[id];
  if (entry.length != 0) {
    // A literal's match always has its length: where it starts is known
    // without asking Hyperscan for it.
    from = to - entry.length;
    const std::size_t size = folded_[scan.field].text.size();
    if (entry.word_start && from > 0 && word_byte(scan.field, from - 1)) return;
    if (entry.word_end && to < size && word_byte(scan.field, to)) return;
  }
  auto& seen = entry_seen_[scan.field][id];
  if (seen != generation_) {
    seen = generation_;
    hits_.push_back({scan.field, id});
  }
  if (entry.span && to > from) spans_.push_back({scan.field, id, from, to});
}

void Matcher::match(const Post& post, std::vector<Finding>& findings) {
  next_generation();
  hits_.clear();
  spans_.clear();
  candidates_.clear();
  const std::array<std::string_view, kFields> texts{
      post.text, post.subject ? *post.subject : std::string_view(), post.sender};
  for (std::size_t f = 0; f < kFields; ++f) {
    const FieldDatabase* db = rules_->fields[f].get();
    if (db == nullptr || texts[f].empty()) continue;
    text::normalize(texts[f], folded_[f]);
    fold(folded_[f]);
    words_ready_[f] = false;
    const std::string& s = folded_[f].text;
    if (s.size() > UINT_MAX) throw std::length_error("moderate_rules: field too long to scan");
    ScanContext scan{this, static_cast<std::uint8_t>(f), db};
    const hs_error_t status = hs_scan(db->db.get(), s.data(), static_cast<unsigned int>(s.size()), 0,
                                      scratch_.get(), on_match, &scan);
    if (status != HS_SUCCESS) {
      throw std::runtime_error("moderate_rules: Hyperscan scan failed (error " + std::to_string(status) +
                               ")");
    }
  }

  for (const Hit& hit : hits_) {
    const FieldDatabase& db = *rules_->fields[hit.field];
    const Entry& entry = db.entries[hit.entry];
    for (std::uint32_t u = entry.first_use; u < entry.end_use; ++u) {
      const Use& use = db.uses[u];
      if (rule_seen_[use.rule] != generation_) {
        rule_seen_[use.rule] = generation_;
        rule_roles_[use.rule] = 0;
      }
      if (use.role == Role::main && (rule_roles_[use.rule] & role_bit(Role::main)) == 0) {
        candidates_.push_back(use.rule);
      }
      rule_roles_[use.rule] |= role_bit(use.role);
    }
  }
  std::sort(candidates_.begin(), candidates_.end());
  for (const std::uint32_t r : candidates_) {
    const Rule& rule = rules_->rules[r];
    const std::uint8_t roles = rule_roles_[r];
    if ((roles & role_bit(Role::unless)) != 0) continue;
    if (rule.has_also && (roles & role_bit(Role::also)) == 0) continue;
    fire(rule, r, findings);
  }
}

void Matcher::fire(const Rule& rule, std::uint32_t index, std::vector<Finding>& findings) {
  Finding finding;
  finding.symbol = rule.id;
  finding.score = rule.score;
  finding.description = rule.description;
  finding.forced = rule.action;
  if (rule.redact) {
    // The rule's own spans, in original bytes, merged where they overlap:
    // a pattern reports each end of a match from the same start.
    std::vector<std::tuple<std::uint8_t, std::size_t, std::size_t>> spans;
    for (const Span& span : spans_) {
      const FieldDatabase& db = *rules_->fields[span.field];
      const Entry& entry = db.entries[span.entry];
      const bool own = std::any_of(db.uses.begin() + entry.first_use, db.uses.begin() + entry.end_use,
                                   [&](const Use& u) { return u.rule == index && u.role == Role::main; });
      if (!own) continue;
      const auto [begin, end] = folded_[span.field].original_span(span.begin, span.end);
      spans.emplace_back(span.field, begin, end);
    }
    std::sort(spans.begin(), spans.end());
    for (const auto& [field, begin, end] : spans) {
      auto& out = finding.redactions;
      if (!out.empty() && out.back().field == kFieldNames[field] &&
          begin <= out.back().offset + out.back().length) {
        const std::size_t merged_end = std::max(out.back().offset + out.back().length, end);
        out.back().length = merged_end - out.back().offset;
        continue;
      }
      out.push_back({std::string(kFieldNames[field]), begin, end - begin, *rule.redact});
    }
  }
  findings.push_back(std::move(finding));
}

}  // namespace relais::rules
