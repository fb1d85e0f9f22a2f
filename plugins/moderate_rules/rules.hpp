// rules: the rule files of moderate_rules, read and checked, every literal
// and pattern normalised the way post text is, each value with its place in
// its file for error messages. See README.md for the format.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relais/expected.hpp"
#include "relais/post.hpp"
#include "text.hpp"

namespace relais::rules {

enum class Field : std::uint8_t { text, subject, sender };
inline constexpr std::size_t kFields = 3;
inline constexpr std::array<std::string_view, kFields> kFieldNames{"text", "subject", "sender"};

// What a term does for its rule: `main` terms make it a candidate, `also`
// terms must match too when the rule has any, `unless` terms veto it.
enum class Role : std::uint8_t { main, also, unless };

// "file:line:column", as toml++ counts them (from 1).
struct Position {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};
std::string to_string(const Position& where);

// One literal or pattern of a rule, ready for Hyperscan.
struct Term {
  std::string expression;  // a Hyperscan expression over folded text
  bool literal = false;
  std::size_t length = 0;   // literal: its length in bytes, which every match has
  bool word_start = false;  // literal: must not be preceded by a letter or digit
  bool word_end = false;    // literal: must not be followed by a letter or digit
  bool ucp = true;          // pattern: Unicode classes (false when it uses \b or \B)
  Role role = Role::main;
  std::string key;  // "patterns[2]", for messages
  Position where;
};

struct Rule {
  std::string id;
  std::string description;
  std::array<bool, kFields> fields{true, true, false};
  std::vector<Term> terms;
  bool has_also = false;
  double score = 0.0;
  std::optional<Action> action;
  std::optional<std::string> redact;  // the replacement of each span
  Position where;                     // its id
};

// The rules of every file read so far, in file order, and their ids.
struct RuleSet {
  std::vector<Rule> rules;
  std::unordered_map<std::string, std::size_t> ids;
};

// The text rules match against: text::normalize() (NFKC, case folded,
// accents removed), then every run of white space as one space and the
// typographic apostrophes as '. In place; `origin` still maps each byte back
// to the original.
void fold(text::Normalized& normalized);
text::Normalized fold(std::string_view utf8);

// Reads one rule file into `set`. An error names the file, line and column
// of the offending value, and the rule's id when it has one.
Status read_rule_file(const std::filesystem::path& file, RuleSet& set);

}  // namespace relais::rules
