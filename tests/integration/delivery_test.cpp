// Routing and delivery end to end, a real relaisd against real servers on
// loopback: a webhook receiver that fails the first attempts then accepts
// and checks the signature; an SMTP server whose message carries a claim
// link that works; a restart with deliveries and timers pending; the HTTP
// API refusing a destination another's need; an offer matched with an open
// need; a need escalated from destination to destination, then to the
// fallback, then to the moderators.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/receiver.hpp"
#include "support/relaisctl.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using relais::test::Process;
using relais::test::ScriptReceiver;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One HTTP request to relaisd's endpoint.
HttpAnswer http(const std::string& address, boost::beast::http::verb verb, const std::string& target,
                const std::string& token = "", const std::string& body = "") {
  namespace beast = boost::beast;
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  const auto colon = address.rfind(':');
  stream.connect(resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  beast::http::request<beast::http::string_body> req{verb, target, 11};
  req.set(beast::http::field::host, address);
  if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(beast::http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

class Delivery : public ::testing::Test {
 protected:
  std::string state() const { return (dir / "state").string(); }

  // relais.toml with the network `network` and `extra` sections; the sinks
  // and the triage from form fields are always there.
  void write_config(const std::string& network, const std::string& extra) {
    relais::test::write_file(dir / "network.toml", network);
    relais::test::write_file(dir / "relais.toml",
                             "[log]\nlevel = \"debug\"\n\n[routing]\nnetwork = \"network.toml\"\n\n" + extra +
                                 "\n[[triage]]\nplugin = \"triage_basic\"\n\n"
                                 "[[sink]]\nplugin = \"sink_webhook\"\nname = \"webhook\"\n"
                                 "timeout_ms = 2000\n");
  }

  void start() {
    daemon = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", (dir / "relais.toml").string(), "--state-dir",
                                 state(), "--plugin-dir", relais::test::plugin_dir().string()},
        dir / "relaisd.log");
    ASSERT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !daemon->running(); })) << log();
    ASSERT_TRUE(daemon->running()) << log();
  }

  void stop(int signo = SIGTERM) {
    daemon->signal(signo);
    daemon->wait();
  }

  relais::test::RunResult ctl(std::vector<std::string> args, const std::string& input = "") {
    return relais::test::relaisctl(state(), std::move(args), input, 5000);
  }

  json::object ctl_json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = ctl(std::move(args));
    EXPECT_EQ(r.status, 0) << r.output;
    boost::system::error_code ec;
    auto v = json::parse(r.output, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << r.output;
      return {};
    }
    return v.as_object();
  }

  // A request the form says everything about; returns its post id.
  std::int64_t submit(const std::string& external_id, const std::string& kind = "request",
                      const std::string& urgency = "normal", const std::string& area = "north") {
    json::object post{
        {"source", "form"},
        {"external_id", external_id},
        {"text", "Bonjour, pourriez-vous faire mes courses ? Du pain et du lait."},
        {"fields", {{"kind", kind}, {"category", "groceries"}, {"urgency", urgency}, {"area", area}}},
        {"private", {{"phone", "01 99 00 12 34"}, {"name", "Mme Test"}}}};
    auto r = ctl({"submit", "-"}, json::serialize(post));
    EXPECT_EQ(r.status, 0) << r.output;
    const auto at = r.output.find("id=");
    return at == std::string::npos ? 0 : std::stoll(r.output.substr(at + 3));
  }

  json::object post(std::int64_t id) { return ctl_json({"show", std::to_string(id)}).at("post").as_object(); }

  std::vector<std::string> event_types(std::int64_t id) {
    std::vector<std::string> out;
    const auto shown = post(id);
    for (const auto& e : shown.at("events").as_array()) out.emplace_back(e.at("type").as_string());
    return out;
  }

  // The post once it has an event of `type`.
  bool wait_for_event(std::int64_t id, const std::string& type,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return wait_until(
        [&] {
          const auto types = event_types(id);
          return std::find(types.begin(), types.end(), type) != types.end();
        },
        timeout);
  }

  std::string http_address() { return std::string(ctl_json({"stats"}).at("http").at("address").as_string()); }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  TempDir dir;
  std::unique_ptr<Process> daemon;
};

// A pool, a shop and the fallback, always open, each reached by the
// webhook receiver at `port` under its own path.
std::string three_destinations(int port, const std::string& secret = "s3cret") {
  const std::string to = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto destination = [&](const std::string& id, const std::string& more) {
    return "[[destination]]\nid = \"" + id + "\"\ncategories = [\"groceries\"]\n" + more +
           "deliver = [{ sink = \"webhook\", to = \"" + to + id + "\", secret = \"" + secret + "\" }]\n" +
           "token = \"token-" + id + "\"\n\n";
  };
  return "[network]\ntimezone = \"Europe/Paris\"\n\n[[area]]\nid = \"north\"\n[[area]]\nid = \"south\"\n\n" +
         destination("pool", "pool = true\nareas = [\"north\"]\n") +
         destination("shop", "areas = [\"north\", \"south\"]\n") +
         destination("city", "fallback = true\nareas = [\"north\", \"south\"]\nunknown_area = true\n");
}

constexpr const char* kFastOutbox =
    "[outbox]\nmax_attempts = 6\nretry_min = \"50ms\"\nretry_max = \"200ms\"\n";

TEST_F(Delivery, AWebhookThatFailsTwiceGetsTheNeedOnTheThirdAttemptSigned) {
  ScriptReceiver hook("webhook_receiver.py", {"--fail-first", "2", "--secret", "s3cret"});
  write_config(three_destinations(hook.port()), kFastOutbox);
  start();
  const auto id = submit("f-1");
  ASSERT_TRUE(wait_until([&] { return hook.received().size() >= 3; })) << log();
  ASSERT_TRUE(wait_for_event(id, "delivered")) << log();
  const auto got = hook.received();
  ASSERT_EQ(got.size(), 3u);  // and no more: delivered once accepted
  EXPECT_EQ(got[0].at("status"), 503);
  EXPECT_EQ(got[1].at("status"), 503);
  EXPECT_EQ(got[2].at("status"), 200);
  // The receiver checked the signature over timestamp and body.
  for (const auto& g : got) EXPECT_EQ(g.at("signature"), "verified") << g;
  // One delivery, the same id on every attempt.
  const auto delivery_id = got[0].at("headers").at("x-relais-delivery");
  EXPECT_EQ(got[1].at("headers").at("x-relais-delivery"), delivery_id);
  EXPECT_EQ(got[2].at("headers").at("x-relais-delivery"), delivery_id);
  const auto& body = got[2].at("json").as_object();
  EXPECT_EQ(body.at("destination"), "pool");
  EXPECT_EQ(body.at("purpose"), "need");
  EXPECT_EQ(body.at("attempt"), 3);
  EXPECT_EQ(body.at("post").at("id"), id);
  EXPECT_EQ(body.at("post").at("private").at("phone"), "01 99 00 12 34");
  EXPECT_EQ(body.at("triage").at("categories").as_array().at(0), "groceries");
  EXPECT_EQ(got[2].at("path"), "/pool");
  const auto types = event_types(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "delivery_failed"), 2) << post(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "delivered"), 1);
  EXPECT_EQ(post(id).at("state"), "routed");
  // Personal data stays out of the log at info and above.
  std::istringstream lines(log());
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" debug ") != std::string::npos) continue;
    EXPECT_EQ(line.find("01 99 00 12 34"), std::string::npos) << line;
    EXPECT_EQ(line.find("courses"), std::string::npos) << line;
  }
}

TEST_F(Delivery, AnEmailReachesTheAssociationAndItsClaimLinkWorks) {
  ScriptReceiver smtp("smtp_receiver.py", {});
  const std::string network =
      "[network]\ntimezone = \"Europe/Paris\"\n[[area]]\nid = \"north\"\n\n"
      "[[destination]]\nid = \"epicerie\"\nname = \"Épicerie solidaire\"\nfallback = true\n"
      "categories = [\"groceries\"]\nareas = [\"north\"]\nlang = \"fr\"\n"
      "deliver = [{ sink = \"email\", to = \"epicerie@associations.example\" }]\ntoken = "
      "\"token-epicerie\"\n";
  write_config(network, std::string(kFastOutbox) +
                            "[http]\nlisten = \"127.0.0.1:0\"\n\n[[sink]]\nplugin = \"sink_email\"\n"
                            "name = \"email\"\nserver = \"smtp://127.0.0.1:" +
                            std::to_string(smtp.port()) +
                            "\"\nfrom = \"relais@relais.example\"\nstarttls = \"off\"\n");
  start();
  const auto id = submit("mail-1", "request", "high");
  ASSERT_TRUE(wait_until([&] { return !smtp.received().empty(); })) << log();
  ASSERT_TRUE(wait_for_event(id, "delivered")) << log();
  const auto mail = smtp.received().at(0);
  EXPECT_EQ(mail.at("rcpt_tos").as_array().at(0), "epicerie@associations.example");
  EXPECT_EQ(mail.at("mail_from"), "relais@relais.example");
  const std::string subject(mail.at("subject").as_string());
  EXPECT_NE(subject.find(std::to_string(id)), std::string::npos) << subject;
  const std::string text(mail.at("body").as_string());
  EXPECT_NE(text.find("Du pain et du lait"), std::string::npos) << text;
  EXPECT_NE(text.find("01 99 00 12 34"), std::string::npos) << text;
  // The claim link: to this relaisd's HTTP endpoint, signed.
  const std::string address = http_address();
  const std::string prefix = "http://" + address + "/l/claim/" + std::to_string(id) + "/epicerie/";
  const auto at = text.find(prefix);
  ASSERT_NE(at, std::string::npos) << text;
  const auto end = text.find_first_of(" \n", at);
  const std::string target = text.substr(at + 7 + address.size(), end - at - 7 - address.size());
  // Following it shows what it will do, and changes nothing yet.
  auto page = http(address, boost::beast::http::verb::get, target);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << page.body;
  EXPECT_EQ(post(id).at("state"), "routed");
  // Confirming claims the need for the association, and shows the contact.
  auto done = http(address, boost::beast::http::verb::post, target);
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("01 99 00 12 34"), std::string::npos) << done.body;
  EXPECT_EQ(post(id).at("state"), "claimed");
  // A link altered to another need, or signed for another act, is refused.
  std::string forged = target;
  forged.replace(forged.find("/claim/"), 7, "/resolve/");
  EXPECT_EQ(http(address, boost::beast::http::verb::post, forged).status, 403);
  std::string other = target;
  other.replace(other.find("/" + std::to_string(id) + "/"), std::to_string(id).size() + 2, "/999/");
  EXPECT_EQ(http(address, boost::beast::http::verb::post, other).status, 403);
  EXPECT_EQ(post(id).at("state"), "claimed");
}

TEST_F(Delivery, ARestartResumesPendingDeliveriesAndTimers) {
  // The receiver is down first: deliveries wait, retrying.
  int port = 0;
  {
    ScriptReceiver probe("webhook_receiver.py", {});
    port = probe.port();
    probe.stop();
  }
  write_config(three_destinations(port),
               "[outbox]\nmax_attempts = 1000\nretry_min = \"100ms\"\nretry_max = \"300ms\"\n"
               "[escalation]\nclaim_timeout = { critical = \"3s\" }\n");
  start();
  const auto id = submit("urgent", "request", "critical");
  ASSERT_TRUE(wait_for_event(id, "delivery_failed")) << log();
  auto need = post(id);
  ASSERT_EQ(need.at("state"), "routed");
  // relaisd dies with both deliveries pending and the timer set.
  stop(SIGKILL);
  ScriptReceiver hook("webhook_receiver.py", {"--port", std::to_string(port), "--secret", "s3cret"});
  start();
  // The pending deliveries go out: the pool's and the fallback's copy.
  ASSERT_TRUE(wait_until([&] { return hook.received().size() >= 2; })) << log();
  // The timer fires after the restart: nobody claimed it, the pool has no
  // other candidate than the shop.
  ASSERT_TRUE(wait_for_event(id, "escalated", std::chrono::seconds(30))) << log();
  ASSERT_TRUE(wait_until([&] {
    for (const auto& g : hook.received()) {
      if (g.at("path") == "/shop" && g.at("json").at("purpose") == "escalation") return true;
    }
    return false;
  })) << log();
  std::vector<std::string> paths;
  for (const auto& g : hook.received()) paths.emplace_back(g.at("path").as_string());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/pool"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/city"), paths.end());
  for (const auto& g : hook.received()) EXPECT_EQ(g.at("signature"), "verified");
}

TEST_F(Delivery, TheHttpApiLetsADestinationActOnlyOnItsOwnNeeds) {
  ScriptReceiver hook("webhook_receiver.py", {"--secret", "s3cret"});
  write_config(three_destinations(hook.port()),
               std::string(kFastOutbox) + "[http]\nlisten = \"127.0.0.1:0\"\n");
  start();
  const auto id = submit("api-1");  // normal: the pool alone
  ASSERT_TRUE(wait_for_event(id, "delivered")) << log();
  const auto address = http_address();
  using boost::beast::http::verb;
  const std::string need = "/v1/needs/" + std::to_string(id);
  // No token, a wrong token.
  EXPECT_EQ(http(address, verb::post, need + "/claim").status, 401);
  EXPECT_EQ(http(address, verb::post, need + "/claim", "token-nobody").status, 401);
  // The shop was not given this need: it cannot see it, claim or resolve it.
  EXPECT_EQ(http(address, verb::get, need, "token-shop").status, 404);
  auto refused = http(address, verb::post, need + "/claim", "token-shop");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("not given to shop"), std::string::npos) << refused.body;
  EXPECT_EQ(http(address, verb::post, need + "/resolve", "token-shop").status, 403);
  EXPECT_EQ(post(id).at("state"), "routed");
  // The pool sees it in its list and claims it.
  auto listed = http(address, verb::get, "/v1/needs", "token-pool");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body).at("needs").as_array().at(0).at("id"), id);
  EXPECT_TRUE(
      json::parse(http(address, verb::get, "/v1/needs", "token-shop").body).at("needs").as_array().empty());
  auto claimed = http(address, verb::post, need + "/claim", "token-pool", R"({"note":"Karim y va"})");
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_EQ(json::parse(claimed.body).at("state"), "claimed");
  EXPECT_EQ(json::parse(claimed.body).at("post").at("private").at("phone"), "01 99 00 12 34");
  // Claimed again by the pool: harmless; by another: a conflict.
  EXPECT_EQ(json::parse(http(address, verb::post, need + "/claim", "token-pool").body).at("changed"), false);
  EXPECT_EQ(http(address, verb::post, need + "/resolve", "token-city").status, 403);
  auto resolved = http(address, verb::post, need + "/resolve", "token-pool");
  EXPECT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(post(id).at("state"), "resolved");
  // Bad requests get a clear answer and the daemon keeps serving.
  EXPECT_EQ(http(address, verb::post, need + "/claim", "token-pool", "not json").status, 400);
  EXPECT_EQ(http(address, verb::post, "/v1/needs/abc/claim", "token-pool").status, 404);
  EXPECT_EQ(http(address, verb::get, need + "/claim", "token-pool").status, 405);
  EXPECT_EQ(http(address, verb::get, "/healthz").status, 200);
  auto metrics = http(address, verb::get, "/metrics");
  EXPECT_NE(metrics.body.find("relais_info{version=\""), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("relais_deliveries_total{outcome=\"delivered\"} 1"), std::string::npos)
      << metrics.body;
  // The trail names who did what.
  std::vector<std::string> actors;
  const auto trail = post(id);
  for (const auto& e : trail.at("events").as_array()) {
    if (e.at("type") == "claimed" || e.at("type") == "resolved")
      actors.emplace_back(e.at("actor").as_string());
  }
  EXPECT_EQ(actors, (std::vector<std::string>{"destination:pool", "destination:pool"}));
}

TEST_F(Delivery, AnOfferMeetsAnOpenNeedAndJoinsThePool) {
  ScriptReceiver hook("webhook_receiver.py", {"--secret", "s3cret"});
  write_config(three_destinations(hook.port()), kFastOutbox);
  start();
  const auto need = submit("need-1");
  ASSERT_TRUE(wait_for_event(need, "delivered")) << log();
  const auto offer = submit("offer-1", "offer", "low");
  ASSERT_TRUE(wait_for_event(offer, "offer_matched")) << log();
  EXPECT_EQ(post(offer).at("state"), "accepted");
  EXPECT_TRUE(wait_for_event(need, "offer_available"));
  // The pool holds the need and is the pool of groceries in the north: it
  // gets the offer twice, as the match of its need and as a new volunteer.
  ASSERT_TRUE(wait_until([&] {
    int offers = 0;
    for (const auto& g : hook.received()) {
      if (g.at("json").at("purpose") == "offer") ++offers;
    }
    return offers == 2;
  })) << log();
  bool matched = false;
  for (const auto& g : hook.received()) {
    const auto& body = g.at("json").as_object();
    if (body.at("purpose") != "offer") continue;
    EXPECT_EQ(body.at("destination"), "pool");
    EXPECT_EQ(body.at("post").at("id"), offer);
    if (body.at("related_post") == need) matched = true;
  }
  EXPECT_TRUE(matched);
}

TEST_F(Delivery, ANeedNobodyClaimsGoesOnUntilTheModerators) {
  ScriptReceiver hook("webhook_receiver.py", {"--secret", "s3cret"});
  const std::string moderators =
      "[escalation]\nclaim_timeout = { critical = \"1s\" }\nmoderators = [{ sink = "
      "\"webhook\", to = \"http://127.0.0.1:" +
      std::to_string(hook.port()) + "/moderators\", secret = \"s3cret\" }]\n";
  write_config(three_destinations(hook.port()), std::string(kFastOutbox) + moderators);
  start();
  const auto id = submit("lonely", "request", "critical");
  // pool (with the fallback's copy) → shop → the fallback → the moderators.
  ASSERT_TRUE(wait_until([&] { return post(id).at("state") == "unrouted"; }, std::chrono::seconds(30)))
      << log();
  std::vector<std::string> order;
  const auto trail = post(id);
  for (const auto& e : trail.at("events").as_array()) {
    if (e.at("type") == "escalated") order.emplace_back(e.at("detail").at("to").as_string());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"shop", "city", "moderators"}));
  ASSERT_TRUE(wait_until([&] {
    for (const auto& g : hook.received()) {
      if (g.at("path") == "/moderators" && g.at("json").at("purpose") == "unrouted") return true;
    }
    return false;
  })) << log();
  // The unrouted queue shows it.
  auto queued = ctl_json({"posts", "--state", "unrouted"});
  ASSERT_EQ(queued.at("posts").as_array().size(), 1u);
  EXPECT_EQ(queued.at("posts").as_array().at(0).at("id"), id);
}

}  // namespace
