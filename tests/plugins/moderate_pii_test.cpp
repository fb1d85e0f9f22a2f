// moderate_pii, loaded from the build's plugin directory as relaisd loads
// it: the details it finds with their exact spans, who they belong to, its
// keys, and the errors of a bad table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/plugin_set.hpp"

namespace {

using relais::Finding;
using relais::Post;
using relais::Redaction;

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys = "") {
  auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_pii\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

std::vector<Finding> run(const Post& post, const std::string& keys = "") {
  const auto set = load(keys);
  std::vector<Finding> findings;
  if (set) set->moderators.at(0).object->moderate(post, findings);
  return findings;
}

std::vector<Finding> findings_of(const std::string& text, const std::string& keys = "") {
  Post post;
  post.text = text;
  return run(post, keys);
}

const Finding* find(const std::vector<Finding>& findings, std::string_view symbol) {
  for (const auto& f : findings) {
    if (f.symbol == symbol) return &f;
  }
  return nullptr;
}

// The redacted substrings of `symbol`, in order.
std::vector<std::string> redacted(const std::string& text, std::string_view symbol,
                                  const std::string& keys = "") {
  std::vector<std::string> out;
  const auto findings = findings_of(text, keys);
  if (const auto* f = find(findings, symbol)) {
    for (const auto& r : f->redactions) {
      EXPECT_EQ(r.field, "text");
      EXPECT_LE(r.offset + r.length, text.size());
      out.push_back(text.substr(r.offset, r.length));
    }
  }
  return out;
}

bool held(const std::vector<Finding>& findings) {
  const auto* f = find(findings, "PII_THIRD_PARTY");
  return f != nullptr && f->forced == relais::Action::hold;
}

TEST(moderate_pii, LoadsAsAModeratorPlugin) {
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->moderators.size(), 1u);
  EXPECT_EQ(set->moderators[0].instance, "moderate:pii:0");
  EXPECT_EQ(set->moderators[0].plugin, "moderate_pii");
  EXPECT_EQ(std::filesystem::path(set->moderators[0].file).filename(), "moderate_pii.so");
}

TEST(moderate_pii, FrenchPhoneFormatsWithExactSpans) {
  for (const std::string phone :
       {"01 46 82 80 11", "01.46.82.80.11", "01-46-82-80-11", "0146828011", "+33 1 46 82 80 11",
        "+33 (0)1 46 82 80 11", "0033 1 46 82 80 11", "06 39 98 12 54", "07 68 12 34 56", "+33 6 39 98 12 54",
        "01\xC2\xA0"
        "46 82 80 11"}) {
    SCOPED_TRACE(phone);
    const std::string text = "Appelez le " + phone + ", merci.";
    const auto findings = findings_of(text);
    const auto* f = find(findings, "PII_PHONE");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->redactions.size(), 1u);
    EXPECT_EQ(f->redactions[0].field, "text");
    EXPECT_EQ(f->redactions[0].offset, 11u);
    EXPECT_EQ(f->redactions[0].length, phone.size());
    EXPECT_EQ(f->redactions[0].replacement, "[téléphone masqué]");
    EXPECT_DOUBLE_EQ(f->score, 0.0);
    EXPECT_FALSE(f->forced.has_value());
    EXPECT_EQ(f->description.find(phone), std::string::npos);
  }
}

TEST(moderate_pii, InternationalPhones) {
  for (const std::string phone :
       {"+44 7700 900123", "07700 900123", "+1 212 555 0100", "+49 30 1234567", "+1-212-555-0100"}) {
    SCOPED_TRACE(phone);
    EXPECT_EQ(redacted("Tel: " + phone + " (evenings)", "PII_PHONE"), std::vector<std::string>{phone});
  }
}

TEST(moderate_pii, NotPhones) {
  for (const std::string text : {
           "Rendez-vous le 01/04/2020 à 14h30, ou le 12.05.2021.",
           "J'habite dans le 94400, code postal 75011.",
           "Le panier coûte 12,50 € et 1 250 000 personnes en 2020 et 2021.",
           "Commande n°0146828011 et référence ABC0146828011 et X-0612345678.",
           "Entre 10 h et 12 h, au 3 ou 4, en 1999 2000 2001 2002 2003.",
           "Montant : 1234567890 euros, et 123 456 789.",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(find(findings_of(text), "PII_PHONE"), nullptr);
  }
  // A postcode after a number does not hide it, nor is it taken in.
  EXPECT_EQ(redacted("appelez le 06 39 98 12 54 94400 Ivry", "PII_PHONE"),
            std::vector<std::string>{"06 39 98 12 54"});
}

TEST(moderate_pii, Emails) {
  EXPECT_EQ(redacted("Écrivez à jean.dupont+aide@example.org.", "PII_EMAIL"),
            std::vector<std::string>{"jean.dupont+aide@example.org"});
  EXPECT_EQ(redacted("contact: Marie_L@asso.example, ou bob@mail.example.", "PII_EMAIL"),
            (std::vector<std::string>{"Marie_L@asso.example", "bob@mail.example"}));
  EXPECT_EQ(redacted("jean [at] example [dot] org", "PII_EMAIL"),
            std::vector<std::string>{"jean [at] example [dot] org"});
  EXPECT_EQ(redacted("écrire à jean(at)example.org svp", "PII_EMAIL"),
            std::vector<std::string>{"jean(at)example.org"});
  const auto f = findings_of("mail: a@b.example");
  ASSERT_NE(find(f, "PII_EMAIL"), nullptr);
  EXPECT_EQ(find(f, "PII_EMAIL")->redactions[0].replacement, "[e-mail masqué]");
  for (const std::string text : {"rdv @ la mairie", "twitter @relais", "a@b", "prix 3 @ 5 €"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(find(findings_of(text), "PII_EMAIL"), nullptr);
  }
}

TEST(moderate_pii, Addresses) {
  EXPECT_EQ(redacted("J'habite au 22 rue Lamartine, merci.", "PII_ADDRESS"),
            std::vector<std::string>{"22 rue Lamartine"});
  EXPECT_EQ(redacted("au 12 bis avenue de la République à Ivry", "PII_ADDRESS"),
            std::vector<std::string>{"12 bis avenue de la République"});
  EXPECT_EQ(redacted("au 3, bd Paul Vaillant-Couturier.", "PII_ADDRESS"),
            std::vector<std::string>{"3, bd Paul Vaillant-Couturier"});
  EXPECT_EQ(redacted("au 5 allée des Tilleuls", "PII_ADDRESS"),
            std::vector<std::string>{"5 allée des Tilleuls"});
  EXPECT_EQ(redacted("au 7 place Gambetta", "PII_ADDRESS"), std::vector<std::string>{"7 place Gambetta"});
  EXPECT_EQ(redacted("I live at 221b Baker Street, London", "PII_ADDRESS"),
            std::vector<std::string>{"221b Baker Street"});
  EXPECT_EQ(
      redacted("22 rue Lamartine, bât. C, escalier 2, 3e étage, digicode 4512B, porte 12", "PII_ADDRESS"),
      (std::vector<std::string>{"22 rue Lamartine", "bât. C", "escalier 2", "3e étage", "digicode 4512B",
                                "porte 12"}));
  EXPECT_EQ(redacted("le code 4512B et le bâtiment B", "PII_ADDRESS"),
            (std::vector<std::string>{"code 4512B", "bâtiment B"}));
  // A street without a number, or a number that is not a house number.
  for (const std::string text :
       {"J'habite rue Lamartine, près de la place Gambetta.",
        "J'ai 2 places dans ma voiture et 1 place de parking.", "Cours de yoga: 5 cours de yoga par semaine.",
        "le code de la route", "la porte est ouverte", "rendez-vous à 12h, place Gambetta"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(find(findings_of(text), "PII_ADDRESS"), nullptr);
  }
}

TEST(moderate_pii, OwnContactIsRedactedNotHeld) {
  // A first-person cue before the detail.
  for (const std::string text :
       {"Vous pouvez m'appeler au 01.99.00.51.36", "Vous pouvez m’écrire au 06-39-98-64-30",
        "Mon numéro : 06 39 98 12 54, et mon mail jean@example.org", "Call me on +44 7700 900123",
        "J'habite au 22 rue Lamartine, 3e étage."}) {
    SCOPED_TRACE(text);
    const auto findings = findings_of(text);
    EXPECT_FALSE(findings.empty());
    EXPECT_EQ(find(findings, "PII_THIRD_PARTY"), nullptr);
  }
  // No cue at all: a phone or an e-mail is the sender's.
  EXPECT_EQ(find(findings_of("Besoin d'aide pour les courses. 06 39 98 12 54"), "PII_THIRD_PARTY"), nullptr);
  // The sender's own private data, even next to a third-party cue.
  Post post;
  post.text = "Pour ma voisine, appelez le 06 39 98 12 54 ou écrivez à Jean@Example.org";
  post.private_data = {{"phone", "+33 6 39 98 12 54"}, {"email", "jean@example.org"}};
  const auto findings = run(post);
  ASSERT_NE(find(findings, "PII_PHONE"), nullptr);
  ASSERT_NE(find(findings, "PII_EMAIL"), nullptr);
  EXPECT_EQ(find(findings, "PII_THIRD_PARTY"), nullptr);
}

TEST(moderate_pii, ThirdPartyIsHeld) {
  for (const std::string text :
       {"Ma voisine est seule, son tel c'est le 06 39 98 12 54.",
        "Apportez-le chez Mme Durand au 22 rue Lamartine, code 4512B.",
        "Ma tante habite au 5 allée des Tilleuls, bât. C", "Vous pouvez joindre M. Martin au 01 46 82 80 11",
        "Her number is 07700 900123, she lives alone.", "Mon voisin: jean.martin@example.org",
        "Aidez la famille, écrivez à la maman : l.martin@example.net. Ils sont au 3 rue Hugo."}) {
    SCOPED_TRACE(text);
    const auto findings = findings_of(text);
    ASSERT_TRUE(held(findings));
    const auto* f = find(findings, "PII_THIRD_PARTY");
    EXPECT_DOUBLE_EQ(f->score, 0.0);
    EXPECT_TRUE(f->redactions.empty());
    EXPECT_NE(f->description.find("someone other than the sender"), std::string::npos);
  }
  const auto findings = findings_of("son tel c'est le 06 39 98 12 54");
  EXPECT_EQ(find(findings, "PII_THIRD_PARTY")->description,
            "the post publishes the phone number of someone other than the sender");
  // The sender naming themself is not someone else.
  Post post;
  post.text = "Mme Durand, 22 rue Lamartine, code 4512B";
  post.private_data = {{"name", "Jeanne Durand"}};
  EXPECT_FALSE(held(run(post)));
}

TEST(moderate_pii, PublicNumbers) {
  // A public cue near the number: redacted, not held.
  EXPECT_FALSE(held(findings_of("Ma voisine peut appeler la mairie au 01 46 82 80 11.")));
  // The allow-list: neither redacted nor held.
  const std::string keys = "allow = [\"01 46 82 80 11\", \"ville.example\"]\n";
  const auto findings =
      findings_of("Son numéro : 01.46.82.80.11, son mail info@ville.example, sa fille 06 39 98 12 54", keys);
  const auto* phone = find(findings, "PII_PHONE");
  ASSERT_NE(phone, nullptr);
  ASSERT_EQ(phone->redactions.size(), 1u);
  EXPECT_EQ(phone->redactions[0].length, std::string("06 39 98 12 54").size());
  EXPECT_EQ(find(findings, "PII_EMAIL"), nullptr);
  EXPECT_TRUE(held(findings));
  EXPECT_TRUE(findings_of("Son numéro : +33 1 46 82 80 11", keys).empty());
}

TEST(moderate_pii, Utf8OffsetsAndSubject) {
  Post post;
  post.subject = "Aïe, élément: 06 39 98 12 54";
  post.text = "Épicerie fermée ? Écrivez à léa@example.org ou au 07.68.12.34.56 — à bientôt.";
  const auto findings = run(post);
  const auto* phone = find(findings, "PII_PHONE");
  ASSERT_NE(phone, nullptr);
  ASSERT_EQ(phone->redactions.size(), 2u);
  const auto& subject = phone->redactions[0];
  EXPECT_EQ(subject.field, "subject");
  EXPECT_EQ(post.subject->substr(subject.offset, subject.length), "06 39 98 12 54");
  const auto& text = phone->redactions[1];
  EXPECT_EQ(text.field, "text");
  EXPECT_EQ(post.text.substr(text.offset, text.length), "07.68.12.34.56");
  // Accented letters are part of the local part.
  const auto* email = find(findings, "PII_EMAIL");
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(post.text.substr(email->redactions[0].offset, email->redactions[0].length), "léa@example.org");

  // fields = ["text"]: the subject is not scanned.
  const auto text_only = run(post, "fields = [\"text\"]\n");
  ASSERT_NE(find(text_only, "PII_PHONE"), nullptr);
  EXPECT_EQ(find(text_only, "PII_PHONE")->redactions.size(), 1u);
}

TEST(moderate_pii, KeysChangeScoresAndReplacements) {
  const auto findings = findings_of("son tel: 06 39 98 12 54, 22 rue Lamartine",
                                    "score = 1.5\nthird_party_score = 4\nhold_third_party = false\n"
                                    "replacement_phone = \"[tel]\"\nreplacement_address = \"[adr]\"\n"
                                    "replacement_email = \"[mail]\"\n");
  const auto* phone = find(findings, "PII_PHONE");
  ASSERT_NE(phone, nullptr);
  EXPECT_DOUBLE_EQ(phone->score, 1.5);
  EXPECT_EQ(phone->redactions[0].replacement, "[tel]");
  ASSERT_NE(find(findings, "PII_ADDRESS"), nullptr);
  EXPECT_EQ(find(findings, "PII_ADDRESS")->redactions[0].replacement, "[adr]");
  const auto* third = find(findings, "PII_THIRD_PARTY");
  ASSERT_NE(third, nullptr);
  EXPECT_DOUBLE_EQ(third->score, 4.0);
  EXPECT_FALSE(third->forced.has_value());
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(moderate_pii, BadTablesAreRefusedWithTheirPosition) {
  for (const auto& bad : std::vector<BadTable>{
           {"fields = [\"body\"]\n",
            "relais.toml:3:10: moderate[0].fields: expected \"text\" or \"subject\""},
           {"fields = []\n", "relais.toml:3:10: moderate[0].fields"},
           {"fields = \"text\"\n", "relais.toml:3:10: moderate[0].fields"},
           {"hold_third_party = 1\n", "relais.toml:3:20: moderate[0].hold_third_party"},
           {"score = \"high\"\n", "relais.toml:3:9: moderate[0].score"},
           {"allow = [\"12\"]\n", "relais.toml:3:9: moderate[0].allow: expected phone numbers"},
           {"replacement_phone = \"\"\n",
            "relais.toml:3:21: moderate[0].replacement_phone: expected a non-empty"},
           {"hold_thirdparty = true\n", "relais.toml:3:1: moderate[0].hold_thirdparty: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_pii\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
