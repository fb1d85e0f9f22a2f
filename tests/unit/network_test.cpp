// The network file: every key read, the shipped demo network, and each
// kind of mistake refused with file:line:column, the key and what was
// expected.
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/network.hpp"
#include "support/support.hpp"

namespace {

using relais::daemon::parse_network;
using relais::daemon::PersonalData;
using relais::test::TempDir;

TEST(network, EveryKeyIsRead) {
  TempDir dir;
  relais::test::write_file(dir / "hook.key", "s3cret\n");
  relais::test::write_file(dir / "token", "t0ken\n");
  const std::string text = R"([network]
name = "Test"
timezone = "Europe/Paris"

[[area]]
id = "north"
name = "Le Nord"
city = "Ville"
postcode = "99001"
aliases = ["Nord", "le Nord"]
streets = ["rue du Nord"]
landmarks = ["gare du Nord"]

[[destination]]
id = "pool"
name = "Pool du Nord"
description = "a volunteer pool"
pool = true
categories = ["groceries", "pets"]
areas = ["north"]
timezone = "America/Montreal"
hours = { mon-fri = ["09:00-12:00", "14:00-18:00"], sat = ["10:00-01:00"] }
daily_capacity = 4
lang = "en"
personal_data = "on_claim"
deliver = [{ sink = "webhook", to = "http://127.0.0.1:9/hook", secret_file = "hook.key" },
           { sink = "chat" }]
token_file = "token"

[[destination]]
id = "city"
fallback = true
categories = ["groceries"]
unknown_area = true
token = "inline-token"
)";
  auto n = parse_network(text, dir / "network.toml", {"webhook", "chat"});
  ASSERT_TRUE(n) << n.error().message;
  const auto& net = **n;
  EXPECT_EQ(net.name, "Test");
  EXPECT_EQ(net.zone->name(), "Europe/Paris");
  ASSERT_EQ(net.areas.size(), 1u);
  EXPECT_EQ(net.areas[0].name, "Le Nord");
  EXPECT_EQ(net.areas[0].aliases, (std::vector<std::string>{"Nord", "le Nord"}));
  const auto* pool = net.find("pool");
  ASSERT_NE(pool, nullptr);
  EXPECT_TRUE(pool->pool);
  EXPECT_FALSE(pool->fallback);
  EXPECT_EQ(pool->zone->name(), "America/Montreal");
  ASSERT_EQ(pool->hours.days[0].size(), 2u);
  EXPECT_EQ(pool->hours.days[0][1].start, 14 * 60);
  EXPECT_TRUE(pool->hours.days[6].empty());
  EXPECT_EQ(pool->hours.days[5][0].end, 25 * 60);
  EXPECT_EQ(pool->daily_capacity, 4);
  EXPECT_EQ(pool->lang, "en");
  EXPECT_EQ(pool->personal_data, PersonalData::on_claim);
  ASSERT_EQ(pool->deliver.size(), 2u);
  EXPECT_EQ(pool->deliver[0].secret, "s3cret");
  EXPECT_EQ(pool->deliver[1].to, "pool");  // absent: the destination's id
  EXPECT_EQ(pool->token, "t0ken");
  EXPECT_TRUE(pool->handles("pets"));
  EXPECT_TRUE(pool->covers("north"));
  EXPECT_FALSE(pool->covers(""));
  const auto* city = net.fallback();
  ASSERT_NE(city, nullptr);
  EXPECT_EQ(city->id, "city");
  EXPECT_TRUE(city->covers(""));
  EXPECT_EQ(city->zone->name(), "Europe/Paris");
  // No hours: always open.
  EXPECT_EQ(city->hours.days[3].size(), 1u);
  EXPECT_EQ(city->token, "inline-token");
}

TEST(network, TheDemoNetworkExpressesTheDemoPage) {
  auto n = relais::daemon::load_network(relais::test::source_dir() / "config" / "demo-network.toml",
                                        {"email", "webhook", "chat"});
  ASSERT_TRUE(n) << n.error().message;
  const auto& net = **n;
  EXPECT_EQ(net.zone->name(), "Europe/Paris");
  EXPECT_EQ(net.areas.size(), 14u);
  EXPECT_EQ(net.destinations.size(), 13u);
  EXPECT_EQ(net.fallback()->id, "reseau_solidarite_ville");
  EXPECT_EQ(net.fallback()->categories.size(), 16u);
  const auto* charles_foix = net.find("soutien_soignants_charles_foix");
  ASSERT_NE(charles_foix, nullptr);
  EXPECT_EQ(charles_foix->hours.days[5][0].end, 25 * 60);  // 06:00-01:00
  const auto* droits = net.find("acces_droits_vitry");
  ASSERT_NE(droits, nullptr);
  EXPECT_EQ(droits->hours.days[1][0].start, 9 * 60);  // Tuesday 09:00-12:00
  EXPECT_TRUE(droits->hours.days[5].empty());
  EXPECT_EQ(net.find("voisins_port_a_langlais")->daily_capacity, 3);
}

struct BadNetwork {
  std::string name;
  std::string text;
  std::string position;  // "line:column"
  std::string key;
  std::string expects;
};

void PrintTo(const BadNetwork& b, std::ostream* os) { *os << b.name; }

class InvalidNetwork : public ::testing::TestWithParam<BadNetwork> {};

TEST_P(InvalidNetwork, NamesFileLineColumnKeyAndWhatWasExpected) {
  const auto& c = GetParam();
  auto n = parse_network(c.text, "net.toml", {"webhook"});
  ASSERT_FALSE(n);
  const auto& message = n.error().message;
  EXPECT_EQ(message.rfind("net.toml:" + c.position + ": ", 0), 0u) << message;
  if (!c.key.empty()) {
    EXPECT_NE(message.find(": " + c.key + ": "), std::string::npos) << message;
  }
  EXPECT_NE(message.find(c.expects), std::string::npos) << message;
}

const std::string kOk = "categories = [\"groceries\"]\nunknown_area = true\n";

INSTANTIATE_TEST_SUITE_P(
    network, InvalidNetwork,
    ::testing::Values(
        BadNetwork{"unknown_zone", "[network]\ntimezone = \"Mars/Olympus\"\n", "2:12", "network.timezone",
                   "unknown time zone"},
        BadNetwork{"unknown_top_key", "[netwrk]\nname = \"x\"\n", "1:2", "netwrk", "unknown key"},
        BadNetwork{"area_without_id", "[[area]]\nname = \"x\"\n", "1:1", "area[0].id", "missing"},
        BadNetwork{"area_twice", "[[area]]\nid = \"a\"\n[[area]]\nid = \"a\"\n", "4:6", "area[1].id",
                   "declared twice"},
        BadNetwork{"area_unknown_key", "[[area]]\nid = \"a\"\nstreet = [\"x\"]\n", "3:1", "area[0].street",
                   "unknown key"},
        BadNetwork{"destination_without_categories", "[[destination]]\nid = \"d\"\nunknown_area = true\n",
                   "1:1", "destination[0].categories", "missing"},
        BadNetwork{"destination_area_not_declared",
                   "[[area]]\nid = \"a\"\n[[destination]]\nid = \"d\"\ncategories = [\"x\"]\nareas = [\"a\", "
                   "\"b\"]\n",
                   "6:15", "destination[0].areas", "\"b\" is not an [[area]]"},
        BadNetwork{"destination_twice",
                   "[[destination]]\nid = \"d\"\n" + kOk + "[[destination]]\nid = \"d\"\n" + kOk, "6:6",
                   "destination[1].id", "declared twice"},
        BadNetwork{"reserved_id", "[[destination]]\nid = \"moderators\"\n" + kOk, "2:6", "destination[0].id",
                   "reserved"},
        BadNetwork{"two_fallbacks",
                   "[[destination]]\nid = \"a\"\nfallback = true\n" + kOk +
                       "[[destination]]\nid = \"b\"\nfallback = true\n" + kOk,
                   "8:12", "destination[1].fallback", "a second fallback"},
        BadNetwork{"bad_interval", "[[destination]]\nid = \"d\"\n" + kOk + "hours = { mon = [\"8h-20h\"] }\n",
                   "5:18", "destination[0].hours.mon", "HH:MM-HH:MM"},
        BadNetwork{"bad_day",
                   "[[destination]]\nid = \"d\"\n" + kOk + "hours = { monday = [\"08:00-20:00\"] }\n", "5:11",
                   "destination[0].hours.monday", "a day (mon ... sun)"},
        BadNetwork{
            "day_twice",
            "[[destination]]\nid = \"d\"\n" + kOk + "hours = { mon-fri = [\"08:00-20:00\"], fri = [] }\n",
            "5:38", "destination[0].hours.fri", "given twice"},
        BadNetwork{"capacity_zero", "[[destination]]\nid = \"d\"\n" + kOk + "daily_capacity = 0\n", "5:18",
                   "destination[0].daily_capacity", "expected an integer from 1"},
        BadNetwork{"personal_data_value",
                   "[[destination]]\nid = \"d\"\n" + kOk + "personal_data = \"never\"\n", "5:17",
                   "destination[0].personal_data", "expected one of always, on_claim"},
        BadNetwork{
            "unknown_sink",
            "[[destination]]\nid = \"d\"\n" + kOk + "deliver = [{ sink = \"mail\", to = \"a@b.example\" }]\n",
            "5:21", "destination[0].deliver[0].sink", "no [[sink]] entry is named \"mail\""},
        BadNetwork{"secret_twice",
                   "[[destination]]\nid = \"d\"\n" + kOk +
                       "deliver = [{ sink = \"webhook\", secret = \"a\", secret_file = \"b\" }]\n",
                   "5:60", "destination[0].deliver[0].secret_file", "not both"},
        BadNetwork{"token_file_missing",
                   "[[destination]]\nid = \"d\"\n" + kOk + "token_file = \"/nonexistent/t\"\n", "5:14",
                   "destination[0].token_file", "cannot read the file"},
        BadNetwork{"syntax", "[[destination]\nid = 1\n", "1:15", "", "expected ']'"}));

TEST(network, ASinkNamedTwiceCannotBeChosen) {
  auto n = parse_network("[[destination]]\nid = \"d\"\n" + kOk + "deliver = [{ sink = \"webhook\" }]\n",
                         "net.toml", {"webhook", "webhook"});
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message.find("give them a `name` each"), std::string::npos) << n.error().message;
}

TEST(network, TheConfigNamesTheNetworkFileRelativeToItself) {
  TempDir dir;
  relais::test::write_file(dir / "net.toml", "[[destination]]\nid = \"d\"\n" + kOk);
  auto c = relais::daemon::parse_config("[routing]\nnetwork = \"net.toml\"\n", dir / "relais.toml", {});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->network->destinations.size(), 1u);
  // An error in the network file names the network file.
  relais::test::write_file(dir / "net.toml", "[[destination]]\nid = \"d\"\n");
  c = relais::daemon::parse_config("[routing]\nnetwork = \"net.toml\"\n", dir / "relais.toml", {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.rfind((dir / "net.toml").string() + ":1:1: destination[0].categories", 0), 0u)
      << c.error().message;
}

}  // namespace
