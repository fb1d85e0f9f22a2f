// triage_basic, loaded from the build's plugin directory as relaisd loads
// it: form fields first, then guesses from the text.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/plugin_set.hpp"

namespace {

using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;

Post make_post(const std::string& text, std::map<std::string, std::string> fields = {}) {
  Post p;
  p.text = text;
  p.fields = std::move(fields);
  return p;
}

Triage triage_of(const Post& post, const std::string& keys = "") {
  auto set = relais::test::plugin_set("[[triage]]\nplugin = \"triage_basic\"\n" + keys);
  Triage t;
  if (!set) {
    ADD_FAILURE() << set.error().message;
    return t;
  }
  (*set)->triagers.at(0).object->triage(post, t);
  return t;
}

TEST(triage_basic, FormFieldsWinOverTextGuesses) {
  // The text reads as an offer in French, with no category or area.
  Post post =
      make_post("Bonjour, je propose de faire les courses pour les voisins", {{"kind", "request"},
                                                                              {"category", "pharmacy"},
                                                                              {"urgency", "critical"},
                                                                              {"area", "ivry_centre"},
                                                                              {"lang", "en"}});
  post.lang = "de";
  const Triage t = triage_of(post);
  EXPECT_EQ(t.kind, Kind::request);
  EXPECT_EQ(t.categories, std::vector<std::string>{"pharmacy"});
  EXPECT_EQ(t.urgency, Urgency::critical);
  EXPECT_EQ(t.area, "ivry_centre");
  EXPECT_EQ(t.lang, "en");
}

TEST(triage_basic, TextGuessesWhatTheFieldsLeaveOpen) {
  const Triage offer = triage_of(make_post("Bonjour, je propose de faire les courses pour les voisins"));
  EXPECT_EQ(offer.kind, Kind::offer);
  EXPECT_EQ(offer.urgency, Urgency::low);
  EXPECT_TRUE(offer.categories.empty());
  EXPECT_EQ(offer.area, "");
  EXPECT_EQ(offer.lang, "fr");

  const Triage request =
      triage_of(make_post("Hello, I need someone to walk my dog and to get the groceries"));
  EXPECT_EQ(request.kind, Kind::request);
  EXPECT_EQ(request.urgency, Urgency::normal);
  EXPECT_EQ(request.lang, "en");

  EXPECT_EQ(triage_of(make_post("I can help with shopping")).kind, Kind::offer);
  EXPECT_EQ(triage_of(make_post("Merci pour tout")).kind, Kind::other);
  EXPECT_EQ(triage_of(make_post("La pharmacie ouvre lundi")).kind, Kind::info);
  EXPECT_EQ(triage_of(make_post("xyz")).lang, "");
}

TEST(triage_basic, SubjectCountsForTheGuess) {
  Post post = make_post("");
  post.subject = "Besoin de courses";
  EXPECT_EQ(triage_of(post).kind, Kind::request);
}

TEST(triage_basic, InvalidFieldValuesFallBackToGuesses) {
  const Triage t = triage_of(make_post("Bonjour, je cherche de l'aide pour les courses",
                                       {{"kind", "demande"}, {"urgency", "asap"}}));
  EXPECT_EQ(t.kind, Kind::request);
  EXPECT_EQ(t.urgency, Urgency::normal);
}

// The text is joined to the subject with a newline: the first word
// ("Bonjour", "Hello", "I") must count like any other.
TEST(triage_basic, FirstWordCountsForTheLanguage) {
  EXPECT_EQ(triage_of(make_post("Bonjour")).lang, "fr");
  EXPECT_EQ(triage_of(make_post("Hello")).lang, "en");
  EXPECT_EQ(triage_of(make_post("Bonjour, besoin de pain")).lang, "fr");
  EXPECT_EQ(triage_of(make_post("I need bread")).lang, "en");
}

TEST(triage_basic, PostLangWinsOverTheGuess) {
  Post post = make_post("Hello, I need help with the shopping for my mother");
  post.lang = "es";
  EXPECT_EQ(triage_of(post).lang, "es");
}

TEST(triage_basic, GuessesCanBeTurnedOff) {
  const Triage t = triage_of(make_post("Hello, I need help with the shopping"),
                             "guess_kind = false\nguess_language = false\n");
  EXPECT_EQ(t.kind, Kind::other);  // as the triage started
  EXPECT_EQ(t.lang, "");
  // The form still says what it says.
  EXPECT_EQ(triage_of(make_post("x", {{"kind", "offer"}}), "guess_kind = false\n").kind, Kind::offer);
}

TEST(triage_basic, BadTablesAreRefusedWithTheirPosition) {
  auto wrong_type = relais::test::plugin_set("[[triage]]\nplugin = \"triage_basic\"\nguess_kind = \"no\"\n");
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().message.find("relais.toml:3:14: triage[0].guess_kind"), std::string::npos)
      << wrong_type.error().message;
  auto typo = relais::test::plugin_set("[[triage]]\nplugin = \"triage_basic\"\nguess_kinds = false\n");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("relais.toml:3:1: triage[0].guess_kinds: unknown key"),
            std::string::npos)
      << typo.error().message;
}

}  // namespace
