// pipeline: one post through moderate -> triage -> route, with the built-in
// steps and with steps written here that score, force or throw.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/live_config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/steps.hpp"

namespace json = boost::json;
using relais::Action;
using relais::Finding;
using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;
using relais::daemon::Config;
using relais::daemon::LiveConfig;
using relais::daemon::Pipeline;
using relais::daemon::PostEvent;
using relais::daemon::StageRecord;

namespace {

Post make_post(const std::string& text, std::map<std::string, std::string> fields = {}) {
  Post p;
  p.id = 42;
  p.source = "webform";
  p.external_id = "f-1";
  p.channel = "webform";
  p.text = text;
  p.received_at = "2020-04-01T08:12:00+02:00";
  p.fields = std::move(fields);
  return p;
}

const std::string kRequestText = "Bonjour, j'ai besoin d'aide pour mes courses";

// Adds fixed findings.
class ScoringModerator final : public relais::Moderator {
 public:
  ScoringModerator(std::string name, std::vector<Finding> findings)
      : name_(std::move(name)), findings_(std::move(findings)) {}
  std::string_view name() const noexcept override { return name_; }
  void moderate(const Post&, std::vector<Finding>& findings) override {
    ++calls;
    findings.insert(findings.end(), findings_.begin(), findings_.end());
  }
  int calls = 0;

 private:
  std::string name_;
  std::vector<Finding> findings_;
};

Finding scored(std::string symbol, double score, std::optional<Action> forced = std::nullopt) {
  return Finding{std::move(symbol), score, "test finding", forced, {}};
}

std::unique_ptr<ScoringModerator> scoring(std::string name, std::vector<Finding> findings) {
  return std::make_unique<ScoringModerator>(std::move(name), std::move(findings));
}

// Adds a finding, then fails.
class ThrowingModerator final : public relais::Moderator {
 public:
  explicit ThrowingModerator(std::string name) : name_(std::move(name)) {}
  std::string_view name() const noexcept override { return name_; }
  void moderate(const Post&, std::vector<Finding>& findings) override {
    findings.push_back(scored("HALF_DONE", 0.5));
    throw std::runtime_error("blocklist unreachable");
  }

 private:
  std::string name_;
};

// Fails with something that is not a std::exception, as a plugin may.
class ThrowingNonStdModerator final : public relais::Moderator {
 public:
  std::string_view name() const noexcept override { return "odd"; }
  void moderate(const Post&, std::vector<Finding>&) override { throw 42; }
};

class FixedTriager final : public relais::Triager {
 public:
  explicit FixedTriager(Triage t) : t_(std::move(t)) {}
  std::string_view name() const noexcept override { return "fixed"; }
  void triage(const Post&, Triage& t) override { t = t_; }

 private:
  Triage t_;
};

class ThrowingTriager final : public relais::Triager {
 public:
  std::string_view name() const noexcept override { return "geo"; }
  void triage(const Post&, Triage&) override { throw std::runtime_error("no map data"); }
};

Config config_with(double hold, double reject, std::string fallback = "") {
  Config c;
  c.hold_score = hold;
  c.reject_score = reject;
  c.fallback = std::move(fallback);
  return c;
}

std::vector<const PostEvent*> events_of(const StageRecord& r, std::string_view type) {
  std::vector<const PostEvent*> out;
  for (const auto& e : r.events) {
    if (e.type == type) out.push_back(&e);
  }
  return out;
}

std::vector<std::string> event_types(const StageRecord& r) {
  std::vector<std::string> out;
  for (const auto& e : r.events) out.push_back(e.type);
  return out;
}

// The detail of the only event of `type`, parsed.
json::value detail_of(const StageRecord& r, std::string_view type) {
  const auto events = events_of(r, type);
  if (events.size() != 1) {
    ADD_FAILURE() << events.size() << " events of type " << type;
    return nullptr;
  }
  boost::system::error_code ec;
  json::value v = json::parse(events[0]->detail_json, ec);
  if (ec || !v.is_object()) ADD_FAILURE() << "detail is not a JSON object: " << events[0]->detail_json;
  return v;
}

class pipeline_process : public ::testing::Test {
 protected:
  StageRecord run(const Post& post) { return pipeline.process(post, *live.get()); }

  LiveConfig live{Config{}};
  std::vector<std::vector<StageRecord>> sunk;
  Pipeline pipeline{live, [this](std::vector<StageRecord> records) { sunk.push_back(std::move(records)); }};
};

// ---------------------------------------------------------------------------
// Routing of accepted posts

TEST_F(pipeline_process, RequestWithoutFindingsIsUnroutedWithoutFallback) {
  pipeline.add_moderator(relais::daemon::make_basic_moderator());
  pipeline.add_triager(relais::daemon::make_basic_triager());
  const StageRecord r = run(make_post(kRequestText));

  EXPECT_EQ(r.post_id, 42);
  EXPECT_EQ(r.state, "unrouted");
  EXPECT_EQ(r.verdict.action, Action::accept);
  EXPECT_DOUBLE_EQ(r.verdict.score, 0.0);
  EXPECT_TRUE(r.verdict.findings.empty());
  EXPECT_TRUE(r.finding_stages.empty());
  ASSERT_TRUE(r.triage.has_value());
  EXPECT_EQ(r.triage->kind, Kind::request);

  EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "triaged", "unrouted"}));
  EXPECT_EQ(detail_of(r, "moderated"), json::parse(R"({"action":"accept","score":0.0,"findings":[]})"));
  EXPECT_EQ(detail_of(r, "triaged"),
            json::parse(R"({"kind":"request","categories":[],"urgency":"normal","area":"","lang":"fr"})"));
  const json::value unrouted = detail_of(r, "unrouted");
  EXPECT_EQ(unrouted.at("destinations"), json::array{});
  EXPECT_NE(std::string(unrouted.at("reason").as_string()).find("fallback"), std::string::npos) << unrouted;
  EXPECT_EQ(events_of(r, "moderated")[0]->actor, "moderate");
  EXPECT_EQ(events_of(r, "triaged")[0]->actor, "triage");
  EXPECT_EQ(events_of(r, "unrouted")[0]->actor, "route");
}

TEST_F(pipeline_process, RequestIsRoutedToTheFallback) {
  pipeline.add_moderator(relais::daemon::make_basic_moderator());
  pipeline.add_triager(relais::daemon::make_basic_triager());
  live.set(config_with(5, 10, "ops-team"));
  const StageRecord r = run(make_post(kRequestText));
  EXPECT_EQ(r.state, "routed");
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "triaged", "routed"}));
  const json::value routed = detail_of(r, "routed");
  EXPECT_EQ(routed.at("destinations"), json::parse(R"(["ops-team"])"));
  EXPECT_TRUE(routed.at("reason").is_string());
  EXPECT_EQ(events_of(r, "routed")[0]->actor, "route");
}

TEST_F(pipeline_process, OffersAndInfoAreAcceptedNotRouted) {
  pipeline.add_triager(relais::daemon::make_basic_triager());
  live.set(config_with(5, 10, "ops-team"));
  for (const auto& [post, kind] : std::vector<std::pair<Post, std::string>>{
           {make_post("Je propose de faire des courses le mardi"), "offer"},
           {make_post("whatever", {{"kind", "offer"}}), "offer"},
           {make_post("La mairie ouvre lundi."), "info"},
           {make_post("Merci a tous !"), "other"}}) {
    SCOPED_TRACE(post.text);
    const StageRecord r = run(post);
    EXPECT_EQ(r.state, "accepted");
    EXPECT_EQ(r.verdict.action, Action::accept);
    EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "triaged", "not_routed"}));
    const json::value detail = detail_of(r, "not_routed");
    EXPECT_NE(std::string(detail.at("reason").as_string()).find(kind), std::string::npos) << detail;
    EXPECT_EQ(detail_of(r, "triaged").at("kind"), json::string(kind));
  }
}

TEST_F(pipeline_process, WithoutTriagersAPostIsOtherAndAccepted) {
  const StageRecord r = run(make_post(kRequestText));
  EXPECT_EQ(r.state, "accepted");
  ASSERT_TRUE(r.triage);
  EXPECT_EQ(r.triage->kind, Kind::other);
}

// ---------------------------------------------------------------------------
// Scores and thresholds

struct ThresholdCase {
  std::vector<double> scores;  // one moderator each
  Action action;
  std::string state;
};

TEST_F(pipeline_process, ScoresAddUpAcrossModeratorsAndCrossTheThresholds) {
  // hold_score 5, reject_score 10 (the defaults); a triager makes it a request.
  const std::vector<ThresholdCase> cases = {
      {{}, Action::accept, "unrouted"},
      {{4.99}, Action::accept, "unrouted"},
      {{5.0}, Action::hold, "held"},
      {{2.5, 2.5}, Action::hold, "held"},
      {{3.0, 3.0, 3.0}, Action::hold, "held"},
      {{9.99}, Action::hold, "held"},
      {{10.0}, Action::reject, "rejected"},
      {{4.0, 6.0}, Action::reject, "rejected"},
      {{25.0}, Action::reject, "rejected"},
      {{12.0, -4.0}, Action::hold, "held"},  // a negative score lowers the sum
  };
  for (const auto& c : cases) {
    std::string trace;
    for (double s : c.scores) trace += std::to_string(s) + " ";
    SCOPED_TRACE("scores: " + trace);
    LiveConfig local{Config{}};
    Pipeline p(local, [](std::vector<StageRecord>) {});
    for (std::size_t i = 0; i < c.scores.size(); ++i) {
      p.add_moderator(scoring("m" + std::to_string(i), {scored("S" + std::to_string(i), c.scores[i])}));
    }
    Triage request;
    request.kind = Kind::request;
    p.add_triager(std::make_unique<FixedTriager>(request));
    const StageRecord r = p.process(make_post("x"), *local.get());

    double sum = 0;
    for (double s : c.scores) sum += s;
    EXPECT_DOUBLE_EQ(r.verdict.score, sum);
    EXPECT_EQ(r.verdict.action, c.action);
    EXPECT_EQ(r.state, c.state);
    ASSERT_EQ(r.verdict.findings.size(), c.scores.size());
    ASSERT_EQ(r.finding_stages.size(), c.scores.size());
    for (std::size_t i = 0; i < c.scores.size(); ++i) {
      EXPECT_EQ(r.finding_stages[i], "moderate:m" + std::to_string(i));
    }
    const json::value moderated = detail_of(r, "moderated");
    EXPECT_EQ(moderated.at("action"), json::string(relais::to_string(c.action)));
    EXPECT_DOUBLE_EQ(moderated.at("score").to_number<double>(), sum);
    EXPECT_EQ(moderated.at("findings").as_array().size(), c.scores.size());

    if (c.action == Action::reject) {
      // Rejected posts are not triaged.
      EXPECT_EQ(event_types(r), std::vector<std::string>{"moderated"});
      EXPECT_FALSE(r.triage.has_value());
    } else if (c.action == Action::hold) {
      // Held posts are triaged, so that a moderator sees the need, not routed.
      EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "triaged"}));
      EXPECT_TRUE(r.triage.has_value());
    }
  }
}

TEST_F(pipeline_process, ThresholdsComeFromTheConfigGiven) {
  pipeline.add_moderator(scoring("m", {scored("S", 1.5)}));
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(1, 2)).verdict.action, Action::hold);
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(0.5, 1.5)).verdict.action, Action::reject);
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(2, 3)).verdict.action, Action::accept);
}

TEST_F(pipeline_process, ModeratedEventListsEachFinding) {
  pipeline.add_moderator(scoring("links", {scored("MANY_LINKS", 3.0)}));
  pipeline.add_moderator(scoring("lists", {scored("LISTED", 1.0, Action::hold), scored("NEW_SENDER", 0.5)}));
  const StageRecord r = run(make_post("x"));
  EXPECT_EQ(detail_of(r, "moderated"), json::parse(R"({"action":"hold","score":4.5,"findings":[
      {"stage":"moderate:links","symbol":"MANY_LINKS","score":3.0},
      {"stage":"moderate:lists","symbol":"LISTED","score":1.0,"forced":"hold"},
      {"stage":"moderate:lists","symbol":"NEW_SENDER","score":0.5}]})"));
  EXPECT_EQ(r.finding_stages,
            (std::vector<std::string>{"moderate:links", "moderate:lists", "moderate:lists"}));
}

TEST_F(pipeline_process, ForcedActionWinsOverLowScores) {
  {
    LiveConfig local{Config{}};
    Pipeline p(local, [](std::vector<StageRecord>) {});
    p.add_moderator(scoring("list", {scored("BLOCKED_SENDER", 0.0, Action::reject)}));
    const StageRecord r = p.process(make_post(kRequestText), *local.get());
    EXPECT_EQ(r.verdict.action, Action::reject);
    EXPECT_EQ(r.state, "rejected");
    EXPECT_DOUBLE_EQ(r.verdict.score, 0.0);
    EXPECT_EQ(detail_of(r, "moderated").at("findings").at(0).at("forced"), "reject");
  }
  {
    LiveConfig local{Config{}};
    Pipeline p(local, [](std::vector<StageRecord>) {});
    p.add_moderator(scoring("list", {scored("WATCHED", 0.1, Action::hold)}));
    const StageRecord r = p.process(make_post(kRequestText), *local.get());
    EXPECT_EQ(r.verdict.action, Action::hold);
    EXPECT_EQ(r.state, "held");
  }
  {
    // Of several forced actions, the strictest wins.
    LiveConfig local{Config{}};
    Pipeline p(local, [](std::vector<StageRecord>) {});
    p.add_moderator(scoring("a", {scored("HOLD_IT", 0.0, Action::hold)}));
    p.add_moderator(scoring("b", {scored("REJECT_IT", 0.0, Action::reject)}));
    p.add_moderator(scoring("c", {scored("ACCEPT_IT", 0.0, Action::accept)}));
    EXPECT_EQ(p.process(make_post(kRequestText), *local.get()).verdict.action, Action::reject);
  }
}

// ---------------------------------------------------------------------------
// Failing steps

TEST_F(pipeline_process, ThrowingModeratorHoldsThePost) {
  pipeline.add_moderator(scoring("first", {scored("NOTED", 1.0)}));
  pipeline.add_moderator(std::make_unique<ThrowingModerator>("blocklist"));
  pipeline.add_triager(relais::daemon::make_basic_triager());
  live.set(config_with(5, 10, "ops-team"));
  const StageRecord r = run(make_post(kRequestText));

  // Held for a person: not lost, not accepted, not routed.
  EXPECT_EQ(r.post_id, 42);
  EXPECT_EQ(r.verdict.action, Action::hold);
  EXPECT_EQ(r.state, "held");
  EXPECT_TRUE(events_of(r, "routed").empty());

  // The failing step's own half-made findings are dropped; earlier ones stay.
  ASSERT_EQ(r.verdict.findings.size(), 1u);
  EXPECT_EQ(r.verdict.findings[0].symbol, "NOTED");
  EXPECT_EQ(r.finding_stages, std::vector<std::string>{"moderate:first"});
  EXPECT_DOUBLE_EQ(r.verdict.score, 1.0);

  const auto errors = events_of(r, "stage_error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->actor, "moderate:blocklist");
  EXPECT_EQ(json::parse(errors[0]->detail_json), json::parse(R"({"error":"blocklist unreachable"})"));
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"stage_error", "moderated", "triaged"}));
  EXPECT_EQ(detail_of(r, "moderated").at("action"), "hold");
}

TEST_F(pipeline_process, ThrowingModeratorDoesNotLowerARejection) {
  pipeline.add_moderator(scoring("first", {scored("SPAM", 11.0)}));
  pipeline.add_moderator(std::make_unique<ThrowingModerator>("blocklist"));
  const StageRecord r = run(make_post(kRequestText));
  EXPECT_EQ(r.verdict.action, Action::reject);
  EXPECT_EQ(r.state, "rejected");
  EXPECT_EQ(events_of(r, "stage_error").size(), 1u);
}

// The stage boundary must hold whatever a step throws: an exception that
// escapes process() ends the pipeline thread (std::terminate), and the post,
// still `received`, brings the daemon down again after every restart.
TEST_F(pipeline_process, ModeratorThrowingANonStandardExceptionHoldsThePost) {
  pipeline.add_moderator(std::make_unique<ThrowingNonStdModerator>());
  pipeline.add_triager(relais::daemon::make_basic_triager());
  StageRecord r;
  ASSERT_NO_THROW(r = run(make_post(kRequestText)));
  EXPECT_EQ(r.state, "held");
  ASSERT_EQ(events_of(r, "stage_error").size(), 1u);
  EXPECT_EQ(events_of(r, "stage_error")[0]->actor, "moderate:odd");
}

TEST_F(pipeline_process, ThrowingTriagerHoldsThePost) {
  pipeline.add_moderator(relais::daemon::make_basic_moderator());
  pipeline.add_triager(relais::daemon::make_basic_triager());
  pipeline.add_triager(std::make_unique<ThrowingTriager>());
  live.set(config_with(5, 10, "ops-team"));
  const StageRecord r = run(make_post(kRequestText));

  EXPECT_EQ(r.verdict.action, Action::hold);
  EXPECT_EQ(r.state, "held");
  EXPECT_TRUE(events_of(r, "routed").empty());
  const auto errors = events_of(r, "stage_error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->actor, "triage:geo");
  EXPECT_EQ(json::parse(errors[0]->detail_json), json::parse(R"({"error":"no map data"})"));
  // What the steps before it found is kept.
  ASSERT_TRUE(r.triage);
  EXPECT_EQ(r.triage->kind, Kind::request);
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "stage_error", "triaged"}));
}

// ---------------------------------------------------------------------------
// The built-in moderator

std::vector<Finding> basic_findings(const std::string& text) {
  std::vector<Finding> findings;
  relais::daemon::make_basic_moderator()->moderate(make_post(text), findings);
  return findings;
}

bool has_symbol(const std::vector<Finding>& findings, std::string_view symbol) {
  for (const auto& f : findings) {
    if (f.symbol == symbol) return true;
  }
  return false;
}

TEST(pipeline_basic_moderator, ManyLinks) {
  EXPECT_EQ(relais::daemon::make_basic_moderator()->name(), "basic");
  const auto three = basic_findings("see http://a.example https://b.example and hxxp://c.example");
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].symbol, "MANY_LINKS");
  EXPECT_DOUBLE_EQ(three[0].score, 3.0);
  EXPECT_FALSE(three[0].forced.has_value());
  EXPECT_NE(three[0].description.find("3 links"), std::string::npos) << three[0].description;

  EXPECT_TRUE(has_symbol(basic_findings("HTTP://A.EXAMPLE Https://b.example WWW.c.example"), "MANY_LINKS"));
  EXPECT_TRUE(has_symbol(basic_findings("www.a.fr www.b.fr www.c.fr www.d.fr"), "MANY_LINKS"));
  EXPECT_TRUE(basic_findings("one link: https://mairie.example/aide and www.other.example").empty());
  EXPECT_TRUE(basic_findings("no links at all").empty());
}

// A link written with both a scheme and www. is one link, not two.
TEST(pipeline_basic_moderator, ALinkIsCountedOnce) {
  const auto findings = basic_findings("Voir https://www.mairie.example et http://www.ccas.example");
  EXPECT_FALSE(has_symbol(findings, "MANY_LINKS")) << findings.front().description;
}

TEST(pipeline_basic_moderator, Shouting) {
  const std::string forty_upper(40, 'A');
  const auto shouting = basic_findings(forty_upper);
  ASSERT_EQ(shouting.size(), 1u);
  EXPECT_EQ(shouting[0].symbol, "SHOUTING");
  EXPECT_DOUBLE_EQ(shouting[0].score, 1.0);

  EXPECT_TRUE(has_symbol(basic_findings("URGENT!!! J'AI BESOIN D'AIDE TOUT DE SUITE, APPELEZ MOI VITE SVP"),
                         "SHOUTING"));
  // 80 % capitals is enough; fewer is not.
  EXPECT_TRUE(has_symbol(basic_findings(std::string(32, 'A') + std::string(8, 'a')), "SHOUTING"));
  EXPECT_FALSE(has_symbol(basic_findings(std::string(31, 'A') + std::string(9, 'a')), "SHOUTING"));
  // Short texts never shout; digits and punctuation do not count as letters.
  EXPECT_TRUE(basic_findings(std::string(39, 'A') + " 1234567890 !!!").empty());
  EXPECT_TRUE(basic_findings("Bonjour, j'ai besoin d'aide pour mes courses cette semaine.").empty());
}

TEST(pipeline_basic_moderator, BothFindingsAddUp) {
  Pipeline::RecordSink sink = [](std::vector<StageRecord>) {};
  LiveConfig live{Config{}};
  Pipeline p(live, sink);
  p.add_moderator(relais::daemon::make_basic_moderator());
  const StageRecord r = p.process(
      make_post("CLICK HTTP://A.EXAMPLE HTTP://B.EXAMPLE HTTP://C.EXAMPLE NOW FOR FREE MONEY TODAY"),
      *live.get());
  EXPECT_TRUE(has_symbol(r.verdict.findings, "MANY_LINKS"));
  EXPECT_TRUE(has_symbol(r.verdict.findings, "SHOUTING"));
  EXPECT_DOUBLE_EQ(r.verdict.score, 4.0);
  EXPECT_EQ(r.verdict.action, Action::accept);
  EXPECT_EQ(r.finding_stages, (std::vector<std::string>{"moderate:basic", "moderate:basic"}));
}

// ---------------------------------------------------------------------------
// The built-in triager

Triage basic_triage(const Post& post) {
  Triage t;
  relais::daemon::make_basic_triager()->triage(post, t);
  return t;
}

TEST(pipeline_basic_triager, FormFieldsWinOverTextGuesses) {
  // The text reads as an offer in French, with no category or area.
  Post post =
      make_post("Bonjour, je propose de faire les courses pour les voisins", {{"kind", "request"},
                                                                              {"category", "pharmacy"},
                                                                              {"urgency", "critical"},
                                                                              {"area", "ivry_centre"},
                                                                              {"lang", "en"}});
  post.lang = "de";
  const Triage t = basic_triage(post);
  EXPECT_EQ(t.kind, Kind::request);
  EXPECT_EQ(t.categories, std::vector<std::string>{"pharmacy"});
  EXPECT_EQ(t.urgency, Urgency::critical);
  EXPECT_EQ(t.area, "ivry_centre");
  EXPECT_EQ(t.lang, "en");
}

TEST(pipeline_basic_triager, TextGuessesWhatTheFieldsLeaveOpen) {
  const Triage offer = basic_triage(make_post("Bonjour, je propose de faire les courses pour les voisins"));
  EXPECT_EQ(offer.kind, Kind::offer);
  EXPECT_EQ(offer.urgency, Urgency::low);
  EXPECT_TRUE(offer.categories.empty());
  EXPECT_EQ(offer.area, "");
  EXPECT_EQ(offer.lang, "fr");

  const Triage request =
      basic_triage(make_post("Hello, I need someone to walk my dog and to get the groceries"));
  EXPECT_EQ(request.kind, Kind::request);
  EXPECT_EQ(request.urgency, Urgency::normal);
  EXPECT_EQ(request.lang, "en");

  EXPECT_EQ(basic_triage(make_post("I can help with shopping")).kind, Kind::offer);
  EXPECT_EQ(basic_triage(make_post("Merci pour tout")).kind, Kind::other);
  EXPECT_EQ(basic_triage(make_post("La pharmacie ouvre lundi")).kind, Kind::info);
  EXPECT_EQ(basic_triage(make_post("xyz")).lang, "");
}

TEST(pipeline_basic_triager, SubjectCountsForTheGuess) {
  Post post = make_post("");
  post.subject = "Besoin de courses";
  EXPECT_EQ(basic_triage(post).kind, Kind::request);
}

TEST(pipeline_basic_triager, InvalidFieldValuesFallBackToGuesses) {
  const Triage t = basic_triage(make_post("Bonjour, je cherche de l'aide pour les courses",
                                          {{"kind", "demande"}, {"urgency", "asap"}}));
  EXPECT_EQ(t.kind, Kind::request);
  EXPECT_EQ(t.urgency, Urgency::normal);
}

// The guess counts words between spaces, and the text is joined to the
// subject with a newline: the first word ("Bonjour", "Hello", "I") must count
// like any other.
TEST(pipeline_basic_triager, FirstWordCountsForTheLanguage) {
  EXPECT_EQ(basic_triage(make_post("Bonjour")).lang, "fr");
  EXPECT_EQ(basic_triage(make_post("Hello")).lang, "en");
  EXPECT_EQ(basic_triage(make_post("Bonjour, besoin de pain")).lang, "fr");
  EXPECT_EQ(basic_triage(make_post("I need bread")).lang, "en");
}

TEST(pipeline_basic_triager, PostLangWinsOverTheGuess) {
  Post post = make_post("Hello, I need help with the shopping for my mother");
  post.lang = "es";
  EXPECT_EQ(basic_triage(post).lang, "es");
}

TEST_F(pipeline_process, FormFieldsReachTheTriagedEvent) {
  pipeline.add_moderator(relais::daemon::make_basic_moderator());
  pipeline.add_triager(relais::daemon::make_basic_triager());
  live.set(config_with(5, 10, "ops-team"));
  const StageRecord r = run(make_post("Bonjour, je propose mon aide pour les courses",  // reads as an offer
                                      {{"kind", "request"},
                                       {"category", "groceries"},
                                       {"urgency", "high"},
                                       {"area", "vitry_port_a_langlais"}}));
  EXPECT_EQ(r.state, "routed");
  EXPECT_EQ(detail_of(r, "triaged"), json::parse(R"({"kind":"request","categories":["groceries"],
      "urgency":"high","area":"vitry_port_a_langlais","lang":"fr"})"));
}

// ---------------------------------------------------------------------------
// The thread

TEST_F(pipeline_process, StopFinishesTheQueuedPostsWithTheLiveConfig) {
  pipeline.add_triager(relais::daemon::make_basic_triager());
  live.set(config_with(5, 10, "ops-team"));  // after construction: read per batch
  pipeline.start();
  std::vector<Post> posts;
  for (int i = 1; i <= 5; ++i) {
    Post p = make_post(kRequestText);
    p.id = i;
    posts.push_back(p);
  }
  pipeline.enqueue(posts);
  pipeline.stop();

  EXPECT_EQ(pipeline.queued(), 0u);
  std::vector<std::int64_t> ids;
  for (const auto& batch : sunk) {
    for (const auto& r : batch) {
      ids.push_back(r.post_id);
      EXPECT_EQ(r.state, "routed");
    }
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

}  // namespace
