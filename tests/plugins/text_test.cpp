// plugins/shared/text: the normalised form moderation matches against, and
// its map back to the original bytes.
#include <gtest/gtest.h>

#include <string>

#include "text.hpp"

namespace {

using relais::text::normalize;

TEST(plugin_text, CaseAccentsAndWidthFoldAlike) {
  for (const std::string s :
       {"VIREMENT", "virement", "vírement", "VÍREMENT", "Virement",
        "\xEF\xBC\xB6\xEF\xBC\xA9\xEF\xBC\xB2\xEF\xBC\xA5\xEF\xBC\xAD\xEF\xBC\xA5\xEF\xBC\xAE"
        "\xEF\xBC\xB4",       // fullwidth VIREMENT
        "vi\xCC\x81rement"})  // i + combining acute
  {
    SCOPED_TRACE(s);
    EXPECT_EQ(normalize(s).text, "virement");
  }
  EXPECT_EQ(normalize("Ça coûte 5 € à l'hôpital").text, "ca coute 5 € a l'hopital");
  EXPECT_EQ(normalize("Straße").text, "strasse");
  EXPECT_EQ(normalize("\xEF\xAC\x81"
                      "nance")
                .text,
            "finance");  // the ligature fi
}

TEST(plugin_text, SpansMapBackToTheOriginalBytes) {
  const std::string original = "Déjà un VÍREMENT reçu";
  const auto n = normalize(original);
  ASSERT_EQ(n.text, "deja un virement recu");
  ASSERT_EQ(n.origin.size(), n.text.size());
  const auto at = n.text.find("virement");
  const auto [begin, end] = n.original_span(at, at + 8);
  EXPECT_EQ(original.substr(begin, end - begin), "VÍREMENT");
  const auto [b2, e2] = n.original_span(0, 4);
  EXPECT_EQ(original.substr(b2, e2 - b2), "Déjà");
  // A code point that becomes two ("ﬁ" -> "fi") maps back whole from either half.
  const std::string lig =
      "\xEF\xAC\x81"
      "x";
  const auto l = normalize(lig);
  EXPECT_EQ(l.original_span(1, 2), (std::pair<std::size_t, std::size_t>{0, 3}));
}

TEST(plugin_text, InvalidUtf8IsReplacedNotDropped) {
  const std::string bad =
      "a\xFF"
      "b";
  const auto n = normalize(bad);
  EXPECT_EQ(n.text,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(n.original_span(1, 4), (std::pair<std::size_t, std::size_t>{1, 2}));
}

TEST(plugin_text, WordsAreRunsOfLettersAndDigits) {
  using V = std::vector<std::string_view>;
  const auto n = normalize("L'hôpital, 3 rue Lamartine — ВИРЕМЕНТ! 06-39 😀 x");
  EXPECT_EQ(relais::text::words(n.text),
            (V{"l", "hopital", "3", "rue", "lamartine", "виремент", "06", "39", "x"}));
  EXPECT_TRUE(relais::text::words("").empty());
  EXPECT_TRUE(relais::text::words(" ,;! ").empty());
  EXPECT_EQ(relais::text::words("abc"), V{"abc"});
}

TEST(plugin_text, ReusedBuffersGiveTheSameResult) {
  // Longer, shorter, expanding ("\uFDFA" is 18 code points) and invalid
  // input into one Normalized, as a plugin does post after post.
  relais::text::Normalized reused;
  std::vector<std::string_view> words;
  for (const std::string s : {"Déjà un VÍREMENT reçu, l’hôpital", "x", "\xEF\xB7\xBA \xEF\xB7\xBA!", "",
                              "a\xFF\xC3", "Straße \xEF\xAC\x81nance ＶＩＲＥＭＥＮＴ"}) {
    SCOPED_TRACE(s);
    const auto fresh = normalize(s);
    normalize(s, reused);
    EXPECT_EQ(reused.text, fresh.text);
    EXPECT_EQ(reused.origin, fresh.origin);
    ASSERT_EQ(fresh.origin.size(), fresh.text.size());
    relais::text::words(fresh.text, words);
    EXPECT_EQ(words, relais::text::words(fresh.text));
  }
}

}  // namespace
