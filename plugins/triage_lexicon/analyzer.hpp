// analyzer: what triage_lexicon tells of one post. Form fields first; then
// the subject and text, normalised and cut into words, matched against the
// lexicon of their language (negations, signals of urgency, kind and
// category cues) and against the gazetteer. One analyzer per triager
// instance: it owns the stemmers, which are not thread-safe, a cache of the
// words it has met, and its scratch space.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gazetteer.hpp"
#include "lexicon.hpp"
#include "relais/post.hpp"
#include "text.hpp"
#include "tokens.hpp"

namespace relais::triage {

// A factory's reading of its table: immutable, shared by its instances.
struct Settings {
  std::shared_ptr<const Lexicons> lexicons;
  std::shared_ptr<const Gazetteer> gazetteer;  // null: areas come from form fields only
  std::size_t default_language = 0;            // when a post shows none of the lexicons' languages
  std::int32_t elderly_age = 65;               // an age from which a person is vulnerable
};

// Each word met once, with what it is in every lexicon and the gazetteer:
// stemming is far slower than a hash lookup, and most words come again. An
// open-addressing table over one string arena: a lookup is a hash of the
// word and, nearly always, one probe.
class WordCache {
 public:
  explicit WordCache(const Settings& settings);

  // Forgets everything once it holds too many words. Between posts only:
  // entries given out before are invalid afterwards.
  void bound();
  std::uint32_t entry(std::string_view word);
  std::int32_t gaz(std::uint32_t entry) const { return gaz_[entry]; }
  std::uint32_t stop_mask(std::uint32_t entry) const { return stop_[entry]; }
  // The word's stem id and exact id in a language's vocabulary (-1: none).
  std::pair<std::int32_t, std::int32_t> lex(std::uint32_t entry, std::size_t language, Stemmer& stemmer);

 private:
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t entry = 0;  // entry + 1; 0: empty
  };
  std::string_view word(std::uint32_t entry) const {
    return std::string_view(arena_).substr(spans_[entry].first, spans_[entry].second);
  }
  void clear();
  void grow();

  const Settings& settings_;
  std::vector<Slot> slots_;  // a power of two, at least twice the words kept
  std::string arena_;        // every word, one after the other
  std::vector<std::pair<std::uint32_t, std::uint32_t>> spans_;  // by entry: offset and length in arena_
  std::vector<std::int32_t> gaz_;
  std::vector<std::uint32_t> stop_;  // one bit per language whose stopword it is
  // Two per entry and language, (entry * languages + language) * 2: the
  // stem's id, then the exact word's; kUnknown until asked.
  std::vector<std::int32_t> lex_;
};

class Analyzer {
 public:
  explicit Analyzer(std::shared_ptr<const Settings> settings);

  void triage(const Post& post, Triage& triage);

 private:
  struct Match {
    std::uint32_t start = 0;
    std::uint32_t length = 0;
    std::uint32_t term = 0;
    Dimension dimension = Dimension::kind;
  };

  // What the words of a post say, summed over the languages matched.
  struct Evidence {
    std::array<float, kKinds> kind{};
    std::vector<float> category;       // by category index
    std::vector<std::uint32_t> first;  // by category index: the first word that named it
    std::array<bool, kSignals> signal{};
    bool elderly = false;
    bool lack_of_essential = false;  // a lack marker followed by an essential
  };

  void read_text(const Post& post);
  std::array<std::size_t, 2> languages_of(std::string_view hint, std::size_t& count);
  void match_language(std::size_t language);
  std::uint32_t match_term(const Language& lang, const Term& term, std::size_t element,
                           std::uint32_t at) const;
  void find_ages(const Language& lang);

  Kind decide_kind() const;
  std::vector<std::string> decide_categories(Kind kind, const std::vector<std::string>& previous) const;
  Urgency decide_urgency(Kind kind) const;

  std::shared_ptr<const Settings> settings_;
  std::vector<Stemmer> stemmers_;  // by language
  WordCache cache_;
  std::unique_ptr<AreaFinder> areas_;

  // Per post, reused.
  std::string readable_;
  text::Normalized normalized_;          // the tokens view its text
  std::vector<std::string_view> words_;  // tokenize()'s scratch
  std::vector<Token> tokens_;
  std::vector<Match> matches_;
  std::vector<std::uint8_t> covered_;  // by token: one bit per dimension
  std::vector<std::uint8_t> negated_;  // by token: inside a denied need
  std::vector<std::uint32_t> lack_markers_;
  std::vector<std::uint32_t> essentials_;
  Evidence evidence_;
};

}  // namespace relais::triage
