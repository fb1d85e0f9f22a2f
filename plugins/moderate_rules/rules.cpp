#include "rules.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace relais::rules {
namespace {

// ---------------------------------------------------------------- folding

// Length of a white-space character at `i` that NFKC leaves alone (it maps
// the no-break and typographic spaces to ' ' already), or 0.
std::size_t space_at(std::string_view s, std::size_t i) {
  switch (s[i]) {
    case ' ':
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
      return 1;
    default:
      break;
  }
  if (i + 1 < s.size() && s[i] == '\xC2' && s[i + 1] == '\x85') return 2;  // NEL
  if (i + 2 < s.size() && s[i] == '\xE2' && s[i + 1] == '\x80' &&
      (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
    return 3;  // line and paragraph separators
  }
  return 0;
}

// Length of a typographic apostrophe at `i` (U+2018, U+2019, U+02BC), or 0.
std::size_t apostrophe_at(std::string_view s, std::size_t i) {
  if (i + 2 < s.size() && s[i] == '\xE2' && s[i + 1] == '\x80' &&
      (s[i + 2] == '\x98' || s[i + 2] == '\x99')) {
    return 3;
  }
  if (i + 1 < s.size() && s[i] == '\xCA' && s[i + 1] == '\xBC') return 2;
  return 0;
}

// The bytes space_at() or apostrophe_at() may match at: ASCII white space
// and the lead bytes of NEL, U+2028, U+2029, U+2018, U+2019 and U+02BC.
constexpr std::array<bool, 256> kFoldLead = [] {
  std::array<bool, 256> table{};
  for (const unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) table[c] = true;
  table[0xC2] = table[0xE2] = table[0xCA] = true;
  return table;
}();

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Length of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
std::size_t utf8_length(char lead) {
  const auto b = static_cast<unsigned char>(lead);
  if (b >= 0xF0) return 4;
  if (b >= 0xE0) return 3;
  if (b >= 0xC0) return 2;
  return 1;
}

// ---------------------------------------------------------------- terms

// A literal as a Hyperscan expression: letters, digits and UTF-8 as they
// are, everything else escaped.
std::string escape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (const char c : literal) {
    const auto b = static_cast<unsigned char>(c);
    if (is_ascii_alnum(c) || b >= 0x80) {
      out += c;
    } else if (b < 0x20 || b == 0x7F) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[b >> 4U];
      out += kHex[b & 0xFU];
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A literal: folded; a leading or trailing '*' lifts the word boundary on
// that side. Empty on a literal with nothing left to match.
std::optional<Term> literal_term(std::string_view raw) {
  Term term;
  term.literal = true;
  bool open_start = false;
  bool open_end = false;
  if (!raw.empty() && raw.front() == '*') {
    open_start = true;
    raw.remove_prefix(1);
  }
  if (!raw.empty() && raw.back() == '*') {
    open_end = true;
    raw.remove_suffix(1);
  }
  const text::Normalized folded = fold(raw);
  const std::string_view body = trim_spaces(folded.text);
  if (body.empty()) return std::nullopt;
  const auto words = text::words(body);
  term.word_start = !open_start && !words.empty() && words.front().data() == body.data();
  term.word_end = !open_end && !words.empty() && words.back().data() + words.back().size() == body.end();
  term.length = body.size();
  term.expression = escape(body);
  return term;
}

// A pattern: the text between its escapes folded like post text, so that
// "Vírement" finds "virement"; escapes, group openers and \Q...\E markers
// kept as written, since folding would turn \S into \s. Sets `ucp` false
// when the pattern uses \b or \B, which Hyperscan refuses in UCP mode.
Term pattern_term(std::string_view raw) {
  Term term;
  std::string out;
  std::string pending;
  const auto flush = [&] {
    if (pending.empty()) return;
    out += fold(pending).text;
    pending.clear();
  };
  std::size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      flush();
      const char next = raw[i + 1];
      if (next == 'Q') {
        const std::size_t end = raw.find("\\E", i + 2);
        const std::string_view quoted =
            raw.substr(i + 2, end == std::string_view::npos ? raw.npos : end - i - 2);
        out += "\\Q";
        out += fold(quoted).text;
        if (end == std::string_view::npos) break;
        out += "\\E";
        i = end + 2;
        continue;
      }
      if (next == 'b' || next == 'B') term.ucp = false;
      std::size_t end = i + 1 + utf8_length(next);
      if (end < raw.size() && raw[end] == '{' &&
          std::string_view("pPxoNgk").find(next) != std::string_view::npos) {
        const std::size_t close = raw.find('}', end);
        end = close == std::string_view::npos ? raw.size() : close + 1;
      } else if ((next == 'p' || next == 'P' || next == 'c') && end < raw.size()) {
        ++end;  // \pL, \cA: one more character of syntax
      }
      end = std::min(end, raw.size());
      out.append(raw.substr(i, end - i));
      i = end;
      continue;
    }
    if (c == '(' && i + 2 < raw.size() && raw[i + 1] == '?') {
      flush();
      out.append(raw.substr(i, 3));  // "(?i", "(?P", "(?<": syntax, not text
      i += 3;
      continue;
    }
    pending += c;
    ++i;
  }
  flush();
  term.expression = std::move(out);
  return term;
}

// ---------------------------------------------------------------- reading

constexpr auto kRuleKeys = std::to_array<std::string_view>({"id", "description", "fields", "literals",
                                                            "patterns", "also", "also_patterns", "unless",
                                                            "unless_patterns", "score", "action", "redact"});

// The lists of terms: key, role, literal or pattern.
struct TermKey {
  std::string_view key;
  Role role;
  bool literal;
};
constexpr std::array kTermKeys = {
    TermKey{"literals", Role::main, true}, TermKey{"patterns", Role::main, false},
    TermKey{"also", Role::also, true},     TermKey{"also_patterns", Role::also, false},
    TermKey{"unless", Role::unless, true}, TermKey{"unless_patterns", Role::unless, false},
};

bool valid_id(std::string_view id) {
  if (id.empty() || !(id.front() >= 'A' && id.front() <= 'Z')) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Reads one [[rule]] table, with messages "file:line:column: rule ID: key: ...".
class RuleReader {
 public:
  RuleReader(const std::string& file, std::size_t number)
      : file_(file), rule_("rule #" + std::to_string(number)) {}

  Position position(const toml::source_region& region) const {
    return {file_, static_cast<std::uint32_t>(region.begin.line),
            static_cast<std::uint32_t>(region.begin.column)};
  }

  Error error(const toml::source_region& region, std::string_view key, std::string_view message) const {
    std::string text = to_string(position(region)) + ": " + rule_;
    if (!key.empty()) text += ": " + std::string(key);
    text += ": " + std::string(message);
    return Error{"config", std::move(text), std::string(key)};
  }

  void name(const std::string& id) { rule_ = "rule " + id; }

  Expected<std::optional<std::string>> string(const toml::table& table, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::optional<std::string>();
    const auto* value = node->as_string();
    if (value == nullptr) return error(node->source(), key, "expected a string");
    return std::optional<std::string>(value->get());
  }

  // The strings of an array, each with its position.
  using Strings = std::vector<std::pair<std::string, toml::source_region>>;
  Expected<std::optional<Strings>> strings(const toml::table& table, std::string_view key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::optional<Strings>();
    const auto* array = node->as_array();
    if (array == nullptr) return error(node->source(), key, "expected an array of strings");
    Strings out;
    for (const auto& item : *array) {
      const auto* value = item.as_string();
      if (value == nullptr) return error(item.source(), key, "expected an array of strings");
      out.emplace_back(value->get(), item.source());
    }
    return std::optional<Strings>(std::move(out));
  }

  Expected<Rule> read(const toml::table& table, const RuleSet& set) {
    Rule rule;
    const toml::node* id_node = table.get("id");
    if (id_node == nullptr) return error(table.source(), "id", "missing: every rule needs an id");
    const auto* id = id_node->as_string();
    if (id == nullptr) return error(id_node->source(), "id", "expected a string");
    if (!valid_id(id->get())) {
      return error(id_node->source(), "id",
                   "expected capitals, digits and '_', starting with a capital (\"SCAM_MONEY_TRANSFER\")");
    }
    rule.id = id->get();
    rule.where = position(id_node->source());
    name(rule.id);
    if (const auto seen = set.ids.find(rule.id); seen != set.ids.end()) {
      return error(id_node->source(), "id", "already used at " + to_string(set.rules[seen->second].where));
    }
    // Unknown keys first: a misspelt key would otherwise surface as a
    // misleading error about the key it was meant to be.
    for (const auto& [key, node] : table) {
      if (std::find(kRuleKeys.begin(), kRuleKeys.end(), key.str()) == kRuleKeys.end()) {
        return error(key.source(), key.str(), "unknown key");
      }
    }

    auto description = string(table, "description");
    if (!description) return description.error();
    if (!*description || (*description)->empty()) {
      const toml::node* node = table.get("description");
      return error(node != nullptr ? node->source() : id_node->source(), "description",
                   "missing: every rule needs a description for the moderators");
    }
    rule.description = std::move(**description);

    auto fields = strings(table, "fields");
    if (!fields) return fields.error();
    if (*fields) {
      if ((*fields)->empty())
        return error(table.get("fields")->source(), "fields", "expected at least one field");
      rule.fields = {false, false, false};
      for (const auto& [name, region] : **fields) {
        const auto* found = std::find(kFieldNames.begin(), kFieldNames.end(), name);
        if (found == kFieldNames.end()) {
          return error(region, "fields",
                       "expected \"text\", \"subject\" or \"sender\", not \"" + name + "\"");
        }
        rule.fields[static_cast<std::size_t>(found - kFieldNames.begin())] = true;
      }
    }

    for (const auto& list : kTermKeys) {
      auto values = strings(table, list.key);
      if (!values) return values.error();
      if (!*values) continue;
      for (std::size_t i = 0; i < (*values)->size(); ++i) {
        const auto& [raw, region] = (**values)[i];
        Term term;
        if (list.literal) {
          auto literal = literal_term(raw);
          if (!literal) return error(region, list.key, "expected a literal with something to match");
          term = std::move(*literal);
        } else {
          if (raw.empty()) return error(region, list.key, "expected a non-empty pattern");
          term = pattern_term(raw);
        }
        term.role = list.role;
        term.key = std::string(list.key) + "[" + std::to_string(i) + "]";
        term.where = position(region);
        rule.has_also = rule.has_also || list.role == Role::also;
        rule.terms.push_back(std::move(term));
      }
    }
    if (std::none_of(rule.terms.begin(), rule.terms.end(),
                     [](const Term& t) { return t.role == Role::main; })) {
      return error(id_node->source(), "", "needs at least one of literals, patterns");
    }

    if (const toml::node* node = table.get("score"); node != nullptr) {
      if (const auto* f = node->as_floating_point()) {
        rule.score = f->get();
      } else if (const auto* i = node->as_integer()) {
        rule.score = static_cast<double>(i->get());
      } else {
        return error(node->source(), "score", "expected a number");
      }
      if (!std::isfinite(rule.score)) return error(node->source(), "score", "expected a finite number");
    }

    auto action = string(table, "action");
    if (!action) return action.error();
    if (*action) {
      if (**action == "hold") {
        rule.action = Action::hold;
      } else if (**action == "reject") {
        rule.action = Action::reject;
      } else {
        return error(table.get("action")->source(), "action",
                     "expected \"hold\" or \"reject\", not \"" + **action + "\"");
      }
    }

    auto redact = string(table, "redact");
    if (!redact) return redact.error();
    if (*redact) {
      const auto& where = table.get("redact")->source();
      if ((*redact)->empty()) return error(where, "redact", "expected a non-empty replacement");
      if (!rule.fields[static_cast<std::size_t>(Field::text)] &&
          !rule.fields[static_cast<std::size_t>(Field::subject)]) {
        return error(where, "redact", "only text and subject are redacted: add one of them to fields");
      }
      rule.redact = std::move(**redact);
    }
    return rule;
  }

 private:
  const std::string& file_;
  std::string rule_;
};

}  // namespace

std::string to_string(const Position& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

void fold(text::Normalized& normalized) {
  std::string& s = normalized.text;
  auto& origin = normalized.origin;
  std::size_t w = 0;
  std::size_t r = 0;
  while (r < s.size()) {
    // Nearly every byte is neither white space nor the first byte of a
    // typographic space or apostrophe: such runs are moved whole, and not at
    // all until something before them was folded.
    if (!kFoldLead[static_cast<unsigned char>(s[r])]) {
      std::size_t end = r + 1;
      while (end < s.size() && !kFoldLead[static_cast<unsigned char>(s[end])]) ++end;
      if (w != r) {
        std::copy(s.begin() + static_cast<std::ptrdiff_t>(r), s.begin() + static_cast<std::ptrdiff_t>(end),
                  s.begin() + static_cast<std::ptrdiff_t>(w));
        std::copy(origin.begin() + static_cast<std::ptrdiff_t>(r),
                  origin.begin() + static_cast<std::ptrdiff_t>(end),
                  origin.begin() + static_cast<std::ptrdiff_t>(w));
      }
      w += end - r;
      r = end;
    } else if (std::size_t n = space_at(s, r); n != 0) {
      const auto begin = origin[r].first;
      std::size_t end = r;
      while (n != 0) {
        end += n;
        n = end < s.size() ? space_at(s, end) : 0;
      }
      s[w] = ' ';
      origin[w] = {begin, origin[end - 1].second};
      ++w;
      r = end;
    } else if (const std::size_t a = apostrophe_at(s, r); a != 0) {
      s[w] = '\'';
      origin[w] = {origin[r].first, origin[r + a - 1].second};
      ++w;
      r += a;
    } else {
      s[w] = s[r];
      origin[w] = origin[r];
      ++w;
      ++r;
    }
  }
  s.resize(w);
  origin.resize(w);
}

text::Normalized fold(std::string_view utf8) {
  text::Normalized normalized = text::normalize(utf8);
  fold(normalized);
  return normalized;
}

Status read_rule_file(const std::filesystem::path& file, RuleSet& set) {
  const std::string name = file.string();
  toml::table document;
  try {
    document = toml::parse_file(name);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return Error{"config",
                 name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) + ": " +
                     std::string(e.description()),
                 ""};
  }
  for (const auto& [key, node] : document) {
    if (key.str() != "rule") {
      const auto& begin = key.source().begin;
      return Error{"config",
                   name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) + ": " +
                       std::string(key.str()) + ": unknown key (a rule file holds [[rule]] tables)",
                   std::string(key.str())};
    }
  }
  const toml::node* rules = document.get("rule");
  if (rules == nullptr) return Done{};
  const toml::array* array = rules->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    const auto& begin = rules->source().begin;
    return Error{"config",
                 name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                     ": rule: expected [[rule]] tables",
                 "rule"};
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    RuleReader reader(name, i + 1);
    auto rule = reader.read(*array->get(i)->as_table(), set);
    if (!rule) return rule.error();
    set.ids.emplace(rule->id, set.rules.size());
    set.rules.push_back(std::move(*rule));
  }
  return Done{};
}

}  // namespace relais::rules
