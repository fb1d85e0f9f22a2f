// gazetteer: the areas of a network and the names that point to them (quarter
// names and spellings, streets, landmarks, postcodes, cities), read from the
// [[area]] tables of a network file, and the per-instance matcher that finds
// where a post's need is. Names are matched on normalised words without
// stemming: places are proper names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lexicon.hpp"
#include "relais/expected.hpp"
#include "tokens.hpp"

namespace relais::triage {

struct Area {
  std::string id;
  std::string name;
  std::string city;
  std::string postcode;
};

// What a name is to its area, from the strongest signal to the weakest. A
// proper name is the compound part of a street or landmark ("Charles-Foix"
// of "hôpital Charles-Foix").
enum class NameKind : std::uint8_t { postcode, city, ordinal, proper, landmark, street, alias };

struct Claim {
  std::uint16_t area = 0;
  NameKind kind = NameKind::alias;
  // Only a hint of this area when the name belongs to several: the city or
  // postcode of several areas ("Vitry", "94400").
  bool context_only = false;
  // "quartier de la Gare (13e)": the words that must also be in the post
  // for this area to win over another area with the same name.
  std::vector<std::int32_t> qualifier;
};

struct Name {
  std::vector<std::int32_t> words;  // gazetteer word ids
  std::vector<Claim> claims;        // none: a place outside the gazetteer
  bool acronym = false;             // "PAL": matches only in capitals
};

// Properties of gazetteer words that come from the lexicons' [places].
enum PlaceFlag : std::uint8_t {
  kNotDistrictAfter = 1,   // "étage": the ordinal before it is a floor
  kNotDistrictBefore = 2,  // "voisine": the ordinal after it is a floor
  kWork = 4,               // "infirmière": the place after it is where someone works
  kGenitive = 8,           // "de": "Gare de Lyon" is another station
  kArticle = 16,           // "la", "l'"
  kDistrict = 32,          // "arrondissement"
  kOther = 64,             // "ma mère", "my neighbour": the post is about someone else
};

struct Gazetteer {
  std::vector<Area> areas;
  StringMap<std::int32_t> vocabulary;                // normalised word -> id
  std::vector<std::uint8_t> flags;                   // by id: PlaceFlag
  std::vector<std::vector<std::uint16_t>> areas_of;  // by id: the areas whose names use the word
  std::vector<std::vector<std::uint32_t>> starts;    // by id: the names starting with it
  std::vector<Name> names;
  StringSet ordinal_suffixes;                   // "e", "eme", "th"
  std::vector<std::vector<std::int32_t>> home;  // "j habite", "i live": the sender's home follows

  std::int32_t id_of(std::string_view word) const {
    auto it = vocabulary.find(word);
    return it == vocabulary.end() ? -1 : it->second;
  }
  std::int32_t area_index(std::string_view id) const;
  // The areas with this postcode.
  std::vector<std::uint16_t> areas_with_postcode(std::string_view postcode) const;
};

// Reads the [[area]] tables of `file`, strictly (an unknown key is an error
// with its file:line:column); every other top-level table is left to whoever
// owns it. `places` adds the lexicons' place words.
Expected<std::shared_ptr<const Gazetteer>> read_gazetteer(const std::filesystem::path& file,
                                                          const PlaceWords& places);

// Finds the area of a post: one per triager instance, for its scratch space.
class AreaFinder {
 public:
  explicit AreaFinder(std::shared_ptr<const Gazetteer> gazetteer);

  // The index of the area where the need is met, or -1. The tokens' `gaz`
  // ids must be set. The strongest signal wins (a quarter name over a
  // street, over a landmark, ... over a postcode), and between equals the
  // first named. With `allowed` (a form's postcode), only those areas.
  std::int32_t find(const std::vector<Token>& tokens, const Source& source,
                    const std::vector<std::uint16_t>* allowed = nullptr);

 private:
  struct Mention {
    std::uint32_t start = 0;
    std::uint32_t length = 0;
    std::uint32_t name = 0;
    bool dropped = false;
  };

  // Where a name may point: one per area among its claims.
  struct Choice {
    std::uint16_t area = 0;
    NameKind kind = NameKind::alias;
    int score = 0;
    bool unqualified = false;
  };

  // "11e", "20th": an ordinal that could be an arrondissement.
  bool ordinal_district(std::string_view word) const;
  std::uint8_t flags_at(const std::vector<Token>& tokens, std::size_t i) const;
  // Words that only look like the name: part of a longer compound, an
  // acronym not in capitals, a floor.
  bool not_a_name(const std::vector<Token>& tokens, const Source& source, const Mention& mention) const;
  // A name of the gazetteer that is not where the need is: a workplace,
  // another place of the same name.
  bool not_the_place(const std::vector<Token>& tokens, const Mention& mention) const;
  bool near_elsewhere(const std::vector<Token>& tokens, const Mention& mention) const;
  bool qualifier_present(const std::vector<Token>& tokens, const std::vector<std::int32_t>& qualifier) const;
  // Whether a words of `home` ends just before the mention: "j'habite au Plateau".
  bool senders_home(const std::vector<Token>& tokens, const Mention& mention) const;
  // Drops the places said to be the sender's home when the post is about
  // someone else and names another place: the need is met there.
  void drop_senders_home(const std::vector<Token>& tokens);

  std::shared_ptr<const Gazetteer> gazetteer_;
  std::vector<Mention> candidates_;
  std::vector<Mention> mentions_;
  std::vector<std::uint8_t> covered_;
  std::vector<std::uint8_t> elsewhere_;  // by token: a place outside the gazetteer
  std::vector<std::uint32_t> context_;   // by area: the mentions naming it
  std::vector<Choice> choices_;
  std::vector<std::uint8_t> home_;  // by mention: the sender's home
};

}  // namespace relais::triage
