#include "tokens.hpp"

#include <algorithm>

namespace relais::triage {
namespace {

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Whether the punctuation between two words ends a sentence. Gaps are a
// byte or two: a plain loop beats a search per byte.
bool ends_sentence(std::string_view gap) {
  return std::any_of(gap.begin(), gap.end(),
                     [](char c) { return c == '.' || c == '!' || c == '?' || c == ';' || c == '\n'; });
}

}  // namespace

void append_readable(std::string& out, std::string_view text) {
  // Where the last line kept starts in `out`, and whether it introduces a
  // quotation ("Le 1 avr. 2020, X a écrit :", "On Monday, X wrote:").
  std::size_t last_line = out.size();
  bool last_introduces = false;
  bool in_quote = false;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::string_view content = trim_right(line);
    if (content == "--") break;  // a signature follows
    if (trim_left(content).starts_with('>')) {
      if (!in_quote && last_introduces) out.resize(last_line);
      in_quote = true;
      last_introduces = false;
      continue;
    }
    in_quote = false;
    const std::string_view kept = trim_left(content);
    if (kept.empty()) continue;
    last_line = out.size();
    last_introduces = kept.back() == ':';
    out.append(content);
    out.push_back('\n');
  }
}

bool Source::in_capitals(const Token& token) const {
  const auto [from, to] = normalized->original_span(token.begin, token.begin + token.word.size());
  const std::string_view raw = original.substr(from, to - from);
  return std::all_of(raw.begin(), raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void tokenize(const text::Normalized& normalized, std::vector<Token>& tokens,
              std::vector<std::string_view>& words) {
  tokens.clear();
  const std::string& s = normalized.text;
  std::size_t previous_end = 0;
  text::words(s, words);
  for (const std::string_view word : words) {
    const auto begin = static_cast<std::size_t>(word.data() - s.data());
    const std::string_view gap = std::string_view(s).substr(previous_end, begin - previous_end);
    Token token;
    token.word = word;
    token.begin = static_cast<std::uint32_t>(begin);
    if (!tokens.empty() && gap == " ") {
      // Most words are apart by a space, which says nothing more.
    } else if (!tokens.empty()) {
      Token& previous = tokens.back();
      token.boundary = ends_sentence(gap);
      const std::string_view after = trim_left(gap);
      previous.close_after = !after.empty() && (after.front() == ')' || after.front() == ',');
      if (gap == "-") previous.hyphen_after = token.hyphen_before = true;
    } else {
      token.boundary = true;
    }
    token.open_paren = gap.size() > 1 && trim_right(gap).ends_with('(');
    if (is_digit(word.front()) && word.size() <= 6 && std::all_of(word.begin(), word.end(), is_digit)) {
      token.number = 0;
      for (const char c : word) token.number = token.number * 10 + (c - '0');
    }
    tokens.push_back(token);
    previous_end = begin + word.size();
  }
  if (!tokens.empty()) {
    const std::string_view tail = trim_left(std::string_view(s).substr(previous_end));
    tokens.back().close_after = !tail.empty() && (tail.front() == ')' || tail.front() == ',');
  }
}

}  // namespace relais::triage
