// lexicon: the per-language vocabularies of triage_lexicon, read from TOML
// files and compiled once, at configure time, into hash maps keyed by
// Snowball stems. A term ("je cherche", "@modal * @help") is a sequence of
// stems, word sets and short gaps; a post is matched by one hash lookup per
// word and a walk over the few terms that start with it. See
// config/triage/README.md for the file format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "relais/expected.hpp"

struct sb_stemmer;

namespace relais::triage {

// Heterogeneous lookup: a string_view finds a std::string key without a copy.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// One Snowball stemmer. Not thread-safe: each triager instance owns its own.
class Stemmer {
 public:
  explicit Stemmer(const std::string& algorithm);  // invalid() when Snowball has no such algorithm
  ~Stemmer();
  Stemmer(const Stemmer&) = delete;
  Stemmer& operator=(const Stemmer&) = delete;
  Stemmer(Stemmer&& other) noexcept;
  Stemmer& operator=(Stemmer&& other) noexcept;

  bool valid() const noexcept { return stemmer_ != nullptr; }
  // The stem of a normalised word; valid until the next call.
  std::string_view stem(std::string_view word);

 private:
  sb_stemmer* stemmer_ = nullptr;
};

// The Snowball algorithms this build knows, for error messages.
std::string stemmer_names();

// Languages a configuration may hold: one bit each in a word's stopword mask.
inline constexpr std::size_t kMaxLanguages = 32;

// What a term says when it matches.
enum class Dimension : std::uint8_t { kind, category, urgency, negation };

// kind: indices as relais::Kind (request, offer, info, other).
inline constexpr std::size_t kKinds = 4;

// urgency: the signals the urgency of a request is worked out from.
enum class Signal : std::uint8_t {
  danger,       // a health emergency or danger: critical
  vulnerable,   // elderly, disabled, ill, alone: high
  dependant,    // a baby or young children: critical with a lack
  lack,         // nothing left now ("le frigo est vide")
  lack_marker,  // "n'a plus", "no": a lack when an essential follows
  essential,    // food, medication, heating
  soon,         // today, tonight, tomorrow: a deadline
  calm,         // "rien d'urgent": no time pressure
  later,        // "après-demain": a day that is not a deadline ("demain" inside it is not)
};
inline constexpr std::size_t kSignals = 9;

// negation: a term that denies a need ("pas besoin de"), and the words that
// end the denial ("mais").
enum class NegationRole : std::uint8_t { deny };

// A word's properties that single words carry rather than terms.
enum WordFlag : std::uint8_t {
  kUntil = 1,      // ends a denial
  kAgeUnit = 2,    // after a number, makes it an age ("ans", "years")
  kAgeBefore = 4,  // before a number, makes it an age ("aged")
  kNot = 8,        // a negation: a gap never skips it ("I can't take" is no "I can * take")
};

struct Element {
  // word: a stem; exact: a word as written (after folding), for the words
  // whose stem is another word's too ("aidant" and "aider"); set: any word
  // of a set; gap: up to kMaxGap words.
  enum class Type : std::uint8_t { word, exact, set, gap };
  Type type = Type::word;
  std::int32_t value = 0;  // word, exact: vocabulary id; set: index; gap: unused
};

// A gap matches this many words at most (and at least none).
inline constexpr std::size_t kMaxGap = 3;

struct Term {
  std::vector<Element> elements;
  // The second element when it is a word: most candidates fail on it, so
  // it is checked before the walk.
  std::int32_t second = -1;
  bool second_exact = false;
  Dimension dimension = Dimension::kind;
  std::uint8_t target = 0;  // kind index, category index, Signal or NegationRole
  float weight = 1.0F;
};

// The weights of the three tiers of kind and category terms.
inline constexpr float kStrongWeight = 3.0F;
inline constexpr float kTermWeight = 1.0F;
inline constexpr float kWeakWeight = 0.5F;

// One language's compiled lexicon (possibly from several files).
struct Language {
  std::string code;       // "fr"
  std::string algorithm;  // the Snowball stemmer: "french"
  std::string file;       // where it was first defined, for messages

  StringMap<std::int32_t> vocabulary;  // stem -> id; "=word" -> id of an exact word
  std::vector<std::uint64_t> sets_of;  // by id: the sets holding the word, one bit each
  std::vector<std::uint8_t> flags;     // by id: WordFlag
  // The terms that may start with each word, all in one array: those of id
  // are [start_offsets[id], start_offsets[id + 1]) of starts, each with its
  // second word, so that most candidates are ruled out without reading the
  // term.
  struct Start {
    std::uint32_t term = 0;
    std::int32_t second = -1;  // Term::second
    bool second_exact = false;
  };
  std::vector<std::uint32_t> start_offsets;
  std::vector<Start> starts;
  std::vector<Term> terms;
  StringMap<std::size_t> set_names;  // @name -> set index
  StringSet stopwords;               // normalised words, unstemmed: tells the language
  StringSet age_unit_words;          // the age units as written: "90ans" is a number and one
  // The first one, two and three bytes of every stem, packed: a word whose
  // prefixes are none of these cannot stem to anything here, so it is never
  // stemmed.
  std::unordered_set<std::uint32_t> prefixes;

  bool has_exact = false;  // whether any term has an exact word

  std::int32_t id_of(std::string_view stem) const {
    auto it = vocabulary.find(stem);
    return it == vocabulary.end() ? -1 : it->second;
  }
  std::int32_t exact_id_of(std::string_view word) const;
  // Whether `word` (normalised) may stem to a word of the vocabulary.
  bool may_match(std::string_view word) const;
};

// Place words of every language, matched on normalised words without
// stemming (see gazetteer.hpp).
struct PlaceWords {
  std::vector<std::string> elsewhere;         // places outside the gazetteer ("Villejuif")
  std::vector<std::string> ordinal_suffixes;  // "e", "eme", "th"
  std::vector<std::string> not_district_after;
  std::vector<std::string> not_district_before;
  std::vector<std::string> work;
  std::vector<std::string> genitive;
  std::vector<std::string> article;
  std::vector<std::string> district;
  // "j'habite", "I live": a place right after one of these is the
  // sender's home; when the post is about someone else (a word of
  // `others`) and names another place, the need is there.
  std::vector<std::string> home;
  std::vector<std::string> others;
};

struct Lexicons {
  std::vector<Language> languages;
  std::vector<std::string> categories;  // every category of every language; indices of Term::target
  PlaceWords places;

  std::int32_t language_index(std::string_view code) const;
  std::int32_t category_index(std::string_view name) const;
};

// Reads and compiles the lexicon files, in order. An error names the file,
// line and column of the offending value: "file:line:column: what: message".
Expected<std::shared_ptr<const Lexicons>> read_lexicons(const std::vector<std::filesystem::path>& files);

}  // namespace relais::triage
