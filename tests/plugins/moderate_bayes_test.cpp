// moderate_bayes, loaded from the build's plugin directory as relaisd loads
// it, on a state directory of its own: what it learns from decisions, what
// it keeps on disk, what a shadow instance may not do, and its keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "support/support.hpp"

namespace {

using relais::Action;
using relais::Finding;
using relais::Post;
using relais::test::TempDir;

constexpr const char* kEntry = "[[moderate]]\nplugin = \"moderate_bayes\"\n";

relais::Expected<std::shared_ptr<const relais::daemon::PluginSet>> build(const std::filesystem::path& state,
                                                                         const std::string& keys,
                                                                         bool shadow) {
  auto config = relais::daemon::parse_config(
      kEntry + keys, "relais.toml",
      {.state_dir = state, .plugin_dir = relais::test::plugin_dir(), .verbose = false});
  if (!config) return config.error();
  return relais::daemon::build_plugin_set(
      *config, {.shadow = shadow, .moderators_only = false, .state_directory = {}});
}

// One moderate_bayes instance on `state`.
class Bayes {
 public:
  explicit Bayes(const std::filesystem::path& state, const std::string& keys = "", bool shadow = false) {
    auto set = build(state, keys, shadow);
    if (!set) {
      ADD_FAILURE() << set.error().message;
      return;
    }
    set_ = *set;
  }
  bool ok() const { return set_ != nullptr; }
  relais::Moderator& moderator() const { return *set_->moderators.at(0).object; }

  std::vector<Finding> findings(const Post& post) const {
    std::vector<Finding> out;
    if (ok()) moderator().moderate(post, out);
    return out;
  }
  std::vector<Finding> findings(const std::string& text) const {
    Post post;
    post.text = text;
    return findings(post);
  }
  void learn(const Post& post, Action decision) const {
    if (ok()) moderator().learn(post, decision);
  }
  void learn(const std::vector<std::string>& texts, Action decision) const {
    for (const auto& text : texts) {
      Post post;
      post.text = text;
      learn(post, decision);
    }
  }

 private:
  std::shared_ptr<const relais::daemon::PluginSet> set_;
};

const Finding* find(const std::vector<Finding>& findings, std::string_view symbol) {
  for (const auto& f : findings) {
    if (f.symbol == symbol) return &f;
  }
  return nullptr;
}

// ---------------------------------------------------------------- corpus

// Posts made from parts, in French and English, distinct from each other:
// scams and spam of the kind moderators reject, and the requests and offers
// they approve. A fixed seed and only the engine's raw output, so that every
// standard library makes the same posts.
class Corpus {
 public:
  explicit Corpus(std::uint32_t seed) : rng_(seed) {}

  std::vector<std::string> scams(std::size_t n) {
    return make(
        n,
        {
            {"Bonjour à tous", "Chers voisins", "Bonne nouvelle", "Salut", "Hello everyone", "Dear friends"},
            {"gagnez {amount} € par semaine depuis chez vous sans expérience",
             "prêt entre particuliers rapide et sans frais de dossier, taux de {n}%",
             "investissement crypto garanti, rendement de {n}% par mois, places limitées",
             "je vends des coupons PCS et des cartes cadeaux, paiement par Western Union",
             "travail à domicile, revenu de {amount} euros assuré, inscription immédiate",
             "votre colis est bloqué en douane, réglez les frais de {n} € pour le recevoir",
             "earn ${amount} a day working from home, no experience needed",
             "guaranteed bitcoin investment with {n}% weekly returns, limited places",
             "fast loans for everyone, no credit check, interest of only {n}%",
             "claim your free gift card worth {amount} dollars before it expires"},
            {"Contactez-moi sur WhatsApp au +33 7 {phone}", "Cliquez ici : https://gains-{n}.example/offre",
             "Écrivez à invest{n}@profit.example", "Offre valable aujourd'hui seulement !!!",
             "Message me on WhatsApp +44 7700 {phone}", "Click here http://www.easy-money-{n}.example",
             "Send your bank details to agent{n}@fastcash.example", "Act now, the offer ends today!"},
        });
  }

  std::vector<std::string> requests(std::size_t n) {
    return make(
        n,
        {
            {"Bonjour", "Bonsoir à tous", "Salut les voisins", "Hello neighbours", "Hi all", "Good morning"},
            {"je cherche quelqu'un pour faire mes courses {day}, je ne peux plus sortir",
             "ma mère de {age} ans a besoin d'aide pour monter ses courses au {floor}e étage",
             "je propose de promener les chiens du quartier {day} matin",
             "quelqu'un pourrait-il m'accompagner à mon rendez-vous chez le médecin {day} ?",
             "nous organisons une collecte de vêtements chauds pour les familles du quartier {day}",
             "I am looking for someone to help my elderly neighbour with her shopping on {day}",
             "could anyone walk my dog on {day} while I recover from surgery?",
             "I can offer a lift to the hospital on {day} morning",
             "we are collecting food for the local food bank on {day}",
             "is anyone able to help me carry a sofa up to the {floor}rd floor on {day}?"},
            {"Merci beaucoup", "Merci d'avance pour votre aide", "Bonne journée à tous",
             "Je suis disponible en fin de journée", "Thanks so much", "Many thanks in advance",
             "Have a lovely day", "I am free most evenings"},
        });
  }

 private:
  using Parts = std::vector<std::vector<std::string>>;

  std::string pick(const std::vector<std::string>& from) { return from[rng_() % from.size()]; }

  std::string fill(std::string text) {
    static const std::vector<std::string> days = {"lundi",  "mardi",   "jeudi",    "samedi",
                                                  "Monday", "Tuesday", "Thursday", "Saturday"};
    auto replace = [&](const std::string& slot, const std::string& value) {
      for (auto at = text.find(slot); at != std::string::npos; at = text.find(slot))
        text.replace(at, slot.size(), value);
    };
    replace("{amount}", std::to_string(100 * (5 + rng_() % 95)));
    replace("{n}", std::to_string(2 + rng_() % 60));
    replace("{phone}", std::to_string(100000 + rng_() % 900000));
    replace("{age}", std::to_string(70 + rng_() % 25));
    replace("{floor}", std::to_string(2 + rng_() % 6));
    replace("{day}", pick(days));
    return text;
  }

  std::vector<std::string> make(std::size_t n, const Parts& parts) {
    std::vector<std::string> out;
    while (out.size() < n) {
      std::string text = pick(parts[0]) + ", " + fill(pick(parts[1])) + ". " + fill(pick(parts[2]));
      if (seen_.insert(text).second) out.push_back(std::move(text));
    }
    return out;
  }

  std::mt19937 rng_;
  std::set<std::string> seen_;
};

// Posts never learned: parts of the same kinds, said otherwise.
const std::string kNewScam =
    "Salut, prêt rapide sans frais de dossier et investissement garanti, rendement de 40% par mois. "
    "Contactez-moi sur WhatsApp, offre valable aujourd'hui seulement";
const std::string kNewScamEn =
    "Dear friends, guaranteed bitcoin returns and fast loans with no credit check. Click here "
    "http://www.quick-profit.example, act now!";
const std::string kNewRequest =
    "Bonsoir, mon voisin de 88 ans cherche quelqu'un pour faire ses courses jeudi, il ne peut plus sortir. "
    "Merci d'avance";
const std::string kNewRequestEn =
    "Hi all, could someone help my elderly neighbour carry her shopping on Saturday? Many thanks";

// Learns `n` scams as rejected and `n` requests as accepted.
void train(const Bayes& bayes, std::size_t n, std::uint32_t seed = 1) {
  Corpus corpus(seed);
  bayes.learn(corpus.scams(n), Action::reject);
  bayes.learn(corpus.requests(n), Action::accept);
}

// ---------------------------------------------------------------- the file

struct Stored {
  std::int64_t accepted = 0;  // learned documents of each label
  std::int64_t rejected = 0;
  std::int64_t good = 0;  // sums of the token counts
  std::int64_t bad = 0;
  bool operator==(const Stored&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Stored& s) {
  return os << "{accepted=" << s.accepted << " rejected=" << s.rejected << " good=" << s.good
            << " bad=" << s.bad << "}";
}

std::int64_t query(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t v = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

// What the database file holds, read as another process would.
Stored stored(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  Stored s;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << file << ": " << sqlite3_errmsg(db);
  } else {
    s.accepted = query(db, "SELECT count(*) FROM learned WHERE label = 0");
    s.rejected = query(db, "SELECT count(*) FROM learned WHERE label = 1");
    s.good = query(db, "SELECT coalesce(sum(good), 0) FROM tokens");
    s.bad = query(db, "SELECT coalesce(sum(bad), 0) FROM tokens");
  }
  sqlite3_close(db);
  return s;
}

void exec(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// ---------------------------------------------------------------- tests

TEST(moderate_bayes, LoadsAndKeepsItsFileInTheStateDirectory) {
  TempDir dir;
  auto set = build(dir.path(), "", false);
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ((*set)->moderators.size(), 1u);
  EXPECT_EQ((*set)->moderators[0].instance, "moderate:bayes:0");
  EXPECT_EQ((*set)->moderators[0].plugin, "moderate_bayes");
  EXPECT_EQ((*set)->moderators[0].version, "1.0.0");
  EXPECT_TRUE(std::filesystem::exists(dir / "moderate_bayes.db"));
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), Stored{});
}

// An untrained filter must not hold anyone's request: no finding until both
// labels have `min_learned` examples.
TEST(moderate_bayes, UntrainedFindsNothing) {
  TempDir dir;
  const Bayes bayes(dir.path());
  EXPECT_TRUE(bayes.findings(kNewScam).empty());

  Corpus corpus(1);
  bayes.learn(corpus.scams(40), Action::reject);
  bayes.learn(corpus.requests(19), Action::accept);
  EXPECT_TRUE(bayes.findings(kNewScam).empty());
  EXPECT_TRUE(bayes.findings(kNewRequest).empty());

  bayes.learn(corpus.requests(1), Action::accept);
  EXPECT_NE(find(bayes.findings(kNewScam), "BAYES_UNWANTED"), nullptr);
}

TEST(moderate_bayes, LearnsWhatModeratorsReject) {
  TempDir dir;
  const Bayes bayes(dir.path());
  train(bayes, 30);

  for (const auto& scam : {kNewScam, kNewScamEn}) {
    SCOPED_TRACE(scam);
    const auto findings = bayes.findings(scam);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].symbol, "BAYES_UNWANTED");
    EXPECT_GT(findings[0].score, 0.0);
    EXPECT_LE(findings[0].score, 4.0);
    EXPECT_FALSE(findings[0].forced.has_value());
    EXPECT_THAT(findings[0].description,
                testing::MatchesRegex(
                    "learned filter: (9[0-9])% like rejected posts \\([0-9]+ significant words\\)"));
  }
  for (const auto& request : {kNewRequest, kNewRequestEn}) {
    SCOPED_TRACE(request);
    EXPECT_TRUE(bayes.findings(request).empty());
  }
  // Every post learned scores as its label.
  Corpus again(1);
  for (const auto& scam : again.scams(30))
    EXPECT_NE(find(bayes.findings(scam), "BAYES_UNWANTED"), nullptr) << scam;
  for (const auto& request : again.requests(30)) EXPECT_TRUE(bayes.findings(request).empty()) << request;
}

// The subject counts as the text does.
TEST(moderate_bayes, ReadsTheSubjectToo) {
  TempDir dir;
  const Bayes bayes(dir.path());
  train(bayes, 30);
  Post post;
  post.subject = kNewScam;
  post.text = "voir le sujet";
  EXPECT_NE(find(bayes.findings(post), "BAYES_UNWANTED"), nullptr);
}

TEST(moderate_bayes, AccentsAndCaseDoNotMatter) {
  TempDir dir;
  const Bayes bayes(dir.path());
  train(bayes, 30);
  const auto plain = bayes.findings(
      "pret entre particuliers rapide et sans frais de dossier. contactez-moi sur whatsapp, offre valable "
      "aujourd'hui seulement");
  const auto shouted = bayes.findings(
      "PRÊT ENTRE PARTICULIERS RAPIDE ET SANS FRAIS DE DOSSIER. CONTACTEZ-MOI SUR WHATSAPP, OFFRE VALABLE "
      "AUJOURD'HUI SEULEMENT");
  ASSERT_EQ(plain.size(), 1u);
  ASSERT_EQ(shouted.size(), 1u);
  EXPECT_EQ(plain[0].symbol, "BAYES_UNWANTED");
  EXPECT_DOUBLE_EQ(plain[0].score, shouted[0].score);
  EXPECT_EQ(plain[0].description, shouted[0].description);

  // The same post in capitals is the same post: learning it adds nothing.
  const Stored before = stored(dir / "moderate_bayes.db");
  Corpus corpus(1);
  auto scam = corpus.scams(1).front();
  for (auto& c : scam) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bayes.learn({scam}, Action::reject);
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), before);
}

TEST(moderate_bayes, LearningPersistsAcrossInstances) {
  TempDir dir;
  std::vector<Finding> first;
  {
    const Bayes bayes(dir.path());
    train(bayes, 30);
    first = bayes.findings(kNewScam);
  }
  ASSERT_EQ(first.size(), 1u);
  const Bayes reopened(dir.path());
  const auto second = reopened.findings(kNewScam);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].symbol, "BAYES_UNWANTED");
  EXPECT_DOUBLE_EQ(second[0].score, first[0].score);
  EXPECT_EQ(stored(dir / "moderate_bayes.db").accepted, 30);
  EXPECT_EQ(stored(dir / "moderate_bayes.db").rejected, 30);
}

TEST(moderate_bayes, RelearningTheSamePostCountsOnce) {
  TempDir dir;
  const Bayes bayes(dir.path());
  Corpus corpus(1);
  bayes.learn(corpus.requests(30), Action::accept);
  Post scam;
  scam.id = 7;
  scam.text = corpus.scams(1).front();
  bayes.learn(scam, Action::reject);
  const Stored once = stored(dir / "moderate_bayes.db");
  EXPECT_EQ(once.rejected, 1);
  EXPECT_GT(once.bad, 0);

  // Again, by the same id, and as an example of `relaisctl learn` (no id).
  for (int i = 0; i < 30; ++i) bayes.learn(scam, Action::reject);
  Post example = scam;
  example.id = 0;
  bayes.learn(example, Action::reject);
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), once);
  // Had each counted, 32 rejections would have trained the filter.
  EXPECT_TRUE(bayes.findings(kNewScam).empty());
}

// A moderator who changes their mind moves the post from one label to the
// other.
TEST(moderate_bayes, RelearningWithTheOtherLabelMovesThePost) {
  TempDir dir;
  const Bayes bayes(dir.path());
  Post post;
  post.id = 12;
  post.text = Corpus(1).scams(1).front();
  bayes.learn(post, Action::reject);
  const Stored rejected = stored(dir / "moderate_bayes.db");
  EXPECT_EQ(rejected.rejected, 1);
  EXPECT_EQ(rejected.accepted, 0);
  EXPECT_EQ(rejected.good, 0);
  EXPECT_GT(rejected.bad, 0);

  bayes.learn(post, Action::accept);
  const Stored accepted = stored(dir / "moderate_bayes.db");
  EXPECT_EQ(accepted, (Stored{1, 0, rejected.bad, 0}));
  bayes.learn(post, Action::accept);
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), accepted);

  // Back to rejected: as it was.
  bayes.learn(post, Action::reject);
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), rejected);
}

TEST(moderate_bayes, MovedPostsChangeTheScore) {
  TempDir dir;
  const Bayes bayes(dir.path());
  train(bayes, 25);
  ASSERT_NE(find(bayes.findings(kNewScam), "BAYES_UNWANTED"), nullptr);
  // 10 of the 25 rejections reversed: 15 rejected posts are fewer than
  // min_learned, so the filter says nothing again.
  bayes.learn(Corpus(1).scams(10), Action::accept);
  EXPECT_EQ(stored(dir / "moderate_bayes.db").rejected, 15);
  EXPECT_EQ(stored(dir / "moderate_bayes.db").accepted, 35);
  EXPECT_TRUE(bayes.findings(kNewScam).empty());
}

TEST(moderate_bayes, HoldTeachesNothing) {
  TempDir dir;
  const Bayes bayes(dir.path());
  bayes.learn(Corpus(1).scams(5), Action::hold);
  EXPECT_EQ(stored(dir / "moderate_bayes.db"), Stored{});
}

// Two instances on one file, as the running set and the new one are during
// a reload: what one learns, the other scores with.
TEST(moderate_bayes, SeesWhatAnotherInstanceLearned) {
  TempDir dir;
  const Bayes running(dir.path());
  const Bayes next(dir.path());
  EXPECT_TRUE(next.findings(kNewScam).empty());
  train(running, 30);
  EXPECT_NE(find(next.findings(kNewScam), "BAYES_UNWANTED"), nullptr);
}

TEST(moderate_bayes, ShadowNeedsNoDatabaseAndCreatesNone) {
  TempDir dir;
  const Bayes shadow(dir.path(), "", true);
  ASSERT_TRUE(shadow.ok());
  train(shadow, 30);
  EXPECT_TRUE(shadow.findings(kNewScam).empty());
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(moderate_bayes, ShadowScoresButLearnsNothing) {
  TempDir dir;
  {
    const Bayes live(dir.path());
    train(live, 30);
  }
  const auto file = dir / "moderate_bayes.db";
  const Stored before = stored(file);
  const std::string bytes = relais::test::read_file(file);

  const Bayes shadow(dir.path(), "", true);
  ASSERT_TRUE(shadow.ok());
  EXPECT_NE(find(shadow.findings(kNewScam), "BAYES_UNWANTED"), nullptr);
  // New posts, and learned ones with the other label.
  Corpus corpus(1);
  shadow.learn(corpus.scams(30), Action::accept);
  shadow.learn(corpus.requests(30), Action::reject);
  shadow.learn(Corpus(2).scams(30), Action::reject);
  EXPECT_NE(find(shadow.findings(kNewScam), "BAYES_UNWANTED"), nullptr);
  EXPECT_EQ(stored(file), before);
  EXPECT_EQ(relais::test::read_file(file), bytes);
}

TEST(moderate_bayes, WantedScoreIsOptIn) {
  TempDir dir;
  {
    const Bayes bayes(dir.path());
    train(bayes, 30);
    EXPECT_TRUE(bayes.findings(kNewRequest).empty());
  }
  const Bayes bayes(dir.path(), "wanted_score = -2\n");
  const auto findings = bayes.findings(kNewRequest);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].symbol, "BAYES_WANTED");
  EXPECT_LT(findings[0].score, 0.0);
  EXPECT_GE(findings[0].score, -2.0);
  EXPECT_THAT(
      findings[0].description,
      testing::MatchesRegex("learned filter: [0-9]+% like accepted posts \\([0-9]+ significant words?\\)"));
  EXPECT_EQ(find(bayes.findings(kNewScam), "BAYES_WANTED"), nullptr);
}

TEST(moderate_bayes, KeysChangeThresholdsAndScores) {
  TempDir dir;
  {
    const Bayes few(dir.path(), "min_learned = 5\nscore = 10\n");
    train(few, 5);
    const auto findings = few.findings(kNewScam);
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_GT(findings[0].score, 4.0);
    EXPECT_LE(findings[0].score, 10.0);
  }
  // The same file, a threshold no post reaches.
  const Bayes strict(dir.path(), "min_learned = 5\nunwanted_threshold = 0.999999999\n");
  EXPECT_TRUE(strict.findings(kNewRequest).empty());
  const Bayes one_word(dir.path(), "min_learned = 5\nmax_tokens = 1\nunwanted_threshold = 0.51\n");
  const auto findings = one_word.findings(kNewScam);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_THAT(findings[0].description, testing::EndsWith("(1 significant word)"));
}

TEST(moderate_bayes, DatabaseMayBeAnAbsolutePath) {
  TempDir state;
  TempDir elsewhere;
  const auto file = elsewhere / "filters" / "bayes.db";
  std::filesystem::create_directories(file.parent_path());
  const Bayes bayes(state.path(), "database = \"" + file.string() + "\"\n");
  ASSERT_TRUE(bayes.ok());
  bayes.learn(Corpus(1).scams(2), Action::reject);
  EXPECT_EQ(stored(file).rejected, 2);
  EXPECT_FALSE(std::filesystem::exists(state / "moderate_bayes.db"));
}

TEST(moderate_bayes, NewerOrForeignDatabasesAreRefused) {
  TempDir dir;
  { const Bayes bayes(dir.path()); }
  exec(dir / "moderate_bayes.db", "PRAGMA user_version = 99");
  for (const bool shadow : {false, true}) {
    auto set = build(dir.path(), "", shadow);
    ASSERT_FALSE(set);
    EXPECT_THAT(set.error().message, testing::HasSubstr("written by a newer moderate_bayes"));
  }
  exec(dir / "other.db", "CREATE TABLE posts (id INTEGER PRIMARY KEY)");
  auto set = build(dir.path(), "database = \"other.db\"\n", false);
  ASSERT_FALSE(set);
  EXPECT_THAT(set.error().message, testing::HasSubstr("not a moderate_bayes database"));
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(moderate_bayes, BadTablesAreRefusedWithTheirPosition) {
  TempDir dir;
  for (const auto& bad : std::vector<BadTable>{
           {"database = \"\"\n", "relais.toml:3:12: moderate[0].database: expected a file name"},
           {"database = 3\n", "relais.toml:3:12: moderate[0].database"},
           {"min_learned = 0\n",
            "relais.toml:3:15: moderate[0].min_learned: expected an integer of at least 1"},
           {"unwanted_threshold = 0.5\n",
            "relais.toml:3:22: moderate[0].unwanted_threshold: expected a number above 0.5"},
           {"unwanted_threshold = 1\n",
            "moderate[0].unwanted_threshold: expected a number above 0.5 and below 1"},
           {"score = -1\n", "relais.toml:3:9: moderate[0].score: expected a number of at least 0"},
           {"wanted_score = 1\n",
            "relais.toml:3:16: moderate[0].wanted_score: expected a number of at most 0"},
           {"max_tokens = 0\n", "relais.toml:3:14: moderate[0].max_tokens"},
           {"min_strength = 0.5\n", "relais.toml:3:16: moderate[0].min_strength"},
           {"threshold = 0.9\n", "relais.toml:3:1: moderate[0].threshold: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = build(dir.path(), bad.keys, false);
    ASSERT_FALSE(set);
    EXPECT_THAT(set.error().message, testing::HasSubstr(bad.expected));
  }
}

}  // namespace
