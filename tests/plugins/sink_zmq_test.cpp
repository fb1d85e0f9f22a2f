// sink_zmq, loaded from the build's plugin directory as relaisd loads it,
// publishing to a real ZeroMQ SUB socket: the two frames, the topic
// filter, both modes, a reload's instances side by side, addresses and keys.
//
// A PUB socket drops what it publishes before a subscription reaches it, so
// the tests publish until the first message arrives, within a deadline.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "support/plugin_set.hpp"

namespace {

namespace json = boost::json;
using relais::Delivery;
using relais::DeliveryStatus;
using relais::test::TempDir;

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys) {
  auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_zmq\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

Delivery sample(const std::string& topic) {
  Delivery d;
  d.id = "1042-voisins_port_a_langlais-0";
  d.purpose = relais::DeliveryPurpose::need;
  d.destination = "voisins_port_a_langlais";
  d.destination_name = "Voisins solidaires Port-à-l'Anglais";
  d.address = topic;
  d.lang = "fr";
  d.reason = "categories groceries in vitry_port_a_langlais";
  d.post.id = 1042;
  d.post.source = "webform";
  d.post.text = "Je cherche quelqu'un pour mes courses samedi.";
  d.triage.kind = relais::Kind::request;
  d.triage.categories = {"groceries"};
  d.triage.area = "vitry_port_a_langlais";
  return d;
}

struct Message {
  std::string topic;
  std::string body;
  bool more_after_body = false;
};

// One message from `sub`, or nothing within its receive timeout.
std::optional<Message> receive(zmq::socket_t& sub) {
  zmq::message_t topic;
  if (!sub.recv(topic)) return std::nullopt;
  Message out{topic.to_string(), "", false};
  if (!topic.more()) return out;
  zmq::message_t body;
  if (!sub.recv(body)) return out;
  out.body = body.to_string();
  out.more_after_body = body.more();
  return out;
}

// Publishes `delivery` (after `noise`, if any) until `sub` gets a message,
// then returns it: the subscription takes a moment to reach the publisher.
std::optional<Message> publish_until_received(relais::Sink& sink, zmq::socket_t& sub,
                                              const Delivery& delivery,
                                              const std::optional<Delivery>& noise = std::nullopt) {
  std::optional<Message> got;
  relais::test::wait_until([&] {
    if (noise) {
      EXPECT_EQ(sink.deliver(*noise).status, DeliveryStatus::delivered);
    }
    EXPECT_EQ(sink.deliver(delivery).status, DeliveryStatus::delivered);
    got = receive(sub);
    return got.has_value();
  });
  return got;
}

zmq::socket_t subscriber(zmq::context_t& context, const std::string& topic) {
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::rcvtimeo, 20);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, topic);
  return sub;
}

TEST(sink_zmq, LoadsAsASinkPlugin) {
  TempDir dir;
  const auto set = load("endpoint = \"ipc://" + (dir / "pub.sock").string() + "\"\n");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->sinks.size(), 1u);
  EXPECT_EQ(set->sinks[0].instance, "sink:zmq:0");
  EXPECT_EQ(set->sinks[0].plugin, "sink_zmq");
  EXPECT_EQ(set->sinks[0].version, "1.0.0");
}

// Bound by the sink: a subscriber gets [topic][JSON] for its topic only.
TEST(sink_zmq, ASubscriberGetsItsTopicOnly) {
  TempDir dir;
  const std::string endpoint = "ipc://" + (dir / "pub.sock").string();
  const auto set = load("endpoint = \"" + endpoint + "\"\n");
  ASSERT_TRUE(set);
  auto& sink = *set->sinks[0].object;

  zmq::context_t context;
  auto sub = subscriber(context, "voisins_port_a_langlais");
  sub.connect(endpoint);
  const Delivery wanted = sample("voisins_port_a_langlais");
  Delivery other = sample("voisins_coteau_balzac");
  other.id = "1043-voisins_coteau_balzac-0";
  const auto got = publish_until_received(sink, sub, wanted, other);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "voisins_port_a_langlais");
  EXPECT_FALSE(got->more_after_body);
  const auto body = json::parse(got->body).as_object();
  EXPECT_EQ(body.at("version").as_int64(), 1);
  EXPECT_EQ(body.at("delivery_id").as_string(), wanted.id);
  EXPECT_EQ(body.at("purpose").as_string(), "need");
  EXPECT_EQ(body.at("destination").as_string(), "voisins_port_a_langlais");
  EXPECT_EQ(body.at("reason").as_string(), wanted.reason);
  EXPECT_EQ(body.at("post").as_object().at("text").as_string(), wanted.post.text);
  EXPECT_FALSE(body.at("post").as_object().contains("private"));
  EXPECT_EQ(body.at("triage").as_object().at("categories").as_array(), (json::array{"groceries"}));

  // Whatever else arrived was for this topic: the other one was published
  // before every copy of it, and never came.
  for (auto more = receive(sub); more; more = receive(sub)) {
    EXPECT_EQ(more->topic, "voisins_port_a_langlais");
    EXPECT_EQ(json::parse(more->body).as_object().at("delivery_id").as_string(), wanted.id);
  }
}

// No address: the topic is the destination's id.
TEST(sink_zmq, TheTopicDefaultsToTheDestination) {
  TempDir dir;
  const std::string endpoint = "ipc://" + (dir / "pub.sock").string();
  const auto set = load("endpoint = \"" + endpoint + "\"\n");
  ASSERT_TRUE(set);
  zmq::context_t context;
  auto sub = subscriber(context, "");
  sub.connect(endpoint);
  const auto got = publish_until_received(*set->sinks[0].object, sub, sample(""));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "voisins_port_a_langlais");
}

// mode = "connect": the sink connects to a subscriber that binds.
TEST(sink_zmq, ConnectsToABoundSubscriber) {
  zmq::context_t context;
  auto sub = subscriber(context, "benevoles_paris20");
  sub.bind("tcp://127.0.0.1:*");
  const std::string endpoint = sub.get(zmq::sockopt::last_endpoint);
  const auto set = load("endpoint = \"" + endpoint + "\"\nmode = \"connect\"\n");
  ASSERT_TRUE(set);
  const auto got = publish_until_received(*set->sinks[0].object, sub, sample("benevoles_paris20"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "benevoles_paris20");
}

// A reload builds the new set while the old one runs: both share the
// endpoint, and the old one's going leaves the new one publishing.
TEST(sink_zmq, AReloadKeepsTheEndpoint) {
  TempDir dir;
  const std::string endpoint = "ipc://" + (dir / "pub.sock").string();
  auto running = load("endpoint = \"" + endpoint + "\"\n");
  ASSERT_TRUE(running);
  const auto incoming = load("endpoint = \"" + endpoint + "\"\nhigh_water_mark = 50\n");
  ASSERT_TRUE(incoming);
  zmq::context_t context;
  auto sub = subscriber(context, "voisins_port_a_langlais");
  sub.connect(endpoint);
  ASSERT_TRUE(publish_until_received(*running->sinks[0].object, sub, sample("voisins_port_a_langlais")));
  running.reset();
  EXPECT_TRUE(std::filesystem::exists(dir / "pub.sock"));
  for (auto more = receive(sub); more; more = receive(sub)) {
  }
  ASSERT_EQ(incoming->sinks[0].object->deliver(sample("voisins_port_a_langlais")).status,
            DeliveryStatus::delivered);
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  const auto got = receive(sub);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, "voisins_port_a_langlais");
}

// An endpoint another program holds stops the set from being built.
TEST(sink_zmq, AnEndpointInUseIsRefused) {
  zmq::context_t context;
  zmq::socket_t other(context, zmq::socket_type::pub);
  other.set(zmq::sockopt::linger, 0);
  other.bind("tcp://127.0.0.1:*");
  const std::string endpoint = other.get(zmq::sockopt::last_endpoint);
  auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_zmq\"\nendpoint = \"" + endpoint + "\"\n");
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("cannot bind " + endpoint), std::string::npos) << set.error().message;
}

TEST(sink_zmq, AddressesAreTopics) {
  TempDir dir;
  const auto set = load("endpoint = \"ipc://" + (dir / "pub.sock").string() + "\"\n");
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->sinks[0].object->check_address("voisins_port_a_langlais"));
  const auto empty = set->sinks[0].object->check_address("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "expected a non-empty topic");
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(sink_zmq, BadTablesAreRefusedWithTheirPosition) {
  const std::string endpoint = "endpoint = \"ipc:///nonexistent/pub.sock\"\n";
  for (const auto& bad : std::vector<BadTable>{
           {"", "sink[0].endpoint: expected a ZeroMQ endpoint tcp://host:port or ipc://path"},
           {"endpoint = \"udp://127.0.0.1:5555\"\n", "relais.toml:3:12: sink[0].endpoint: expected a ZeroMQ"},
           {"endpoint = \"tcp://\"\n", "relais.toml:3:12: sink[0].endpoint"},
           {"endpoint = 5555\n", "relais.toml:3:12: sink[0].endpoint: expected a string"},
           {endpoint + "mode = \"listen\"\n",
            "relais.toml:4:8: sink[0].mode: expected \"bind\" or \"connect\""},
           {endpoint + "high_water_mark = -1\n", "relais.toml:4:19: sink[0].high_water_mark"},
           {endpoint + "linger_ms = -1\n", "relais.toml:4:13: sink[0].linger_ms: expected milliseconds"},
           {endpoint + "topic = \"x\"\n", "relais.toml:4:1: sink[0].topic: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_zmq\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
