// text: the form of a post's text that moderation matches against. Unicode
// NFKC, case-folded, accents removed, so that "VIREMENT", "virement",
// "vírement" and "ＶＩＲＥＭＥＮＴ" are the same word; with a map back to
// the original bytes, for redactions and for showing a moderator what
// matched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relais::text {

struct Normalized {
  std::string text;  // UTF-8
  // For each byte of `text`: the original bytes [begin, end) of the code
  // point it came from.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> origin;

  // The original bytes that [begin, end) of `text` came from (end > begin).
  std::pair<std::size_t, std::size_t> original_span(std::size_t begin, std::size_t end) const {
    return {origin[begin].first, origin[end - 1].second};
  }
};

// Invalid UTF-8 bytes are kept as U+FFFD, mapped to the byte they replace.
Normalized normalize(std::string_view utf8);
// The same into `out`, whose buffers are reused: a caller that normalises
// every post keeps one Normalized and allocates nothing once it is warm.
void normalize(std::string_view utf8, Normalized& out);

// The words of a normalised text, in order, as views into it: maximal runs
// of letters and digits (of any script). An apostrophe or a hyphen ends a
// word ("l'hopital" is "l" and "hopital"); punctuation, symbols and emoji
// are not words.
std::vector<std::string_view> words(std::string_view normalized);
// The same into `out` (cleared first), whose buffer is reused.
void words(std::string_view normalized, std::vector<std::string_view>& out);

}  // namespace relais::text
