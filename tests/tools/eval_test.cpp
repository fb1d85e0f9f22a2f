// bench/eval without a daemon: the labelled file's reader, the flag mapping,
// and each metric on cases built by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval_dataset.hpp"
#include "eval_metrics.hpp"

namespace relais::eval {
namespace {

// A case with the labels that matter to a test; the rest stay valid.
Case make(std::string expected_action, std::string predicted_action, std::vector<std::string> symbols = {},
          std::vector<std::string> flags = {}) {
  Case c;
  c.id = "x";
  c.expected.kind = "request";
  c.expected.categories = {"groceries"};
  c.expected.urgency = "normal";
  c.expected.expected_action = std::move(expected_action);
  c.expected.flags = std::move(flags);
  c.predicted.action = std::move(predicted_action);
  c.predicted.symbols = std::move(symbols);
  return c;
}

Case triaged(std::string kind, std::vector<std::string> categories, std::string urgency, std::string area) {
  Case c = make("accept", "accept");
  c.predicted.triaged = true;
  c.predicted.kind = std::move(kind);
  c.predicted.categories = std::move(categories);
  c.predicted.urgency = std::move(urgency);
  c.predicted.area = std::move(area);
  return c;
}

TEST(EvalFlagMap, DefaultsMapByPrefix) {
  const auto m = FlagMap::defaults();
  EXPECT_EQ(m.flag_of("SCAM_FAKE_SALE"), "scam");
  EXPECT_EQ(m.flag_of("SPAM_CHAIN"), "spam");
  EXPECT_EQ(m.flag_of("ABUSE_INSULT"), "abuse");
  EXPECT_EQ(m.flag_of("HATE_SPEECH"), "abuse");
  EXPECT_EQ(m.flag_of("THREAT_VIOLENCE"), "abuse");
  EXPECT_EQ(m.flag_of("PII_THIRD_PARTY"), "pii");
  EXPECT_EQ(m.flag_of("OFF_TOPIC_SALE"), "off_topic");
  EXPECT_EQ(m.flag_of("DUPLICATE"), "duplicate");
  EXPECT_EQ(m.flag_of("NEAR_DUPLICATE"), "duplicate");
  EXPECT_EQ(m.flag_of("POSSIBLE_DUPLICATE"), "duplicate");
  EXPECT_EQ(m.flag_of("PHISH_BANK_DETAILS"), "scam");
  // The poster's own details are redacted, not a flag.
  EXPECT_EQ(m.flag_of("PII_PHONE"), std::nullopt);
  EXPECT_EQ(m.flag_of("MANY_LINKS"), std::nullopt);
  EXPECT_EQ(m.flag_of("SCAM"), std::nullopt);  // a prefix is matched whole
}

TEST(EvalFlagMap, AddedPrefixesJoinTheDefaultsAndTheLongestWins) {
  auto m = FlagMap::defaults();
  ASSERT_TRUE(m.add("MANY_LINKS=spam"));
  ASSERT_TRUE(m.add("SCAM_WARNING=spam"));
  EXPECT_EQ(m.flag_of("MANY_LINKS"), "spam");
  EXPECT_EQ(m.flag_of("SCAM_WARNING_FORWARDED"), "spam");
  EXPECT_EQ(m.flag_of("SCAM_PHISHING"), "scam");
  ASSERT_TRUE(m.add("SCAM_=abuse"));  // the same prefix again: its flag changes
  EXPECT_EQ(m.flag_of("SCAM_PHISHING"), "abuse");
}

TEST(EvalFlagMap, RefusesABadSpec) {
  auto m = FlagMap::defaults();
  EXPECT_FALSE(m.add("MANY_LINKS"));
  EXPECT_FALSE(m.add("=spam"));
  const auto bad = m.add("MANY_LINKS=junk");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("\"junk\" is not one of spam, scam"), std::string::npos)
      << bad.error().message;
}

TEST(EvalMetrics, ConfusionAndAccuracy) {
  const std::vector<Case> cases = {
      make("accept", "accept"), make("accept", "hold"),   make("accept", "reject"), make("hold", "hold"),
      make("reject", "accept"), make("reject", "reject"), make("reject", "reject"), make("hold", "reject")};
  const auto m = action_metric(cases);
  // rows: expected accept, hold, reject; columns: predicted accept, hold, reject
  EXPECT_EQ(m.confusion[0], (std::array<std::size_t, 3>{1, 1, 1}));
  EXPECT_EQ(m.confusion[1], (std::array<std::size_t, 3>{0, 1, 1}));
  EXPECT_EQ(m.confusion[2], (std::array<std::size_t, 3>{1, 0, 2}));
  EXPECT_EQ(m.accuracy.hits, 4U);
  EXPECT_EQ(m.accuracy.total, 8U);
  EXPECT_DOUBLE_EQ(*m.accuracy.value(), 0.5);
}

TEST(EvalMetrics, AFlagIsPredictedOnlyOnAHeldOrRejectedPost) {
  const auto m = FlagMap::defaults();
  EXPECT_TRUE(predicted_flags(make("accept", "accept", {"SCAM_X"}).predicted, m).empty());
  EXPECT_EQ(predicted_flags(make("accept", "hold", {"SCAM_X", "PII_PHONE", "SCAM_Y", "SPAM_Z"}).predicted, m),
            (std::vector<std::string>{"scam", "spam"}));
}

TEST(EvalMetrics, PrecisionRecallSupport) {
  const auto map = FlagMap::defaults();
  const std::vector<Case> cases = {
      make("reject", "reject", {"SCAM_A"}, {"scam"}),  // true positive
      make("reject", "reject", {"SCAM_B"}, {"spam"}),  // false positive for scam, false negative for spam
      make("reject", "accept", {"SCAM_C"}, {"scam"}),  // accepted: a false negative
      make("reject", "accept", {}, {"scam", "spam"}),  // false negatives
      make("accept", "accept", {"SCAM_D"}),            // accepted: nothing predicted
  };
  const auto scam = flag_metric(cases, "scam", map);
  EXPECT_EQ(scam.support, 3U);
  EXPECT_EQ(scam.true_positives, 1U);
  EXPECT_EQ(scam.false_positives, 1U);
  EXPECT_EQ(scam.false_negatives, 2U);
  EXPECT_DOUBLE_EQ(*scam.precision().value(), 0.5);
  EXPECT_DOUBLE_EQ(*scam.recall().value(), 1.0 / 3.0);
  // Never predicted: no precision to speak of; never labelled: no recall.
  const auto spam = flag_metric(cases, "spam", map);
  EXPECT_EQ(spam.support, 2U);
  EXPECT_EQ(spam.precision().value(), std::nullopt);
  EXPECT_DOUBLE_EQ(*spam.recall().value(), 0.0);
  EXPECT_EQ(flag_metric(cases, "pii", map).recall().value(), std::nullopt);
}

TEST(EvalMetrics, LegitRequestsBlocked) {
  std::vector<Case> cases = {make("accept", "accept"), make("accept", "hold"), make("accept", "reject"),
                             make("reject", "reject"), make("accept", "hold")};
  cases[4].expected.kind = "offer";  // not a request
  const auto r = legit_requests_blocked(cases);
  EXPECT_EQ(r.hits, 2U);
  EXPECT_EQ(r.total, 3U);
  EXPECT_EQ(legit_requests_blocked({}).value(), std::nullopt);
}

TEST(EvalMetrics, TriageMetricsCountTriagedPostsOnly) {
  std::vector<Case> cases = {
      triaged("request", {"pets", "groceries"}, "critical", "vitry_centre"),
      triaged("offer", {"groceries"}, "normal", ""), triaged("request", {}, "high", "paris13"),
      make("reject", "reject"),  // never triaged: counted nowhere here
  };
  cases[0].expected.urgency = "high";
  cases[0].expected.area = "vitry_centre";
  cases[1].expected.urgency = "critical";
  cases[2].expected.urgency = "normal";
  cases[2].expected.area = "paris20";
  cases[3].expected.urgency = "high";

  const auto kind = kind_accuracy(cases);
  EXPECT_EQ(kind.hits, 2U);
  EXPECT_EQ(kind.total, 3U);
  const auto category = category_accuracy(cases);  // "groceries" among the predicted, in any place
  EXPECT_EQ(category.hits, 2U);
  EXPECT_EQ(category.total, 3U);
  const auto urgency = urgency_accuracy(cases);
  EXPECT_EQ(urgency.hits, 0U);
  EXPECT_EQ(urgency.total, 3U);
  const auto high = urgency_high_critical_recall(cases);  // critical for high counts
  EXPECT_EQ(high.hits, 1U);
  EXPECT_EQ(high.total, 2U);
  const auto area = area_accuracy(cases);  // null expected, none predicted: a match
  EXPECT_EQ(area.hits, 2U);
  EXPECT_EQ(area.total, 3U);
}

TEST(EvalMetrics, RoutesCompareAsSetsOverEveryPost) {
  std::vector<Case> cases = {make("accept", "accept"), make("accept", "accept"), make("accept", "accept"),
                             make("reject", "reject")};
  cases[0].expected.expected_route = {"a", "fallback"};
  cases[0].predicted.destinations = {"fallback", "a"};
  cases[1].expected.expected_route = {"a"};
  cases[1].predicted.destinations = {"a", "fallback"};
  cases[2].expected.expected_route = {"fallback"};
  const auto r = route_accuracy(cases);
  EXPECT_EQ(r.hits, 2U);  // the first, and the rejected post: [] and no destination
  EXPECT_EQ(r.total, 4U);
}

TEST(EvalReport, JsonShapeAndNumbers) {
  std::vector<Case> cases = {make("accept", "accept"), make("accept", "accept"), make("accept", "accept"),
                             make("reject", "hold", {"SPAM_X"}, {"spam"})};
  cases[3].id = "p-4";
  const auto report = evaluate(cases, FlagMap::defaults());
  const auto json = report_json(report);
  EXPECT_NE(json.find(R"("accuracy": 0.75,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("spam": {"precision": 1.0, "recall": 1.0, "support": 1})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("scam": {"precision": null, "recall": null, "support": 0})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("legit_requests_blocked": 0.0,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("kind": {"accuracy": null, "posts": 0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("route": {"accuracy": 1.0, "posts": 4})"), std::string::npos) << json;
  EXPECT_EQ(report.misclassified, (std::vector<std::string>{"p-4 reject\u2192hold [SPAM_X]"}));
}

constexpr std::string_view kLine =
    R"({"id": "d-1", "channel": "chat", "sender": "s", "received_at": "2020-04-01T06:05:00Z", "subject": null,)"
    R"( "text": "Bonjour", "labels": {"kind": "request", "categories": ["groceries"], "urgency": "high",)"
    R"( "expected_action": "accept", "flags": [], "area": null, "expected_route": [], "duplicate_of": null}})";

std::string replaced(std::string_view from, std::string_view to) {
  std::string line(kLine);
  line.replace(line.find(from), from.size(), to);
  return line;
}

TEST(EvalDataset, ReadsALineAsTheDaemonWillGetIt) {
  const auto lp = parse_line(kLine);
  ASSERT_TRUE(lp) << lp.error().message;
  EXPECT_EQ(lp->id, "d-1");
  EXPECT_EQ(lp->post.source, "eval");
  EXPECT_EQ(lp->post.external_id, "d-1");
  EXPECT_EQ(lp->post.received_at, "2020-04-01T06:05:00Z");
  EXPECT_FALSE(lp->post.subject.has_value());
  EXPECT_EQ(lp->labels.area, "");
  EXPECT_EQ(lp->labels.urgency, "high");
}

TEST(EvalDataset, NamesTheFieldAtFault) {
  auto message = [](const std::string& line) {
    auto lp = parse_line(line);
    if (lp) return std::string("accepted");
    return lp.error().field.empty() ? lp.error().message : lp.error().field + ": " + lp.error().message;
  };
  EXPECT_EQ(message(replaced(R"("flags": [])", R"("flags": ["spam", "junk"])")),
            R"(labels.flags: "junk" is not one of spam, scam, abuse, pii, off_topic, duplicate)");
  EXPECT_EQ(message(replaced(R"("categories": ["groceries"])", R"("categories": [])")),
            "labels.categories: must hold at least one category");
  EXPECT_EQ(message(replaced(R"("area": null)", R"("area": 3)")), "labels.area: must be a string or null");
  EXPECT_EQ(message(replaced(R"("sender": "s", )", R"("sender": "s", "lang": "fr", )")),
            "lang: unknown field");
  EXPECT_EQ(message(replaced(R"("id": "d-1")", R"("id": "")")), "id: must not be empty");
  EXPECT_EQ(message(replaced(R"("text": "Bonjour")", R"("text": "")")).substr(0, 6), "text: ");
  EXPECT_EQ(message(replaced(R"(2020-04-01T06:05:00Z)", "2020-04-01")).substr(0, 13), "received_at: ");
  EXPECT_EQ(message("[1, 2]"), "not a JSON object");
}

}  // namespace
}  // namespace relais::eval
