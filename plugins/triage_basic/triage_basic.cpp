// triage_basic: kind, category, urgency, area and language from a form's
// structured fields, and a guess from the text for what the fields leave
// open. The first triager of a chain; the ones after it refine what it set.
#include <algorithm>
#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relais/plugin.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;

struct BasicConfig final : relais::PluginConfig {
  bool guess_kind = true;
  bool guess_language = true;
};

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

std::string field(const Post& post, const std::string& key) {
  auto it = post.fields.find(key);
  return it == post.fields.end() ? std::string() : it->second;
}

// Counts frequent short words; enough to pick a template language.
std::string guess_language(const std::vector<std::string_view>& words) {
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

Kind guess_kind(const std::vector<std::string_view>& words) {
  if (has_any(words, {{"je", "propose"},
                      {"je", "peux", "aider"},
                      {"i", "can", "help"},
                      {"i", "can", "offer"},
                      {"disponible", "pour"},
                      {"available", "to"}})) {
    return Kind::offer;
  }
  if (has_any(words, {{"besoin"}, {"cherche"}, {"need"}, {"looking", "for"}, {"aide"}, {"help"}})) {
    return Kind::request;
  }
  if (has_any(words, {{"merci"}, {"thank"}})) return Kind::other;
  return Kind::info;
}

class BasicTriager final : public relais::Triager {
 public:
  explicit BasicTriager(std::shared_ptr<const BasicConfig> config) : config_(std::move(config)) {}

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
    if (t.lang.empty() && config_->guess_language) t.lang = guess_language(words);

    if (auto k = relais::parse_kind(field(post, "kind"))) {
      t.kind = *k;
    } else if (config_->guess_kind) {
      t.kind = guess_kind(words);
    }
    if (auto category = field(post, "category"); !category.empty()) t.categories = {std::move(category)};
    if (auto u = relais::parse_urgency(field(post, "urgency"))) {
      t.urgency = *u;
    } else {
      t.urgency = t.kind == Kind::request ? Urgency::normal : Urgency::low;
    }
    if (auto area = field(post, "area"); !area.empty()) t.area = std::move(area);
  }

 private:
  std::shared_ptr<const BasicConfig> config_;
};

class BasicFactory final : public relais::TriagerFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<BasicConfig>();
    for (auto [key, into] : {std::pair{"guess_kind", &config->guess_kind},
                             std::pair{"guess_language", &config->guess_language}}) {
      auto value = table.boolean(key);
      if (!value) return value.error();
      if (*value) *into = **value;
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Triager> create(std::shared_ptr<const relais::PluginConfig> config,
                                          const relais::PluginContext& /*context*/) const override {
    return std::make_unique<BasicTriager>(std::static_pointer_cast<const BasicConfig>(std::move(config)));
  }
};

}  // namespace

RELAIS_TRIAGER_PLUGIN("triage_basic", "1.0.0", BasicFactory)
