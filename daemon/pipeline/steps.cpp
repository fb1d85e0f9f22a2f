#include "pipeline/steps.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace relais::daemon {
namespace {

// ASCII only, and without the locale: UTF-8 bytes pass through unchanged.
constexpr bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool is_letter(unsigned char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }
constexpr bool is_word_char(unsigned char c) { return is_letter(c) || (c >= '0' && c <= '9') || c >= 0x80; }

char lower(char c) { return is_upper(static_cast<unsigned char>(c)) ? static_cast<char>(c - 'A' + 'a') : c; }

// Appends `s` lowercased to `out`.
void append_lower(std::string& out, std::string_view s) {
  const std::size_t at = out.size();
  out.resize(at + s.size());
  std::transform(s.begin(), s.end(), out.begin() + static_cast<std::ptrdiff_t>(at), lower);
}

// `prefix` is lowercase.
bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char p, char c) { return p == lower(c); });
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A link is a scheme ("http://", "https://", or their defanged "hxxp"
// forms) up to the next space, or "www." outside such a link. Both are found
// from their "://" and '.', with std::string_view::find (memchr).
std::size_t count_links(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> links;  // [start, end) of scheme links
  for (std::size_t pos = text.find("://"); pos != std::string_view::npos; pos = text.find("://", pos + 1)) {
    const auto before = text.substr(0, pos);
    for (std::string_view scheme : {"https", "http", "hxxps", "hxxp"}) {
      if (before.size() >= scheme.size() &&
          starts_with_nocase(before.substr(before.size() - scheme.size()), scheme)) {
        std::size_t end = pos;
        while (end < text.size() && !is_space(text[end])) ++end;
        links.emplace_back(pos - scheme.size(), end);
        pos = end;
        break;
      }
    }
  }
  std::size_t n = links.size();
  for (std::size_t pos = text.find('.'); pos != std::string_view::npos; pos = text.find('.', pos + 1)) {
    if (pos < 3 || !starts_with_nocase(text.substr(pos - 3), "www.")) continue;
    const std::size_t at = pos - 3;
    const bool inside = std::any_of(links.begin(), links.end(),
                                    [&](const auto& l) { return at >= l.first && at < l.second; });
    if (!inside) ++n;
  }
  return n;
}

struct LetterCount {
  std::size_t letters = 0;
  std::size_t upper = 0;
};

// ASCII letters and capitals, in blocks of fixed size so that the compiler
// turns the inner loop into vector code.
LetterCount count_letters(std::string_view text) {
  constexpr std::size_t kBlock = 64;
  LetterCount count;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  for (; i + kBlock <= text.size(); i += kBlock) {
    unsigned letters = 0;
    unsigned upper = 0;
    for (std::size_t k = 0; k < kBlock; ++k) {
      const unsigned c = bytes[i + k];
      upper += static_cast<unsigned>(c - 'A' < 26U);
      letters += static_cast<unsigned>((c | 0x20U) - 'a' < 26U);
    }
    count.letters += letters;
    count.upper += upper;
  }
  for (; i < text.size(); ++i) {
    const unsigned c = bytes[i];
    count.upper += static_cast<std::size_t>(c - 'A' < 26U);
    count.letters += static_cast<std::size_t>((c | 0x20U) - 'a' < 26U);
  }
  return count;
}

class BasicModerator final : public Moderator {
 public:
  std::string_view name() const noexcept override { return "basic"; }

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const std::size_t links = count_links(post.text);
    if (links >= 3) {
      findings.push_back({"MANY_LINKS",
                          3.0,
                          std::to_string(links) + " links in the text: bulk messages carry many",
                          std::nullopt,
                          {}});
    }
    const auto [letters, upper] = count_letters(post.text);
    if (letters >= 40 && upper * 10 >= letters * 8) {
      findings.push_back({"SHOUTING", 1.0, "most of the text is in capitals", std::nullopt, {}});
    }
  }
};

// The words of a lowercased text, split on everything that is not a letter,
// a digit or a UTF-8 byte; cut once per post, matched many times.
std::vector<std::string_view> words_of(std::string_view text) {
  static constexpr auto kWordChar = [] {
    std::array<bool, 256> table{};
    for (unsigned c = 0; c < 256; ++c) table[c] = is_word_char(static_cast<unsigned char>(c));
    return table;
  }();
  std::vector<std::string_view> words;
  words.reserve(text.size() / 4);  // about the words of prose; no regrowth
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!kWordChar[static_cast<unsigned char>(text[i])]) {
      if (i > start) words.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start < text.size()) words.push_back(text.substr(start));
  return words;
}

// A phrase matches where its words follow each other; its last word may be
// the start of a longer one ("aide" matches "aider"), as a cheap stem.
using Phrase = std::initializer_list<std::string_view>;

bool phrase_at(const std::vector<std::string_view>& words, std::size_t i, Phrase phrase) {
  if (i + phrase.size() > words.size()) return false;
  std::size_t k = 0;
  for (auto part : phrase) {
    const auto word = words[i + k];
    const bool last = ++k == phrase.size();
    if (last ? !word.starts_with(part) : word != part) return false;
  }
  return true;
}

// One pass over the words for a whole list of phrases: the first byte
// rules out almost every candidate before any comparison.
bool has_any(const std::vector<std::string_view>& words, std::initializer_list<Phrase> phrases) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const char first = words[i].front();
    for (auto phrase : phrases) {
      if (phrase.begin()->front() == first && phrase_at(words, i, phrase)) return true;
    }
  }
  return false;
}

class BasicTriager final : public Triager {
 public:
  std::string_view name() const noexcept override { return "basic"; }

  void triage(const Post& post, Triage& t) override {
    std::string text;
    text.reserve(post.text.size() + (post.subject ? post.subject->size() + 1 : 0));
    if (post.subject) {
      append_lower(text, *post.subject);
      text += '\n';
    }
    append_lower(text, post.text);
    const auto words = words_of(text);
    t.lang = field(post, "lang");
    if (t.lang.empty()) t.lang = post.lang;
    if (t.lang.empty()) t.lang = guess_language(words);

    if (auto k = parse_kind(field(post, "kind"))) {
      t.kind = *k;
    } else if (has_any(words, {{"je", "propose"},
                               {"je", "peux", "aider"},
                               {"i", "can", "help"},
                               {"i", "can", "offer"},
                               {"disponible", "pour"},
                               {"available", "to"}})) {
      t.kind = Kind::offer;
    } else if (has_any(words, {{"besoin"}, {"cherche"}, {"need"}, {"looking", "for"}, {"aide"}, {"help"}})) {
      t.kind = Kind::request;
    } else if (has_any(words, {{"merci"}, {"thank"}})) {
      t.kind = Kind::other;
    } else {
      t.kind = Kind::info;
    }

    if (auto category = field(post, "category"); !category.empty()) {
      t.categories = {std::move(category)};
    }
    if (auto u = parse_urgency(field(post, "urgency"))) {
      t.urgency = *u;
    } else {
      t.urgency = t.kind == Kind::request ? Urgency::normal : Urgency::low;
    }
    t.area = field(post, "area");
  }

 private:
  static std::string field(const Post& post, const std::string& key) {
    auto it = post.fields.find(key);
    return it == post.fields.end() ? std::string() : it->second;
  }

  static std::string guess_language(const std::vector<std::string_view>& words) {
    // Counts frequent short words; enough to pick a template language.
    static constexpr std::array<std::string_view, 10> kFrench = {"je",   "le",  "la",  "les", "des",
                                                                 "pour", "est", "une", "pas", "bonjour"};
    static constexpr std::array<std::string_view, 10> kEnglish = {"i",  "the", "and", "for", "is",
                                                                  "to", "my",  "of",  "you", "hello"};
    std::size_t fr = 0;
    std::size_t en = 0;
    for (auto w : words) {
      if (w.size() > 7) continue;
      fr += static_cast<std::size_t>(std::count(kFrench.begin(), kFrench.end(), w));
      en += static_cast<std::size_t>(std::count(kEnglish.begin(), kEnglish.end(), w));
    }
    if (fr == 0 && en == 0) return "";
    return fr >= en ? "fr" : "en";
  }
};

}  // namespace

std::unique_ptr<Moderator> make_basic_moderator() { return std::make_unique<BasicModerator>(); }
std::unique_ptr<Triager> make_basic_triager() { return std::make_unique<BasicTriager>(); }

}  // namespace relais::daemon
