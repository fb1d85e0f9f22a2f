// The routing policy case by case: the most specific destination, the
// category order, opening hours (past midnight, across a change of
// offset), capacity by local day, the fallback, the urgent copy, the next
// candidate of an escalation, the pools an offer joins; and the worked
// examples of the demo network, on config/demo-network.toml itself.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/network.hpp"
#include "router/dispatch.hpp"
#include "router/router.hpp"
#include "support/support.hpp"

namespace {

using namespace std::chrono;
using relais::Kind;
using relais::Triage;
using relais::Urgency;
using relais::daemon::CapacityLedger;
using relais::daemon::Instant;
using relais::daemon::Network;
using relais::daemon::plan_next;
using relais::daemon::plan_route;
using relais::daemon::RouteDecision;
using relais::daemon::Router;
using relais::daemon::RoutingPolicy;
using relais::daemon::to_millis;

Instant utc(int y, unsigned m, unsigned d, int h, int mi) {
  return Instant(sys_days(year(y) / month(m) / day(d)) + hours(h) + minutes(mi));
}

// A small network: a quarter pool, a city-wide association and a fallback,
// in Paris time. 2020-04-01 is a Wednesday.
constexpr const char* kNetwork = R"(
[network]
timezone = "Europe/Paris"

[[area]]
id = "north"
[[area]]
id = "south"
[[area]]
id = "east"

[[destination]]
id = "city"
fallback = true
categories = ["groceries", "medication", "paperwork"]
areas = ["north", "south", "east"]
unknown_area = true
daily_capacity = 1000

[[destination]]
id = "north_pool"
pool = true
categories = ["groceries", "pets"]
areas = ["north"]
hours = { mon-sun = ["08:00-20:00"] }
daily_capacity = 2

[[destination]]
id = "town_shop"
categories = ["groceries", "medication"]
areas = ["north", "south", "east"]
hours = { mon-fri = ["09:00-17:00"] }
daily_capacity = 5

[[destination]]
id = "b_twin"
categories = ["paperwork"]
areas = ["south"]

[[destination]]
id = "a_twin"
categories = ["paperwork"]
areas = ["south"]

[[destination]]
id = "night_care"
categories = ["medication"]
areas = ["east"]
hours = { sat = ["06:00-01:00"] }
)";

std::shared_ptr<const Network> network(const std::string& text = kNetwork) {
  auto n = relais::daemon::parse_network(text, "network.toml", {});
  EXPECT_TRUE(n) << n.error().message;
  return n ? *n : std::make_shared<const Network>();
}

Triage need(std::vector<std::string> categories, std::string area, Urgency urgency = Urgency::normal) {
  Triage t;
  t.kind = Kind::request;
  t.categories = std::move(categories);
  t.area = std::move(area);
  t.urgency = urgency;
  return t;
}

using Route = std::vector<std::string>;

class router_policy : public ::testing::Test {
 protected:
  RouteDecision plan(const Triage& t, Instant at) { return plan_route(policy, t, at, ledger); }
  Route route(const Triage& t, Instant at) { return plan(t, at).destinations; }

  std::shared_ptr<const Network> net = network();
  RoutingPolicy policy{*net, {Urgency::high, Urgency::critical}};
  CapacityLedger ledger;
};

TEST_F(router_policy, TheMostSpecificOpenDestinationWins) {
  // Wednesday 10:00 local: the pool (1 area) and the shop (3) are open.
  EXPECT_EQ(route(need({"groceries"}, "north"), utc(2020, 4, 1, 8, 0)), Route{"north_pool"});
  // In the south only the shop handles groceries.
  EXPECT_EQ(route(need({"groceries"}, "south"), utc(2020, 4, 1, 8, 0)), Route{"town_shop"});
}

TEST_F(router_policy, ATieGoesToTheFirstId) {
  EXPECT_EQ(route(need({"paperwork"}, "south"), utc(2020, 4, 1, 8, 0)), Route{"a_twin"});
}

TEST_F(router_policy, TheWhyOfEveryDestinationConsidered) {
  // Wednesday 18:30 local: the shop is closed, the pool open.
  const auto d = plan(need({"groceries"}, "north"), utc(2020, 4, 1, 16, 30));
  EXPECT_EQ(d.destinations, Route{"north_pool"});
  EXPECT_EQ(d.category, "groceries");
  bool saw_closed = false;
  bool saw_chosen = false;
  for (const auto& c : d.considered) {
    if (c.destination == "town_shop") {
      EXPECT_EQ(c.outcome, "closed at Wed 2020-04-01 18:30 Europe/Paris");
      saw_closed = true;
    }
    if (c.destination == "north_pool") {
      EXPECT_EQ(c.outcome, "chosen");
      saw_chosen = true;
    }
  }
  EXPECT_TRUE(saw_closed && saw_chosen);
  EXPECT_NE(d.reason.find("most specific"), std::string::npos) << d.reason;
}

TEST_F(router_policy, ThePrimaryCategoryDecidesBeforeAMoreSpecificSecondary) {
  // medication: the shop (3 areas); pets would give the pool (1 area).
  EXPECT_EQ(route(need({"medication", "pets"}, "north"), utc(2020, 4, 1, 8, 0)), Route{"town_shop"});
  // The secondary category is tried when the primary has no candidate:
  // Wednesday 18:00, the shop is closed, medication has nobody in the north.
  const auto d = plan(need({"medication", "pets"}, "north"), utc(2020, 4, 1, 16, 0));
  EXPECT_EQ(d.destinations, Route{"north_pool"});
  EXPECT_EQ(d.category, "pets");
}

TEST_F(router_policy, OpeningHoursIncludeTheStartAndExcludeTheEnd) {
  EXPECT_EQ(route(need({"groceries"}, "north"), utc(2020, 4, 1, 6, 0)), Route{"north_pool"});  // 08:00
  EXPECT_EQ(route(need({"groceries"}, "north"), utc(2020, 4, 1, 18, 0)), Route{"city"});       // 20:00
}

TEST_F(router_policy, HoursPastMidnightCoverTheNextMorning) {
  // night_care: Saturday 06:00 to Sunday 01:00.
  EXPECT_EQ(route(need({"medication"}, "east"), utc(2020, 4, 4, 22, 40)), Route{"night_care"});  // Sun 00:40
  EXPECT_EQ(route(need({"medication"}, "east"), utc(2020, 4, 4, 23, 30)), Route{"city"});        // Sun 01:30
}

TEST_F(router_policy, HoursFollowTheChangeOfOffset) {
  // Saturday 2020-10-24 into Sunday 2020-10-25, when Paris goes from
  // UTC+2 to UTC+1 at 01:00Z: 22:30Z Saturday is 00:30 CEST Sunday (open),
  // 23:30Z is 01:30 CEST (closed).
  EXPECT_EQ(route(need({"medication"}, "east"), utc(2020, 10, 24, 22, 30)), Route{"night_care"});
  EXPECT_EQ(route(need({"medication"}, "east"), utc(2020, 10, 24, 23, 30)), Route{"city"});
  // The shop's 09:00 on Monday 2020-10-26 is 08:00Z in winter, 07:00Z in summer.
  EXPECT_EQ(route(need({"groceries"}, "south"), utc(2020, 10, 26, 7, 30)), Route{"city"});
  EXPECT_EQ(route(need({"groceries"}, "south"), utc(2020, 10, 26, 8, 0)), Route{"town_shop"});
  EXPECT_EQ(route(need({"groceries"}, "south"), utc(2020, 4, 6, 7, 0)), Route{"town_shop"});
}

TEST_F(router_policy, AFullDestinationIsNoLongerACandidateThatDay) {
  Router router;
  const auto morning = utc(2020, 4, 1, 7, 0);  // 09:00
  const auto t = need({"groceries"}, "north");
  EXPECT_EQ(router.route(policy, t, morning).destinations, Route{"north_pool"});
  EXPECT_EQ(router.route(policy, t, morning).destinations, Route{"north_pool"});
  // Capacity 2: the next goes to the next most specific candidate.
  const auto third = router.route(policy, t, morning);
  EXPECT_EQ(third.destinations, Route{"town_shop"});
  bool saw_full = false;
  for (const auto& c : third.considered) {
    if (c.destination == "north_pool") {
      EXPECT_EQ(c.outcome, "no capacity left on 2020-04-01 (2 of 2)");
      saw_full = true;
    }
  }
  EXPECT_TRUE(saw_full);
  // The capacity day is the local one: 2020-04-01T22:30Z is already the
  // 2nd in Paris, and the pool is open again at 08:00 there.
  EXPECT_EQ(router.route(policy, t, utc(2020, 4, 2, 6, 0)).destinations, Route{"north_pool"});
  EXPECT_EQ(router.ledger().used("north_pool", "2020-04-01"), 2);
  EXPECT_EQ(router.ledger().used("north_pool", "2020-04-02"), 1);
}

TEST_F(router_policy, CapacityIsCountedPerLocalDayNotPerUtcDay) {
  CapacityLedger l;
  l.load({{"north_pool", "2020-04-02", 2}});
  // 19:30 local on the 1st is 17:30Z: the 1st, with capacity left.
  EXPECT_EQ(plan_route(policy, need({"groceries"}, "north"), utc(2020, 4, 1, 17, 30), l).destinations,
            Route{"north_pool"});
  // 09:30 local on the 2nd is 07:30Z: the 2nd, full.
  EXPECT_EQ(plan_route(policy, need({"groceries"}, "north"), utc(2020, 4, 2, 7, 30), l).destinations,
            Route{"town_shop"});
}

TEST_F(router_policy, NoCandidateGoesToTheFallback) {
  // Sunday: the shop is closed, and nobody but the city handles paperwork
  // in the north.
  const auto d = plan(need({"paperwork"}, "north"), utc(2020, 4, 5, 10, 0));
  EXPECT_EQ(d.destinations, Route{"city"});
  EXPECT_TRUE(d.category.empty());
  EXPECT_NE(d.reason.find("fallback"), std::string::npos) << d.reason;
  // An unknown area has no candidate at all.
  EXPECT_EQ(route(need({"groceries"}, ""), utc(2020, 4, 1, 8, 0)), Route{"city"});
  // Nor has a need without a category.
  EXPECT_EQ(route(need({}, "north"), utc(2020, 4, 1, 8, 0)), Route{"city"});
}

TEST_F(router_policy, WithoutAFallbackOrWithAFullOneTheNeedWaits) {
  const auto alone = network(
      "[[area]]\nid = \"north\"\n[[destination]]\nid = \"pool\"\ncategories = [\"groceries\"]\nareas = "
      "[\"north\"]\n");
  const RoutingPolicy no_fallback{*alone, {Urgency::high, Urgency::critical}};
  const auto d = plan_route(no_fallback, need({"paperwork"}, "north"), utc(2020, 4, 1, 8, 0), ledger);
  EXPECT_TRUE(d.destinations.empty());
  EXPECT_NE(d.reason.find("no fallback"), std::string::npos) << d.reason;

  CapacityLedger full;
  full.load({{"city", "2020-04-01", 1000}});
  const auto e = plan_route(policy, need({"paperwork"}, "north"), utc(2020, 4, 1, 8, 0), full);
  EXPECT_TRUE(e.destinations.empty());
  EXPECT_NE(e.reason.find("no capacity"), std::string::npos) << e.reason;
}

TEST_F(router_policy, UrgentNeedsAlsoGoToTheFallbackOnce) {
  const auto at = utc(2020, 4, 1, 8, 0);
  EXPECT_EQ(route(need({"groceries"}, "north", Urgency::high), at), (Route{"north_pool", "city"}));
  EXPECT_EQ(route(need({"groceries"}, "north", Urgency::critical), at), (Route{"north_pool", "city"}));
  EXPECT_EQ(route(need({"groceries"}, "north", Urgency::normal), at), Route{"north_pool"});
  EXPECT_EQ(route(need({"groceries"}, "north", Urgency::low), at), Route{"north_pool"});
  EXPECT_TRUE(plan(need({"groceries"}, "north", Urgency::high), at).urgent_copy);
  // The fallback as the only destination is not there twice.
  EXPECT_EQ(route(need({"paperwork"}, "north", Urgency::critical), utc(2020, 4, 5, 10, 0)), Route{"city"});
  // Which urgencies get the copy is the configuration's.
  const RoutingPolicy critical_only{*net, {Urgency::critical}};
  EXPECT_EQ(plan_route(critical_only, need({"groceries"}, "north", Urgency::high), at, ledger).destinations,
            Route{"north_pool"});
}

TEST_F(router_policy, EscalationTakesTheNextCandidateThenTheFallbackThenNobody) {
  const auto at = utc(2020, 4, 1, 8, 0);
  const auto t = need({"groceries"}, "north");
  EXPECT_EQ(plan_next(policy, t, at, ledger, {"north_pool"}).destinations, Route{"town_shop"});
  EXPECT_EQ(plan_next(policy, t, at, ledger, {"north_pool", "town_shop"}).destinations, Route{"city"});
  const auto none = plan_next(policy, t, at, ledger, {"north_pool", "town_shop", "city"});
  EXPECT_TRUE(none.destinations.empty());
  EXPECT_NE(none.reason.find("already had it"), std::string::npos) << none.reason;
}

TEST_F(router_policy, OffersJoinThePoolsOfTheirCategoriesAndArea) {
  Triage offer = need({"transport", "groceries"}, "north");
  offer.kind = Kind::offer;
  EXPECT_EQ(relais::daemon::pools_for_offer(*net, offer), std::vector<std::string>{"north_pool"});
  offer.area = "south";
  EXPECT_TRUE(relais::daemon::pools_for_offer(*net, offer).empty());
  offer.area.clear();
  EXPECT_TRUE(relais::daemon::pools_for_offer(*net, offer).empty());
}

TEST_F(router_policy, AClaimIsAwaitedDuringOpeningHoursUnlessTheNeedIsCritical) {
  relais::daemon::Config config;
  config.claim_timeout = {hours(72), hours(24), hours(2), minutes(30)};
  const auto* pool = net->find("north_pool");   // 08:00-20:00
  const auto evening = utc(2020, 4, 1, 17, 0);  // 19:00 local
  // High: one hour before closing, one after opening the next morning.
  EXPECT_EQ(relais::daemon::claim_deadline(config, *pool, Urgency::high, evening),
            to_millis(utc(2020, 4, 2, 7, 0)));
  // Critical: the wall clock, whatever the hours.
  EXPECT_EQ(relais::daemon::claim_deadline(config, *pool, Urgency::critical, evening),
            to_millis(utc(2020, 4, 1, 17, 30)));
}

// ---------------------------------------------------------------------------
// The worked examples of the demo network's routing policy, on the shipped
// config/demo-network.toml.

class demo_network : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = relais::daemon::load_network(relais::test::source_dir() / "config" / "demo-network.toml",
                                          {"email", "webhook", "chat"});
    ASSERT_TRUE(n) << n.error().message;
    net = *n;
  }
  Route route(const Triage& t, Instant at) {
    const RoutingPolicy policy{*net, {Urgency::high, Urgency::critical}};
    return router.route(policy, t, at).destinations;
  }
  std::shared_ptr<const Network> net;
  Router router;
};

TEST_F(demo_network, WorkedExamples) {
  // Wednesday 08:12 (+02:00), groceries, high, Port-à-l'Anglais.
  const auto groceries = need({"groceries"}, "vitry_port_a_langlais", Urgency::high);
  EXPECT_EQ(route(groceries, utc(2020, 4, 1, 6, 12)),
            (Route{"voisins_port_a_langlais", "reseau_solidarite_ville"}));
  // The same at 19:10 once the pool has taken 3 needs that day.
  route(groceries, utc(2020, 4, 1, 8, 0));
  route(groceries, utc(2020, 4, 1, 9, 0));
  EXPECT_EQ(route(groceries, utc(2020, 4, 1, 17, 10)), Route{"reseau_solidarite_ville"});
}

TEST_F(demo_network, MedicationAfterThePoolIsFullGoesToTheNurses) {
  const auto pal = need({"groceries"}, "vitry_port_a_langlais");
  for (int i = 0; i < 3; ++i) route(pal, utc(2020, 4, 7, 7, i));  // Tuesday 09:0x
  EXPECT_EQ(route(need({"medication"}, "vitry_jean_jaures", Urgency::high), utc(2020, 4, 7, 9, 0)),
            (Route{"infirmiers_solidaires_94", "reseau_solidarite_ville"}));
}

TEST_F(demo_network, AClosedPrimaryLeavesItToTheSecondary) {
  // Wednesday 11:00: the computer recyclers open at 14:00; homework help
  // is open on Wednesdays from 10:00.
  EXPECT_EQ(route(need({"it_equipment", "schooling"}, "vitry_plateau"), utc(2020, 4, 1, 9, 0)),
            Route{"devoirs_solidaires_vitry"});
}

TEST_F(demo_network, TheHospitalGroupIsOpenUntilOneInTheMorning) {
  const auto childcare = need({"childcare"}, "ivry_sur_seine", Urgency::high);
  // Sunday 00:40 local, on Saturday's 06:00-01:00.
  EXPECT_EQ(route(childcare, utc(2020, 4, 4, 22, 40)),
            (Route{"soutien_soignants_charles_foix", "reseau_solidarite_ville"}));
  // 01:30 local: closed.
  EXPECT_EQ(route(childcare, utc(2020, 4, 4, 23, 30)), Route{"reseau_solidarite_ville"});
  // On 2020-10-25, 00:30Z is 02:30 CEST but 02:30Z is 03:30 CET: both closed.
  EXPECT_EQ(route(childcare, utc(2020, 10, 24, 22, 30)),
            (Route{"soutien_soignants_charles_foix", "reseau_solidarite_ville"}));  // 00:30 CEST
  EXPECT_EQ(route(childcare, utc(2020, 10, 25, 0, 30)), Route{"reseau_solidarite_ville"});
  EXPECT_EQ(route(childcare, utc(2020, 10, 25, 2, 30)), Route{"reseau_solidarite_ville"});
}

TEST_F(demo_network, AnUnknownAreaGoesToTheFallback) {
  EXPECT_EQ(route(need({"paperwork"}, ""), utc(2020, 4, 1, 9, 0)), Route{"reseau_solidarite_ville"});
}

}  // namespace
