#include "analyzer.hpp"

#include <algorithm>
#include <bit>
#include <tuple>
#include <utility>

#include "text.hpp"

namespace relais::triage {
namespace {

constexpr std::int32_t kUnknown = -2;
// Enough for the vocabulary of a busy network; a flood of novel words
// (spam, another script) costs one rebuild, not unbounded memory.
constexpr std::size_t kMaxCachedWords = std::size_t{1} << 16U;
// A denial reaches at most this far when no "mais" or full stop ends it.
constexpr std::uint32_t kMaxDenial = 20;
// An essential this close after a lack marker is lacking: "plus de lait".
constexpr std::uint32_t kLackWindow = 3;
// Ages are told from other numbers only below this.
constexpr std::int32_t kMaxAge = 120;
// The second category is kept when it scores at least this share of the
// first, and at least one plain term.
constexpr float kSecondShare = 0.34F;
// A language other than the main one is matched too when this share of the
// post's stopwords are its own: a post in two languages.
constexpr std::size_t kSecondLanguageShare = 3;  // at least a third
constexpr std::size_t kSecondLanguageMin = 2;

constexpr std::size_t kCacheSlots = kMaxCachedWords * 2;
static_assert((kCacheSlots & (kCacheSlots - 1)) == 0, "a power of two");

// FNV-1a: words are short, and this is a few cycles a byte.
std::uint32_t hash_word(std::string_view word) {
  std::uint32_t h = 2166136261U;
  for (const char c : word) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return h;
}

std::string field(const Post& post, const std::string& key) {
  auto it = post.fields.find(key);
  return it == post.fields.end() ? std::string() : it->second;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

// ---------------------------------------------------------------- cache

WordCache::WordCache(const Settings& settings) : settings_(settings) { clear(); }

void WordCache::clear() {
  slots_.assign(kCacheSlots, Slot{});
  arena_.clear();
  spans_.clear();
  gaz_.clear();
  stop_.clear();
  lex_.clear();
}

void WordCache::bound() {
  if (spans_.size() >= kMaxCachedWords || slots_.size() > kCacheSlots) clear();
}

// Twice the slots, the same entries: a post with more new words than the
// cache bounds (a huge text) must not fill the table.
void WordCache::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].entry != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

std::uint32_t WordCache::entry(std::string_view w) {
  const std::uint32_t h = hash_word(w);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.entry == 0) break;
    if (slot.hash == h && word(slot.entry - 1) == w) return slot.entry - 1;
  }
  const auto entry = static_cast<std::uint32_t>(spans_.size());
  slots_[i] = Slot{h, entry + 1};
  spans_.emplace_back(static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(w.size()));
  arena_.append(w);
  gaz_.push_back(settings_.gazetteer ? settings_.gazetteer->id_of(w) : -1);
  std::uint32_t mask_of_languages = 0;
  const auto& languages = settings_.lexicons->languages;
  for (std::size_t l = 0; l < languages.size(); ++l) {
    if (languages[l].stopwords.contains(w)) mask_of_languages |= 1U << l;
  }
  stop_.push_back(mask_of_languages);
  lex_.resize(lex_.size() + 2 * languages.size(), kUnknown);
  if (spans_.size() * 2 > slots_.size()) grow();
  return entry;
}

std::pair<std::int32_t, std::int32_t> WordCache::lex(std::uint32_t entry, std::size_t language,
                                                     Stemmer& stemmer) {
  const std::size_t at = (entry * settings_.lexicons->languages.size() + language) * 2;
  if (lex_[at] == kUnknown) {
    const Language& lang = settings_.lexicons->languages[language];
    const std::string_view w = word(entry);
    lex_[at] = lang.may_match(w) ? lang.id_of(stemmer.stem(w)) : -1;
    lex_[at + 1] = lang.exact_id_of(w);
  }
  return {lex_[at], lex_[at + 1]};
}

// ---------------------------------------------------------------- analyzer

Analyzer::Analyzer(std::shared_ptr<const Settings> settings)
    : settings_(std::move(settings)), cache_(*settings_) {
  for (const auto& lang : settings_->lexicons->languages) stemmers_.emplace_back(lang.algorithm);
  if (settings_->gazetteer) areas_ = std::make_unique<AreaFinder>(settings_->gazetteer);
  evidence_.category.resize(settings_->lexicons->categories.size());
  evidence_.first.resize(settings_->lexicons->categories.size());
}

void Analyzer::read_text(const Post& post) {
  readable_.clear();
  if (post.subject) append_readable(readable_, *post.subject);
  append_readable(readable_, post.text);
  text::normalize(readable_, normalized_);
  tokenize(normalized_, tokens_, words_);
  cache_.bound();
  for (auto& token : tokens_) {
    token.entry = cache_.entry(token.word);
    token.gaz = cache_.gaz(token.entry);
  }
}

// The main language of the post (by its stopwords) and a second one when the
// post is written in two; `count` is how many languages to match.
std::array<std::size_t, 2> Analyzer::languages_of(std::string_view hint, std::size_t& count) {
  const auto& lexicons = *settings_->lexicons;
  std::array<std::size_t, kMaxLanguages> votes{};
  for (const auto& token : tokens_) {
    for (std::uint32_t mask = cache_.stop_mask(token.entry); mask != 0; mask &= mask - 1) {
      ++votes[static_cast<std::size_t>(std::countr_zero(mask))];
    }
  }
  std::size_t main = 0;
  for (std::size_t l = 1; l < lexicons.languages.size(); ++l) {
    if (votes[l] > votes[main]) main = l;
  }
  if (votes[main] == 0) {
    const auto hinted = lexicons.language_index(hint);
    main = hinted >= 0 ? static_cast<std::size_t>(hinted) : settings_->default_language;
  }
  std::array<std::size_t, 2> out{main, main};
  count = 1;
  for (std::size_t l = 0; l < lexicons.languages.size(); ++l) {
    if (l == main || votes[l] < kSecondLanguageMin || votes[l] * kSecondLanguageShare < votes[main]) continue;
    if (count == 1 || votes[l] > votes[out[1]]) out[1] = l;
    count = 2;
  }
  return out;
}

// Where a term that starts at `at` ends (one past its last word), or 0.
// Terms never cross the end of a sentence.
std::uint32_t Analyzer::match_term(const Language& lang, const Term& term, std::size_t element,
                                   std::uint32_t at) const {
  if (element == term.elements.size()) return at;
  const Element& e = term.elements[element];
  if (e.type == Element::Type::gap) {
    for (std::uint32_t skip = 0; skip <= kMaxGap && at + skip < tokens_.size(); ++skip) {
      if (skip > 0) {
        // A gap never crosses a sentence, nor skips a negation.
        const Token& skipped = tokens_[at + skip - 1];
        if (skipped.boundary ||
            (skipped.lex >= 0 && (lang.flags[static_cast<std::size_t>(skipped.lex)] & kNot) != 0)) {
          break;
        }
      }
      if (const auto end = match_term(lang, term, element + 1, at + skip); end != 0) return end;
    }
    return 0;
  }
  if (at >= tokens_.size()) return 0;
  const Token& token = tokens_[at];
  if (element > 0 && token.boundary) return 0;
  bool match = false;
  switch (e.type) {
    case Element::Type::word:
      match = token.lex == e.value;
      break;
    case Element::Type::exact:
      match = token.exact == e.value;
      break;
    default:
      match = token.lex >= 0 && (lang.sets_of[static_cast<std::size_t>(token.lex)] &
                                 (std::uint64_t{1} << static_cast<unsigned>(e.value))) != 0;
      break;
  }
  return match ? match_term(lang, term, element + 1, at + 1) : 0;
}

void Analyzer::match_language(std::size_t language) {
  const Language& lang = settings_->lexicons->languages[language];
  Stemmer& stemmer = stemmers_[language];
  for (auto& token : tokens_) std::tie(token.lex, token.exact) = cache_.lex(token.entry, language, stemmer);

  matches_.clear();
  for (std::uint32_t i = 0; i < tokens_.size(); ++i) {
    for (const auto id : {tokens_[i].lex, tokens_[i].exact}) {
      if (id < 0) continue;
      const auto first = lang.start_offsets[static_cast<std::size_t>(id)];
      const auto last = lang.start_offsets[static_cast<std::size_t>(id) + 1];
      for (auto s = first; s < last; ++s) {
        const Language::Start& start = lang.starts[s];
        if (start.second >= 0) {
          if (i + 1 >= tokens_.size()) continue;
          const Token& next = tokens_[i + 1];
          if ((start.second_exact ? next.exact : next.lex) != start.second) continue;
        }
        const Term& term = lang.terms[start.term];
        if (const auto end = match_term(lang, term, 0, i); end != 0) {
          matches_.push_back({i, end - i, start.term, term.dimension});
        }
      }
    }
  }

  // Within a dimension the longest match wins where matches overlap: "qui
  // aurait besoin" (an offer) leaves nothing of "besoin" (a request). The
  // same words may still say two things of one dimension ("pharmacie").
  std::sort(matches_.begin(), matches_.end(), [](const Match& a, const Match& b) {
    if (a.dimension != b.dimension) return a.dimension < b.dimension;
    if (a.length != b.length) return a.length > b.length;
    if (a.start != b.start) return a.start < b.start;
    return a.term < b.term;
  });
  covered_.assign(tokens_.size(), 0);
  std::size_t kept = 0;
  std::size_t span_begin = 0;  // where the kept matches of the current span start
  for (std::size_t i = 0; i < matches_.size(); ++i) {
    const Match m = matches_[i];
    const auto bit = static_cast<std::uint8_t>(1U << static_cast<unsigned>(m.dimension));
    const bool same_span = kept > span_begin && matches_[span_begin].dimension == m.dimension &&
                           matches_[span_begin].start == m.start && matches_[span_begin].length == m.length;
    if (same_span) {
      // Two terms that say the same of the same words ("@animal" and
      // "chiens") count once.
      const auto target = lang.terms[m.term].target;
      if (std::any_of(matches_.begin() + static_cast<std::ptrdiff_t>(span_begin),
                      matches_.begin() + static_cast<std::ptrdiff_t>(kept),
                      [&](const Match& other) { return lang.terms[other.term].target == target; })) {
        continue;
      }
    } else if (std::any_of(covered_.begin() + m.start, covered_.begin() + m.start + m.length,
                           [bit](std::uint8_t c) { return (c & bit) != 0; })) {
      continue;
    } else {
      span_begin = kept;
    }
    for (std::uint32_t t = m.start; t < m.start + m.length; ++t) covered_[t] |= bit;
    matches_[kept++] = m;
  }
  matches_.resize(kept);

  // A denied need reaches to "mais", the end of its sentence, or kMaxDenial
  // words: what it names is not needed.
  negated_.assign(tokens_.size(), 0);
  for (const auto& m : matches_) {
    if (m.dimension != Dimension::negation) continue;
    const auto limit =
        std::min<std::uint32_t>(static_cast<std::uint32_t>(tokens_.size()), m.start + kMaxDenial);
    for (std::uint32_t i = m.start; i < limit; ++i) {
      if (i >= m.start + m.length) {
        const Token& t = tokens_[i];
        if (t.boundary || (t.lex >= 0 && (lang.flags[static_cast<std::size_t>(t.lex)] & kUntil) != 0)) break;
      }
      negated_[i] = 1;
    }
  }

  lack_markers_.clear();
  essentials_.clear();
  for (const auto& m : matches_) {
    const Term& term = lang.terms[m.term];
    switch (m.dimension) {
      case Dimension::kind:
        evidence_.kind[term.target] += term.weight;
        break;
      case Dimension::category:
        if (negated_[m.start] != 0) break;
        if (evidence_.category[term.target] == 0.0F || m.start < evidence_.first[term.target]) {
          evidence_.first[term.target] = m.start;
        }
        evidence_.category[term.target] += term.weight;
        break;
      case Dimension::urgency: {
        const auto signal = static_cast<Signal>(term.target);
        const bool about_a_lack =
            signal == Signal::lack || signal == Signal::lack_marker || signal == Signal::essential;
        if (about_a_lack && negated_[m.start] != 0) break;
        if (signal == Signal::lack_marker) {
          lack_markers_.push_back(m.start + m.length);
        } else if (signal == Signal::essential) {
          essentials_.push_back(m.start);
        } else {
          evidence_.signal[term.target] = true;
        }
        break;
      }
      case Dimension::negation:
        break;
    }
  }
  for (const auto marker_end : lack_markers_) {
    for (const auto essential : essentials_) {
      if (essential < marker_end || essential > marker_end + kLackWindow) continue;
      bool same_sentence = true;
      for (auto i = marker_end; i <= essential && same_sentence; ++i) same_sentence = !tokens_[i].boundary;
      evidence_.lack_of_essential = evidence_.lack_of_essential || same_sentence;
    }
  }
  find_ages(lang);
}

// "84 ans", "aged 80", "my mum (82)": a number that is an age, and old.
void Analyzer::find_ages(const Language& lang) {
  const auto flags_of = [&](const Token& t) -> std::uint8_t {
    return t.lex < 0 ? 0 : lang.flags[static_cast<std::size_t>(t.lex)];
  };
  for (std::size_t i = 0; i < tokens_.size() && !evidence_.elderly; ++i) {
    const Token& t = tokens_[i];
    if (t.number < 0 && !t.word.empty() && t.word.front() >= '0' && t.word.front() <= '9') {
      // "90ans", "85yo": the number and its unit in one word.
      std::size_t digits = 0;
      int age = 0;
      while (digits < t.word.size() && digits < 3 && t.word[digits] >= '0' && t.word[digits] <= '9') {
        age = age * 10 + (t.word[digits++] - '0');
      }
      const bool unit = lang.age_unit_words.contains(t.word.substr(digits));
      evidence_.elderly = unit && age >= settings_->elderly_age && age <= kMaxAge;
      continue;
    }
    if (t.number < settings_->elderly_age || t.number > kMaxAge) continue;
    const bool unit_after =
        i + 1 < tokens_.size() && !tokens_[i + 1].boundary && (flags_of(tokens_[i + 1]) & kAgeUnit) != 0;
    const bool word_before = i > 0 && !t.boundary && (flags_of(tokens_[i - 1]) & kAgeBefore) != 0;
    const bool in_parentheses = t.open_paren && t.close_after && i > 0 && !t.boundary;
    evidence_.elderly = unit_after || word_before || in_parentheses;
  }
}

Kind Analyzer::decide_kind() const {
  std::array<float, kKinds> score = evidence_.kind;
  // Danger and lack are needs even when nobody writes "help".
  if (evidence_.signal[static_cast<std::size_t>(Signal::danger)]) score[0] += kTermWeight;
  if (evidence_.signal[static_cast<std::size_t>(Signal::lack)] || evidence_.lack_of_essential) {
    score[0] += kWeakWeight;
  }
  std::size_t best = 0;
  for (std::size_t k = 1; k < kKinds; ++k) {
    if (score[k] > score[best]) best = k;
  }
  if (score[best] >= kTermWeight) return static_cast<Kind>(best);
  // Weak cues at most ("merci"): a post about something is most often
  // someone asking.
  const bool about_something = std::any_of(evidence_.category.begin(), evidence_.category.end(),
                                           [](float s) { return s >= kTermWeight; });
  if (about_something) return Kind::request;
  return score[best] > 0.0F ? static_cast<Kind>(best) : Kind::other;
}

std::vector<std::string> Analyzer::decide_categories(Kind kind,
                                                     const std::vector<std::string>& previous) const {
  const auto& names = settings_->lexicons->categories;
  // Thanks, greetings and chatter are about nothing to route.
  if (kind == Kind::other) return {"other"};
  std::size_t first = names.size();
  std::size_t second = names.size();
  const auto before = [&](std::size_t a, std::size_t b) {
    if (b == names.size()) return true;
    if (evidence_.category[a] != evidence_.category[b]) return evidence_.category[a] > evidence_.category[b];
    return evidence_.first[a] < evidence_.first[b];
  };
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (evidence_.category[c] <= 0.0F) continue;
    if (before(c, first)) {
      second = first;
      first = c;
    } else if (before(c, second)) {
      second = c;
    }
  }
  if (first == names.size()) return previous.empty() ? std::vector<std::string>{"other"} : previous;
  std::vector<std::string> out{names[first]};
  if (second != names.size() && evidence_.category[second] >= kTermWeight &&
      evidence_.category[second] >= kSecondShare * evidence_.category[first]) {
    out.push_back(names[second]);
  }
  return out;
}

Urgency Analyzer::decide_urgency(Kind kind) const {
  const auto has = [&](Signal s) { return evidence_.signal[static_cast<std::size_t>(s)]; };
  // Offers and notices: low, unless something happens today or tomorrow.
  if (kind != Kind::request) return has(Signal::soon) ? Urgency::normal : Urgency::low;
  const bool vulnerable = has(Signal::vulnerable) || evidence_.elderly;
  const bool lacking = has(Signal::lack) || evidence_.lack_of_essential;
  if (has(Signal::danger) || (lacking && (vulnerable || has(Signal::dependant)))) return Urgency::critical;
  if (vulnerable) return Urgency::high;
  if (has(Signal::calm)) return Urgency::low;
  if (has(Signal::soon)) return Urgency::high;
  return Urgency::normal;
}

void Analyzer::triage(const Post& post, Triage& t) {
  const auto& lexicons = *settings_->lexicons;
  read_text(post);

  const std::string lang_field = field(post, "lang");
  const std::string& hint = !lang_field.empty() ? lang_field : post.lang;
  std::size_t count = 0;
  const auto languages = languages_of(hint, count);
  evidence_.kind = {};
  std::fill(evidence_.category.begin(), evidence_.category.end(), 0.0F);
  std::fill(evidence_.first.begin(), evidence_.first.end(), 0U);
  evidence_.signal = {};
  evidence_.elderly = false;
  evidence_.lack_of_essential = false;
  for (std::size_t i = 0; i < count; ++i) match_language(languages[i]);

  t.lang = hint;
  if (t.lang.empty()) {
    const bool shown = std::any_of(tokens_.begin(), tokens_.end(),
                                   [&](const Token& token) { return cache_.stop_mask(token.entry) != 0; });
    if (shown) t.lang = lexicons.languages[languages[0]].code;
  }

  const auto kind = parse_kind(field(post, "kind"));
  t.kind = kind ? *kind : decide_kind();

  // "groceries, pets": the form's categories, primary first; a name the
  // lexicons do not know is ignored.
  std::vector<std::string> categories;
  const std::string listed_field = field(post, "category");
  std::string_view listed = listed_field;
  while (!listed.empty() && categories.size() < 2) {
    const std::size_t comma = std::min(listed.find(','), listed.size());
    const std::string name(trim(listed.substr(0, comma)));
    listed.remove_prefix(std::min(comma + 1, listed.size()));
    if (!name.empty() && (name == "other" || lexicons.category_index(name) >= 0) &&
        std::find(categories.begin(), categories.end(), name) == categories.end()) {
      categories.push_back(name);
    }
  }
  t.categories = categories.empty() ? decide_categories(t.kind, t.categories) : std::move(categories);

  const auto urgency = parse_urgency(field(post, "urgency"));
  t.urgency = urgency ? *urgency : decide_urgency(t.kind);

  // The form's area, else its postcode, which the text may narrow down to a
  // quarter of that postcode; else the text alone.
  const std::string area = field(post, "area");
  const Gazetteer* gazetteer = settings_->gazetteer.get();
  if (!area.empty() && (gazetteer == nullptr || gazetteer->area_index(area) >= 0)) {
    t.area = area;
  } else if (gazetteer != nullptr) {
    const std::string postcode(trim(field(post, "postcode")));
    const auto allowed = gazetteer->areas_with_postcode(postcode);
    std::int32_t found = -1;
    if (allowed.size() == 1) {
      found = allowed.front();
    } else {
      found = areas_->find(tokens_, Source{&normalized_, readable_}, allowed.empty() ? nullptr : &allowed);
    }
    if (found >= 0) t.area = gazetteer->areas[static_cast<std::size_t>(found)].id;
  }
}

}  // namespace relais::triage
