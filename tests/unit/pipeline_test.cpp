// pipeline: one post through moderate -> triage -> route, with the shipped
// plugins loaded from the build's plugin directory and with instances
// written here that score, force or throw.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/live_config.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/host.hpp"
#include "support/plugin_set.hpp"

namespace json = boost::json;
using relais::Action;
using relais::Finding;
using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;
using relais::daemon::Config;
using relais::daemon::LiveConfig;
using relais::daemon::LivePlugins;
using relais::daemon::Pipeline;
using relais::daemon::PluginInstance;
using relais::daemon::PluginSet;
using relais::daemon::PostEvent;
using relais::daemon::Router;
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
  explicit ScoringModerator(std::vector<Finding> findings) : findings_(std::move(findings)) {}
  void moderate(const Post&, std::vector<Finding>& findings) override {
    ++calls;
    findings.insert(findings.end(), findings_.begin(), findings_.end());
  }
  int calls = 0;

 private:
  std::vector<Finding> findings_;
};

Finding scored(std::string symbol, double score, std::optional<Action> forced = std::nullopt) {
  return Finding{std::move(symbol), score, "test finding", forced, {}};
}

// An instance as the plugin host makes them, named "<kind>:<name>".
template <class Interface>
PluginInstance<Interface> instance(std::string kind, std::string name, std::shared_ptr<Interface> object) {
  PluginInstance<Interface> i;
  i.instance = kind + ":" + name;
  i.plugin = "test_" + name;
  i.object = std::move(object);
  return i;
}
PluginInstance<relais::Moderator> moderator(std::string name, std::shared_ptr<relais::Moderator> object) {
  return instance("moderate", std::move(name), std::move(object));
}
PluginInstance<relais::Triager> triager(std::string name, std::shared_ptr<relais::Triager> object) {
  return instance("triage", std::move(name), std::move(object));
}

PluginInstance<relais::Moderator> scoring(std::string name, std::vector<Finding> findings) {
  return moderator(std::move(name), std::make_shared<ScoringModerator>(std::move(findings)));
}

// The shipped moderate_basic and triage_basic, loaded from the build's plugin
// directory as relaisd loads them.
const PluginSet& shipped_plugins() {
  static const std::shared_ptr<const PluginSet> set = [] {
    auto built = relais::test::plugin_set(
        "[[moderate]]\nplugin = \"moderate_basic\"\n"
        "[[triage]]\nplugin = \"triage_basic\"\n");
    if (!built) throw std::runtime_error(built.error().message);
    return *built;
  }();
  return *set;
}
PluginInstance<relais::Moderator> basic_moderator() { return shipped_plugins().moderators.at(0); }
PluginInstance<relais::Triager> basic_triager() { return shipped_plugins().triagers.at(0); }

// Remembers what it was taught.
class LearningModerator final : public relais::Moderator {
 public:
  void moderate(const Post&, std::vector<Finding>&) override {}
  void learn(const Post& post, Action decision) override { taught.emplace_back(post.id, decision); }
  std::vector<std::pair<std::int64_t, Action>> taught;
};

// Adds a finding, then fails.
class ThrowingModerator final : public relais::Moderator {
 public:
  void moderate(const Post&, std::vector<Finding>& findings) override {
    findings.push_back(scored("HALF_DONE", 0.5));
    throw std::runtime_error("blocklist unreachable");
  }
};

// Fails with something that is not a std::exception, as a plugin may.
class ThrowingNonStdModerator final : public relais::Moderator {
 public:
  void moderate(const Post&, std::vector<Finding>&) override { throw 42; }
};

class FixedTriager final : public relais::Triager {
 public:
  explicit FixedTriager(Triage t) : t_(std::move(t)) {}
  void triage(const Post&, Triage& t) override { t = t_; }

 private:
  Triage t_;
};

class ThrowingTriager final : public relais::Triager {
 public:
  void triage(const Post&, Triage&) override { throw std::runtime_error("no map data"); }
};

Config config_with(double hold, double reject, const std::string& fallback = "") {
  Config c;
  c.hold_score = hold;
  c.reject_score = reject;
  if (!fallback.empty()) {
    auto network = relais::daemon::parse_network("[[destination]]\nid = \"" + fallback +
                                                     "\"\nfallback = true\ncategories = [\"groceries\"]\n"
                                                     "unknown_area = true\n",
                                                 "network.toml", {});
    EXPECT_TRUE(network) << network.error().message;
    if (network) c.network = *network;
  }
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
  StageRecord run(const Post& post) { return pipeline.process(post, *live.get(), set); }

  LiveConfig live{Config{}};
  LivePlugins plugins;
  PluginSet set;
  std::vector<std::vector<StageRecord>> sunk;
  Router router;
  Pipeline pipeline{live, plugins,
                    [this](std::vector<StageRecord> records) { sunk.push_back(std::move(records)); }, router};
};

// ---------------------------------------------------------------------------
// Routing of accepted posts

TEST_F(pipeline_process, RequestWithoutFindingsIsUnroutedWithoutFallback) {
  set.moderators.push_back(basic_moderator());
  set.triagers.push_back(basic_triager());
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
  set.moderators.push_back(basic_moderator());
  set.triagers.push_back(basic_triager());
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
  set.triagers.push_back(basic_triager());
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
    LivePlugins none;
    Router own_router;
    Pipeline p(
        local, none, [](std::vector<StageRecord>) {}, own_router);
    PluginSet s;
    for (std::size_t i = 0; i < c.scores.size(); ++i) {
      s.moderators.push_back(
          scoring("m" + std::to_string(i), {scored("S" + std::to_string(i), c.scores[i])}));
    }
    Triage request;
    request.kind = Kind::request;
    s.triagers.push_back(triager("fixed", std::make_shared<FixedTriager>(request)));
    const StageRecord r = p.process(make_post("x"), *local.get(), s);

    double sum = 0;
    for (double score : c.scores) sum += score;
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
  set.moderators.push_back(scoring("m", {scored("S", 1.5)}));
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(1, 2), set).verdict.action, Action::hold);
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(0.5, 1.5), set).verdict.action, Action::reject);
  EXPECT_EQ(pipeline.process(make_post("x"), config_with(2, 3), set).verdict.action, Action::accept);
}

TEST_F(pipeline_process, ModeratedEventListsEachFinding) {
  set.moderators.push_back(scoring("links", {scored("MANY_LINKS", 3.0)}));
  set.moderators.push_back(
      scoring("lists", {scored("LISTED", 1.0, Action::hold), scored("NEW_SENDER", 0.5)}));
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
    LivePlugins none;
    Router own_router;
    Pipeline p(
        local, none, [](std::vector<StageRecord>) {}, own_router);
    PluginSet s;
    s.moderators.push_back(scoring("list", {scored("BLOCKED_SENDER", 0.0, Action::reject)}));
    const StageRecord r = p.process(make_post(kRequestText), *local.get(), s);
    EXPECT_EQ(r.verdict.action, Action::reject);
    EXPECT_EQ(r.state, "rejected");
    EXPECT_DOUBLE_EQ(r.verdict.score, 0.0);
    EXPECT_EQ(detail_of(r, "moderated").at("findings").at(0).at("forced"), "reject");
  }
  {
    LiveConfig local{Config{}};
    LivePlugins none;
    Router own_router;
    Pipeline p(
        local, none, [](std::vector<StageRecord>) {}, own_router);
    PluginSet s;
    s.moderators.push_back(scoring("list", {scored("WATCHED", 0.1, Action::hold)}));
    const StageRecord r = p.process(make_post(kRequestText), *local.get(), s);
    EXPECT_EQ(r.verdict.action, Action::hold);
    EXPECT_EQ(r.state, "held");
  }
  {
    // Of several forced actions, the strictest wins.
    LiveConfig local{Config{}};
    LivePlugins none;
    Router own_router;
    Pipeline p(
        local, none, [](std::vector<StageRecord>) {}, own_router);
    PluginSet s;
    s.moderators.push_back(scoring("a", {scored("HOLD_IT", 0.0, Action::hold)}));
    s.moderators.push_back(scoring("b", {scored("REJECT_IT", 0.0, Action::reject)}));
    s.moderators.push_back(scoring("c", {scored("ACCEPT_IT", 0.0, Action::accept)}));
    EXPECT_EQ(p.process(make_post(kRequestText), *local.get(), s).verdict.action, Action::reject);
  }
}

// ---------------------------------------------------------------------------
// Failing steps

TEST_F(pipeline_process, ThrowingModeratorHoldsThePost) {
  set.moderators.push_back(scoring("first", {scored("NOTED", 1.0)}));
  set.moderators.push_back(moderator("blocklist", std::make_shared<ThrowingModerator>()));
  set.triagers.push_back(basic_triager());
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
  EXPECT_EQ(json::parse(errors[0]->detail_json),
            json::parse(R"({"plugin":"test_blocklist","error":"blocklist unreachable"})"));
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"stage_error", "moderated", "triaged"}));
  EXPECT_EQ(detail_of(r, "moderated").at("action"), "hold");
}

TEST_F(pipeline_process, ThrowingModeratorDoesNotLowerARejection) {
  set.moderators.push_back(scoring("first", {scored("SPAM", 11.0)}));
  set.moderators.push_back(moderator("blocklist", std::make_shared<ThrowingModerator>()));
  const StageRecord r = run(make_post(kRequestText));
  EXPECT_EQ(r.verdict.action, Action::reject);
  EXPECT_EQ(r.state, "rejected");
  EXPECT_EQ(events_of(r, "stage_error").size(), 1u);
}

TEST_F(pipeline_process, ModeratorsAfterAThrowingOneStillRun) {
  set.moderators.push_back(moderator("blocklist", std::make_shared<ThrowingModerator>()));
  set.moderators.push_back(scoring("after", {scored("LATER", 0.5)}));
  const StageRecord r = run(make_post(kRequestText));
  EXPECT_EQ(r.state, "held");
  ASSERT_EQ(r.verdict.findings.size(), 1u);
  EXPECT_EQ(r.verdict.findings[0].symbol, "LATER");
  EXPECT_EQ(r.finding_stages, std::vector<std::string>{"moderate:after"});
}

TEST_F(pipeline_process, EachInstanceCountsItsPostsFindingsAndErrors) {
  set.moderators.push_back(scoring("two", {scored("A", 0.5), scored("B", 0.5)}));
  set.moderators.push_back(moderator("blocklist", std::make_shared<ThrowingModerator>()));
  set.triagers.push_back(triager("geo", std::make_shared<ThrowingTriager>()));
  for (int i = 0; i < 3; ++i) (void)run(make_post(kRequestText));

  const auto& two = *set.moderators[0].counters;
  EXPECT_EQ(two.posts.load(), 3u);
  EXPECT_EQ(two.findings.load(), 6u);
  EXPECT_EQ(two.errors.load(), 0u);
  const auto& blocklist = *set.moderators[1].counters;
  EXPECT_EQ(blocklist.posts.load(), 3u);
  EXPECT_EQ(blocklist.findings.load(), 0u);  // what it added before throwing is dropped
  EXPECT_EQ(blocklist.errors.load(), 3u);
  EXPECT_EQ(set.triagers[0].counters->posts.load(), 3u);
  EXPECT_EQ(set.triagers[0].counters->errors.load(), 3u);
}

// The stage boundary must hold whatever a step throws: an exception that
// escapes process() ends the pipeline thread (std::terminate), and the post,
// still `received`, brings the daemon down again after every restart.
TEST_F(pipeline_process, ModeratorThrowingANonStandardExceptionHoldsThePost) {
  set.moderators.push_back(moderator("odd", std::make_shared<ThrowingNonStdModerator>()));
  set.triagers.push_back(basic_triager());
  StageRecord r;
  ASSERT_NO_THROW(r = run(make_post(kRequestText)));
  EXPECT_EQ(r.state, "held");
  ASSERT_EQ(events_of(r, "stage_error").size(), 1u);
  EXPECT_EQ(events_of(r, "stage_error")[0]->actor, "moderate:odd");
}

TEST_F(pipeline_process, ThrowingTriagerHoldsThePost) {
  set.moderators.push_back(basic_moderator());
  set.triagers.push_back(basic_triager());
  set.triagers.push_back(triager("geo", std::make_shared<ThrowingTriager>()));
  live.set(config_with(5, 10, "ops-team"));
  const StageRecord r = run(make_post(kRequestText));

  EXPECT_EQ(r.verdict.action, Action::hold);
  EXPECT_EQ(r.state, "held");
  EXPECT_TRUE(events_of(r, "routed").empty());
  const auto errors = events_of(r, "stage_error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->actor, "triage:geo");
  EXPECT_EQ(json::parse(errors[0]->detail_json),
            json::parse(R"({"plugin":"test_geo","error":"no map data"})"));
  // What the steps before it found is kept.
  ASSERT_TRUE(r.triage);
  EXPECT_EQ(r.triage->kind, Kind::request);
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"moderated", "stage_error", "triaged"}));
}

TEST_F(pipeline_process, FormFieldsReachTheTriagedEvent) {
  set.moderators.push_back(basic_moderator());
  set.triagers.push_back(basic_triager());
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
  set.triagers.push_back(basic_triager());
  // After construction: the config and the plugins are read per batch.
  live.set(config_with(5, 10, "ops-team"));
  plugins.set(std::make_shared<const PluginSet>(set));
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

// ---------------------------------------------------------------------------
// A person's decisions

class pipeline_decision : public pipeline_process {
 protected:
  void SetUp() override {
    set.moderators.push_back(moderator("learner", learner));
    set.triagers.push_back(basic_triager());
    live.set(config_with(5, 10, "ops-team"));
    plugins.set(std::make_shared<const PluginSet>(set));
    pipeline.on_decision([this](StageRecord record, Pipeline::DecisionDone done) {
      decided.push_back(record);
      done(commit_answer);
    });
    pipeline.start();
  }

  relais::daemon::Decision held_post(Action action) {
    relais::daemon::Decision d;
    d.post = make_post(kRequestText);
    d.verdict.action = Action::hold;
    d.verdict.score = 6.0;
    Triage t;
    t.kind = Kind::request;
    t.categories = {"groceries"};
    d.triage = t;
    d.action = action;
    d.by = "alice";
    d.note = "checked";
    return d;
  }

  // Runs the decision and waits until it is answered and the pipeline idle.
  relais::Expected<bool> decide(relais::daemon::Decision d) {
    std::promise<relais::Expected<bool>> answered;
    pipeline.decide(std::move(d), [&](relais::Expected<bool> r) { answered.set_value(std::move(r)); });
    auto future = answered.get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    auto result = future.get();
    pipeline.stop();  // runs what was queued meanwhile: the teaching
    return result;
  }

  std::shared_ptr<LearningModerator> learner = std::make_shared<LearningModerator>();
  std::vector<StageRecord> decided;
  relais::Expected<bool> commit_answer = true;
};

TEST_F(pipeline_decision, AnApprovedPostGoesOnThroughTriageAndRouting) {
  ASSERT_TRUE(decide(held_post(Action::accept)));
  ASSERT_EQ(decided.size(), 1u);
  const auto& r = decided[0];
  EXPECT_EQ(r.post_id, 42);
  EXPECT_EQ(r.state, "routed");
  EXPECT_EQ(r.verdict.action, Action::accept);
  EXPECT_DOUBLE_EQ(r.verdict.score, 6.0);
  EXPECT_TRUE(r.verdict.findings.empty()) << "the findings are stored already";
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"approved", "triaged", "routed"}));
  EXPECT_EQ(r.events[0].actor, "moderator:alice");
  EXPECT_EQ(detail_of(r, "approved").at("note"), "checked");
  ASSERT_TRUE(r.triage);
  EXPECT_EQ(learner->taught, (std::vector<std::pair<std::int64_t, Action>>{{42, Action::accept}}));
}

TEST_F(pipeline_decision, ARejectedPostEndsAndKeepsItsTriage) {
  ASSERT_TRUE(decide(held_post(Action::reject)));
  ASSERT_EQ(decided.size(), 1u);
  const auto& r = decided[0];
  EXPECT_EQ(r.state, "rejected");
  EXPECT_EQ(r.verdict.action, Action::reject);
  EXPECT_EQ(event_types(r), (std::vector<std::string>{"rejected"}));
  EXPECT_EQ(r.events[0].actor, "moderator:alice");
  EXPECT_EQ(detail_of(r, "rejected").at("reason"), "checked");
  ASSERT_TRUE(r.triage);
  EXPECT_EQ(r.triage->categories, std::vector<std::string>{"groceries"});
  EXPECT_EQ(learner->taught, (std::vector<std::pair<std::int64_t, Action>>{{42, Action::reject}}));
}

TEST_F(pipeline_decision, ADecisionThatWasNotCommittedTeachesNothing) {
  commit_answer = false;  // someone else decided first
  auto result = decide(held_post(Action::reject));
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
  EXPECT_TRUE(learner->taught.empty());

  commit_answer = relais::Error{"storage", "disk full", ""};
  pipeline.start();
  EXPECT_FALSE(decide(held_post(Action::accept)));
  EXPECT_TRUE(learner->taught.empty());
}

TEST_F(pipeline_decision, LabelledExamplesAreTaughtInOrder) {
  Post a = make_post("one");
  a.id = 1;
  Post b = make_post("two");
  b.id = 2;
  std::promise<std::size_t> learned;
  pipeline.learn({{a, Action::accept}, {b, Action::reject}}, [&](std::size_t n) { learned.set_value(n); });
  auto future = learned.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get(), 2u);
  EXPECT_EQ(learner->taught,
            (std::vector<std::pair<std::int64_t, Action>>{{1, Action::accept}, {2, Action::reject}}));
}

}  // namespace
