// moderate_dedup, loaded from the build's plugin directory as relaisd loads
// it, with a state directory of its own: exact and reworded repeats across
// channels linked to the first post, what is not a repeat, the window in
// time and in size, its file across instances, shadow instances that never
// write, and the errors of a bad table.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "support/support.hpp"

namespace {

namespace fs = std::filesystem;
using relais::Finding;
using relais::Post;
using relais::test::TempDir;

// The texts. A and B: one need, by e-mail then by the web form, reworded
// (greeting, signature, case, accents, punctuation). C1 to C3: one need
// going round three channels. E1 and E2: two people of the same street
// writing the same template for different needs. F1 and F2: two similar
// needs of two people. L1 and L3: one sender asking for two things.
const std::string kSubjectA = "Courses pour mon oncle - quartier Balzac";
const std::string kA =
    "Bonjour,\n\nMon oncle, 88 ans, habite cité Balzac et ne sort plus depuis le début du confinement. Il "
    "aurait besoin qu'on lui fasse ses courses une fois par semaine (liste courte, il paie par chèque). Je "
    "suis à Lille.\n\nPourriez-vous le mettre en contact avec un bénévole ?\n\nMerci,\nPaul Moreau";
const std::string kB =
    "BONSOIR, mon oncle (88 ans) habite cite Balzac et ne sort plus depuis le debut du confinement. Il "
    "aurait besoin qu on lui fasse ses courses 1 fois par semaine, petite liste, il paie par cheque. Je suis "
    "a Lille. Pouvez-vous le mettre en contact avec un benevole ? Merci d'avance, Paul";
const std::string kC1 =
    "Urgent svp : une dame de 91 ans sans chauffage depuis trois jours avenue Guy-Môquet, le bailleur ne "
    "répond pas, elle dort en manteau. Quelqu'un a un radiateur d'appoint ?";
const std::string kC2 =
    "Bonjour,\n\nMa voisine de 91 ans (avenue Guy-Môquet) n'a plus de chauffage depuis trois jours, le "
    "bailleur ne répond pas. Elle dort en manteau. Quelqu'un aurait un radiateur d'appoint ?\n\nSophie";
const std::string kC3 =
    "Bonsoir, ma voisine de 91 ans, avenue Guy Môquet, n'a plus de chauffage depuis trois jours et le "
    "bailleur ne répond pas. Elle dort en manteau. Quelqu'un aurait-il un radiateur d'appoint à prêter ?";
const std::string kD =
    "Bonjour, ma voisine de 79 ans habite rue Lamartine et ne sort plus depuis le confinement. Elle aurait "
    "besoin qu'on lui apporte ses médicaments de la pharmacie deux fois par mois. Merci";
const std::string kE1 =
    "Bonjour, je cherche quelqu'un pour faire les courses de ma mère de 84 ans cette semaine, elle habite "
    "rue "
    "Condorcet. Merci";
const std::string kE2 =
    "Bonjour, je cherche quelqu'un pour garder mon fils de 4 ans cette semaine, j'habite rue Condorcet. "
    "Merci";
const std::string kF1 =
    "Bonjour, je suis infirmière de nuit à l'hôpital Tenon et je cherche quelqu'un pour garder mes deux "
    "enfants de 5 et 8 ans jeudi et vendredi soir. Nous habitons près de la place Gambetta.";
const std::string kF2 =
    "Caissière au Franprix, ma nounou a le covid. Qui pourrait récupérer ma fille (7 ans) à la sortie de "
    "l'école lundi et mardi vers 16h30 et la garder jusqu'à 19h ? On vit vers la place des Fêtes.";
const std::string kL1 =
    "Bonjour, je cherche un ordinateur portable, même vieux, pour ma petite sœur en 6e qui a ses devoirs sur "
    "Pronote. On est au Coteau, rue des Malassis.";
const std::string kL3 =
    "Bonjour, je cherche quelqu'un qui pourrait promener le chien de ma grand-mère le matin, elle s'est "
    "cassé "
    "la jambe. On est au Coteau, rue des Malassis.";

Post post_of(std::int64_t id, const std::string& channel, const std::string& sender,
             const std::string& received_at, const std::string& text,
             std::optional<std::string> subject = std::nullopt) {
  Post post;
  post.id = id;
  post.source = channel;
  post.channel = channel;
  post.sender = sender;
  post.received_at = received_at;
  post.text = text;
  post.subject = std::move(subject);
  return post;
}

// One instance of the plugin, with `state` as the daemon's state directory.
class Dedup {
 public:
  explicit Dedup(const fs::path& state, const std::string& keys = "", bool shadow = false) {
    auto config = relais::daemon::parse_config(
        "[[moderate]]\nplugin = \"moderate_dedup\"\n" + keys, "relais.toml",
        {.state_dir = state, .plugin_dir = relais::test::plugin_dir(), .verbose = false});
    if (!config) {
      error_ = config.error().message;
      return;
    }
    auto set = relais::daemon::build_plugin_set(
        *config, {.shadow = shadow, .moderators_only = false, .state_directory = {}});
    if (!set) {
      error_ = set.error().message;
      return;
    }
    set_ = *set;
  }
  explicit operator bool() const { return set_ != nullptr; }
  const std::string& error() const { return error_; }
  const relais::daemon::PluginSet& set() const { return *set_; }

  std::vector<Finding> see(const Post& post) {
    std::vector<Finding> out;
    set_->moderators.at(0).object->moderate(post, out);
    return out;
  }

 private:
  std::shared_ptr<const relais::daemon::PluginSet> set_;
  std::string error_;
};

// Every file of a directory and its bytes.
std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    out[entry.path().filename().string()] = relais::test::read_file(entry.path());
  }
  return out;
}

TEST(moderate_dedup, LoadsAsAModeratorPlugin) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  ASSERT_EQ(dedup.set().moderators.size(), 1u);
  EXPECT_EQ(dedup.set().moderators[0].instance, "moderate:dedup:0");
  EXPECT_EQ(dedup.set().moderators[0].plugin, "moderate_dedup");
  EXPECT_EQ(dedup.set().moderators[0].version, "1.0.0");
  // A live instance keeps its window in the state directory.
  EXPECT_TRUE(fs::exists(state / "moderate_dedup.db"));
}

TEST(moderate_dedup, ExactRepeatOnAnotherChannel) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(1, "webform", "mme.r", "2020-04-01T08:00:00+02:00", kE1)).empty());
  // Case, accents, punctuation and the apostrophe differ; the words do not.
  const auto found = dedup.see(post_of(
      2, "email", "r@example.org", "2020-04-01T09:00:00Z",
      "BONJOUR ! je cherche quelqu’un pour faire les courses de ma mere de 84 ans cette semaine - elle "
      "habite rue CONDORCET... merci"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].symbol, "DUPLICATE");
  EXPECT_EQ(found[0].related_post, 1);
  EXPECT_EQ(found[0].forced, relais::Action::reject);
  EXPECT_DOUBLE_EQ(found[0].score, 0.0);
  EXPECT_EQ(found[0].description, "same text as post 1, posted 3 h earlier on another channel (webform)");
}

TEST(moderate_dedup, RewordedRepeatOnAnotherChannel) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(
      dedup.see(post_of(10, "email", "p.moreau@example.com", "2020-04-17T16:00:00+02:00", kA, kSubjectA))
          .empty());
  EXPECT_TRUE(dedup.see(post_of(11, "chat", "Awa D.", "2020-04-17T18:00:00+02:00", kD)).empty());
  const auto found = dedup.see(post_of(12, "webform", "paul.moreau", "2020-04-18T09:05:00+02:00", kB));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].symbol, "NEAR_DUPLICATE");
  EXPECT_EQ(found[0].related_post, 10);
  EXPECT_EQ(found[0].forced, relais::Action::reject);
  const auto& d = found[0].description;
  EXPECT_EQ(d.rfind("same need as post 10 (similarity 0.", 0), 0u) << d;
  EXPECT_NE(d.find("), posted 17 h earlier on another channel (email)"), std::string::npos) << d;
  // Nothing of the post or its sender.
  for (const char* personal : {"Paul", "paul", "Moreau", "Balzac", "Lille", "oncle"}) {
    EXPECT_EQ(d.find(personal), std::string::npos) << personal;
  }
}

// A repeat of a repeat links to the first post of the group.
TEST(moderate_dedup, RepeatOfARepeatLinksToTheFirst) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(20, "chat", "Sophie P.", "2020-11-23T18:40:00+01:00", kC1)).empty());
  const auto second = dedup.see(post_of(21, "email", "s.petit@example.org", "2020-11-23T19:00:00+01:00", kC2,
                                        "Voisine sans chauffage"));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].symbol, "NEAR_DUPLICATE");
  EXPECT_EQ(second[0].related_post, 20);

  // Closest to the e-mail, linked to the first post.
  const auto third = dedup.see(post_of(22, "webform", "sophie", "2020-11-24T08:00:00+01:00", kC3));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].symbol, "NEAR_DUPLICATE");
  EXPECT_EQ(third[0].related_post, 20);
  EXPECT_EQ(third[0].description.rfind("same need as post 21 (similarity 0.", 0), 0u) << third[0].description;
  EXPECT_NE(third[0].description.find(
                "), posted 13 h earlier on another channel (email), itself a repeat of post 20"),
            std::string::npos)
      << third[0].description;

  // The e-mail again, word for word: an exact repeat, still of post 20.
  const auto fourth = dedup.see(post_of(23, "email", "s.petit@example.org", "2020-11-24T09:00:00+01:00", kC2,
                                        "Voisine sans chauffage"));
  ASSERT_EQ(fourth.size(), 1u);
  EXPECT_EQ(fourth[0].symbol, "DUPLICATE");
  EXPECT_EQ(fourth[0].related_post, 20);
  EXPECT_EQ(fourth[0].description,
            "same text as post 21 (same sender), posted 14 h earlier on the same channel, itself a repeat of "
            "post 20");
}

// Two people with similar needs, and one sender asking for something else,
// are not repeats. Two people of one street writing the same template for
// different needs come close: held for a person, not linked.
TEST(moderate_dedup, DifferentNeedsAreNotRepeats) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(
      dedup.see(post_of(1, "email", "p.moreau@example.com", "2020-04-17T16:00:00Z", kA, kSubjectA)).empty());
  EXPECT_TRUE(dedup.see(post_of(2, "webform", "voisine79", "2020-04-17T17:00:00Z", kD)).empty());
  EXPECT_TRUE(dedup.see(post_of(3, "webform", "night.nurse", "2020-04-17T18:00:00Z", kF1)).empty());
  EXPECT_TRUE(dedup.see(post_of(4, "webform", "sarah.t", "2020-04-17T19:00:00Z", kF2)).empty());
  EXPECT_TRUE(dedup.see(post_of(5, "webform", "lucas.b", "2020-04-17T20:00:00Z", kL1)).empty());
  EXPECT_TRUE(dedup.see(post_of(6, "webform", "lucas.b", "2020-04-17T21:00:00Z", kL3)).empty());

  EXPECT_TRUE(dedup.see(post_of(7, "webform", "mme.r", "2020-04-18T08:00:00Z", kE1)).empty());
  const auto close = dedup.see(post_of(8, "chat", "Karim", "2020-04-18T09:30:00Z", kE2));
  ASSERT_EQ(close.size(), 1u);
  EXPECT_EQ(close[0].symbol, "POSSIBLE_DUPLICATE");
  EXPECT_EQ(close[0].forced, relais::Action::hold);
  EXPECT_EQ(close[0].related_post, 0);
  EXPECT_EQ(close[0].description.rfind("perhaps the same need as post 7 (similarity 0.", 0), 0u)
      << close[0].description;
  EXPECT_NE(close[0].description.find("posted 90 min earlier on another channel (webform): compare them"),
            std::string::npos)
      << close[0].description;
  // A possible repeat starts a group of its own.
  const auto again = dedup.see(post_of(9, "chat", "Karim", "2020-04-18T10:00:00Z", kE2));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].symbol, "DUPLICATE");
  EXPECT_EQ(again[0].related_post, 8);
}

// same_sender_threshold, when set, applies to the same sender of the same
// source only.
TEST(moderate_dedup, SameSenderThreshold) {
  const std::string keys =
      "threshold = 0.9\npossible_threshold = 0.9\nsame_sender_threshold = 0.5\ndatabase = \"\"\n";
  TempDir state;
  {
    Dedup same(state.path(), keys);
    ASSERT_TRUE(same) << same.error();
    EXPECT_TRUE(same.see(post_of(1, "email", "p.moreau@example.com", "2020-04-17T16:00:00Z", kA)).empty());
    const auto found = same.see(post_of(2, "email", "p.moreau@example.com", "2020-04-17T18:00:00Z", kB));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].symbol, "NEAR_DUPLICATE");
    EXPECT_EQ(found[0].related_post, 1);
    EXPECT_NE(found[0].description.find(", same sender)"), std::string::npos) << found[0].description;
    EXPECT_EQ(found[0].description.find("moreau"), std::string::npos);
  }
  {
    Dedup other(state.path(), keys);
    ASSERT_TRUE(other) << other.error();
    EXPECT_TRUE(other.see(post_of(1, "email", "p.moreau@example.com", "2020-04-17T16:00:00Z", kA)).empty());
    EXPECT_TRUE(other.see(post_of(2, "email", "someone@example.com", "2020-04-17T18:00:00Z", kB)).empty());
  }
  {
    // The same name on another source is someone else.
    Dedup elsewhere(state.path(), keys);
    ASSERT_TRUE(elsewhere) << elsewhere.error();
    EXPECT_TRUE(
        elsewhere.see(post_of(1, "email", "p.moreau@example.com", "2020-04-17T16:00:00Z", kA)).empty());
    EXPECT_TRUE(
        elsewhere.see(post_of(2, "chat", "p.moreau@example.com", "2020-04-17T18:00:00Z", kB)).empty());
  }
}

TEST(moderate_dedup, ShortTextsAreNotCompared) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  for (int id = 1; id <= 3; ++id) {
    EXPECT_TRUE(dedup.see(post_of(id, "chat", "x" + std::to_string(id), "", "Merci beaucoup !")).empty());
    EXPECT_TRUE(dedup.see(post_of(10 + id, "chat", "y", "", "ok pour moi, je peux passer demain")).empty());
  }
  Dedup two(state / "two", "database = \"\"\nmin_words = 2\n");
  ASSERT_TRUE(two) << two.error();
  EXPECT_TRUE(two.see(post_of(1, "chat", "x", "", "Ok pour moi")).empty());
  EXPECT_EQ(two.see(post_of(2, "chat", "y", "", "ok pour moi !")).at(0).symbol, "DUPLICATE");
  // Greetings and thanks are not counted.
  EXPECT_TRUE(two.see(post_of(3, "chat", "x", "", "Bonjour et merci")).empty());
  EXPECT_TRUE(two.see(post_of(4, "chat", "y", "", "Bonjour et merci")).empty());
}

TEST(moderate_dedup, OnlyWithinTheWindow) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(1, "webform", "a", "2020-04-01T10:00:00Z", kE1)).empty());
  EXPECT_TRUE(dedup.see(post_of(2, "email", "b", "2020-04-04T11:00:00Z", kE1)).empty());  // 73 h later
  EXPECT_EQ(dedup.see(post_of(3, "chat", "c", "2020-04-04T12:00:00Z", kE1)).at(0).related_post, 2);

  Dedup longer(state / "longer", "window_hours = 100\ndatabase = \"\"\n");
  ASSERT_TRUE(longer) << longer.error();
  EXPECT_TRUE(longer.see(post_of(1, "webform", "a", "2020-04-01T10:00:00Z", kE1)).empty());
  EXPECT_EQ(longer.see(post_of(2, "email", "b", "2020-04-04T11:00:00Z", kE1)).at(0).related_post, 1);
}

TEST(moderate_dedup, MaxEntriesBoundsTheWindow) {
  TempDir state;
  {
    Dedup dedup(state.path(), "max_entries = 2\n");
    ASSERT_TRUE(dedup) << dedup.error();
    EXPECT_TRUE(dedup.see(post_of(1, "chat", "a", "2020-04-01T10:00:00Z", kE1)).empty());
    EXPECT_TRUE(dedup.see(post_of(2, "chat", "b", "2020-04-01T10:01:00Z", kF1)).empty());
    EXPECT_TRUE(dedup.see(post_of(3, "chat", "c", "2020-04-01T10:02:00Z", kL1)).empty());
    // The oldest went.
    EXPECT_TRUE(dedup.see(post_of(4, "chat", "d", "2020-04-01T10:03:00Z", kE1)).empty());
  }
  // So it did from the file: a new instance holds the newest two.
  Dedup next(state.path(), "max_entries = 2\n");
  ASSERT_TRUE(next) << next.error();
  EXPECT_TRUE(next.see(post_of(5, "chat", "e", "2020-04-01T10:04:00Z", kF1)).empty());
  EXPECT_EQ(next.see(post_of(6, "chat", "f", "2020-04-01T10:05:00Z", kE1)).at(0).related_post, 4);
}

// The window is kept in the state directory: a new instance (a restart, a
// reload) finds the posts of the one before.
TEST(moderate_dedup, TheWindowSurvivesANewInstance) {
  TempDir state;
  {
    Dedup first(state.path());
    ASSERT_TRUE(first) << first.error();
    EXPECT_TRUE(first.see(post_of(1, "email", "p.moreau@example.com", "2020-04-17T16:00:00Z", kA, kSubjectA))
                    .empty());
  }
  Dedup second(state.path());
  ASSERT_TRUE(second) << second.error();
  const auto found = second.see(post_of(2, "webform", "paul.moreau", "2020-04-18T07:05:00Z", kB));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].symbol, "NEAR_DUPLICATE");
  EXPECT_EQ(found[0].related_post, 1);
}

// During a reload the running instance still moderates the posts in flight
// after the new one was made: the new one reads what the old one wrote.
TEST(moderate_dedup, ANewInstanceSeesWhatTheRunningOneStillWrites) {
  TempDir state;
  Dedup running(state.path());
  ASSERT_TRUE(running) << running.error();
  Dedup next(state.path());
  ASSERT_TRUE(next) << next.error();
  EXPECT_TRUE(running.see(post_of(1, "chat", "Sophie P.", "2020-11-23T18:40:00+01:00", kC1)).empty());
  const auto found = next.see(post_of(2, "email", "s.petit@example.org", "2020-11-23T19:00:00+01:00", kC2));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].related_post, 1);
  // And a post the new instance saw is not counted twice by it.
  EXPECT_EQ(next.see(post_of(3, "webform", "sophie", "2020-11-24T08:00:00+01:00", kC3)).at(0).related_post,
            1);
}

// A shadow instance (rules test, replay) reads the window but never writes:
// the files stay as they were, and a later live instance does not know the
// posts the shadow one saw.
TEST(moderate_dedup, ShadowInstancesReadButNeverWrite) {
  TempDir state;
  {
    Dedup live(state.path());
    ASSERT_TRUE(live) << live.error();
    EXPECT_TRUE(live.see(post_of(1, "webform", "mme.r", "2020-04-01T08:00:00Z", kE1)).empty());
  }
  const auto before = files_of(state.path());
  ASSERT_TRUE(before.contains("moderate_dedup.db"));
  {
    Dedup shadow(state.path(), "", true);
    ASSERT_TRUE(shadow) << shadow.error();
    EXPECT_EQ(
        shadow.see(post_of(2, "email", "r@example.org", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 1);
    EXPECT_TRUE(shadow.see(post_of(3, "chat", "Sophie P.", "2020-04-01T09:30:00Z", kC1)).empty());
    // What it saw, it remembers in memory.
    EXPECT_EQ(shadow.see(post_of(4, "chat", "Sophie P.", "2020-04-01T09:40:00Z", kC1)).at(0).related_post, 3);
  }
  EXPECT_EQ(files_of(state.path()), before);

  Dedup later(state.path());
  ASSERT_TRUE(later) << later.error();
  EXPECT_TRUE(later.see(post_of(5, "chat", "Sophie P.", "2020-04-01T10:00:00Z", kC1)).empty());
  EXPECT_EQ(later.see(post_of(6, "email", "r@example.org", "2020-04-01T10:10:00Z", kE1)).at(0).related_post,
            1);
}

// Beside a running live instance (its write-ahead log open), a shadow
// instance reads what the live one wrote, and adds nothing to it.
TEST(moderate_dedup, ShadowBesideARunningInstance) {
  TempDir state;
  Dedup live(state.path());
  ASSERT_TRUE(live) << live.error();
  EXPECT_TRUE(live.see(post_of(1, "webform", "mme.r", "2020-04-01T08:00:00Z", kE1)).empty());
  {
    Dedup shadow(state.path(), "", true);
    ASSERT_TRUE(shadow) << shadow.error();
    EXPECT_EQ(
        shadow.see(post_of(2, "email", "r@example.org", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 1);
    EXPECT_TRUE(shadow.see(post_of(3, "chat", "Sophie P.", "2020-04-01T09:30:00Z", kC1)).empty());
  }
  EXPECT_TRUE(live.see(post_of(4, "chat", "Sophie P.", "2020-04-01T10:00:00Z", kC1)).empty());
}

TEST(moderate_dedup, ShadowWithoutAFileCreatesNone) {
  TempDir state;
  Dedup shadow(state.path(), "", true);
  ASSERT_TRUE(shadow) << shadow.error();
  EXPECT_TRUE(shadow.see(post_of(1, "webform", "a", "2020-04-01T08:00:00Z", kE1)).empty());
  EXPECT_EQ(shadow.see(post_of(2, "email", "b", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 1);
  EXPECT_TRUE(fs::is_empty(state.path()));
}

TEST(moderate_dedup, MemoryOnlyWhenDatabaseIsEmpty) {
  TempDir state;
  Dedup dedup(state.path(), "database = \"\"\n");
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(1, "webform", "a", "2020-04-01T08:00:00Z", kE1)).empty());
  EXPECT_EQ(dedup.see(post_of(2, "email", "b", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 1);
  EXPECT_TRUE(fs::is_empty(state.path()));
}

// A stored post moderated again (after a crash), or replayed, is compared
// with the posts stored before it only: never with itself or its repeats.
TEST(moderate_dedup, APostRunAgainIsNotItsOwnRepeat) {
  TempDir state;
  {
    Dedup live(state.path());
    ASSERT_TRUE(live) << live.error();
    EXPECT_TRUE(live.see(post_of(5, "webform", "a", "2020-04-01T08:00:00Z", kE1)).empty());
    EXPECT_EQ(live.see(post_of(6, "email", "b", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 5);
    EXPECT_TRUE(live.see(post_of(5, "webform", "a", "2020-04-01T08:00:00Z", kE1)).empty());
    EXPECT_EQ(live.see(post_of(6, "email", "b", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 5);
  }
  Dedup replay(state.path(), "", true);
  ASSERT_TRUE(replay) << replay.error();
  EXPECT_TRUE(replay.see(post_of(5, "webform", "a", "2020-04-01T08:00:00Z", kE1)).empty());
  EXPECT_EQ(replay.see(post_of(6, "email", "b", "2020-04-01T09:00:00Z", kE1)).at(0).related_post, 5);
}

// Posts that were never stored (id 0, as in tools) are compared, and link
// to 0; without a received_at they count at the wall clock.
TEST(moderate_dedup, UnstoredPosts) {
  TempDir state;
  Dedup dedup(state.path());
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(0, "chat", "a", "", kE1)).empty());
  const auto found = dedup.see(post_of(0, "chat", "b", "", kE1));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].related_post, 0);
  EXPECT_EQ(found[0].description,
            "same text as an earlier post, posted less than a minute earlier on the same channel");
}

TEST(moderate_dedup, ScoresAndActions) {
  TempDir state;
  Dedup dedup(state.path(),
              "action = \"hold\"\nscore = 2\nnear_action = \"none\"\nnear_score = 1.5\n"
              "possible_action = \"reject\"\npossible_score = 0.5\n");
  ASSERT_TRUE(dedup) << dedup.error();
  EXPECT_TRUE(dedup.see(post_of(1, "email", "p", "2020-04-17T16:00:00Z", kA, kSubjectA)).empty());
  const auto near = dedup.see(post_of(2, "webform", "q", "2020-04-17T17:00:00Z", kB));
  ASSERT_EQ(near.size(), 1u);
  EXPECT_FALSE(near[0].forced.has_value());
  EXPECT_DOUBLE_EQ(near[0].score, 1.5);
  const auto exact = dedup.see(post_of(3, "chat", "r", "2020-04-17T18:00:00Z", kB));
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0].forced, relais::Action::hold);
  EXPECT_DOUBLE_EQ(exact[0].score, 2.0);
  EXPECT_TRUE(dedup.see(post_of(4, "webform", "s", "2020-04-17T19:00:00Z", kE1)).empty());
  const auto possible = dedup.see(post_of(5, "chat", "t", "2020-04-17T20:00:00Z", kE2));
  ASSERT_EQ(possible.size(), 1u);
  EXPECT_EQ(possible[0].forced, relais::Action::reject);
  EXPECT_DOUBLE_EQ(possible[0].score, 0.5);
}

// A file that is not a database stops the instance, named, with what to do.
TEST(moderate_dedup, ACorruptFileIsRefused) {
  TempDir state;
  relais::test::write_file(state / "moderate_dedup.db", std::string(4096, 'x'));
  for (const bool shadow : {false, true}) {
    Dedup dedup(state.path(), "", shadow);
    ASSERT_FALSE(dedup);
    EXPECT_NE(dedup.error().find("moderate[0] (plugin moderate_dedup"), std::string::npos) << dedup.error();
    EXPECT_NE(dedup.error().find("removing it starts an empty window"), std::string::npos) << dedup.error();
  }
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(moderate_dedup, BadTablesAreRefusedWithTheirPosition) {
  TempDir state;
  for (const auto& bad : std::vector<BadTable>{
           {"window_hours = 0\n",
            "relais.toml:3:16: moderate[0].window_hours: expected a number of hours above 0"},
           {"window_hours = \"3 days\"\n", "relais.toml:3:16: moderate[0].window_hours"},
           {"threshold = 1.5\n",
            "relais.toml:3:13: moderate[0].threshold: expected a number above 0 and at most 1"},
           {"threshold = 0\n", "relais.toml:3:13: moderate[0].threshold"},
           {"same_sender_threshold = -0.1\n", "relais.toml:3:25: moderate[0].same_sender_threshold"},
           {"possible_threshold = 0.6\n",
            "relais.toml:3:22: moderate[0].possible_threshold: expected a number above 0 and at most "
            "`threshold` "
            "(0.50)"},
           {"min_words = 0\n", "relais.toml:3:13: moderate[0].min_words: expected an integer of at least 1"},
           {"action = \"accept\"\n",
            "relais.toml:3:10: moderate[0].action: expected \"hold\", \"reject\" or \"none\""},
           {"near_action = \"maybe\"\n", "relais.toml:3:15: moderate[0].near_action"},
           {"possible_action = 1\n", "relais.toml:3:19: moderate[0].possible_action"},
           {"score = \"high\"\n", "relais.toml:3:9: moderate[0].score"},
           {"database = \"../elsewhere.db\"\n",
            "relais.toml:3:12: moderate[0].database: expected a file name in the state directory"},
           {"database = \"..\"\n", "relais.toml:3:12: moderate[0].database"},
           {"max_entries = 0\n",
            "relais.toml:3:15: moderate[0].max_entries: expected an integer from 1 to 1000000"},
           {"treshold = 0.6\n", "relais.toml:3:1: moderate[0].treshold: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    Dedup dedup(state.path(), bad.keys);
    ASSERT_FALSE(dedup);
    EXPECT_NE(dedup.error().find(bad.expected), std::string::npos) << dedup.error();
  }
}

// ---------------------------------------------------------------- against a brute-force reference

// What the plugin computes, written again the plain way, for texts that
// normalise to themselves (lowercase ASCII words, one space apart): the
// reference for the test below. Any change to the signature scheme
// (kFormat in the plugin) must change this too.
namespace reference {

constexpr std::size_t kHashes = 128;
constexpr std::size_t kShingle = 5;

constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

using Signature = std::array<std::uint32_t, kHashes>;

Signature minhash(const std::string& text) {
  std::array<std::uint64_t, kHashes> a{};
  std::array<std::uint64_t, kHashes> b{};
  std::uint64_t state = 0x72656c616973ULL;
  for (std::size_t i = 0; i < kHashes; ++i) {
    state += 0x9e3779b97f4a7c15ULL;
    a[i] = mix64(state) | 1U;
    state += 0x9e3779b97f4a7c15ULL;
    b[i] = mix64(state);
  }
  Signature s;
  s.fill(UINT32_MAX);
  const std::size_t n = text.size() > kShingle ? text.size() - kShingle + 1 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = mix64(fnv1a(std::string_view(text).substr(i, kShingle)));
    for (std::size_t k = 0; k < kHashes; ++k) {
      s[k] = std::min(s[k], static_cast<std::uint32_t>((a[k] * x + b[k]) >> 32U));
    }
  }
  return s;
}

unsigned equal_values(const Signature& x, const Signature& y) {
  unsigned n = 0;
  for (std::size_t k = 0; k < kHashes; ++k) n += x[k] == y[k] ? 1U : 0U;
  return n;
}

struct Thresholds {
  double window_hours = 72;
  double threshold = 0.5;
  double possible = 0.25;
  std::optional<double> same_sender;
};

struct Row {
  std::int64_t id = 0;
  std::int64_t root = 0;
  std::int64_t at = 0;  // minutes
  std::string text;
  std::string sender;
  Signature signature{};
};

struct Decision {
  std::string symbol;  // empty: none
  std::int64_t related = 0;
  std::string description_start;
  unsigned equal = 0;  // of the best match
};

// Every row compared, in the window's order: the first exact copy,
// otherwise the most similar of the best tier.
Decision decide(const std::vector<Row>& window, const Row& post, const Thresholds& t) {
  int best_tier = 0;
  double best_similarity = 0;
  const Row* best = nullptr;
  unsigned best_equal = 0;
  for (const Row& row : window) {
    if (std::abs(post.at - row.at) > static_cast<std::int64_t>(t.window_hours * 60)) continue;
    int tier = 3;
    double similarity = 1.0;
    unsigned equal = kHashes;
    if (row.text != post.text) {
      equal = equal_values(row.signature, post.signature);
      similarity = static_cast<double>(equal) / static_cast<double>(kHashes);
      double near = t.threshold;
      if (row.sender == post.sender && t.same_sender) near = std::min(near, *t.same_sender);
      tier = similarity >= near ? 2 : similarity >= t.possible ? 1 : 0;
    }
    if (tier > best_tier || (tier == best_tier && tier != 3 && similarity > best_similarity)) {
      best_tier = tier;
      best_similarity = similarity;
      best = &row;
      best_equal = equal;
    }
  }
  Decision d;
  if (best_tier == 0) return d;
  std::array<char, 16> two{};
  (void)std::snprintf(two.data(), two.size(), "%.2f", best_similarity);
  const std::string post_name = "post " + std::to_string(best->id);
  d.equal = best_equal;
  if (best_tier == 3) {
    d = {"DUPLICATE", best->root, "same text as " + post_name, best_equal};
  } else if (best_tier == 2) {
    d = {"NEAR_DUPLICATE", best->root, "same need as " + post_name + " (similarity " + two.data(),
         best_equal};
  } else {
    d = {"POSSIBLE_DUPLICATE", 0, "perhaps the same need as " + post_name + " (similarity " + two.data(),
         best_equal};
  }
  return d;
}

}  // namespace reference

// Thousands of posts of one small vocabulary, many of them reworkings of
// an earlier one (words kept, dropped, moved, added) and a few exact
// copies, so that similarities spread over every value around the
// thresholds; every decision of the plugin, window full of rows that look
// alike, must be the one of comparing every row in full. Catches a scan
// that skips a row it must compare, or picks another among equals.
TEST(moderate_dedup, DecisionsAreThoseOfComparingEveryRow) {
  std::mt19937 rng(20200417);
  const auto roll = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::set<std::string> greetings = {
      "bonjour", "bonsoir",      "rebonjour",   "salut",  "coucou",   "hello",    "hi",     "hey",   "merci",
      "avance",  "cordialement", "amicalement", "bisous", "svp",      "stp",      "thanks", "thank", "please",
      "regards", "cheers",       "ola",         "hola",   "obrigado", "obrigada", "gracias"};
  std::vector<std::string> vocabulary;
  while (vocabulary.size() < 300) {
    std::string w;
    const std::size_t length = 2 + roll(7);
    for (std::size_t i = 0; i < length; ++i) w += static_cast<char>('a' + roll(26));
    if (!greetings.contains(w)) vocabulary.push_back(w);
  }
  const auto join = [](const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
  };

  // The texts, as word lists: new ones, and reworkings of earlier ones.
  std::vector<std::vector<std::string>> texts;
  for (std::size_t i = 0; i < 2500; ++i) {
    std::vector<std::string> words;
    const std::size_t kind = roll(10);
    if (texts.empty() || kind < 3) {
      const std::size_t n = 10 + roll(25);
      for (std::size_t k = 0; k < n; ++k) words.push_back(vocabulary[roll(vocabulary.size())]);
    } else if (kind == 3) {
      words = texts[roll(texts.size())];  // an exact copy
    } else {
      for (const auto& w : texts[texts.size() - 1 - roll(std::min<std::size_t>(texts.size(), 400))]) {
        const std::size_t what = roll(100);
        if (what < 20) continue;  // dropped
        if (what < 35) words.push_back(vocabulary[roll(vocabulary.size())]);
        words.push_back(w);
      }
      if (words.size() > 4 && roll(2) == 0) std::swap(words[roll(words.size())], words[roll(words.size())]);
      while (words.size() < 10) words.push_back(vocabulary[roll(vocabulary.size())]);
    }
    texts.push_back(std::move(words));
  }

  struct Case {
    std::string keys;
    reference::Thresholds thresholds;
  };
  for (const auto& c : std::vector<Case>{
           {"", {}},
           // Thresholds between two counts of equal values (38.4 and 57.6 of
           // 128), a lower one for the same sender, and a window in time
           // shorter than the stream.
           {"window_hours = 24\nthreshold = 0.45\npossible_threshold = 0.3\nsame_sender_threshold = 0.2\n",
            {24, 0.45, 0.3, 0.2}},
       }) {
    SCOPED_TRACE(c.keys);
    TempDir state;
    Dedup dedup(state.path(), "database = \"\"\nmin_words = 4\n" + c.keys);
    ASSERT_TRUE(dedup) << dedup.error();
    std::vector<reference::Row> window;
    std::map<std::string, std::size_t> tiers;
    std::map<unsigned, std::size_t> best_equal;  // how many decisions had their best match at that count
    for (std::size_t i = 0; i < texts.size(); ++i) {
      reference::Row row;
      row.id = static_cast<std::int64_t>(i + 1);
      row.at = static_cast<std::int64_t>(i);
      row.text = join(texts[i]);
      row.sender = "neighbour" + std::to_string(roll(40));
      row.signature = reference::minhash(row.text);
      const auto expected = reference::decide(window, row, c.thresholds);
      const std::time_t at = 1585699200 + static_cast<std::time_t>(i) * 60;  // one a minute from 2020-04-01
      std::tm tm{};
      ::gmtime_r(&at, &tm);
      std::array<char, 32> received{};
      (void)std::strftime(received.data(), received.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
      const auto found = dedup.see(post_of(row.id, "chat", row.sender, received.data(), row.text));
      SCOPED_TRACE("post " + std::to_string(row.id) + ": " + row.text);
      if (expected.symbol.empty()) {
        ASSERT_TRUE(found.empty()) << found[0].description;
      } else {
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].symbol, expected.symbol);
        EXPECT_EQ(found[0].related_post, expected.related);
        EXPECT_EQ(found[0].description.rfind(expected.description_start, 0), 0u)
            << found[0].description << "\nexpected: " << expected.description_start;
        ++tiers[expected.symbol];
        ++best_equal[expected.equal];
      }
      row.root =
          expected.symbol == "DUPLICATE" || expected.symbol == "NEAR_DUPLICATE" ? expected.related : row.id;
      window.push_back(std::move(row));
    }
    // The stream did reach every tier, and matches exactly at the lowest
    // count of each threshold.
    EXPECT_GT(tiers["DUPLICATE"], 50u);
    EXPECT_GT(tiers["NEAR_DUPLICATE"], 50u);
    EXPECT_GT(tiers["POSSIBLE_DUPLICATE"], 50u);
    const unsigned possible = c.keys.empty() ? 32 : 39;  // ceil(0.25 * 128), ceil(0.3 * 128)
    const unsigned near = c.keys.empty() ? 64 : 58;
    EXPECT_GT(best_equal[possible], 0u);
    EXPECT_GT(best_equal[near], 0u);
  }
}

}  // namespace
