// moderate_pii: personal contact details in the public text and subject
// (phone numbers, e-mail addresses, street addresses and door details).
// Every detail found is redacted from what is shown publicly; a detail that
// belongs to someone other than the sender holds the post. A hand-written
// scanner over the bytes: ASCII case-insensitive, UTF-8 cue words matched
// byte for byte. Nothing here logs: the details are personal data.
#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relais/plugin.hpp"
#include "table.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;

struct PiiConfig final : relais::PluginConfig {
  bool scan_text = true;
  bool scan_subject = true;
  bool hold_third_party = true;
  double score = 0.0;
  double third_party_score = 0.0;
  std::vector<std::string> allow_numbers;  // last 9 digits
  std::vector<std::string> allow_emails;   // lowercase: "x@y.z" or a domain "y.z"
  std::string replacement_phone = "[téléphone masqué]";
  std::string replacement_email = "[e-mail masqué]";
  std::string replacement_address = "[adresse masquée]";
};

// ---------------------------------------------------------------- bytes

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_high(char c) { return static_cast<unsigned char>(c) >= 0x80; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
// A byte of a word: ASCII letter or digit, or any byte of a non-ASCII
// character (accented letters).
constexpr bool is_word(char c) { return is_alnum(c) || is_high(c); }
constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Length of a no-break space (U+00A0, U+202F) at `i`, or 0.
std::size_t nbsp_at(std::string_view s, std::size_t i) {
  if (i + 1 < s.size() && s[i] == '\xC2' && s[i + 1] == '\xA0') return 2;
  if (i + 2 < s.size() && s[i] == '\xE2' && s[i + 1] == '\x80' && s[i + 2] == '\xAF') return 3;
  return 0;
}

// Length of an apostrophe (' or U+2019) at `i`, or 0.
std::size_t apostrophe_at(std::string_view s, std::size_t i) {
  if (i < s.size() && s[i] == '\'') return 1;
  if (i + 2 < s.size() && s[i] == '\xE2' && s[i + 1] == '\x80' && s[i + 2] == '\x99') return 3;
  return 0;
}

// Matches `pattern` (lowercase; ' matches both apostrophes, ' ' any run of
// spaces) at `i`, ASCII case-insensitively. Returns the length matched or 0.
std::size_t match_at(std::string_view s, std::size_t i, std::string_view pattern) {
  std::size_t j = i;
  for (std::size_t k = 0; k < pattern.size(); ++k) {
    const char p = pattern[k];
    if (p == '\'') {
      const std::size_t a = apostrophe_at(s, j);
      if (a == 0) return 0;
      j += a;
    } else if (p == ' ') {
      const std::size_t start = j;
      while (j < s.size() && (is_space(s[j]) || nbsp_at(s, j) != 0)) j += is_space(s[j]) ? 1 : nbsp_at(s, j);
      if (j == start) return 0;
    } else {
      if (j >= s.size() || lower(s[j]) != p) return 0;
      ++j;
    }
  }
  return j - i;
}

// Whether `pattern` can match at `i` as far as its first byte tells: the
// check match_at() starts with, inline, since nearly every try fails there.
bool first_byte_fits(std::string_view s, std::size_t i, std::string_view pattern) {
  const char p = pattern.front();
  return p == '\'' || p == ' ' || (i < s.size() && lower(s[i]) == p);
}

bool word_start(std::string_view s, std::size_t i) { return i == 0 || !is_word(s[i - 1]); }
bool word_end(std::string_view s, std::size_t i) { return i >= s.size() || !is_word(s[i]); }

// `pattern` as a whole word at `i` (a pattern ending in ' or '.' needs no
// boundary after it).
std::size_t word_at(std::string_view s, std::size_t i, std::string_view pattern) {
  if (!word_start(s, i) || !first_byte_fits(s, i, pattern)) return 0;
  const std::size_t n = match_at(s, i, pattern);
  if (n == 0) return 0;
  const char last = pattern.back();
  if (last != '\'' && last != '.' && !word_end(s, i + n)) return 0;
  return n;
}

// The entries of a word list that may match at a byte: those whose first
// letter is that byte lowercased, in the list's order. The lists are tried
// at every word start of every post, and nearly all of them fail on their
// first letter; asking only the few that can match finds the same first
// match in a small part of the time.
class FirstLetterIndex {
 public:
  template <typename List, typename WordOf>
  FirstLetterIndex(const List& list, WordOf word_of) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      const char first = std::string_view(word_of(list[k])).front();
      if (first == '\'' || first == ' ') {
        // Matches more than one byte: a candidate everywhere.
        for (auto& bucket : buckets_) bucket.push_back(static_cast<std::uint16_t>(k));
      } else {
        buckets_[static_cast<unsigned char>(first)].push_back(static_cast<std::uint16_t>(k));
      }
    }
  }
  template <typename List>
  explicit FirstLetterIndex(const List& list) : FirstLetterIndex(list, [](const auto& w) { return w; }) {}

  const std::vector<std::uint16_t>& at(std::string_view s, std::size_t i) const {
    return buckets_[static_cast<unsigned char>(lower(s[i]))];
  }

 private:
  std::array<std::vector<std::uint16_t>, 256> buckets_;
};

std::string digits_of(std::string_view s) {
  std::string d;
  for (char c : s) {
    if (is_digit(c)) d += c;
  }
  return d;
}

std::string last9(const std::string& digits) {
  return digits.size() > 9 ? digits.substr(digits.size() - 9) : digits;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// ---------------------------------------------------------------- spans

enum class Kind : std::uint8_t { phone, email, address };

struct Span {
  Kind kind;
  std::size_t begin;
  std::size_t end;
  bool door = false;  // an address detail that identifies a door
};

bool overlaps(const std::vector<Span>& spans, std::size_t b, std::size_t e) {
  return std::any_of(spans.begin(), spans.end(), [&](const Span& s) { return b < s.end && s.begin < e; });
}

// ---------------------------------------------------------------- e-mail

constexpr bool is_local(char c) {
  return is_alnum(c) || is_high(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
constexpr bool is_label(char c) { return is_alnum(c) || c == '-'; }

// Spaces at `i` then one of `tokens`; the length, or 0.
std::size_t token_at(std::string_view s, std::size_t i, std::initializer_list<std::string_view> tokens,
                     bool spaces) {
  std::size_t j = i;
  if (spaces) {
    while (j < s.size() && s[j] == ' ') ++j;
  }
  for (auto t : tokens) {
    if (!first_byte_fits(s, j, t)) continue;
    if (const std::size_t n = match_at(s, j, t); n != 0) {
      j += n;
      if (spaces) {
        while (j < s.size() && s[j] == ' ') ++j;
      }
      return j - i;
    }
  }
  return 0;
}

// A domain at `i`: labels joined by '.' or by "[dot]", "(dot)", "{dot}".
// Returns its end, or `i` when it has no dot or no TLD of two letters.
std::size_t domain_end(std::string_view s, std::size_t i) {
  std::size_t j = i;
  std::size_t end = i;
  int dots = 0;
  std::size_t last_label = i;
  while (true) {
    const std::size_t label = j;
    while (j < s.size() && is_label(s[j])) ++j;
    if (j == label) break;
    last_label = label;
    if (dots > 0) end = j;
    std::size_t sep = 0;
    if (j + 1 < s.size() && s[j] == '.' && is_label(s[j + 1])) {
      sep = 1;
    } else {
      sep = token_at(s, j, {"[dot]", "(dot)", "{dot}", "[point]", "(point)"}, true);
    }
    if (sep == 0) break;
    j += sep;
    ++dots;
  }
  if (dots == 0 || end == i) return i;
  std::size_t letters = 0;
  for (std::size_t k = last_label; k < end; ++k) {
    if (!is_alpha(s[k])) return i;
    ++letters;
  }
  return letters >= 2 ? end : i;
}

void find_emails(std::string_view s, std::vector<Span>& spans) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::size_t at_len = 0;
    if (s[i] == '@') {
      at_len = 1;
    } else if (s[i] == ' ' || s[i] == '[' || s[i] == '(' || s[i] == '{') {
      at_len = token_at(s, i, {"[at]", "(at)", "{at}", "[arobase]", "(arobase)"}, true);
    }
    if (at_len == 0) continue;
    std::size_t b = i;
    while (b > 0 && is_local(s[b - 1]) && !(b >= 2 && nbsp_at(s, b - 2) == 2) &&
           !(b >= 3 && nbsp_at(s, b - 3) == 3)) {
      --b;
    }
    while (b < i && s[b] == '.') ++b;
    if (b == i || !word_start(s, b)) continue;
    const std::size_t e = domain_end(s, i + at_len);
    if (e == i + at_len || overlaps(spans, b, e)) continue;
    spans.push_back({Kind::email, b, e});
    i = e - 1;
  }
}

// ---------------------------------------------------------------- phone

// Digits in groups: the groups' ends (bytes) and digit counts so far.
struct Groups {
  std::vector<std::size_t> ends;
  std::vector<std::size_t> counts;
};

// A separator between two groups of digits at `i`: one space, '.', '-',
// '/' never (dates); the length, or 0.
std::size_t phone_separator(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  if (s[i] == ' ' || s[i] == '.' || s[i] == '-') return 1;
  return nbsp_at(s, i);
}

// A phone number starting at `i` (a '+' or a digit at a word start); its
// end, or `i`.
std::size_t phone_end(std::string_view s, std::size_t i) {
  std::size_t j = i;
  const bool plus = s[j] == '+';
  if (plus) ++j;
  if (j >= s.size() || !is_digit(s[j])) return i;
  Groups g;
  std::string digits;
  while (true) {
    while (j < s.size() && is_digit(s[j])) digits += s[j++];
    g.ends.push_back(j);
    g.counts.push_back(digits.size());
    if (digits.size() > 16) break;
    // "(0)" after a country code: not a digit of the number.
    std::size_t k = j;
    if (const std::size_t sep = phone_separator(s, k); sep != 0) k += sep;
    if (k + 2 < s.size() && s[k] == '(' && s[k + 1] == '0' && s[k + 2] == ')' &&
        (plus || digits.size() <= 4)) {
      k += 3;
      if (const std::size_t sep = phone_separator(s, k); sep != 0) k += sep;
      if (k < s.size() && is_digit(s[k])) {
        j = k;
        continue;
      }
      break;
    }
    const std::size_t sep = phone_separator(s, j);
    if (sep == 0 || j + sep >= s.size() || !is_digit(s[j + sep])) break;
    j += sep;
  }
  // The number ends at a group end; pick the longest prefix of groups that
  // forms a valid number.
  const bool intl00 = !plus && digits.size() >= 2 && digits[0] == '0' && digits[1] == '0';
  std::optional<std::size_t> best;
  for (std::size_t n = 0; n < g.ends.size(); ++n) {
    const std::size_t count = g.counts[n];
    const std::size_t end = g.ends[n];
    // Glued to a word, a slash, a comma with decimals, or a unit: not a phone.
    if (end < s.size() && (is_word(s[end]) || s[end] == '/' || s[end] == '@')) continue;
    if (end + 1 < s.size() && (s[end] == ',' || s[end] == ':') && is_digit(s[end + 1])) continue;
    bool ok = false;
    if (plus || intl00) {
      const std::string_view intl = std::string_view(digits).substr(intl00 ? 2 : 0, count - (intl00 ? 2 : 0));
      if (!intl.empty() && intl[0] != '0') {
        if (intl.substr(0, 2) == "33") {
          ok = intl.size() == 11;  // +33 and nine digits
        } else {
          ok = intl.size() >= 9 && intl.size() <= 15;
        }
      }
    } else if (digits[0] == '0' && digits[1] != '0') {
      ok = count == 10 || count == 11;  // French, UK national numbers
    }
    if (ok) best = end;
  }
  return best ? *best : i;
}

void find_phones(std::string_view s, std::vector<Span>& spans) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(is_digit(c) || (c == '+' && i + 1 < s.size() && is_digit(s[i + 1])))) continue;
    // Glued to a word or a date, a reference ("n°", "#"), a price or a decimal.
    if (i > 0) {
      const char p = s[i - 1];
      if (is_word(p) || p == '/' || p == '#' || p == '+' || p == '-' || p == '_' || p == '@') {
        while (i + 1 < s.size() && is_digit(s[i + 1])) ++i;
        continue;
      }
      if ((p == '.' || p == ',') && i > 1 && is_digit(s[i - 2])) continue;
    }
    const std::size_t e = phone_end(s, i);
    if (e == i) {
      while (i + 1 < s.size() && is_digit(s[i + 1])) ++i;
      continue;
    }
    if (!overlaps(spans, i, e)) spans.push_back({Kind::phone, i, e});
    i = e - 1;
  }
}

// ---------------------------------------------------------------- address

struct StreetType {
  std::string_view word;
  bool ambiguous;  // also a common word: the name must start with a capital
};

constexpr std::array kFrenchStreets{
    StreetType{"rue", false},       StreetType{"avenue", false},    StreetType{"av.", false},
    StreetType{"av", false},        StreetType{"boulevard", false}, StreetType{"bd", false},
    StreetType{"bld", false},       StreetType{"bvd", false},       StreetType{"allée", false},
    StreetType{"allee", false},     StreetType{"impasse", false},   StreetType{"place", true},
    StreetType{"pl.", true},        StreetType{"chemin", true},     StreetType{"quai", true},
    StreetType{"cours", true},      StreetType{"square", true},     StreetType{"passage", true},
    StreetType{"villa", true},      StreetType{"cité", true},       StreetType{"cite", true},
    StreetType{"sentier", true},    StreetType{"route", true},      StreetType{"résidence", true},
    StreetType{"residence", true},  StreetType{"voie", true},       StreetType{"faubourg", true},
    StreetType{"rond-point", true}, StreetType{"parvis", true},     StreetType{"esplanade", true},
};

constexpr auto kEnglishStreets =
    std::to_array<std::string_view>({"street", "st", "st.", "road", "rd", "rd.", "avenue", "ave", "lane",
                                     "drive", "close", "way", "terrace", "crescent", "gardens", "grove"});

constexpr auto kParticles = std::to_array<std::string_view>(
    {"de la ", "de l'", "des ", "du ", "de ", "d'", "la ", "le ", "les ", "l'", "of "});

// A capital at `i`: ASCII or a two-byte Latin-1 capital (À..Þ).
bool capital_at(std::string_view s, std::size_t i) {
  if (i >= s.size()) return false;
  if (is_upper(s[i])) return true;
  return i + 1 < s.size() && s[i] == '\xC3' && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9E;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// End of a name from `i`: words of letters, '-' and apostrophes, up to
// punctuation, a digit or `max_words`. `i` when there is none.
std::size_t name_end(std::string_view s, std::size_t i, int max_words) {
  std::size_t end = i;
  std::size_t j = i;
  for (int w = 0; w < max_words; ++w) {
    const std::size_t start = j;
    while (j < s.size() && (is_alpha(s[j]) || is_high(s[j]) || s[j] == '-' || s[j] == '\'')) {
      if (is_high(s[j]) && nbsp_at(s, j) != 0) break;
      ++j;
    }
    if (j == start) break;
    end = j;
    if (j >= s.size() || s[j] != ' ') break;
    j = skip_spaces(s, j);
    // Stop before lowercase words that only continue the sentence.
    if (j < s.size() && !capital_at(s, j)) {
      bool particle = false;
      for (auto p : kParticles) particle = particle || match_at(s, j, p) != 0;
      if (!particle) break;
    }
  }
  return end;
}

// A house number at `i` (1 to 4 digits, optional bis/ter/letter): its end.
std::size_t house_number_end(std::string_view s, std::size_t i) {
  std::size_t j = i;
  while (j < s.size() && is_digit(s[j]) && j - i < 5) ++j;
  if (j == i || j - i > 4 || (j < s.size() && is_digit(s[j]))) return i;
  for (std::string_view suffix : {" bis", " ter", "bis", "ter", " quater"}) {
    if (const std::size_t n = match_at(s, j, suffix); n != 0 && word_end(s, j + n)) return j + n;
  }
  // 12b, but not a time (12h)
  if (j < s.size() && is_alpha(s[j]) && lower(s[j]) != 'h' && word_end(s, j + 1)) return j + 1;
  if (j < s.size() && !word_end(s, j)) return i;
  return j;
}

std::optional<std::size_t> street_after(std::string_view s, std::size_t i) {
  for (const auto& t : kFrenchStreets) {
    const std::size_t n = word_at(s, i, t.word);
    if (n == 0) continue;
    std::size_t j = skip_spaces(s, i + n);
    if (j == i + n && t.word.back() != '.') return std::nullopt;
    std::size_t name = j;
    for (auto p : kParticles) {
      if (const std::size_t m = match_at(s, j, p); m != 0) {
        name = skip_spaces(s, j + m);
        break;
      }
    }
    if (t.ambiguous && !capital_at(s, name)) return std::nullopt;
    if (!(name < s.size() && (is_alpha(s[name]) || is_high(s[name])))) return std::nullopt;
    const std::size_t e = name_end(s, j, 5);
    return e > j ? std::optional<std::size_t>(e) : std::nullopt;
  }
  // English: a capitalised name of one to three words, then the street type.
  std::size_t j = i;
  for (int w = 0; w < 3 && capital_at(s, j); ++w) {
    while (j < s.size() && (is_alpha(s[j]) || s[j] == '-' || s[j] == '\'')) ++j;
    if (j >= s.size() || s[j] != ' ') return std::nullopt;
    j = skip_spaces(s, j);
    for (auto t : kEnglishStreets) {
      if (const std::size_t n = word_at(s, j, t); n != 0) return j + n;
    }
  }
  return std::nullopt;
}

// Building details that identify a door: the detail and its value.
struct DoorWord {
  std::string_view word;
  bool value_needs_digit;  // "code 4512B" needs a digit; "bâtiment B" does not
};
constexpr std::array kDoorWords{
    DoorWord{"bâtiment", false}, DoorWord{"batiment", false}, DoorWord{"bât.", false},
    DoorWord{"bat.", false},     DoorWord{"bât", false},      DoorWord{"bat", false},
    DoorWord{"escalier", false}, DoorWord{"esc.", false},     DoorWord{"digicode", true},
    DoorWord{"code", true},      DoorWord{"porte", true},     DoorWord{"appartement", true},
    DoorWord{"appart", true},    DoorWord{"appt", true},      DoorWord{"apt", true},
    DoorWord{"flat", true},      DoorWord{"interphone", true}};

// The value after a door word at `i`: optional ':' or "d'accès", then one
// token of letters and digits (at most 8 bytes, a single capital letter or
// something with a digit).
std::size_t door_value_end(std::string_view s, std::size_t i, bool needs_digit) {
  std::size_t j = skip_spaces(s, i);
  if (const std::size_t n = match_at(s, j, "d'accès"); n != 0) j = skip_spaces(s, j + n);
  if (const std::size_t n = match_at(s, j, "d'entrée"); n != 0) j = skip_spaces(s, j + n);
  if (j < s.size() && (s[j] == ':' || s[j] == '-')) j = skip_spaces(s, j + 1);
  if (const std::size_t n = match_at(s, j, "n°"); n != 0) j = skip_spaces(s, j + n);
  const std::size_t start = j;
  bool digit = false;
  for (; j < s.size() && is_alnum(s[j]); ++j) {
    if (is_digit(s[j])) digit = true;
  }
  if (j == start || j - start > 8 || !word_end(s, j)) return i;
  if (digit) return j;
  if (!needs_digit && j - start == 1 && is_upper(s[start])) return j;
  return i;
}

void find_addresses(std::string_view s, std::vector<Span>& spans) {
  static const FirstLetterIndex kDoorIndex(kDoorWords, [](const DoorWord& d) { return d.word; });
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!word_start(s, i)) continue;
    if (is_digit(s[i])) {
      // "3e étage", "3ème étage", "2nd floor"
      std::size_t j = i;
      while (j < s.size() && is_digit(s[j])) ++j;
      for (std::string_view ord : {"ème", "eme", "e", "er", "ère", "°", "nd", "rd", "th", "st"}) {
        if (const std::size_t n = match_at(s, j, ord); n != 0 && word_end(s, j + n)) {
          const std::size_t k = skip_spaces(s, j + n);
          std::size_t m = word_at(s, k, "étage");
          if (m == 0) m = word_at(s, k, "etage");
          if (m == 0) m = word_at(s, k, "floor");
          if (m != 0 && !overlaps(spans, i, k + m)) {
            spans.push_back({Kind::address, i, k + m, true});
            i = k + m - 1;
          }
          break;
        }
      }
      if (i < j) {
        // A house number, an optional comma, a street.
        const std::size_t num = house_number_end(s, i);
        if (num != i && (i == 0 || (s[i - 1] != '/' && s[i - 1] != '.' && s[i - 1] != ','))) {
          std::size_t k = num;
          if (k < s.size() && s[k] == ',') ++k;
          const std::size_t street = skip_spaces(s, k);
          if (street > k) {
            if (auto e = street_after(s, street); e && !overlaps(spans, i, *e)) {
              spans.push_back({Kind::address, i, *e});
              i = *e - 1;
              continue;
            }
          }
        }
        i = j - 1;
      }
      continue;
    }
    for (const std::uint16_t k : kDoorIndex.at(s, i)) {
      const DoorWord& d = kDoorWords[k];
      const std::size_t n = word_at(s, i, d.word);
      if (n == 0) continue;
      const std::size_t e = door_value_end(s, i + n, d.value_needs_digit);
      if (e != i + n && !overlaps(spans, i, e)) {
        spans.push_back({Kind::address, i, e, true});
        i = e - 1;
      }
      break;
    }
  }
}

// ---------------------------------------------------------------- cues

enum class Owner : std::uint8_t { none, own, third, pub };

// Lowercase cue words, matched as whole words (ASCII case-insensitive).
constexpr auto kOwnCues = std::to_array<std::string_view>(
    {"m'appeler",         "m'appelez",     "appelez-moi",   "appellez-moi",    "me joindre",
     "me contacter",      "contactez-moi", "m'écrire",      "m'ecrire",        "écrivez-moi",
     "ecrivez-moi",       "me téléphoner", "me telephoner", "mon numéro",      "mon numero",
     "mon num",           "mon n°",        "mon tel",       "mon tél",         "mon téléphone",
     "mon telephone",     "mon portable",  "mon mobile",    "mon mail",        "mon e-mail",
     "mon email",         "mon courriel",  "mon adresse",   "mes coordonnées", "mes coordonnees",
     "je suis joignable", "joignable",     "j'habite",      "chez moi",        "me laisser",
     "m'envoyer",         "me répondre",   "me repondre",   "me texter",       "m'sms",
     "call me",           "my number",     "my phone",      "my mobile",       "reach me",
     "contact me",        "my email",      "my e-mail",     "my address",      "text me",
     "email me",          "i live"});

constexpr auto kThirdCues = std::to_array<std::string_view>(
    {"son numéro",    "son numero",    "son num",        "son tel",         "son tél",
     "son téléphone", "son telephone", "son portable",   "son mobile",      "son mail",
     "son e-mail",    "son email",     "son adresse",    "ses coordonnées", "ses coordonnees",
     "leur numéro",   "leur numero",   "leur adresse",   "sa fille",        "son fils",
     "sa mère",       "sa mere",       "son père",       "son pere",        "ma voisine",
     "mon voisin",    "mes voisins",   "notre voisin",   "notre voisine",   "ma tante",
     "mon oncle",     "ma mère",       "ma mere",        "mon père",        "mon pere",
     "ma grand-mère", "ma grand-mere", "mon grand-père", "mon grand-pere",  "ma soeur",
     "ma sœur",       "mon frère",     "mon frere",      "ma fille",        "mon fils",
     "ma cousine",    "mon cousin",    "mon amie",       "mon ami",         "une amie",
     "un ami",        "une voisine",   "un voisin",      "la voisine",      "le voisin",
     "chez elle",     "chez lui",      "chez eux",       "il habite",       "elle habite",
     "ils habitent",  "il vit",        "elle vit",       "l'appeler",       "la joindre",
     "le joindre",    "la contacter",  "le contacter",   "lui écrire",      "lui ecrire",
     "mme",           "mme.",          "madame",         "monsieur",        "mlle",
     "mademoiselle",  "her number",    "his number",     "her phone",       "his phone",
     "her address",   "his address",   "her email",      "his email",       "my neighbour",
     "my neighbor",   "my mother",     "my father",      "my aunt",         "my uncle",
     "my daughter",   "my son",        "she lives",      "he lives",        "call her",
     "call him",      "la famille",    "la maman",       "le papa",         "sa maman",
     "son papa",      "sa femme",      "son mari",       "ma femme",        "mon mari",
     "ils sont au",   "elle est au",   "il est au",      "elle vit au",     "il vit au",
     "appelez-la",    "appelez-le",    "appelez-les",    "écrivez-lui",     "ecrivez-lui",
     "contactez-la",  "contactez-le",  "contactez-les",  "his wife",        "her husband",
     "the family",    "their number",  "their address"});

constexpr auto kPublicCues = std::to_array<std::string_view>({"mairie",
                                                              "association",
                                                              "asso",
                                                              "pharmacie",
                                                              "ccas",
                                                              "centre social",
                                                              "maison de quartier",
                                                              "hôpital",
                                                              "hopital",
                                                              "croix-rouge",
                                                              "croix rouge",
                                                              "secours populaire",
                                                              "secours catholique",
                                                              "restos du coeur",
                                                              "restos du cœur",
                                                              "banque alimentaire",
                                                              "épicerie solidaire",
                                                              "epicerie solidaire",
                                                              "numéro vert",
                                                              "numero vert",
                                                              "permanence",
                                                              "standard",
                                                              "accueil",
                                                              "magasin",
                                                              "boulangerie",
                                                              "supermarché",
                                                              "supermarche",
                                                              "la poste",
                                                              "city hall",
                                                              "council",
                                                              "pharmacy",
                                                              "food bank",
                                                              "charity",
                                                              "helpline"});

struct Cue {
  std::size_t begin;
  std::size_t end;
  Owner owner;
};

// A sentence ends at '!', '?', ';', a line break, or a '.' followed by a
// space after a word of three letters or more (not "M.", "av.", "bd.").
bool sentence_end_at(std::string_view s, std::size_t i) {
  const char c = s[i];
  if (c == '!' || c == '?' || c == '\n' || c == ';') return true;
  if (c != '.' || i + 1 >= s.size() || !is_space(s[i + 1])) return false;
  std::size_t b = i;
  while (b > 0 && is_word(s[b - 1])) --b;
  return i - b >= 3 || (b < i && is_digit(s[i - 1]));
}

// The person named after "Mme"/"M." is the sender: a word of the private name.
bool names_sender(std::string_view s, std::size_t after, const std::vector<std::string>& name_words) {
  const std::size_t j = skip_spaces(s, after);
  std::size_t e = j;
  while (e < s.size() && is_word(s[e])) ++e;
  const std::string word = lowered(s.substr(j, e - j));
  return std::find(name_words.begin(), name_words.end(), word) != name_words.end();
}

std::vector<Cue> find_cues(std::string_view s, const std::vector<std::string>& name_words) {
  static const FirstLetterIndex kOwnIndex(kOwnCues);
  static const FirstLetterIndex kThirdIndex(kThirdCues);
  static const FirstLetterIndex kPublicIndex(kPublicCues);
  std::vector<Cue> cues;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!word_start(s, i) || !(is_word(s[i]) || s[i] == '\'')) continue;
    std::size_t n = 0;
    Owner owner = Owner::none;
    for (const std::uint16_t k : kOwnIndex.at(s, i)) {
      const std::string_view c = kOwnCues[k];
      if ((n = word_at(s, i, c)) != 0) {
        owner = Owner::own;
        break;
      }
    }
    if (n == 0) {
      for (const std::uint16_t k : kThirdIndex.at(s, i)) {
        const std::string_view c = kThirdCues[k];
        if ((n = word_at(s, i, c)) != 0) {
          owner = Owner::third;
          break;
        }
      }
    }
    // "M. Dupont", "Mr Smith": case-sensitive, followed by a capital.
    if (n == 0) {
      for (std::string_view c : {"M.", "Mr", "Mrs", "Ms", "Mr.", "Mrs.", "Ms."}) {
        if (s.substr(i, c.size()) == c && (c.back() == '.' || word_end(s, i + c.size())) &&
            capital_at(s, skip_spaces(s, i + c.size())) && skip_spaces(s, i + c.size()) > i + c.size()) {
          n = c.size();
          owner = Owner::third;
        }
      }
    }
    // "chez Martine": someone else's home.
    if (n == 0) {
      if (const std::size_t m = word_at(s, i, "chez");
          m != 0 && capital_at(s, skip_spaces(s, i + m)) && skip_spaces(s, i + m) > i + m) {
        n = m;
        owner = Owner::third;
      }
    }
    if (n == 0) {
      for (const std::uint16_t k : kPublicIndex.at(s, i)) {
        const std::string_view c = kPublicCues[k];
        if ((n = word_at(s, i, c)) != 0) {
          owner = Owner::pub;
          break;
        }
      }
    }
    if (n == 0) continue;
    if (owner == Owner::third && names_sender(s, i + n, name_words)) owner = Owner::own;
    cues.push_back({i, i + n, owner});
    i += n - 1;
  }
  return cues;
}

constexpr std::size_t kCueWindow = 160;  // bytes either side, within the sentence

// The cue nearest before the span in its sentence, else the nearest after.
Owner owner_from_cues(std::string_view s, const std::vector<Cue>& cues, const Span& span) {
  std::size_t sb = span.begin;
  while (sb > 0 && !sentence_end_at(s, sb - 1)) --sb;
  std::size_t se = span.end;
  while (se < s.size() && !sentence_end_at(s, se)) ++se;
  sb = std::max(sb, span.begin > kCueWindow ? span.begin - kCueWindow : 0);
  se = std::min(se, span.end + kCueWindow);
  const Cue* before = nullptr;
  const Cue* after = nullptr;
  for (const auto& c : cues) {
    if (c.begin >= sb && c.end <= span.begin) before = &c;
    if (c.begin >= span.end && c.end <= se && after == nullptr) after = &c;
  }
  if (before != nullptr) return before->owner;
  if (after != nullptr) return after->owner;
  return Owner::none;
}

// ---------------------------------------------------------------- moderator

std::string normalised_letters(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_alnum(c) || is_high(c)) out += lower(c);
  }
  return out;
}

class PiiModerator final : public relais::Moderator {
 public:
  explicit PiiModerator(std::shared_ptr<const PiiConfig> config) : config_(std::move(config)) {}

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const auto& c = *config_;
    Scan scan;
    const auto get = [&](const char* key) {
      const auto it = post.private_data.find(key);
      return it == post.private_data.end() ? std::string() : it->second;
    };
    scan.own_phone = last9(digits_of(get("phone")));
    scan.own_email = lowered(get("email"));
    scan.own_address = normalised_letters(get("address"));
    std::string word;
    for (char ch : get("name") + " ") {
      if (is_word(ch)) {
        word += lower(ch);
      } else {
        if (word.size() >= 3) scan.name_words.push_back(word);
        word.clear();
      }
    }
    if (c.scan_subject && post.subject) scan_field(*post.subject, "subject", scan);
    if (c.scan_text) scan_field(post.text, "text", scan);

    const std::array<std::pair<Kind, const char*>, 3> kinds{
        {{Kind::phone, "PII_PHONE"}, {Kind::email, "PII_EMAIL"}, {Kind::address, "PII_ADDRESS"}}};
    for (const auto& [kind, symbol] : kinds) {
      auto& r = scan.redactions[static_cast<std::size_t>(kind)];
      if (r.empty()) continue;
      findings.push_back(
          {symbol, c.score,
           std::to_string(r.size()) + " " + noun(kind, r.size()) + " redacted from the public post",
           std::nullopt, std::move(r)});
    }
    if (scan.third_kinds != 0) {
      std::string what;
      for (const auto& [kind, symbol] : kinds) {
        if ((scan.third_kinds & (1U << static_cast<unsigned>(kind))) == 0) continue;
        if (!what.empty()) what += " and ";
        what += noun(kind, 1);
      }
      std::optional<relais::Action> forced;
      if (c.hold_third_party) forced = relais::Action::hold;
      findings.push_back({"PII_THIRD_PARTY",
                          c.third_party_score,
                          "the post publishes the " + what + " of someone other than the sender",
                          forced,
                          {}});
    }
  }

 private:
  struct Scan {
    std::string own_phone;
    std::string own_email;
    std::string own_address;
    std::vector<std::string> name_words;
    std::array<std::vector<relais::Redaction>, 3> redactions;
    unsigned third_kinds = 0;
  };

  static std::string noun(Kind kind, std::size_t n) {
    switch (kind) {
      case Kind::phone:
        return n == 1 ? "phone number" : "phone numbers";
      case Kind::email:
        return n == 1 ? "e-mail address" : "e-mail addresses";
      case Kind::address:
        return n == 1 ? "postal address" : "address details";
    }
    return "detail";
  }

  bool allowed(const Span& span, std::string_view s) const {
    const auto& c = *config_;
    const std::string_view detail = s.substr(span.begin, span.end - span.begin);
    if (span.kind == Kind::phone) {
      const std::string d = last9(digits_of(detail));
      return std::find(c.allow_numbers.begin(), c.allow_numbers.end(), d) != c.allow_numbers.end();
    }
    if (span.kind == Kind::email) {
      const std::string e = lowered(detail);
      for (const auto& a : c.allow_emails) {
        if (e == a) return true;
        if (e.size() > a.size() && e.compare(e.size() - a.size(), a.size(), a) == 0) {
          const char before = e[e.size() - a.size() - 1];
          if (before == '@' || before == '.') return true;
        }
      }
    }
    return false;
  }

  bool own_detail(const Span& span, std::string_view s, const Scan& scan) const {
    const std::string_view detail = s.substr(span.begin, span.end - span.begin);
    switch (span.kind) {
      case Kind::phone:
        return !scan.own_phone.empty() && last9(digits_of(detail)) == scan.own_phone;
      case Kind::email:
        return !scan.own_email.empty() && lowered(detail) == scan.own_email;
      case Kind::address: {
        const std::string a = normalised_letters(detail);
        return !scan.own_address.empty() && !a.empty() && scan.own_address.find(a) != std::string::npos;
      }
    }
    return false;
  }

  void scan_field(std::string_view s, const char* field, Scan& scan) const {
    const auto& c = *config_;
    std::vector<Span> spans;
    find_emails(s, spans);
    find_phones(s, spans);
    find_addresses(s, spans);
    if (spans.empty()) return;
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    const std::vector<Cue> cues = find_cues(s, scan.name_words);
    for (const auto& span : spans) {
      if (allowed(span, s)) continue;
      const std::string& replacement = span.kind == Kind::phone   ? c.replacement_phone
                                       : span.kind == Kind::email ? c.replacement_email
                                                                  : c.replacement_address;
      scan.redactions[static_cast<std::size_t>(span.kind)].push_back(
          {field, span.begin, span.end - span.begin, replacement});
      if (own_detail(span, s, scan)) continue;
      // Without a cue a phone, an e-mail or an address is the sender's.
      if (owner_from_cues(s, cues, span) == Owner::third) {
        scan.third_kinds |= 1U << static_cast<unsigned>(span.kind);
      }
    }
  }

  std::shared_ptr<const PiiConfig> config_;
};

// ---------------------------------------------------------------- factory

using relais::table::read_into;

class PiiFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<PiiConfig>();
    std::optional<std::vector<std::string>> fields;
    std::optional<std::vector<std::string>> allow;
    for (const auto& status : {
             read_into([&] { return table.strings("fields"); }, fields),
             read_into([&] { return table.boolean("hold_third_party"); }, config->hold_third_party),
             read_into([&] { return table.number("score"); }, config->score),
             read_into([&] { return table.number("third_party_score"); }, config->third_party_score),
             read_into([&] { return table.strings("allow"); }, allow),
             read_into([&] { return table.string("replacement_phone"); }, config->replacement_phone),
             read_into([&] { return table.string("replacement_email"); }, config->replacement_email),
             read_into([&] { return table.string("replacement_address"); }, config->replacement_address),
         }) {
      if (!status) return status.error();
    }
    if (fields) {
      config->scan_text = config->scan_subject = false;
      if (fields->empty()) return table.error("fields", "expected at least one of \"text\", \"subject\"");
      for (const auto& f : *fields) {
        if (f == "text") {
          config->scan_text = true;
        } else if (f == "subject") {
          config->scan_subject = true;
        } else {
          return table.error("fields", "expected \"text\" or \"subject\", not \"" + f + "\"");
        }
      }
    }
    if (allow) {
      for (const auto& a : *allow) {
        if (a.find('@') == std::string::npos && digits_of(a).size() >= 9 &&
            std::all_of(a.begin(), a.end(), [](char ch) {
              return is_digit(ch) || ch == ' ' || ch == '.' || ch == '-' || ch == '+' || ch == '(' ||
                     ch == ')';
            })) {
          config->allow_numbers.push_back(last9(digits_of(a)));
        } else if (a.find('.') != std::string::npos && a.find(' ') == std::string::npos && a.back() != '.' &&
                   a.front() != '@' && a.front() != '.') {
          config->allow_emails.push_back(lowered(a));
        } else {
          return table.error("allow",
                             "expected phone numbers (9 digits or more) or e-mail addresses or domains");
        }
      }
    }
    for (const auto* r :
         {&config->replacement_phone, &config->replacement_email, &config->replacement_address}) {
      if (r->empty()) {
        const char* key = r == &config->replacement_phone   ? "replacement_phone"
                          : r == &config->replacement_email ? "replacement_email"
                                                            : "replacement_address";
        return table.error(key, "expected a non-empty string");
      }
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& /*context*/) const override {
    return std::make_unique<PiiModerator>(std::static_pointer_cast<const PiiConfig>(std::move(config)));
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_pii", "1.0.0", PiiFactory)
