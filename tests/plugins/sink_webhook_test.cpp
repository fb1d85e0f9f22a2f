// sink_webhook, loaded from the build's plugin directory as relaisd loads
// it, posting to a real HTTP server on loopback
// (tests/support/webhook_receiver.py) that checks the signature itself:
// what a receiver gets, how each answer maps to delivered, retry or failed,
// its addresses and its keys.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/plugin_set.hpp"
#include "support/receiver.hpp"
#include "support/sample_delivery.hpp"

namespace {

namespace json = boost::json;
using relais::Delivery;
using relais::DeliveryResult;
using relais::DeliveryStatus;
using relais::test::ScriptReceiver;
using relais::test::TempDir;

std::string url(const ScriptReceiver& receiver, const std::string& path = "/hooks/epicerie") {
  return "http://127.0.0.1:" + std::to_string(receiver.port()) + path;
}

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys = "") {
  auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_webhook\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

Delivery sample(const std::string& url, const std::string& secret) {
  Delivery d = relais::test::sample_delivery();
  d.address = url;
  d.secret = secret;
  d.post.text = "Bonjour, nous n'avons plus rien à manger depuis deux jours — \"merci\" d'avance.";
  d.attempt = 1;
  return d;
}

std::string header(const json::object& request, const std::string& name) {
  const auto& headers = request.at("headers").as_object();
  const auto* value = headers.if_contains(name);
  return value != nullptr ? std::string(value->as_string()) : std::string();
}

TEST(sink_webhook, LoadsAsASinkPlugin) {
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->sinks.size(), 1u);
  EXPECT_EQ(set->sinks[0].instance, "sink:webhook:0");
  EXPECT_EQ(set->sinks[0].plugin, "sink_webhook");
  EXPECT_EQ(set->sinks[0].version, "1.0.0");
}

TEST(sink_webhook, PostsSignedJsonThatTheReceiverVerifies) {
  ScriptReceiver receiver("webhook_receiver.py", {"--secret", "demo-secret-epicerie"});
  const auto set = load();
  ASSERT_TRUE(set);
  const Delivery delivery = sample(url(receiver), "demo-secret-epicerie");
  const auto before = std::time(nullptr);
  const DeliveryResult result = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.reason;

  const auto requests = receiver.received();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.at("signature").as_string(), "verified");
  EXPECT_TRUE(request.at("verified").as_bool());
  EXPECT_EQ(request.at("method").as_string(), "POST");
  EXPECT_EQ(request.at("path").as_string(), "/hooks/epicerie");
  EXPECT_EQ(header(request, "content-type"), "application/json");
  EXPECT_EQ(header(request, "x-relais-delivery"), delivery.id);
  const auto timestamp = std::stoll(header(request, "x-relais-timestamp"));
  EXPECT_GE(timestamp, before);
  EXPECT_LE(timestamp, std::time(nullptr));
  EXPECT_EQ(header(request, "x-relais-signature").substr(0, 3), "v1=");
  EXPECT_EQ(header(request, "x-relais-signature").size(), 3u + 64u);
  EXPECT_EQ(header(request, "user-agent"), "relais-sink-webhook/1.0");

  const auto& body = request.at("json").as_object();
  EXPECT_EQ(body.at("version").as_int64(), 1);
  EXPECT_EQ(body.at("delivery_id").as_string(), delivery.id);
  EXPECT_EQ(body.at("purpose").as_string(), "need");
  EXPECT_EQ(body.at("destination").as_string(), "epicerie_solidaire_vitry");
  EXPECT_EQ(body.at("destination_name").as_string(), delivery.destination_name);
  EXPECT_EQ(body.at("lang").as_string(), "fr");
  EXPECT_EQ(body.at("reason").as_string(), delivery.reason);
  EXPECT_EQ(body.at("attempt").as_int64(), 1);
  EXPECT_TRUE(body.at("related_post").is_null());
  const auto& post = body.at("post").as_object();
  EXPECT_EQ(post.at("id").as_int64(), 1042);
  EXPECT_EQ(post.at("source").as_string(), "webform");
  EXPECT_EQ(post.at("channel").as_string(), "form");
  EXPECT_EQ(post.at("received_at").as_string(), "2024-03-05T14:00:00Z");
  EXPECT_EQ(post.at("subject").as_string(), "Colis alimentaire");
  EXPECT_EQ(post.at("text").as_string(), delivery.post.text);
  EXPECT_EQ(post.at("lang").as_string(), "fr");
  EXPECT_EQ(post.at("private").as_object().at("phone").as_string(), "01 99 00 12 34");
  EXPECT_EQ(post.at("private").as_object().at("name").as_string(), "Mme Durand");
  const auto& triage = body.at("triage").as_object();
  EXPECT_EQ(triage.at("kind").as_string(), "request");
  EXPECT_EQ(triage.at("categories").as_array(), (json::array{"food_aid", "groceries"}));
  EXPECT_EQ(triage.at("urgency").as_string(), "high");
  EXPECT_EQ(triage.at("area").as_string(), "vitry_centre");
  EXPECT_EQ(triage.at("lang").as_string(), "fr");
  const auto& links = body.at("links").as_object();
  EXPECT_EQ(links.at("claim").as_string(), delivery.links.at("claim"));
  EXPECT_EQ(links.at("decline").as_string(), delivery.links.at("decline"));
  EXPECT_EQ(links.at("resolve").as_string(), delivery.links.at("resolve"));
}

// The body carries what the delivery carries and nothing more: a public
// view has no `private`, unknown values are null, an offer names its need.
TEST(sink_webhook, APublicViewHasNoPrivateField) {
  ScriptReceiver receiver("webhook_receiver.py");
  const auto set = load();
  ASSERT_TRUE(set);
  Delivery delivery = sample(url(receiver), "");
  delivery.purpose = relais::DeliveryPurpose::offer;
  delivery.related_post = 977;
  delivery.post.private_data.clear();
  delivery.post.subject.reset();
  delivery.triage.area.clear();
  delivery.links.clear();
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  const auto requests = receiver.received();
  ASSERT_EQ(requests.size(), 1u);
  const auto& body = requests[0].at("json").as_object();
  EXPECT_EQ(body.at("purpose").as_string(), "offer");
  EXPECT_EQ(body.at("related_post").as_int64(), 977);
  EXPECT_FALSE(body.at("post").as_object().contains("private"));
  EXPECT_TRUE(body.at("post").as_object().at("subject").is_null());
  EXPECT_TRUE(body.at("triage").as_object().at("area").is_null());
  EXPECT_TRUE(body.at("links").as_object().empty());
}

// The receiver really checks: another secret does not verify.
TEST(sink_webhook, AnotherSecretDoesNotVerify) {
  ScriptReceiver receiver("webhook_receiver.py", {"--secret", "the-receivers-secret"});
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->sinks[0].object->deliver(sample(url(receiver), "another-secret")).status,
            DeliveryStatus::delivered);
  const auto requests = receiver.received();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("signature").as_string(), "mismatch");
  EXPECT_FALSE(requests[0].at("verified").as_bool());
}

TEST(sink_webhook, NoSecretNoSignature) {
  ScriptReceiver receiver("webhook_receiver.py", {"--secret", "s"});
  const auto set = load();
  ASSERT_TRUE(set);
  ASSERT_EQ(set->sinks[0].object->deliver(sample(url(receiver), "")).status, DeliveryStatus::delivered);
  const auto requests = receiver.received();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].at("signature").as_string(), "missing");
  EXPECT_EQ(header(requests[0], "x-relais-signature"), "");
  EXPECT_NE(header(requests[0], "x-relais-timestamp"), "");
}

TEST(sink_webhook, RequireSecretFailsADestinationWithout) {
  ScriptReceiver receiver("webhook_receiver.py");
  const auto set = load("require_secret = true\n");
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample(url(receiver), ""));
  EXPECT_EQ(result.status, DeliveryStatus::failed);
  EXPECT_NE(result.reason.find("secret"), std::string::npos) << result.reason;
  EXPECT_TRUE(receiver.received().empty());
}

// A 503 is retried; the next attempt carries the same delivery id, so that
// the receiver can drop a duplicate.
TEST(sink_webhook, UnavailableIsRetriedWithTheSameDeliveryId) {
  ScriptReceiver receiver("webhook_receiver.py", {"--secret", "k", "--fail-first", "1"});
  const auto set = load();
  ASSERT_TRUE(set);
  Delivery delivery = sample(url(receiver), "k");
  const auto first = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(first.status, DeliveryStatus::retry);
  EXPECT_EQ(first.reason, "HTTP 503");
  EXPECT_EQ(first.retry_after_s, 0u);
  delivery.attempt = 2;
  const auto second = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(second.status, DeliveryStatus::delivered) << second.reason;

  const auto requests = receiver.received();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].at("status").as_int64(), 503);
  EXPECT_EQ(requests[1].at("status").as_int64(), 200);
  EXPECT_EQ(header(requests[0], "x-relais-delivery"), delivery.id);
  EXPECT_EQ(header(requests[1], "x-relais-delivery"), delivery.id);
  EXPECT_EQ(requests[1].at("json").as_object().at("attempt").as_int64(), 2);
  EXPECT_TRUE(requests[1].at("verified").as_bool());
  // One curl handle per instance: the second request came on the first's
  // connection.
  EXPECT_EQ(requests[0].at("client").as_string(), requests[1].at("client").as_string());
}

TEST(sink_webhook, TooManyRequestsIsRetriedAfterRetryAfter) {
  ScriptReceiver receiver("webhook_receiver.py", {"--status-sequence", "429", "--retry-after", "7"});
  const auto set = load();
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
  EXPECT_EQ(result.status, DeliveryStatus::retry);
  EXPECT_EQ(result.retry_after_s, 7u);
  EXPECT_NE(result.reason.find("HTTP 429"), std::string::npos) << result.reason;
}

// An HTTP date decades ahead is a pause of at most a day.
TEST(sink_webhook, RetryAfterAsADateIsCapped) {
  ScriptReceiver receiver("webhook_receiver.py",
                          {"--status-sequence", "503", "--retry-after", "Wed, 21 Oct 2099 07:28:00 GMT"});
  const auto set = load();
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
  EXPECT_EQ(result.status, DeliveryStatus::retry);
  EXPECT_EQ(result.retry_after_s, 86400u);
}

TEST(sink_webhook, TransientStatusesAreRetried) {
  ScriptReceiver receiver("webhook_receiver.py", {"--status-sequence", "408,425,500,502,504"});
  const auto set = load();
  ASSERT_TRUE(set);
  for (const char* status : {"408", "425", "500", "502", "504"}) {
    const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
    EXPECT_EQ(result.status, DeliveryStatus::retry) << status;
    EXPECT_EQ(result.reason, std::string("HTTP ") + status);
  }
}

TEST(sink_webhook, OtherStatusesFail) {
  ScriptReceiver receiver("webhook_receiver.py", {"--status-sequence", "404,400,401,410"});
  const auto set = load();
  ASSERT_TRUE(set);
  for (const char* status : {"404", "400", "401", "410"}) {
    const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
    EXPECT_EQ(result.status, DeliveryStatus::failed) << status;
    EXPECT_EQ(result.reason, std::string("HTTP ") + status);
  }
}

TEST(sink_webhook, RedirectsAreNotFollowed) {
  ScriptReceiver receiver("webhook_receiver.py", {"--status", "302"});
  const auto set = load();
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
  EXPECT_EQ(result.status, DeliveryStatus::failed);
  EXPECT_NE(result.reason.find("HTTP 302"), std::string::npos) << result.reason;
  EXPECT_EQ(receiver.received().size(), 1u);
}

// A port bound but not listening: the connection is refused, at once.
TEST(sink_webhook, NothingListeningIsRetried) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const auto set = load();
  ASSERT_TRUE(set);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/hook";
  const auto result = set->sinks[0].object->deliver(sample(url, "k"));
  ::close(fd);
  EXPECT_EQ(result.status, DeliveryStatus::retry);
  EXPECT_FALSE(result.reason.empty());
}

TEST(sink_webhook, ATimeoutIsRetried) {
  ScriptReceiver receiver("webhook_receiver.py", {"--delay-ms", "5000"});
  const auto set = load("timeout_ms = 300\n");
  ASSERT_TRUE(set);
  const auto started = std::chrono::steady_clock::now();
  const auto result = set->sinks[0].object->deliver(sample(url(receiver), "k"));
  EXPECT_EQ(result.status, DeliveryStatus::retry);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(sink_webhook, AddressesAreHttpUrls) {
  const auto set = load();
  ASSERT_TRUE(set);
  const auto& sink = *set->sinks[0].object;
  for (const char* good : {"http://127.0.0.1:8089/hooks/reseau", "https://hooks.example.org/relais?k=1",
                           "HTTPS://hooks.example.org"}) {
    EXPECT_TRUE(sink.check_address(good)) << good;
  }
  for (const char* bad : {"", "hooks.example.org/relais", "ftp://hooks.example.org/x", "mailto:a@b.example",
                          "http://", "https:///path", "http://exa mple.org/",
                          "https://hooks.example.org/\r\nX-Injected: 1", "https://hooks.example.org/\n"}) {
    const auto checked = sink.check_address(bad);
    EXPECT_FALSE(checked) << bad;
    if (!checked) {
      EXPECT_NE(checked.error().message.find("http://"), std::string::npos);
    }
  }
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(sink_webhook, BadTablesAreRefusedWithTheirPosition) {
  for (const auto& bad : std::vector<BadTable>{
           {"timeout_ms = \"fast\"\n", "relais.toml:3:14: sink[0].timeout_ms: expected an integer"},
           {"timeout_ms = 0\n", "relais.toml:3:14: sink[0].timeout_ms: expected milliseconds from 1 to"},
           {"connect_timeout_ms = 700000\n", "relais.toml:3:22: sink[0].connect_timeout_ms"},
           {"user_agent = \"\"\n", "relais.toml:3:14: sink[0].user_agent"},
           {"user_agent = \"a\\r\\nX-Injected: 1\"\n", "relais.toml:3:14: sink[0].user_agent"},
           {"ca_file = \"no-such-ca.pem\"\n", "relais.toml:3:11: sink[0].ca_file"},
           {"require_secret = \"yes\"\n", "relais.toml:3:18: sink[0].require_secret"},
           {"timeout = 5\n", "relais.toml:3:1: sink[0].timeout: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_webhook\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
