// moderate_rules, loaded from the build's plugin directory as relaisd loads
// it, with rule files written into a temporary directory: what its rules
// match, the findings and redactions they give, the errors of bad rules,
// and the rule sets shipped in config/rules/.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/plugin_set.hpp"

namespace {

using relais::Action;
using relais::Finding;
using relais::Post;

class ModerateRules : public ::testing::Test {
 protected:
  // Writes a rule file and returns its path.
  std::string rule_file(const std::string& name, const std::string& toml) {
    const auto path = dir_ / name;
    relais::test::write_file(path, toml);
    return path.string();
  }

  static std::string table(const std::vector<std::string>& files) {
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "'" : ", '") + f + "'";
    return "[[moderate]]\nplugin = \"moderate_rules\"\nrules = [" + list + "]\n";
  }

  static relais::Expected<std::shared_ptr<const relais::daemon::PluginSet>> load(
      const std::vector<std::string>& files) {
    return relais::test::plugin_set(table(files));
  }

  // Loads `rules` as the only rule file; fails the test if it is refused.
  void use(const std::string& rules) {
    auto set = load({rule_file("rules.toml", rules)});
    ASSERT_TRUE(set) << set.error().message;
    set_ = *set;
  }

  // The error message of loading `rules`, "" if it loaded.
  std::string refusal(const std::string& rules) {
    auto set = load({rule_file("bad.toml", rules)});
    return set ? "" : set.error().message;
  }

  std::vector<Finding> moderate(const Post& post) const {
    std::vector<Finding> findings;
    set_->moderators.at(0).object->moderate(post, findings);
    return findings;
  }
  std::vector<Finding> moderate(const std::string& text) const {
    Post post;
    post.text = text;
    return moderate(post);
  }
  std::vector<std::string> symbols(const std::string& text) const {
    std::vector<std::string> out;
    for (const auto& f : moderate(text)) out.push_back(f.symbol);
    return out;
  }
  bool fires(const std::string& text, const std::string& symbol) const {
    const auto s = symbols(text);
    return std::find(s.begin(), s.end(), symbol) != s.end();
  }

  relais::test::TempDir dir_;
  std::shared_ptr<const relais::daemon::PluginSet> set_;
};

using Strings = std::vector<std::string>;

TEST_F(ModerateRules, LoadsAsAModeratorPlugin) {
  use("[[rule]]\nid = \"R\"\ndescription = \"d\"\nliterals = [\"x\"]\n");
  ASSERT_EQ(set_->moderators.size(), 1u);
  EXPECT_EQ(set_->moderators[0].instance, "moderate:rules:0");
  EXPECT_EQ(set_->moderators[0].plugin, "moderate_rules");
  EXPECT_EQ(std::filesystem::path(set_->moderators[0].file).filename(), "moderate_rules.so");
}

TEST_F(ModerateRules, CaseAccentsAndWidthMatchAlike) {
  use(R"([[rule]]
id = "TRANSFER"
description = "asks for a transfer"
literals = ["virement"]
[[rule]]
id = "WRITTEN_ACCENTED"
description = "a rule written with accents and capitals"
literals = ["Mandat CASH urgént"]
patterns = ['Cóupons?\s+\d+']
)");
  std::string fullwidth;  // U+FF21 is A
  for (const char c : std::string_view("VIREMENT")) {
    fullwidth += "\xEF\xBC";
    fullwidth += static_cast<char>(0xA1 + (c - 'A'));
  }
  for (const std::string& text :
       {std::string("un VIREMENT svp"), std::string("un virement svp"), std::string("un vírement svp"),
        std::string("un Virement"), std::string("VÍREMENT"), "un " + fullwidth + " svp",
        std::string("vi\u200Brement"), std::string("vi\u00ADrement")}) {  // a zero-width space, a soft hyphen
    SCOPED_TRACE(text);
    EXPECT_EQ(symbols(text), Strings{"TRANSFER"});
  }
  EXPECT_TRUE(fires("par MANDAT cash urgent", "WRITTEN_ACCENTED"));
  EXPECT_TRUE(fires("mandat\tcash\n  URGENT", "WRITTEN_ACCENTED"));  // any white space between words
  EXPECT_TRUE(fires("3 COUPONS 50", "WRITTEN_ACCENTED"));
  EXPECT_TRUE(moderate("un versement svp").empty());
}

TEST_F(ModerateRules, LiteralsMatchWholeWordsUnlessStarred) {
  use(R"([[rule]]
id = "PCS"
description = "prepaid coupons"
literals = ["pcs"]
[[rule]]
id = "SCAM_PREFIX"
description = "any word starting with arnaqu"
literals = ["arnaqu*"]
[[rule]]
id = "APOSTROPHE"
description = "typographic and straight apostrophes alike"
literals = ["l'argent"]
[[rule]]
id = "SYMBOL"
description = "a literal that starts with a symbol"
literals = ["+225"]
)");
  EXPECT_TRUE(fires("un coupon PCS de 100", "PCS"));
  EXPECT_TRUE(fires("PCS.", "PCS"));
  EXPECT_TRUE(fires("(pcs)", "PCS"));
  EXPECT_FALSE(fires("des epcs ou pcsx", "PCS"));
  EXPECT_FALSE(fires("pcs2", "PCS"));
  // Non-ASCII letters next to a literal are letters too.
  EXPECT_FALSE(fires("\xD0\xB6pcs", "PCS"));
  EXPECT_TRUE(fires("\xC2\xABpcs\xC2\xBB", "PCS"));  // «pcs»
  EXPECT_TRUE(fires("c'est une ARNAQUE", "SCAM_PREFIX"));
  EXPECT_TRUE(fires("des arnaqueurs", "SCAM_PREFIX"));
  EXPECT_FALSE(fires("pas d'anarnaque", "SCAM_PREFIX"));
  EXPECT_TRUE(
      fires("rendez l\xE2\x80\x99"
            "argent",
            "APOSTROPHE"));
  EXPECT_TRUE(fires("rendez l'argent", "APOSTROPHE"));
  EXPECT_TRUE(fires("appelez le +225 07", "SYMBOL"));
  EXPECT_TRUE(fires("appelez le+225", "SYMBOL"));
}

TEST_F(ModerateRules, PatternsAreRegularExpressions) {
  use(R"([[rule]]
id = "URGENT_TRANSFER"
description = "an urgent transfer"
patterns = ['virement\s+(urgent|rapide)']
[[rule]]
id = "BOUNDED"
description = "a pattern with word boundaries"
patterns = ['\bgel\b.{0,20}\d+\s*(€|euros?)']
[[rule]]
id = "ESCAPES"
description = "escapes are not folded: capital S stays non-space"
patterns = ['code\s*:\s*\S{4}\D']
)");
  EXPECT_TRUE(fires("Faites un VIREMENT  Urgent", "URGENT_TRANSFER"));
  EXPECT_FALSE(fires("un virement demain", "URGENT_TRANSFER"));
  EXPECT_TRUE(fires("Gel hydroalcoolique à 25 €", "BOUNDED"));
  EXPECT_FALSE(fires("angel a 25 euros", "BOUNDED"));
  EXPECT_TRUE(fires("CODE : AB12!", "ESCAPES"));
  EXPECT_FALSE(fires("code : AB 12", "ESCAPES"));
}

TEST_F(ModerateRules, FieldsChooseWhatIsRead) {
  use(R"([[rule]]
id = "DEFAULT_FIELDS"
description = "text and subject"
literals = ["western union"]
[[rule]]
id = "SUBJECT_ONLY"
description = "subject only"
fields = ["subject"]
literals = ["gagnant"]
[[rule]]
id = "SENDER"
description = "a known spam sender"
fields = ["sender"]
literals = ["promo-deals.example"]
)");
  Post post;
  post.text = "bonjour";
  post.subject = "Western Union";
  EXPECT_EQ(moderate(post).at(0).symbol, "DEFAULT_FIELDS");
  post.subject = "Vous êtes GAGNANT";
  const auto subject = moderate(post);
  ASSERT_EQ(subject.size(), 1u);
  EXPECT_EQ(subject[0].symbol, "SUBJECT_ONLY");
  post.subject.reset();
  post.text = "vous etes gagnant";
  EXPECT_TRUE(moderate(post).empty());
  post.sender = "news@promo-deals.example";
  EXPECT_EQ(moderate(post).at(0).symbol, "SENDER");
  post.sender = "voisine";
  post.text = "promo-deals.example";
  EXPECT_TRUE(moderate(post).empty());
}

TEST_F(ModerateRules, AlsoAndUnless) {
  use(R"([[rule]]
id = "COUPON_CODE"
description = "asks for the codes of prepaid coupons"
literals = ["pcs", "transcash", "neosurf"]
also = ["code*", "recharge*"]
also_patterns = ['\d{4}\s*\d{4}\s*\d{4}']
unless = ["arnaque*", "ne donnez jamais"]
score = 12
action = "reject"
)");
  EXPECT_TRUE(fires("envoyez-moi le code du coupon PCS", "COUPON_CODE"));
  EXPECT_TRUE(fires("achetez une recharge Transcash", "COUPON_CODE"));
  EXPECT_TRUE(fires("neosurf 1234 5678 9012", "COUPON_CODE"));
  EXPECT_FALSE(fires("j'ai un coupon pcs", "COUPON_CODE"));  // no co-occurring term
  EXPECT_FALSE(fires("Attention ARNAQUE : on vous demande le code PCS", "COUPON_CODE"));
  EXPECT_FALSE(fires("Ne donnez jamais le code d'une recharge Transcash", "COUPON_CODE"));
  // Co-occurrence is over the rule's fields together.
  Post post;
  post.subject = "Transcash";
  post.text = "le code svp";
  EXPECT_EQ(moderate(post).size(), 1u);
}

TEST_F(ModerateRules, FindingsCarryScoreDescriptionAndAction) {
  use(R"([[rule]]
id = "INSULT"
description = "an insult"
literals = ["connard"]
score = 3
action = "hold"
[[rule]]
id = "THREAT"
description = "a threat"
patterns = ['je vais te (tuer|buter)']
score = 10.5
action = "reject"
[[rule]]
id = "WEAK"
description = "a weak signal"
literals = ["remboursement"]
score = 1.5
)");
  const auto findings = moderate("Connard, je vais te tuer. Remboursement!");
  ASSERT_EQ(findings.size(), 3u);
  EXPECT_EQ(findings[0].symbol, "INSULT");
  EXPECT_EQ(findings[0].description, "an insult");
  EXPECT_DOUBLE_EQ(findings[0].score, 3.0);
  EXPECT_EQ(findings[0].forced, Action::hold);
  EXPECT_EQ(findings[1].symbol, "THREAT");
  EXPECT_DOUBLE_EQ(findings[1].score, 10.5);
  EXPECT_EQ(findings[1].forced, Action::reject);
  EXPECT_EQ(findings[2].symbol, "WEAK");
  EXPECT_FALSE(findings[2].forced.has_value());
  EXPECT_TRUE(findings[2].redactions.empty());
  // A rule fires once, however often it matches.
  EXPECT_EQ(moderate("connard connard CONNARD").size(), 1u);
}

TEST_F(ModerateRules, RedactionsMapToTheOriginalBytes) {
  use(R"([[rule]]
id = "LINK"
description = "a payment link"
patterns = ['h(tt|xx)ps?://\S+']
redact = "[lien masqué]"
[[rule]]
id = "COUPON"
description = "a coupon code"
literals = ["coupon pcs"]
patterns = ['\d{4} \d{4}']
redact = "[code masqué]"
)");
  const std::string text = "Déjà réglé ? Sinon payez sur https://pay.example/x ou hxxp://b.example/y";
  const auto findings = moderate(text);
  ASSERT_EQ(findings.size(), 1u);
  ASSERT_EQ(findings[0].redactions.size(), 2u);
  const auto& first = findings[0].redactions[0];
  EXPECT_EQ(first.field, "text");
  EXPECT_EQ(first.replacement, "[lien masqué]");
  EXPECT_EQ(text.substr(first.offset, first.length), "https://pay.example/x");
  const auto& second = findings[0].redactions[1];
  EXPECT_EQ(text.substr(second.offset, second.length), "hxxp://b.example/y");

  Post post;
  post.subject = "Réglé en COUPON  PCS";
  post.text = "Élodie: le code est 1234 5678, coupon\u00A0pcs";
  const auto coupon = moderate(post);
  ASSERT_EQ(coupon.size(), 1u);
  std::vector<std::string> redacted;
  for (const auto& r : coupon[0].redactions) {
    const std::string& field = r.field == "text" ? post.text : *post.subject;
    redacted.push_back(r.field + ":" + field.substr(r.offset, r.length));
  }
  // Overlapping matches of one pattern ("1234 5678" holds "1234 5678" from
  // two starts) come out as one span; the subject's span keeps its two spaces.
  EXPECT_EQ(redacted, (Strings{"text:1234 5678", "text:coupon\u00A0pcs", "subject:COUPON  PCS"}));
}

TEST_F(ModerateRules, ABadPatternIsRefusedWithItsPositionAndRule) {
  const std::string message = refusal(R"([[rule]]
id = "GOOD"
description = "fine"
patterns = ['ok+']

[[rule]]
id = "BROKEN"
description = "an unbalanced group"
patterns = ['fine', 'virement (urgent']
)");
  EXPECT_NE(message.find("bad.toml:9:21: rule BROKEN: patterns[1]: "), std::string::npos) << message;
  EXPECT_NE(message.find("parenthesis"), std::string::npos) << message;
  EXPECT_NE(message.find("moderate[0] (plugin moderate_rules"), std::string::npos) << message;
}

struct BadRule {
  std::string rules;
  std::string expected;  // part of the message
};

TEST_F(ModerateRules, BadRulesAreRefusedWithTheirPosition) {
  const std::string ok = "description = \"d\"\nliterals = [\"x\"]\n";
  const std::string rule_a = "[[rule]]\nid = \"A\"\n" + ok;
  for (const auto& bad : std::vector<BadRule>{
           {"[[rule]]\n" + ok, "bad.toml:1:1: rule #1: id: missing"},
           {"[[rule]]\nid = 3\n" + ok, "bad.toml:2:6: rule #1: id: expected a string"},
           {"[[rule]]\nid = \"lower\"\n" + ok, "bad.toml:2:6: rule #1: id: expected capitals"},
           {rule_a + rule_a, "bad.toml:6:6: rule A: id: already used at "},
           {rule_a + "literal = [\"y\"]\n", "bad.toml:5:1: rule A: literal: unknown key"},
           {rule_a + "score = \"high\"\n", "bad.toml:5:9: rule A: score: expected a number"},
           {rule_a + "fields = [\"text\", \"body\"]\n",
            "bad.toml:5:19: rule A: fields: expected \"text\", \"subject\" or \"sender\", not \"body\""},
           {rule_a + "action = \"delete\"\n",
            "bad.toml:5:10: rule A: action: expected \"hold\" or \"reject\""},
           {rule_a + "patterns = 'x'\n", "bad.toml:5:12: rule A: patterns: expected an array of strings"},
           {rule_a + "also = [\"y\", 2]\n", "bad.toml:5:14: rule A: also: expected an array of strings"},
           {"[[rule]]\nid = \"A\"\ndescription = \"d\"\n",
            "bad.toml:2:6: rule A: needs at least one of literals"},
           {"[[rule]]\nid = \"A\"\nliterals = [\"x\"]\n", "rule A: description: missing"},
           {rule_a + "redact = \"\"\n", "bad.toml:5:10: rule A: redact: expected a non-empty"},
           {rule_a + "fields = [\"sender\"]\nredact = \"x\"\n",
            "bad.toml:6:10: rule A: redact: only text and subject"},
           {"[[rule]]\nid = \"A\"\ndescription = \"d\"\nliterals = [\"*\"]\n",
            "bad.toml:4:13: rule A: literals: expected a literal with something to match"},
           {"[rules]\nid = \"A\"\n", "bad.toml:1:2: rules: unknown key"},
           {rule_a + "score = 1\nscore = 2\n", "bad.toml:6:9: "},  // TOML itself
       }) {
    SCOPED_TRACE(bad.rules);
    const std::string message = refusal(bad.rules);
    EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
  }
}

// The same id in two files is refused, naming both places.
TEST_F(ModerateRules, IdsAreUniqueAcrossFiles) {
  const auto a = rule_file("a.toml", "[[rule]]\nid = \"SAME\"\ndescription = \"d\"\nliterals = [\"x\"]\n");
  const auto b = rule_file("b.toml", "\n[[rule]]\nid = \"SAME\"\ndescription = \"d\"\nliterals = [\"y\"]\n");
  auto set = load({a, b});
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("b.toml:3:6: rule SAME: id: already used at " + a + ":2:6"),
            std::string::npos)
      << set.error().message;
}

TEST_F(ModerateRules, BadTablesAreRefused) {
  for (const auto& [keys, expected] : std::vector<std::pair<std::string, std::string>>{
           {"", "relais.toml:1:1: moderate[0].rules: expected an array of rule files"},
           {"rules = []\n", "relais.toml:3:9: moderate[0].rules: expected an array of rule files"},
           {"rules = 'x.toml'\n", "relais.toml:3:9: moderate[0].rules: expected an array of strings"},
           {"rules = ['/nonexistent/x.toml']\n", "moderate[0].rules: \"/nonexistent/x.toml\": no such file"},
           {"rules = ['/nonexistent/*.toml']\n", "moderate[0].rules: \"/nonexistent/*.toml\": cannot read"},
           {"rules = ['/*/x.toml']\n", "wildcards are allowed in the file name only"},
           {"rules = ['/x.toml']\nrule = 1\n", "relais.toml:4:1: moderate[0].rule: unknown key"},
       }) {
    SCOPED_TRACE(keys);
    auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_rules\"\n" + keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(expected), std::string::npos) << set.error().message;
  }
}

// Relative entries are relative to the directory of relais.toml, whatever
// the working directory; a wildcard takes the files in name order.
TEST_F(ModerateRules, RelativePathsAndWildcards) {
  std::filesystem::create_directories(dir_ / "conf" / "rules");
  relais::test::write_file(dir_ / "conf" / "rules" / "b.toml",
                           "[[rule]]\nid = \"B\"\ndescription = \"d\"\nliterals = [\"x\"]\n");
  relais::test::write_file(dir_ / "conf" / "rules" / "a.toml",
                           "[[rule]]\nid = \"A\"\ndescription = \"d\"\nliterals = [\"x\"]\n");
  relais::test::write_file(dir_ / "conf" / "rules" / "notes.txt", "not rules");
  relais::test::write_file(
      dir_ / "conf" / "relais.toml",
      "[[moderate]]\nplugin = \"moderate_rules\"\nrules = [\"rules/*.toml\", \"rules/a.toml\"]\n");
  auto config = relais::daemon::load_config(
      dir_ / "conf" / "relais.toml",
      {.state_dir = {}, .plugin_dir = relais::test::plugin_dir(), .verbose = false});
  ASSERT_TRUE(config) << config.error().message;
  auto set = relais::daemon::build_plugin_set(*config);
  ASSERT_TRUE(set) << set.error().message;
  set_ = *set;
  EXPECT_EQ(symbols("x"), (Strings{"A", "B"}));  // a.toml once, then b.toml

  relais::test::write_file(dir_ / "conf" / "relais.toml",
                           "[[moderate]]\nplugin = \"moderate_rules\"\nrules = [\"rules/*.json\"]\n");
  config = relais::daemon::load_config(
      dir_ / "conf" / "relais.toml",
      {.state_dir = {}, .plugin_dir = relais::test::plugin_dir(), .verbose = false});
  ASSERT_TRUE(config) << config.error().message;
  set = relais::daemon::build_plugin_set(*config);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("relais.toml:3:9: moderate[0].rules: \"rules/*.json\": matches no file"),
            std::string::npos)
      << set.error().message;
}

// Many rules load, and each still matches its own word only.
TEST_F(ModerateRules, TenThousandRules) {
  std::string rules;
  const auto word = [](int i) {
    std::string w = "kw";
    for (int n = i; n > 0 || w.size() < 4; n /= 26) w += static_cast<char>('a' + n % 26);
    return w;
  };
  for (int i = 0; i < 10000; ++i) {
    rules += "[[rule]]\nid = \"RULE_" + std::to_string(i) + "\"\ndescription = \"word " + std::to_string(i) +
             "\"\nliterals = [\"" + word(i) + "\"]\nscore = 1\n";
  }
  use(rules);
  EXPECT_EQ(symbols("rien de tout cela"), Strings{});
  EXPECT_EQ(symbols("un " + word(0) + " ici"), Strings{"RULE_0"});
  EXPECT_EQ(symbols(word(9999) + " et " + word(4321) + ", " + word(17)),
            (Strings{"RULE_17", "RULE_4321", "RULE_9999"}));
  EXPECT_EQ(symbols(word(4321) + "x"), Strings{});  // whole words only
}

// ---------------------------------------------------------------- config/rules

class ShippedRules : public ModerateRules {
 protected:
  void SetUp() override {
    auto set = relais::test::plugin_set(
        table({(relais::test::source_dir() / "config" / "rules" / "*.toml").string()}));
    ASSERT_TRUE(set) << set.error().message;
    set_ = *set;
  }

  // What [moderation] in config/relais.toml would decide from these findings.
  Action action(const std::string& text) const {
    double score = 0;
    Action forced = Action::accept;
    for (const auto& f : moderate(text)) {
      score += f.score;
      if (f.forced && *f.forced > forced) forced = *f.forced;
    }
    const Action by_score = score >= 10 ? Action::reject : score >= 5 ? Action::hold : Action::accept;
    return std::max(forced, by_score);
  }

  std::string explain(const std::string& text) const {
    std::string out;
    for (const auto& f : moderate(text)) out += f.symbol + "(" + std::to_string(f.score) + ") ";
    return out;
  }
};

TEST_F(ShippedRules, ScamsAreRejected) {
  for (
      const std::string text : {
          "Bonjour, je suis bloqué à l'étranger, pouvez-vous m'envoyer 200 euros par Western Union ? Je vous "
          "rembourse dès mon retour.",
          "Achetez un coupon PCS de 100 € au tabac et envoyez-moi le code par SMS, c'est urgent.",
          "Pour recevoir votre colis, réglez les frais de livraison de 1,99 € ici : "
          "hxxps://suivi-colis.example",
          "CAF : vous avez droit à une aide exceptionnelle de 450 €. Confirmez vos coordonnées bancaires sur "
          "hxxp://caf-aide.example",
          "Ameli : votre carte vitale doit être renouvelée, saisissez votre numéro de carte bancaire sur ce "
          "lien",
          "Vente de masques FFP2 certifiés, lot de 50 à 90 €, livraison rapide, paiement par virement",
          "Tests covid rapides à vendre, 40 € pièce, résultats en 10 minutes, commandez vite",
          "Please send me a Steam gift card or an iTunes card and text me the codes, I will pay you back",
          "Your parcel could not be delivered. Pay the redelivery fee of £1.45 at "
          "hxxps://parcel-redeliver.example",
          "Covid relief grant: you are eligible for $1,200. Verify your bank account details at this link",
      }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::reject) << explain(text);
  }
}

TEST_F(ShippedRules, SpamIsRejected) {
  for (const std::string text : {
           "Gagnez 3000 € par mois depuis chez vous sans diplôme ! Travail à domicile, inscription gratuite, "
           "cliquez ici",
           "Investissez dans le bitcoin avec notre expert en trading, doublez votre capital en une semaine",
           "Partagez ce message à tous vos contacts, sinon il vous arrivera malheur ! Faites tourner",
           "Make money from home! Earn $500 a day working online, no experience needed, limited spots",
           "Crypto investment opportunity: guaranteed returns, join our forex trading group on WhatsApp",
           "Forward this message to all your contacts, Facebook will start charging tomorrow",
           "PROMO exceptionnelle -50% sur toute la boutique, livraison gratuite, code promo SOLDES50, "
           "offre limitée",
           "Pizzas livrées sur tout le quartier, commandez au 01 99 00 00 00, code PIZZA pour -15% !",
           "New phone cases in stock, our shop ships fast, order now before they are gone",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::reject) << explain(text);
  }
}

TEST_F(ShippedRules, AbuseIsHeldOrRejectedWhenExtreme) {
  for (const std::string text : {
           "Vous êtes vraiment des incapables, bande de connards, personne ne répond jamais",
           "Bande d'abrutis, ça fait trois jours que j'attends",
           "You are useless idiots, nobody ever answers this stupid group",
           "Arrêtez de pleurnicher toute la journée, vieille bique",
           "Stop whining every day, you old hag",
           "Les réfugiés du foyer, c'est à cause des étrangers que tout va mal",
           "It's their fault, the foreigners brought the virus here",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::hold) << explain(text);
  }
  for (const std::string text : {
           "Je sais où tu habites, je vais te faire la peau",
           "Ces gens-là sont de la vermine, il faut les virer à coups de batte",
           "I know where you live and I'm going to kill you",
           "Those people are vermin, they should all be exterminated",
           "Les migrants du quartier sont des parasites, faut tous les virer",
           "The immigrants on our street are filth, kick them out",
           "Si le gamin du 2e recommence, je le tabasse, on sait où il habite",
           "If that neighbour complains again I will hurt him",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::reject) << explain(text);
  }
}

TEST_F(ShippedRules, OffTopicIsRejected) {
  for (const std::string text : {
           "Vends canapé d'angle 3 places en très bon état, 150 €, à venir chercher",
           "Qui a vu le match du PSG hier soir ? Quel but en deuxième mi-temps !",
           "Le vaccin contient une puce 5G, Bill Gates veut nous contrôler, réveillez-vous",
           "For sale: dining table and six chairs, good condition, £80 ono, collection only",
           "The 5G towers are spreading the virus, wake up people, the plandemic is a hoax",
           "Votez pour notre candidat aux municipales, meeting ce soir, le gouvernement nous ment",
           "Qui est partant pour un five demain au gymnase ?",
           "Anyone up for a game of poker on Saturday night?",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::reject) << explain(text);
  }
}

// Ordinary requests and offers, and warnings about scams, are not hit.
TEST_F(ShippedRules, OrdinaryPostsAreAccepted) {
  for (
      const std::string text : {
          "Bonjour, j'ai 81 ans et je ne peux plus sortir. Quelqu'un pourrait-il faire mes courses ? Je peux "
          "vous rembourser les courses, je paie par virement ou en liquide.",
          "Je cherche quelqu'un pour aller chercher mon traitement à la pharmacie, l'ordonnance est prête.",
          "Infirmière de nuit, je cherche une garde pour mes deux enfants de 4 et 7 ans le mercredi.",
          "Je peux faire des courses pour les personnes âgées du quartier, j'ai une voiture le samedi.",
          "Attention arnaque : de faux agents de la CAF demandent vos coordonnées bancaires par SMS. Ne "
          "donnez "
          "jamais votre RIB ni votre code de carte.",
          "Could someone pick up my prescription from the pharmacy? I can pay you back by bank transfer.",
          "I am a nurse working nights and need someone to look after my kids after school on Tuesdays.",
          "Hello, I'm 79 and self-isolating, could a neighbour do my grocery shopping this week? I'll pay "
          "you back.",
          "Scam alert: fake delivery texts ask you to pay a fee through a link. Never give your card number.",
          "Je donne un lit bébé et une poussette pour une famille qui en aurait besoin, gratuit.",
          "Distribution de colis alimentaires demain matin au centre social, apportez un sac.",
          "Mon fils fait ses devoirs en ligne mais notre ordinateur est en panne, quelqu'un aurait-il un "
          "portable à prêter ?",
          "Je couds des masques en tissu gratuitement pour les soignants, il me manque de l'élastique.",
          "Ma fille est bloquée à l'étranger à cause des frontières, qui peut faire mes courses ? Je "
          "rembourse.",
          "J'ai 30 € pour les courses de la semaine, qui peut y aller pour moi ?",
          "Mon fils joue au foot le mercredi, je cherche quelqu'un pour l'emmener à son match.",
          "J'ai des cafards dans la cuisine, il faut les exterminer, qui connaît un produit efficace ?",
          "Je suis désolée de déranger, je me sens idiote de demander mais je n'ai plus rien à manger.",
          "Vous êtes incapable de sortir ? Je fais vos courses avec plaisir.",
          "Faites tourner : distribution alimentaire demain au centre social, à partir de 10h.",
          "I feel stupid asking, but could someone get me a pack of fags and some milk? I'll pay you back.",
          "I'm 84 and earn £900 a month from my pension, I can't afford the delivery fees, can someone help?",
      }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(action(text), Action::accept) << explain(text);
  }
}

}  // namespace
