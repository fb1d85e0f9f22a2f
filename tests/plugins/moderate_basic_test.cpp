// moderate_basic, loaded from the build's plugin directory as relaisd loads
// it: its findings, its keys, and the errors of a bad table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/plugin_set.hpp"

namespace {

using relais::Finding;
using relais::Post;

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys = "") {
  auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_basic\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

std::vector<Finding> findings_of(const std::string& text, const std::string& keys = "") {
  const auto set = load(keys);
  std::vector<Finding> findings;
  if (!set) return findings;
  Post post;
  post.text = text;
  set->moderators.at(0).object->moderate(post, findings);
  return findings;
}

bool has_symbol(const std::vector<Finding>& findings, std::string_view symbol) {
  for (const auto& f : findings) {
    if (f.symbol == symbol) return true;
  }
  return false;
}

TEST(moderate_basic, LoadsAsAModeratorPlugin) {
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->moderators.size(), 1u);
  EXPECT_EQ(set->moderators[0].instance, "moderate:basic:0");
  EXPECT_EQ(set->moderators[0].plugin, "moderate_basic");
  EXPECT_EQ(set->moderators[0].version, "1.0.0");
  EXPECT_EQ(std::filesystem::path(set->moderators[0].file).filename(), "moderate_basic.so");
}

TEST(moderate_basic, ManyLinks) {
  const auto three = findings_of("see http://a.example https://b.example and hxxp://c.example");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].symbol, "MANY_LINKS");
  EXPECT_DOUBLE_EQ(three[0].score, 3.0);
  EXPECT_FALSE(three[0].forced.has_value());
  EXPECT_NE(three[0].description.find("3 links"), std::string::npos) << three[0].description;

  EXPECT_TRUE(has_symbol(findings_of("HTTP://A.EXAMPLE Https://b.example WWW.c.example"), "MANY_LINKS"));
  EXPECT_TRUE(has_symbol(findings_of("www.a.fr www.b.fr www.c.fr www.d.fr"), "MANY_LINKS"));
  EXPECT_TRUE(findings_of("one link: https://mairie.example/aide and www.other.example").empty());
  EXPECT_TRUE(findings_of("no links at all").empty());
}

// A link written with both a scheme and www. is one link, not two.
TEST(moderate_basic, ALinkIsCountedOnce) {
  const auto findings = findings_of("Voir https://www.mairie.example et http://www.ccas.example");
  EXPECT_FALSE(has_symbol(findings, "MANY_LINKS")) << findings.front().description;
}

TEST(moderate_basic, Shouting) {
  const std::string forty_upper(40, 'A');
  const auto shouting = findings_of(forty_upper);
  ASSERT_EQ(shouting.size(), 1u);
  EXPECT_EQ(shouting[0].symbol, "SHOUTING");
  EXPECT_DOUBLE_EQ(shouting[0].score, 1.0);

  EXPECT_TRUE(has_symbol(findings_of("URGENT!!! J'AI BESOIN D'AIDE TOUT DE SUITE, APPELEZ MOI VITE SVP"),
                         "SHOUTING"));
  // 80 % capitals is enough; fewer is not.
  EXPECT_TRUE(has_symbol(findings_of(std::string(32, 'A') + std::string(8, 'a')), "SHOUTING"));
  EXPECT_FALSE(has_symbol(findings_of(std::string(31, 'A') + std::string(9, 'a')), "SHOUTING"));
  // Short texts never shout; digits and punctuation do not count as letters.
  EXPECT_TRUE(findings_of(std::string(39, 'A') + " 1234567890 !!!").empty());
  EXPECT_TRUE(findings_of("Bonjour, j'ai besoin d'aide pour mes courses cette semaine.").empty());
}

TEST(moderate_basic, KeysChangeThresholdsAndScores) {
  const std::string two_links = "see http://a.example and http://b.example";
  EXPECT_TRUE(findings_of(two_links).empty());
  const auto found = findings_of(two_links, "links = 2\nlinks_score = 7.5\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].symbol, "MANY_LINKS");
  EXPECT_DOUBLE_EQ(found[0].score, 7.5);

  const std::string half_upper = std::string(10, 'A') + std::string(10, 'a');
  EXPECT_TRUE(findings_of(half_upper).empty());
  const auto shouted =
      findings_of(half_upper, "shouting_min_letters = 20\nshouting_ratio = 0.5\nshouting_score = 2\n");
  ASSERT_EQ(shouted.size(), 1u);
  EXPECT_EQ(shouted[0].symbol, "SHOUTING");
  EXPECT_DOUBLE_EQ(shouted[0].score, 2.0);
}

// Two instances of the same plugin keep their own settings.
TEST(moderate_basic, TwoInstancesKeepTheirOwnTables) {
  auto set = relais::test::plugin_set(
      "[[moderate]]\nplugin = \"moderate_basic\"\nlinks = 1\nlinks_score = 1\n"
      "[[moderate]]\nplugin = \"moderate_basic\"\nlinks = 1\nlinks_score = 2\n");
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ((*set)->moderators.size(), 2u);
  EXPECT_EQ((*set)->moderators[1].instance, "moderate:basic:1");
  Post post;
  post.text = "http://a.example";
  std::vector<Finding> findings;
  for (const auto& m : (*set)->moderators) m.object->moderate(post, findings);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_DOUBLE_EQ(findings[0].score, 1.0);
  EXPECT_DOUBLE_EQ(findings[1].score, 2.0);
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(moderate_basic, BadTablesAreRefusedWithTheirPosition) {
  for (const auto& bad : std::vector<BadTable>{
           {"links = 0\n", "relais.toml:3:9: moderate[0].links: expected an integer of at least 1"},
           {"links = \"many\"\n", "relais.toml:3:9: moderate[0].links"},
           {"shouting_ratio = 1.5\n",
            "relais.toml:3:18: moderate[0].shouting_ratio: expected a number above 0"},
           {"shouting_ratio = 0\n", "relais.toml:3:18: moderate[0].shouting_ratio"},
           {"link = 3\n", "relais.toml:3:1: moderate[0].link: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[moderate]]\nplugin = \"moderate_basic\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
