#include "pipeline/steps.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace relais::daemon {
namespace {

// ASCII only, and without the locale: UTF-8 bytes pass through unchanged.
bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_letter(unsigned char c) { return is_upper(c) || (c >= 'a' && c <= 'z'); }
bool is_word_char(unsigned char c) { return is_letter(c) || (c >= '0' && c <= '9') || c >= 0x80; }

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (is_upper(static_cast<unsigned char>(c))) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}


// A link starts with a scheme, or with "www." not right after one.
std::size_t count_links(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t pos = text.find_first_of("hw"); pos < text.size();
       pos = text.find_first_of("hw", pos + 1)) {
    const auto rest = text.substr(pos);
    if (rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("hxxp://") ||
        rest.starts_with("hxxps://")) {
      ++n;
      pos = text.find_first_of(" \t\r\n", pos);
      if (pos == std::string_view::npos) break;
    } else if (rest.starts_with("www.")) {
      ++n;
    }
  }
  return n;
}

class BasicModerator final : public Moderator {
 public:
  std::string_view name() const noexcept override { return "basic"; }

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const std::string text = ascii_lower(post.text);
    const std::size_t links = count_links(text);
    if (links >= 3) {
      findings.push_back({"MANY_LINKS",
                          3.0,
                          std::to_string(links) + " links in the text: bulk messages carry many",
                          std::nullopt,
                          {}});
    }
    std::size_t letters = 0;
    std::size_t upper = 0;
    for (unsigned char c : post.text) {
      if (is_letter(c)) {
        ++letters;
        if (is_upper(c)) ++upper;
      }
    }
    if (letters >= 40 && upper * 10 >= letters * 8) {
      findings.push_back({"SHOUTING", 1.0, "most of the text is in capitals", std::nullopt, {}});
    }
  }
};

// The words of a lowercased text, split on everything that is not a letter,
// a digit or a UTF-8 byte; cut once per post, matched many times.
std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || !is_word_char(static_cast<unsigned char>(text[i]))) {
      if (i > start) words.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return words;
}

// A phrase matches where its words follow each other; its last word may be
// the start of a longer one ("aide" matches "aider"), as a cheap stem.
bool has_phrase(const std::vector<std::string_view>& words, std::initializer_list<std::string_view> phrase) {
  const std::size_t n = phrase.size();
  for (std::size_t i = 0; i + n <= words.size(); ++i) {
    std::size_t k = 0;
    for (auto part : phrase) {
      const auto word = words[i + k];
      const bool last = k + 1 == n;
      if (last ? !word.starts_with(part) : word != part) break;
      ++k;
    }
    if (k == n) return true;
  }
  return false;
}

bool has_any(const std::vector<std::string_view>& words,
             std::initializer_list<std::initializer_list<std::string_view>> phrases) {
  return std::any_of(phrases.begin(), phrases.end(), [&](auto phrase) { return has_phrase(words, phrase); });
}

class BasicTriager final : public Triager {
 public:
  std::string_view name() const noexcept override { return "basic"; }

  void triage(const Post& post, Triage& t) override {
    const std::string text = ascii_lower(post.subject.value_or("") + "\n" + post.text);
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
    static constexpr std::array<std::string_view, 10> kFrench = {"je",  "le",  "la",  "les", "des",
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
