#include "gazetteer.hpp"

#include <algorithm>
#include <utility>

#include "text.hpp"
#include "toml_reader.hpp"

namespace relais::triage {
namespace {

constexpr std::size_t kMaxAreas = 0xFFFF;
// A place outside the gazetteer this close (in words, in the same sentence)
// to a name says the name is another place of the same name ("rue Voltaire
// à Villejuif").
constexpr std::size_t kElsewhereWindow = 3;
// A word of work this close before a place makes it a workplace.
constexpr std::size_t kWorkWindow = 3;
// Words between "j'habite" and the place it introduces, at most.
constexpr std::size_t kHomeWindow = 3;
// Which ordinals can be districts (arrondissements) at all.
constexpr std::int32_t kMaxDistrict = 20;

std::vector<std::string> words_of(std::string_view raw) {
  const text::Normalized folded = text::normalize(raw);
  std::vector<std::string> out;
  for (auto word : text::words(folded.text)) out.emplace_back(word);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_acronym(std::string_view raw) {
  return raw.size() >= 2 && raw.size() <= 4 &&
         std::all_of(raw.begin(), raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// The digits and the suffix of "13e", "13eme", "13th"; empty digits if the
// word is not one.
std::pair<std::string_view, std::string_view> split_ordinal(std::string_view word) {
  std::size_t n = 0;
  while (n < word.size() && word[n] >= '0' && word[n] <= '9') ++n;
  if (n == 0 || n == word.size()) return {};
  return {word.substr(0, n), word.substr(n)};
}

class Builder {
 public:
  explicit Builder(const PlaceWords& places) : places_(places) {
    for (const auto& suffix : places.ordinal_suffixes) gazetteer_->ordinal_suffixes.insert(suffix);
  }

  Status read(const std::filesystem::path& path) {
    TomlReader reader(path.string());
    auto document = reader.parse();
    if (!document) return document.error();
    const toml::node* node = document->get("area");
    if (node == nullptr) return reader.error(document->source(), "area", "missing: no [[area]] table");
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return reader.error(node->source(), "area", "expected [[area]] tables");
    }
    if (array->size() > kMaxAreas) return reader.error(node->source(), "area", "too many areas");
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (auto area = read_area(reader, *array->get(i)->as_table(), i); !area) return area.error();
    }
    add_places();
    return Done{};
  }

  std::shared_ptr<const Gazetteer> finish() {
    Gazetteer& g = *gazetteer_;
    // A city or postcode shared by several areas only hints at them.
    for (auto& name : g.names) {
      for (auto& claim : name.claims) {
        if (claim.kind != NameKind::city && claim.kind != NameKind::postcode) continue;
        const auto shared = std::count_if(name.claims.begin(), name.claims.end(), [&](const Claim& other) {
          return other.kind == claim.kind && other.area != claim.area;
        });
        claim.context_only = shared > 0;
      }
    }
    g.starts.assign(g.flags.size(), {});
    for (std::size_t n = 0; n < g.names.size(); ++n) {
      g.starts[static_cast<std::size_t>(g.names[n].words.front())].push_back(static_cast<std::uint32_t>(n));
      for (const auto& claim : g.names[n].claims) {
        for (const auto word : g.names[n].words) {
          auto& areas = g.areas_of[static_cast<std::size_t>(word)];
          if (std::find(areas.begin(), areas.end(), claim.area) == areas.end()) areas.push_back(claim.area);
        }
      }
    }
    return std::move(gazetteer_);
  }

 private:
  std::int32_t intern(const std::string& word) {
    Gazetteer& g = *gazetteer_;
    if (const auto id = g.id_of(word); id >= 0) return id;
    const auto id = static_cast<std::int32_t>(g.flags.size());
    g.vocabulary.emplace(word, id);
    g.flags.push_back(0);
    g.areas_of.emplace_back();
    return id;
  }

  std::vector<std::int32_t> intern_all(const std::vector<std::string>& words) {
    std::vector<std::int32_t> ids;
    ids.reserve(words.size());
    for (const auto& w : words) ids.push_back(intern(w));
    return ids;
  }

  Name& name_for(const std::vector<std::int32_t>& words) {
    auto& names = gazetteer_->names;
    for (auto& name : names) {
      if (name.words == words) return name;
    }
    names.push_back(Name{words, {}, false});
    return names.back();
  }

  void claim(const std::vector<std::string>& words, std::uint16_t area, NameKind kind,
             std::vector<std::int32_t> qualifier = {}, bool acronym = false) {
    if (words.empty()) return;
    Name& name = name_for(intern_all(words));
    name.acronym = name.acronym || acronym;
    name.claims.push_back(Claim{area, kind, false, std::move(qualifier)});
  }

  // "13e" is also "13eme", "13th": an ordinal written with any language's suffix.
  void claim_ordinal_forms(std::string_view digits, std::uint16_t area) {
    for (const auto& suffix : places_.ordinal_suffixes) {
      claim({std::string(digits) + suffix}, area, NameKind::ordinal);
    }
  }

  bool is_ordinal_name(const std::vector<std::string>& words) const {
    if (words.size() == 1) {
      const auto [digits, suffix] = split_ordinal(words.front());
      if (!digits.empty()) return gazetteer_->ordinal_suffixes.contains(suffix);
      // Roman: "XIIIe".
      const std::string& w = words.front();
      for (const auto& s : places_.ordinal_suffixes) {
        if (w.size() > s.size() && w.ends_with(s) &&
            std::all_of(w.begin(), w.end() - static_cast<std::ptrdiff_t>(s.size()),
                        [](char c) { return c == 'i' || c == 'v' || c == 'x' || c == 'l'; })) {
          return true;
        }
      }
      return false;
    }
    // "Paris 13": a word and a number.
    return words.size() == 2 && all_digits(words.back()) && !all_digits(words.front());
  }

  // One entry of aliases, streets or landmarks: "A / B" are two names of the
  // place; "A (B)" is A qualified by B, which is also a name of the place.
  void add(std::string_view raw, std::uint16_t area, NameKind kind) {
    std::size_t slash = 0;
    while ((slash = raw.find('/')) != std::string_view::npos) {
      add(raw.substr(0, slash), area, kind);
      raw.remove_prefix(slash + 1);
    }
    raw = trim(raw);
    std::vector<std::int32_t> qualifier;
    if (const auto open = raw.find('('); open != std::string_view::npos && raw.back() == ')') {
      const std::string_view inner = raw.substr(open + 1, raw.size() - open - 2);
      add(inner, area, kind);
      qualifier = intern_all(words_of(inner));
      raw = trim(raw.substr(0, open));
    }
    const auto words = words_of(raw);
    if (words.empty()) return;
    if (kind == NameKind::alias && is_ordinal_name(words)) {
      claim(words, area, NameKind::ordinal, std::move(qualifier));
      if (const auto [digits, suffix] = split_ordinal(words.front()); words.size() == 1 && !digits.empty()) {
        claim_ordinal_forms(digits, area);
      }
      return;
    }
    claim(words, area, kind, qualifier, is_acronym(raw));
    if (kind == NameKind::street || kind == NameKind::landmark)
      proper_parts_.push_back({std::string(raw), area});
  }

  // The city, and its short form: "Vitry" of "Vitry-sur-Seine".
  void add_city(std::string_view raw, std::uint16_t area) {
    const auto words = words_of(raw);
    if (words.empty()) return;
    claim(words, area, NameKind::city);
    city_words_.push_back(words);
    if (words.size() >= 3 && words.front().size() >= 4) {
      claim({words.front()}, area, NameKind::city);
      city_words_.push_back({words.front()});
    }
  }

  Status read_area(const TomlReader& reader, const toml::table& table, std::size_t index) {
    const std::string what = "area[" + std::to_string(index) + "]";
    if (auto known = reader.known_keys(table, what,
                                       {"id", "name", "city", "postcode", "aliases", "streets", "landmarks"});
        !known) {
      return known.error();
    }
    Area area;
    for (auto [key, into] : {std::pair{"id", &area.id}, std::pair{"name", &area.name},
                             std::pair{"city", &area.city}, std::pair{"postcode", &area.postcode}}) {
      auto value = reader.string(table, key, what);
      if (!value) return value.error();
      if (*value) *into = std::move(**value);
    }
    const toml::node* id = table.get("id");
    if (id == nullptr) return reader.error(table.source(), what + ".id", "missing: every area needs an id");
    const bool valid_id = !area.id.empty() && std::all_of(area.id.begin(), area.id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid_id) {
      return reader.error(id->source(), what + ".id", "expected lower-case letters, digits and '_'");
    }
    if (gazetteer_->area_index(area.id) >= 0) {
      return reader.error(id->source(), what + ".id", "\"" + area.id + "\" is already an area");
    }
    if (!area.postcode.empty() && !all_digits(area.postcode)) {
      return reader.error(table.get("postcode")->source(), what + ".postcode", "expected digits");
    }
    const auto number = static_cast<std::uint16_t>(gazetteer_->areas.size());
    for (auto [key, kind] : {std::pair{"aliases", NameKind::alias}, std::pair{"streets", NameKind::street},
                             std::pair{"landmarks", NameKind::landmark}}) {
      auto values = reader.strings(table, key, what);
      if (!values) return values.error();
      for (const auto& [raw, region] : *values) {
        if (words_of(raw).empty()) return reader.error(region, what + "." + key, "expected a name");
        add(raw, number, kind);
      }
    }
    if (!area.city.empty()) add_city(area.city, number);
    if (!area.postcode.empty()) claim({area.postcode}, number, NameKind::postcode);
    gazetteer_->areas.push_back(std::move(area));
    return Done{};
  }

  // The compound proper name of each street and landmark ("Édouard-Tremblay"
  // of "rue Édouard-Tremblay"), unless it is a city's name.
  void add_proper_parts() {
    for (const auto& [raw, area] : proper_parts_) {
      const std::size_t space = raw.rfind(' ', raw.find_last_of('-'));
      if (raw.find('-') == std::string::npos) continue;
      auto words = words_of(std::string_view(raw).substr(space == std::string::npos ? 0 : space + 1));
      // "l'Abbé-Roger-Derry": the elided article is not part of the name.
      while (!words.empty() && words.front().size() == 1) words.erase(words.begin());
      if (words.size() < 2) continue;
      if (std::find(city_words_.begin(), city_words_.end(), words) != city_words_.end()) continue;
      claim(words, area, NameKind::proper);
    }
  }

  void add_places() {
    add_proper_parts();
    for (const auto& place : places_.elsewhere) {
      const auto words = words_of(place);
      name_for(intern_all(words));
      if (words.size() >= 3 && words.front().size() >= 4) name_for(intern_all({words.front()}));
    }
    const std::array lists = {std::pair{&places_.not_district_after, kNotDistrictAfter},
                              std::pair{&places_.not_district_before, kNotDistrictBefore},
                              std::pair{&places_.work, kWork},
                              std::pair{&places_.genitive, kGenitive},
                              std::pair{&places_.article, kArticle},
                              std::pair{&places_.district, kDistrict},
                              std::pair{&places_.others, kOther}};
    for (const auto& [list, flag] : lists) {
      for (const auto& word : *list) gazetteer_->flags[static_cast<std::size_t>(intern(word))] |= flag;
    }
    for (const auto& phrase : places_.home) gazetteer_->home.push_back(intern_all(words_of(phrase)));
  }

  const PlaceWords& places_;
  std::shared_ptr<Gazetteer> gazetteer_ = std::make_shared<Gazetteer>();
  std::vector<std::pair<std::string, std::uint16_t>> proper_parts_;
  std::vector<std::vector<std::string>> city_words_;
};

// From the strongest signal of where a need is to the weakest.
int strength(NameKind kind) { return static_cast<int>(kind); }

}  // namespace

std::int32_t Gazetteer::area_index(std::string_view id) const {
  for (std::size_t i = 0; i < areas.size(); ++i) {
    if (areas[i].id == id) return static_cast<std::int32_t>(i);
  }
  return -1;
}

std::vector<std::uint16_t> Gazetteer::areas_with_postcode(std::string_view postcode) const {
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < areas.size(); ++i) {
    if (!postcode.empty() && areas[i].postcode == postcode) out.push_back(static_cast<std::uint16_t>(i));
  }
  return out;
}

Expected<std::shared_ptr<const Gazetteer>> read_gazetteer(const std::filesystem::path& file,
                                                          const PlaceWords& places) {
  Builder builder(places);
  if (auto read = builder.read(file); !read) return read.error();
  return builder.finish();
}

// ---------------------------------------------------------------- matching

AreaFinder::AreaFinder(std::shared_ptr<const Gazetteer> gazetteer) : gazetteer_(std::move(gazetteer)) {}

bool AreaFinder::ordinal_district(std::string_view word) const {
  const auto [digits, suffix] = split_ordinal(word);
  if (digits.empty() || digits.size() > 2 || !gazetteer_->ordinal_suffixes.contains(suffix)) return false;
  int value = 0;
  for (const char c : digits) value = value * 10 + (c - '0');
  return value > 0 && value <= kMaxDistrict;
}

bool AreaFinder::near_elsewhere(const std::vector<Token>& tokens, const Mention& mention) const {
  for (std::size_t k = 1; k <= kElsewhereWindow && k <= mention.start; ++k) {
    const std::size_t i = mention.start - k;
    if (tokens[i + 1].boundary) break;
    if (elsewhere_[i] != 0) return true;
  }
  for (std::size_t i = mention.start + mention.length;
       i < tokens.size() && i < mention.start + mention.length + kElsewhereWindow; ++i) {
    if (tokens[i].boundary) break;
    if (elsewhere_[i] != 0) return true;
  }
  return false;
}

std::uint8_t AreaFinder::flags_at(const std::vector<Token>& tokens, std::size_t i) const {
  const auto id = tokens[i].gaz;
  return id < 0 ? 0 : gazetteer_->flags[static_cast<std::size_t>(id)];
}

bool AreaFinder::not_a_name(const std::vector<Token>& tokens, const Source& source,
                            const Mention& mention) const {
  const Name& name = gazetteer_->names[mention.name];
  const std::size_t end = mention.start + mention.length;
  // Part of a longer compound: "Saint-Germain" of "Saint-Germain-des-Prés".
  if (tokens[mention.start].hyphen_before || tokens[end - 1].hyphen_after) return true;
  if (name.acronym && !source.in_capitals(tokens[mention.start])) return true;
  // "le 8 mai" is a date, "au 8 Mai" the quarter: a name that starts with
  // a number, right after an article, is a date.
  if (name.claims.empty()) return false;  // a place outside the network: kept, to mark its neighbours
  if (tokens[mention.start].number >= 0 && mention.start > 0 && !tokens[mention.start].boundary &&
      (flags_at(tokens, mention.start - 1) & kArticle) != 0 &&
      name.claims.front().kind != NameKind::postcode) {
    return true;
  }
  if (name.claims.front().kind == NameKind::ordinal && mention.length == 1) {
    // "3e étage", "ma voisine du 20e": a floor, not an arrondissement.
    for (std::size_t i = end; i < tokens.size() && i < end + 2 && !tokens[i].boundary; ++i) {
      if ((flags_at(tokens, i) & kNotDistrictAfter) != 0) return true;
    }
    for (std::size_t k = 1; k <= 2 && k <= mention.start && !tokens[mention.start - k + 1].boundary; ++k) {
      if ((flags_at(tokens, mention.start - k) & kNotDistrictBefore) != 0) return true;
    }
  }
  return false;
}

bool AreaFinder::not_the_place(const std::vector<Token>& tokens, const Mention& mention) const {
  const Gazetteer& g = *gazetteer_;
  const Name& name = g.names[mention.name];
  const std::size_t end = mention.start + mention.length;
  // "infirmière à Charles-Foix": where she works, not where the need is.
  for (std::size_t k = 1; k <= kWorkWindow && k <= mention.start && !tokens[mention.start - k + 1].boundary;
       ++k) {
    if ((flags_at(tokens, mention.start - k) & kWork) != 0) return true;
  }
  // "Gare de Lyon": a quarter name followed by "de" and a word none of its
  // area's names use is another place.
  const NameKind kind = name.claims.empty() ? NameKind::alias : name.claims.front().kind;
  if ((kind == NameKind::alias || kind == NameKind::proper) && end < tokens.size() &&
      (flags_at(tokens, end) & kGenitive) != 0) {
    std::size_t next = end + 1;
    if (next < tokens.size() && (flags_at(tokens, next) & kArticle) != 0) ++next;
    if (next < tokens.size() && !tokens[next].boundary) {
      const auto id = tokens[next].gaz;
      if (id < 0) return true;
      const auto& areas = g.areas_of[static_cast<std::size_t>(id)];
      const bool same_place = std::any_of(name.claims.begin(), name.claims.end(), [&](const Claim& c) {
        return std::find(areas.begin(), areas.end(), c.area) != areas.end();
      });
      if (!same_place) return true;
    }
  }
  return near_elsewhere(tokens, mention);
}

bool AreaFinder::qualifier_present(const std::vector<Token>& tokens,
                                   const std::vector<std::int32_t>& qualifier) const {
  if (qualifier.empty() || qualifier.size() > tokens.size()) return false;
  for (std::size_t i = 0; i + qualifier.size() <= tokens.size(); ++i) {
    bool all = true;
    for (std::size_t k = 0; k < qualifier.size() && all; ++k) all = tokens[i + k].gaz == qualifier[k];
    if (all) return true;
  }
  return false;
}

bool AreaFinder::senders_home(const std::vector<Token>& tokens, const Mention& mention) const {
  for (const auto& phrase : gazetteer_->home) {
    // The phrase ends at most kHomeWindow words before the mention, in its sentence.
    for (std::size_t gap = 0; gap < kHomeWindow; ++gap) {
      if (mention.start < phrase.size() + gap) break;
      const std::size_t begin = mention.start - gap - phrase.size();
      bool same_sentence = true;
      for (std::size_t i = begin + 1; i <= mention.start && same_sentence; ++i)
        same_sentence = !tokens[i].boundary;
      if (!same_sentence) break;
      bool match = true;
      for (std::size_t k = 0; k < phrase.size() && match; ++k) match = tokens[begin + k].gaz == phrase[k];
      if (match) return true;
    }
  }
  return false;
}

void AreaFinder::drop_senders_home(const std::vector<Token>& tokens) {
  const bool about_someone_else = std::any_of(tokens.begin(), tokens.end(), [&](const Token& t) {
    return t.gaz >= 0 && (gazetteer_->flags[static_cast<std::size_t>(t.gaz)] & kOther) != 0;
  });
  if (!about_someone_else) return;
  home_.assign(mentions_.size(), 0);
  bool elsewhere_named = false;
  for (std::size_t m = 0; m < mentions_.size(); ++m) {
    const Mention& mention = mentions_[m];
    if (mention.dropped) continue;
    home_[m] = senders_home(tokens, mention) ? 1 : 0;
    const auto& claims = gazetteer_->names[mention.name].claims;
    const bool a_place =
        std::any_of(claims.begin(), claims.end(), [](const Claim& c) { return !c.context_only; });
    elsewhere_named = elsewhere_named || (home_[m] == 0 && a_place);
  }
  if (!elsewhere_named) return;
  for (std::size_t m = 0; m < mentions_.size(); ++m) {
    if (home_[m] != 0) mentions_[m].dropped = true;
  }
}

std::int32_t AreaFinder::find(const std::vector<Token>& tokens, const Source& source,
                              const std::vector<std::uint16_t>* allowed) {
  const Gazetteer& g = *gazetteer_;
  const std::size_t n = tokens.size();
  candidates_.clear();
  elsewhere_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const Token& token = tokens[i];
    if (token.gaz >= 0) {
      for (const auto index : g.starts[static_cast<std::size_t>(token.gaz)]) {
        const Name& name = g.names[index];
        if (i + name.words.size() > n) continue;
        bool match = true;
        for (std::size_t k = 1; k < name.words.size() && match; ++k) {
          match = tokens[i + k].gaz == name.words[k] && !tokens[i + k].boundary;
        }
        if (match) {
          candidates_.push_back(
              {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(name.words.size()), index, false});
        }
      }
    }
    // Districts and postcodes the gazetteer does not have: "11e
    // arrondissement", "Paris 14", "75011".
    if (token.gaz < 0 && token.number >= 0 && token.word.size() == 5) elsewhere_[i] = 1;
    const bool numbered =
        (token.number > 0 && token.number <= kMaxDistrict) ||
        (token.word.front() >= '0' && token.word.front() <= '9' && ordinal_district(token.word));
    if (numbered && token.gaz < 0) {
      const bool district_after = i + 1 < n && tokens[i + 1].gaz >= 0 &&
                                  (g.flags[static_cast<std::size_t>(tokens[i + 1].gaz)] & kDistrict) != 0;
      bool city_before = false;
      if (i > 0 && tokens[i - 1].gaz >= 0) {
        for (const auto index : g.starts[static_cast<std::size_t>(tokens[i - 1].gaz)]) {
          const Name& name = g.names[index];
          city_before = city_before || (name.words.size() == 1 && !name.claims.empty() &&
                                        name.claims.front().kind == NameKind::city);
        }
      }
      if (district_after || city_before) elsewhere_[i] = 1;
    }
  }
  // The longest names first; a shorter one inside a longer one is not a
  // mention of its own, unless the longer one is not a name there.
  std::sort(candidates_.begin(), candidates_.end(), [](const Mention& a, const Mention& b) {
    return a.length != b.length ? a.length > b.length : a.start < b.start;
  });
  covered_.assign(n, 0);
  mentions_.clear();
  for (const auto& c : candidates_) {
    if (std::any_of(covered_.begin() + c.start, covered_.begin() + c.start + c.length,
                    [](std::uint8_t v) { return v != 0; }) ||
        not_a_name(tokens, source, c)) {
      continue;
    }
    std::fill(covered_.begin() + c.start, covered_.begin() + c.start + c.length, 1);
    mentions_.push_back(c);
  }
  for (auto& m : mentions_) {
    if (g.names[m.name].claims.empty()) {
      std::fill(elsewhere_.begin() + m.start, elsewhere_.begin() + m.start + m.length, 1);
      m.dropped = true;
    }
  }
  for (auto& m : mentions_) {
    if (!m.dropped) m.dropped = not_the_place(tokens, m);
  }
  if (!g.home.empty()) drop_senders_home(tokens);
  context_.assign(g.areas.size(), 0);
  for (const auto& m : mentions_) {
    if (m.dropped) continue;
    for (const auto& claim : g.names[m.name].claims) ++context_[claim.area];
  }

  std::int32_t best = -1;
  int best_strength = -1;
  std::uint32_t best_start = 0;
  for (const auto& m : mentions_) {
    if (m.dropped) continue;
    const auto& claims = g.names[m.name].claims;
    // The areas this name may point to. Another mention of the same area,
    // or the claim's qualifier, is context for it; between equals, the one
    // named without a qualifier is the default.
    choices_.clear();
    for (const auto& claim : claims) {
      if (claim.context_only) continue;
      if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), claim.area) == allowed->end())
        continue;
      const auto own = static_cast<std::uint32_t>(
          std::count_if(claims.begin(), claims.end(), [&](const Claim& c) { return c.area == claim.area; }));
      const int score =
          (context_[claim.area] > own ? 1 : 0) + (qualifier_present(tokens, claim.qualifier) ? 2 : 0);
      auto it = std::find_if(choices_.begin(), choices_.end(),
                             [&](const Choice& c) { return c.area == claim.area; });
      if (it == choices_.end())
        it = choices_.insert(choices_.end(), Choice{claim.area, claim.kind, score, false});
      if (strength(claim.kind) > strength(it->kind)) it->kind = claim.kind;
      it->score = std::max(it->score, score);
      it->unqualified = it->unqualified || claim.qualifier.empty();
    }
    if (choices_.empty()) continue;
    int top = -1;
    for (const auto& c : choices_) top = std::max(top, c.score);
    const Choice* chosen = nullptr;
    std::size_t tied = 0;
    std::size_t tied_unqualified = 0;
    const Choice* unqualified = nullptr;
    for (const auto& c : choices_) {
      if (c.score != top) continue;
      ++tied;
      chosen = &c;
      if (c.unqualified) {
        ++tied_unqualified;
        unqualified = &c;
      }
    }
    if (tied > 1) chosen = tied_unqualified == 1 ? unqualified : nullptr;
    if (chosen == nullptr) continue;
    const int s = strength(chosen->kind);
    const bool better = s > best_strength || (s == best_strength && m.start < best_start);
    if (better) {
      best = chosen->area;
      best_strength = s;
      best_start = m.start;
    }
  }
  return best;
}

}  // namespace relais::triage
