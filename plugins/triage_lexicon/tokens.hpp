// tokens: a post's words as triage_lexicon matches them, with what the
// punctuation around each one says (a sentence ends, a parenthesis opens,
// a hyphen joins it to the next word).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text.hpp"

namespace relais::triage {

struct Token {
  std::string_view word;       // normalised: NFKC, case folded, accents removed
  std::uint32_t entry = 0;     // the word's entry in the instance's word cache
  std::int32_t lex = -1;       // vocabulary id of its stem in the language being matched, -1: none
  std::int32_t exact = -1;     // vocabulary id of the word as written, -1: none
  std::int32_t gaz = -1;       // gazetteer word id, -1: none
  std::int32_t number = -1;    // the value of a word of up to six digits, -1 otherwise
  bool boundary = false;       // a sentence ends between the previous word and this one
  bool open_paren = false;     // "(" right before it: "(82)"
  bool close_after = false;    // ")" or "," right after it
  bool hyphen_before = false;  // joined to the previous word by '-'
  bool hyphen_after = false;
  std::uint32_t begin = 0;  // where the word starts in the normalised text
};

// The text tokens were cut from, for the few checks that need more than
// the normalised words.
struct Source {
  const text::Normalized* normalized = nullptr;
  std::string_view original;  // what `normalized` was normalised from

  // Whether the token is written in capitals: "PAL", not "pal".
  bool in_capitals(const Token& token) const;
};

// The text triage reads: the subject, then the body without the lines an
// e-mail quotes ("> ...", with the "... a écrit :" line before them) and
// without the signature after a "-- " line. Appended to `out`.
void append_readable(std::string& out, std::string_view text);

// Cuts a normalised text into tokens. The cache entries are left to the
// caller. `words` is scratch space, kept by the caller so that it is reused.
void tokenize(const text::Normalized& normalized, std::vector<Token>& tokens,
              std::vector<std::string_view>& words);

}  // namespace relais::triage
