#include "lexicon.hpp"

#include <libstemmer.h>

#include <algorithm>
#include <utility>

#include "text.hpp"
#include "toml_reader.hpp"

namespace relais::triage {

// ---------------------------------------------------------------- stemmer

Stemmer::Stemmer(const std::string& algorithm) : stemmer_(sb_stemmer_new(algorithm.c_str(), "UTF_8")) {}

Stemmer::~Stemmer() { sb_stemmer_delete(stemmer_); }

Stemmer::Stemmer(Stemmer&& other) noexcept : stemmer_(std::exchange(other.stemmer_, nullptr)) {}

Stemmer& Stemmer::operator=(Stemmer&& other) noexcept {
  if (this != &other) {
    sb_stemmer_delete(stemmer_);
    stemmer_ = std::exchange(other.stemmer_, nullptr);
  }
  return *this;
}

std::string_view Stemmer::stem(std::string_view word) {
  if (stemmer_ == nullptr) return word;  // out of memory when made: the word matches itself
  const sb_symbol* out = sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(word.data()),
                                         static_cast<int>(word.size()));
  if (out == nullptr) return word;  // out of memory: the word as it is still matches itself
  return {reinterpret_cast<const char*>(out), static_cast<std::size_t>(sb_stemmer_length(stemmer_))};
}

std::string stemmer_names() {
  std::string out;
  for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) {
    if (!out.empty()) out += ", ";
    out += *name;
  }
  return out;
}

// ---------------------------------------------------------------- lookups

namespace {

std::uint32_t pack_prefix(std::string_view s) {
  std::uint32_t key = static_cast<std::uint32_t>(s.size()) << 24U;
  for (std::size_t i = 0; i < s.size(); ++i) {
    key |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[i])) << (8U * (2 - i));
  }
  return key;
}

}  // namespace

bool Language::may_match(std::string_view word) const {
  for (std::size_t k = 1; k <= std::min<std::size_t>(3, word.size()); ++k) {
    if (prefixes.contains(pack_prefix(word.substr(0, k)))) return true;
  }
  return false;
}

std::int32_t Language::exact_id_of(std::string_view word) const {
  if (!has_exact) return -1;
  std::string key;
  key.reserve(word.size() + 1);
  key += '=';
  key += word;
  return id_of(key);
}

std::int32_t Lexicons::language_index(std::string_view code) const {
  for (std::size_t i = 0; i < languages.size(); ++i) {
    if (languages[i].code == code) return static_cast<std::int32_t>(i);
  }
  return -1;
}

std::int32_t Lexicons::category_index(std::string_view name) const {
  const auto it = std::find(categories.begin(), categories.end(), name);
  return it == categories.end() ? -1 : static_cast<std::int32_t>(it - categories.begin());
}

// ---------------------------------------------------------------- reading

namespace {

constexpr std::array<std::string_view, kKinds> kKindNames = {"request", "offer", "info", "other"};
constexpr std::array<std::string_view, kSignals> kSignalNames = {
    "danger", "vulnerable", "dependant", "lack", "lack_marker", "essential", "soon", "calm", "later"};
constexpr std::size_t kMaxSets = 64;

bool valid_name(std::string_view name) {
  if (name.empty() || name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The normalised words of a piece of a term or of a list entry.
std::vector<std::string> words_of(std::string_view raw) {
  const text::Normalized folded = text::normalize(raw);
  std::vector<std::string> out;
  for (auto word : text::words(folded.text)) out.emplace_back(word);
  return out;
}

// Reads every file into one Lexicons, language by language, keeping a
// stemmer per language to compile terms with.
class Builder {
 public:
  Status read(const std::filesystem::path& path) {
    TomlReader reader(path.string());
    auto document = reader.parse();
    if (!document) return document.error();
    const toml::table& doc = *document;
    if (auto known = reader.known_keys(
            doc, "", {"language", "sets", "kind", "category", "urgency", "negation", "places"});
        !known) {
      return known.error();
    }
    auto language = read_language(reader, doc);
    if (!language) return language.error();
    Language& lang = *language.value();
    Stemmer& stemmer = stemmers_[static_cast<std::size_t>(&lang - lexicons_->languages.data())];

    if (auto sets = read_sets(reader, doc, lang, stemmer); !sets) return sets.error();
    if (auto kinds = read_kinds(reader, doc, lang, stemmer); !kinds) return kinds.error();
    if (auto categories = read_categories(reader, doc, lang, stemmer); !categories) return categories.error();
    if (auto urgency = read_urgency(reader, doc, lang, stemmer); !urgency) return urgency.error();
    if (auto negation = read_negation(reader, doc, lang, stemmer); !negation) return negation.error();
    if (auto places = read_places(reader, doc); !places) return places.error();
    return Done{};
  }

  std::shared_ptr<const Lexicons> finish() {
    for (auto& lang : lexicons_->languages) index(lang);
    return std::move(lexicons_);
  }

 private:
  // [language]: the one of this file, created or found again when an
  // earlier file had the same code.
  Expected<Language*> read_language(const TomlReader& reader, const toml::table& doc) {
    auto table = reader.table(doc, "language", "");
    if (!table) return table.error();
    if (*table == nullptr)
      return reader.error(doc.source(), "language", "missing: a lexicon says its [language]");
    const toml::table& t = **table;
    if (auto known = reader.known_keys(t, "language", {"code", "stemmer", "stopwords"}); !known)
      return known.error();
    auto code = reader.string(t, "code", "language");
    if (!code) return code.error();
    if (!*code || !valid_name(**code)) {
      const toml::node* node = t.get("code");
      return reader.error(node != nullptr ? node->source() : t.source(), "language.code",
                          "expected a language code in lower case, such as \"fr\"");
    }
    auto algorithm = reader.string(t, "stemmer", "language");
    if (!algorithm) return algorithm.error();
    if (!*algorithm)
      return reader.error(t.source(), "language.stemmer", "missing: the Snowball stemmer to use");
    const auto& stemmer_region = t.get("stemmer")->source();

    Language* lang = nullptr;
    const std::int32_t existing = lexicons_->language_index(**code);
    if (existing >= 0) {
      lang = &lexicons_->languages[static_cast<std::size_t>(existing)];
      if (lang->algorithm != **algorithm) {
        return reader.error(
            stemmer_region, "language.stemmer",
            "\"" + **algorithm + "\" differs from \"" + lang->algorithm + "\" in " + lang->file);
      }
    } else {
      Stemmer stemmer(**algorithm);
      if (!stemmer.valid()) {
        return reader.error(stemmer_region, "language.stemmer",
                            "no Snowball stemmer \"" + **algorithm + "\"; there are: " + stemmer_names());
      }
      // Languages are kept by index in stemmers_: reserve nothing, push both.
      lexicons_->languages.emplace_back();
      stemmers_.push_back(std::move(stemmer));
      lang = &lexicons_->languages.back();
      lang->code = **code;
      lang->algorithm = **algorithm;
      lang->file = reader.file();
    }
    auto stopwords = reader.strings(t, "stopwords", "language");
    if (!stopwords) return stopwords.error();
    for (const auto& [raw, region] : *stopwords) {
      auto words = words_of(raw);
      if (words.size() != 1) return reader.error(region, "language.stopwords", "expected one word");
      lang->stopwords.insert(std::move(words.front()));
    }
    return lang;
  }

  std::int32_t intern(Language& lang, std::string_view stem) {
    if (const auto id = lang.id_of(stem); id >= 0) return id;
    const auto id = static_cast<std::int32_t>(lang.sets_of.size());
    lang.vocabulary.emplace(std::string(stem), id);
    lang.sets_of.push_back(0);
    lang.flags.push_back(0);
    return id;
  }

  // One word of a set or a flag list: exactly one word, stemmed.
  Expected<std::int32_t> single_word(const TomlReader& reader, Language& lang, Stemmer& stemmer,
                                     const std::string& raw, const toml::source_region& region,
                                     std::string_view what) {
    const auto words = words_of(raw);
    if (words.size() != 1) return reader.error(region, what, "\"" + raw + "\": expected one word");
    return intern(lang, stemmer.stem(words.front()));
  }

  Status read_sets(const TomlReader& reader, const toml::table& doc, Language& lang, Stemmer& stemmer) {
    auto table = reader.table(doc, "sets", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    for (const auto& [key, node] : **table) {
      const std::string what = "sets." + std::string(key.str());
      if (!valid_name(key.str())) {
        return reader.error(key.source(), what, "expected a name of lower-case letters, digits and '_'");
      }
      auto words = reader.strings(**table, key.str(), "sets");
      if (!words) return words.error();
      auto [it, added] = lang.set_names.emplace(std::string(key.str()), lang.set_names.size());
      if (added && lang.set_names.size() > kMaxSets) {
        return reader.error(key.source(), what, "too many sets: at most 64 per language");
      }
      const std::uint64_t bit = std::uint64_t{1} << it->second;
      for (const auto& [raw, region] : *words) {
        auto id = single_word(reader, lang, stemmer, raw, region, what);
        if (!id) return id.error();
        lang.sets_of[static_cast<std::size_t>(*id)] |= bit;
      }
    }
    return Done{};
  }

  // A term: words separated by spaces; `*` a gap of up to kMaxGap words;
  // `@name` any word of a set.
  Status add_term(const TomlReader& reader, Language& lang, Stemmer& stemmer, const std::string& raw,
                  const toml::source_region& region, std::string_view what, Dimension dimension,
                  std::uint8_t target, float weight) {
    Term term;
    term.dimension = dimension;
    term.target = target;
    term.weight = weight;
    std::size_t at = 0;
    while (at < raw.size()) {
      const std::size_t end = std::min(raw.find(' ', at), raw.size());
      const std::string_view piece = std::string_view(raw).substr(at, end - at);
      at = end + 1;
      if (piece.empty()) continue;
      if (piece == "*") {
        if (term.elements.empty() || term.elements.back().type == Element::Type::gap) {
          return reader.error(region, what, "\"" + raw + "\": a gap `*` goes between two words");
        }
        term.elements.push_back({Element::Type::gap, 0});
      } else if (piece.front() == '=') {
        const auto words = words_of(piece.substr(1));
        if (words.size() != 1) {
          return reader.error(region, what, "\"" + raw + "\": an exact word `=` is one word");
        }
        term.elements.push_back({Element::Type::exact, intern(lang, "=" + words.front())});
        lang.has_exact = true;
      } else if (piece.front() == '@') {
        const auto set = lang.set_names.find(piece.substr(1));
        if (set == lang.set_names.end()) {
          return reader.error(region, what,
                              "\"" + raw + "\": no set \"" + std::string(piece.substr(1)) + "\" in [sets]");
        }
        term.elements.push_back({Element::Type::set, static_cast<std::int32_t>(set->second)});
      } else {
        for (const auto& word : words_of(piece)) {
          term.elements.push_back({Element::Type::word, intern(lang, stemmer.stem(word))});
        }
      }
    }
    if (term.elements.empty()) return reader.error(region, what, "\"" + raw + "\": nothing to match");
    if (term.elements.back().type == Element::Type::gap) {
      return reader.error(region, what, "\"" + raw + "\": a gap `*` goes between two words");
    }
    if (term.elements.size() > 1 &&
        (term.elements[1].type == Element::Type::word || term.elements[1].type == Element::Type::exact)) {
      term.second = term.elements[1].value;
      term.second_exact = term.elements[1].type == Element::Type::exact;
    }
    lang.terms.push_back(std::move(term));
    return Done{};
  }

  Status add_terms(const TomlReader& reader, const toml::table& table, std::string_view key,
                   std::string_view what, Language& lang, Stemmer& stemmer, Dimension dimension,
                   std::uint8_t target, float weight) {
    const std::string full = TomlReader::join(what, key);
    auto terms = reader.strings(table, key, what);
    if (!terms) return terms.error();
    for (const auto& [raw, region] : *terms) {
      if (auto added = add_term(reader, lang, stemmer, raw, region, full, dimension, target, weight);
          !added) {
        return added.error();
      }
    }
    return Done{};
  }

  // strong, terms and weak: the three tiers of a kind or a category.
  Status add_tiers(const TomlReader& reader, const toml::table& table, const std::string& what,
                   Language& lang, Stemmer& stemmer, Dimension dimension, std::uint8_t target) {
    if (auto known = reader.known_keys(table, what, {"strong", "terms", "weak"}); !known)
      return known.error();
    for (const auto& [key, weight] : {std::pair{"strong", kStrongWeight}, std::pair{"terms", kTermWeight},
                                      std::pair{"weak", kWeakWeight}}) {
      if (auto added = add_terms(reader, table, key, what, lang, stemmer, dimension, target, weight);
          !added) {
        return added.error();
      }
    }
    return Done{};
  }

  Status read_kinds(const TomlReader& reader, const toml::table& doc, Language& lang, Stemmer& stemmer) {
    auto table = reader.table(doc, "kind", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    if (auto known = reader.known_keys(**table, "kind", {"request", "offer", "info", "other"}); !known) {
      return known.error();
    }
    for (std::size_t k = 0; k < kKinds; ++k) {
      const std::string what = "kind." + std::string(kKindNames[k]);
      auto sub = reader.table(**table, kKindNames[k], "kind");
      if (!sub) return sub.error();
      if (*sub == nullptr) continue;
      if (auto added =
              add_tiers(reader, **sub, what, lang, stemmer, Dimension::kind, static_cast<std::uint8_t>(k));
          !added) {
        return added.error();
      }
    }
    return Done{};
  }

  Status read_categories(const TomlReader& reader, const toml::table& doc, Language& lang, Stemmer& stemmer) {
    auto table = reader.table(doc, "category", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    for (const auto& [key, node] : **table) {
      const std::string what = "category." + std::string(key.str());
      if (!valid_name(key.str())) {
        return reader.error(key.source(), what, "expected a name of lower-case letters, digits and '_'");
      }
      const toml::table* sub = node.as_table();
      if (sub == nullptr) return reader.error(node.source(), what, "expected a table");
      std::int32_t index = lexicons_->category_index(key.str());
      if (index < 0) {
        if (lexicons_->categories.size() >= 255)
          return reader.error(key.source(), what, "too many categories");
        index = static_cast<std::int32_t>(lexicons_->categories.size());
        lexicons_->categories.emplace_back(key.str());
      }
      if (auto added = add_tiers(reader, *sub, what, lang, stemmer, Dimension::category,
                                 static_cast<std::uint8_t>(index));
          !added) {
        return added.error();
      }
    }
    return Done{};
  }

  Status add_flag_words(const TomlReader& reader, const toml::table& table, std::string_view key,
                        std::string_view what, Language& lang, Stemmer& stemmer, WordFlag flag) {
    const std::string full = TomlReader::join(what, key);
    auto words = reader.strings(table, key, what);
    if (!words) return words.error();
    for (const auto& [raw, region] : *words) {
      auto id = single_word(reader, lang, stemmer, raw, region, full);
      if (!id) return id.error();
      lang.flags[static_cast<std::size_t>(*id)] |= flag;
    }
    return Done{};
  }

  Status read_urgency(const TomlReader& reader, const toml::table& doc, Language& lang, Stemmer& stemmer) {
    auto table = reader.table(doc, "urgency", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    const toml::table& t = **table;
    if (auto known = reader.known_keys(t, "urgency",
                                       {"danger", "vulnerable", "dependant", "lack", "lack_marker",
                                        "essential", "soon", "calm", "later", "age_units", "age_before"});
        !known) {
      return known.error();
    }
    for (std::size_t s = 0; s < kSignals; ++s) {
      if (auto added = add_terms(reader, t, kSignalNames[s], "urgency", lang, stemmer, Dimension::urgency,
                                 static_cast<std::uint8_t>(s), 1.0F);
          !added) {
        return added.error();
      }
    }
    if (auto units = add_flag_words(reader, t, "age_units", "urgency", lang, stemmer, kAgeUnit); !units) {
      return units.error();
    }
    if (auto units = reader.strings(t, "age_units", "urgency"); units) {
      for (const auto& [raw, region] : *units) {
        for (auto& word : words_of(raw)) lang.age_unit_words.insert(std::move(word));
      }
    }
    return add_flag_words(reader, t, "age_before", "urgency", lang, stemmer, kAgeBefore);
  }

  Status read_negation(const TomlReader& reader, const toml::table& doc, Language& lang, Stemmer& stemmer) {
    auto table = reader.table(doc, "negation", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    if (auto known = reader.known_keys(**table, "negation", {"deny", "until", "not"}); !known)
      return known.error();
    if (auto deny = add_terms(reader, **table, "deny", "negation", lang, stemmer, Dimension::negation,
                              static_cast<std::uint8_t>(NegationRole::deny), 1.0F);
        !deny) {
      return deny.error();
    }
    if (auto until = add_flag_words(reader, **table, "until", "negation", lang, stemmer, kUntil); !until) {
      return until.error();
    }
    return add_flag_words(reader, **table, "not", "negation", lang, stemmer, kNot);
  }

  Status read_places(const TomlReader& reader, const toml::table& doc) {
    auto table = reader.table(doc, "places", "");
    if (!table) return table.error();
    if (*table == nullptr) return Done{};
    const toml::table& t = **table;
    PlaceWords& places = lexicons_->places;
    struct List {
      std::string_view key;
      std::vector<std::string>* into;
      bool single_word;
    };
    const std::array lists = {
        List{"elsewhere", &places.elsewhere, false},
        List{"ordinal_suffixes", &places.ordinal_suffixes, true},
        List{"not_district_after", &places.not_district_after, true},
        List{"not_district_before", &places.not_district_before, true},
        List{"work", &places.work, true},
        List{"genitive", &places.genitive, true},
        List{"article", &places.article, true},
        List{"district", &places.district, true},
        List{"home", &places.home, false},
        List{"others", &places.others, true},
    };
    for (const auto& entry : t) {
      const std::string_view name = entry.first.str();
      if (std::none_of(lists.begin(), lists.end(), [name](const List& l) { return l.key == name; })) {
        return reader.error(entry.first.source(), "places." + std::string(name), "unknown key");
      }
    }
    for (const auto& list : lists) {
      const std::string what = "places." + std::string(list.key);
      auto values = reader.strings(t, list.key, "places");
      if (!values) return values.error();
      for (const auto& [raw, region] : *values) {
        const auto words = words_of(raw);
        if (words.empty() || (list.single_word && words.size() != 1)) {
          return reader.error(region, what,
                              "\"" + raw + "\": expected " + (list.single_word ? "one word" : "words"));
        }
        std::string joined;
        for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
        list.into->push_back(std::move(joined));
      }
    }
    return Done{};
  }

  // The terms each word may start, and the prefixes of the vocabulary.
  static void index(Language& lang) {
    std::vector<std::vector<std::uint32_t>> by_word(lang.sets_of.size());
    for (std::size_t t = 0; t < lang.terms.size(); ++t) {
      const Element& first = lang.terms[t].elements.front();
      if (first.type == Element::Type::word || first.type == Element::Type::exact) {
        by_word[static_cast<std::size_t>(first.value)].push_back(static_cast<std::uint32_t>(t));
      } else {
        const std::uint64_t bit = std::uint64_t{1} << static_cast<unsigned>(first.value);
        for (std::size_t id = 0; id < lang.sets_of.size(); ++id) {
          if ((lang.sets_of[id] & bit) != 0) by_word[id].push_back(static_cast<std::uint32_t>(t));
        }
      }
    }
    lang.start_offsets.assign(1, 0);
    for (const auto& terms : by_word) {
      for (const auto t : terms) {
        lang.starts.push_back({t, lang.terms[t].second, lang.terms[t].second_exact});
      }
      lang.start_offsets.push_back(static_cast<std::uint32_t>(lang.starts.size()));
    }
    for (const auto& [stem, id] : lang.vocabulary) {
      if (stem.front() == '=') continue;
      lang.prefixes.insert(
          pack_prefix(std::string_view(stem).substr(0, std::min<std::size_t>(3, stem.size()))));
    }
  }

  std::shared_ptr<Lexicons> lexicons_ = std::make_shared<Lexicons>();
  std::vector<Stemmer> stemmers_;  // by language index
};

}  // namespace

Expected<std::shared_ptr<const Lexicons>> read_lexicons(const std::vector<std::filesystem::path>& files) {
  Builder builder;
  for (const auto& file : files) {
    if (auto read = builder.read(file); !read) return read.error();
  }
  return builder.finish();
}

}  // namespace relais::triage
