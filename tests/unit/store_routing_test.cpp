// storage: what happens to a need after moderation, on a real SQLite file:
// a routing committed whole (need, destinations, outbox rows), a change
// refused when the need moved meanwhile, escalation timers, the outbox's
// attempts, dead letters and redrives, capacity by day, offers' matches.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "storage/store.hpp"
#include "support/support.hpp"

namespace {

namespace json = boost::json;
using relais::DeliveryPurpose;
using relais::Kind;
using relais::Post;
using relais::Triage;
using relais::Urgency;
using relais::daemon::AssignmentRecord;
using relais::daemon::DeliveryOutcome;
using relais::daemon::DeliveryRequest;
using relais::daemon::NeedChange;
using relais::daemon::NeedRecord;
using relais::daemon::StageRecord;
using relais::daemon::Store;
using relais::daemon::StoredDelivery;

class store_routing : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    store.reset();
    auto opened = relais::daemon::open_sqlite_store(dir / "relais.db", {});
    ASSERT_TRUE(opened) << opened.error().message;
    store = std::move(*opened);
  }

  std::int64_t post(const std::string& id) {
    Post p;
    p.source = "test";
    p.external_id = id;
    p.channel = "webform";
    p.text = "Bonjour, j'ai besoin de courses";
    p.received_at = "2020-04-01T08:12:00+02:00";
    auto outcomes = store->commit(std::vector<Post>{p}, {});
    EXPECT_TRUE(outcomes) << outcomes.error().message;
    return outcomes ? (*outcomes)[0].post_id : 0;
  }

  // A request routed to `destinations` (the first owns it), each reached
  // through the sink `webhook`.
  std::int64_t routed(const std::string& id, const std::vector<std::string>& destinations,
                      std::optional<std::int64_t> deadline,
                      std::vector<std::string> categories = {"groceries"}, std::string area = "north") {
    const auto post_id = post(id);
    StageRecord r;
    r.post_id = post_id;
    r.state = "routed";
    Triage t;
    t.kind = Kind::request;
    t.categories = std::move(categories);
    t.area = std::move(area);
    t.urgency = Urgency::high;
    r.triage = t;
    r.need = NeedRecord{destinations.front(), "", deadline, 0};
    for (std::size_t i = 0; i < destinations.size(); ++i) {
      r.assignments.push_back({destinations[i], i == 0 ? "route" : "urgent_copy", "2020-04-01", "active"});
      r.deliveries.push_back({post_id, destinations[i], "webhook", DeliveryPurpose::need, "test", 0});
    }
    r.events.push_back({"routed", "route", "{}"});
    auto ok = store->commit({}, std::vector<StageRecord>{r});
    EXPECT_TRUE(ok) << ok.error().message;
    return post_id;
  }

  std::vector<StoredDelivery> deliveries(std::string_view state = "", std::int64_t post_id = 0) {
    auto rows = store->list_deliveries(state, post_id, 100);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows ? *rows : std::vector<StoredDelivery>{};
  }

  std::vector<std::string> event_types(std::int64_t id) {
    std::vector<std::string> out;
    auto p = store->get_post(id);
    if (p && *p) {
      for (const auto& e : (*p)->events) out.push_back(e.type);
    }
    return out;
  }

  relais::test::TempDir dir;
  std::unique_ptr<Store> store;
};

TEST_F(store_routing, ARoutingIsCommittedWholeWithItsOutcome) {
  const auto id = routed("a", {"north_pool", "city"}, 5000);
  auto need = store->get_need(id);
  ASSERT_TRUE(need && *need);
  EXPECT_EQ((*need)->state, "routed");
  EXPECT_EQ((*need)->need.owner, "north_pool");
  EXPECT_EQ((*need)->need.deadline, 5000);
  EXPECT_EQ((*need)->need.version, 1);
  EXPECT_EQ((*need)->triage.categories, std::vector<std::string>{"groceries"});
  ASSERT_EQ((*need)->assignments.size(), 2u);
  EXPECT_EQ((*need)->assignments[0].destination, "north_pool");
  EXPECT_EQ((*need)->assignments[1].reason, "urgent_copy");
  const auto rows = deliveries();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& d : rows) {
    EXPECT_EQ(d.state, "pending");
    EXPECT_EQ(d.attempts, 0u);
    EXPECT_EQ(d.next_at, 0);  // due at once
  }
  auto due = store->due_deliveries(1, "webhook", 10);
  ASSERT_TRUE(due);
  EXPECT_EQ(due->size(), 2u);
  EXPECT_TRUE(store->due_deliveries(1, "email", 10)->empty());
  EXPECT_EQ(*store->due_sinks(1), std::vector<std::string>{"webhook"});
  auto uses = store->capacity_uses();
  ASSERT_TRUE(uses);
  ASSERT_EQ(uses->size(), 2u);
  EXPECT_EQ((*uses)[0].count + (*uses)[1].count, 2);
}

TEST_F(store_routing, AChangeIsRefusedWhenTheNeedMovedMeanwhile) {
  const auto id = routed("a", {"north_pool"}, 5000);
  NeedChange claim;
  claim.post_id = id;
  claim.expected_version = 1;
  claim.state = "claimed";
  claim.need = NeedRecord{"north_pool", "north_pool", std::nullopt, 0};
  claim.events.push_back({id, {"claimed", "destination:north_pool", "{}"}});
  auto first = store->change_need(claim);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  // Someone who read version 1 as well (an escalation) loses.
  NeedChange late;
  late.post_id = id;
  late.expected_version = 1;
  late.state = "routed";
  late.need = NeedRecord{"city", "", 9000, 0};
  late.assignments.push_back({"city", "escalation", "2020-04-01", "active"});
  late.deliveries.push_back({id, "city", "webhook", DeliveryPurpose::escalation, "late", 0});
  late.events.push_back({id, {"escalated", "escalation", "{}"}});
  auto second = store->change_need(late);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  auto need = store->get_need(id);
  EXPECT_EQ((*need)->state, "claimed");
  EXPECT_EQ((*need)->need.claimed_by, "north_pool");
  EXPECT_EQ((*need)->need.version, 2);
  EXPECT_EQ((*need)->assignments.size(), 1u);
  EXPECT_EQ(deliveries().size(), 1u);
  const auto types = event_types(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "claimed"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "escalated"), 0);
  // A declined assignment keeps the reason and day it was given with.
  NeedChange decline;
  decline.post_id = id;
  decline.expected_version = 2;
  decline.assignments.push_back({"north_pool", "", "", "declined"});
  ASSERT_TRUE(*store->change_need(decline));
  need = store->get_need(id);
  EXPECT_EQ((*need)->assignments[0].state, "declined");
  EXPECT_EQ((*need)->assignments[0].reason, "route");
  EXPECT_EQ((*need)->assignments[0].day, "2020-04-01");
}

TEST_F(store_routing, TimersAreDueInDeadlineOrderAndOnlyForRoutedNeeds) {
  const auto late = routed("late", {"a"}, 200);
  const auto early = routed("early", {"a"}, 100);
  const auto claimed = routed("claimed", {"a"}, 50);
  routed("none", {"a"}, std::nullopt);
  NeedChange c;
  c.post_id = claimed;
  c.state = "claimed";
  c.need = NeedRecord{"a", "a", std::nullopt, 0};
  ASSERT_TRUE(*store->change_need(c));
  EXPECT_EQ(*store->next_need_deadline(), 100);
  auto due = store->due_needs(150, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].post_id, early);
  due = store->due_needs(1000, 10);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[1].post_id, late);
}

TEST_F(store_routing, AttemptsRetriesDeadLettersAndARedrive) {
  const auto id = routed("a", {"north_pool"}, std::nullopt);
  const auto row = deliveries().at(0);
  DeliveryOutcome retry{row.id, id, "pending", 1, 5000, "HTTP 503", {"delivery_failed", "outbox", "{}"}};
  ASSERT_TRUE(store->record_deliveries(std::vector<DeliveryOutcome>{retry}));
  EXPECT_TRUE(store->due_deliveries(4999, "webhook", 10)->empty());
  EXPECT_EQ(store->due_deliveries(5000, "webhook", 10)->size(), 1u);
  EXPECT_EQ(*store->next_delivery_at(0), 5000);
  EXPECT_FALSE(*store->next_delivery_at(5000));
  // "failed": pending rows that failed once, and dead letters.
  EXPECT_EQ(deliveries("failed").size(), 1u);
  // Not dead: no redrive.
  EXPECT_FALSE(*store->redrive(row.id, 6000, {"redriven", "moderator:x", "{}"}));
  DeliveryOutcome dead{row.id, id, "dead", 2, 5000, "HTTP 503", {"dead_lettered", "outbox", "{}"}};
  ASSERT_TRUE(store->record_deliveries(std::vector<DeliveryOutcome>{dead}));
  EXPECT_TRUE(store->due_deliveries(99999, "webhook", 10)->empty());
  auto listed = deliveries("failed");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, "dead");
  EXPECT_EQ(listed[0].attempts, 2u);
  EXPECT_EQ(listed[0].last_error, "HTTP 503");
  EXPECT_EQ(deliveries("dead").size(), 1u);
  EXPECT_TRUE(deliveries("pending").empty());
  ASSERT_TRUE(*store->redrive(row.id, 6000, {"redriven", "moderator:x", "{}"}));
  auto again = store->get_delivery(row.id);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->state, "pending");
  EXPECT_EQ((*again)->attempts, 0u);
  EXPECT_EQ((*again)->next_at, 6000);
  DeliveryOutcome ok{row.id, id, "delivered", 1, 6000, "", {"delivered", "outbox", "{}"}};
  ASSERT_TRUE(store->record_deliveries(std::vector<DeliveryOutcome>{ok}));
  EXPECT_EQ(deliveries("delivered").size(), 1u);
  const auto types = event_types(id);
  EXPECT_EQ(std::vector<std::string>(types.end() - 4, types.end()),
            (std::vector<std::string>{"delivery_failed", "dead_lettered", "redriven", "delivered"}));
}

TEST_F(store_routing, OpenNeedsMatchAnOfferByCategoryAndArea) {
  const auto both = routed("both", {"a"}, 100, {"groceries", "pets"}, "north");
  routed("south", {"a"}, 100, {"pets"}, "south");
  const auto claimed = routed("claimed", {"a"}, 100, {"pets"}, "north");
  NeedChange c;
  c.post_id = claimed;
  c.state = "claimed";
  c.need = NeedRecord{"a", "a", std::nullopt, 0};
  ASSERT_TRUE(*store->change_need(c));
  auto found = store->open_needs_matching("pets", "north", "2000-01-01T00:00:00.000Z", 10);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, std::vector<std::int64_t>{both});
  // Needs older than the window are not offered.
  EXPECT_TRUE(store->open_needs_matching("pets", "north", "2999-01-01T00:00:00.000Z", 10)->empty());
  // The store resumes each search where the window began last time: a
  // window that moves back (a clock set back) is searched from the start,
  // and a need routed after an empty window is found.
  EXPECT_EQ(*store->open_needs_matching("pets", "north", "2000-01-01T00:00:00.000Z", 10),
            std::vector<std::int64_t>{both});
  EXPECT_TRUE(store->open_needs_matching("pets", "north", "2999-01-01T00:00:00.000Z", 10)->empty());
  EXPECT_EQ(store->open_needs_matching("pets", "north", "2000-01-02T00:00:00.000Z", 10)->size(), 1U);
  const auto later = routed("later", {"a"}, 100, {"pets"}, "north");
  EXPECT_EQ(*store->open_needs_matching("pets", "north", "2000-01-03T00:00:00.000Z", 10),
            (std::vector<std::int64_t>{both, later}));
}

TEST_F(store_routing, NeedsAreListedByStateAndByDestination) {
  const auto a = routed("a", {"pool", "city"}, 100);
  const auto b = routed("b", {"shop"}, 100);
  auto all = store->list_needs("", "", 10);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  auto city = store->list_needs("", "city", 10);
  ASSERT_EQ(city->size(), 1u);
  EXPECT_EQ((*city)[0].post_id, a);
  auto shop = store->list_needs("routed", "shop", 10);
  ASSERT_EQ(shop->size(), 1u);
  EXPECT_EQ((*shop)[0].post_id, b);
  EXPECT_TRUE(store->list_needs("unrouted", "", 10)->empty());
}

TEST_F(store_routing, TheDatabaseKeepsItsOwnId) {
  auto id = store->database_id();
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);
  open();
  EXPECT_EQ(*store->database_id(), *id);
  relais::test::TempDir other;
  auto second = relais::daemon::open_sqlite_store(other / "relais.db", {});
  ASSERT_TRUE(second);
  EXPECT_NE(*(*second)->database_id(), *id);
}

}  // namespace
