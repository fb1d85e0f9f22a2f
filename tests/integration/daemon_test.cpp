// The daemon in-process, spoken to over a real ipc:// socket.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <zmq.hpp>

#include "config/config.hpp"
#include "daemon.hpp"
#include "protocol.hpp"
#include "relais/client.hpp"
#include "storage/store.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { start(""); }

  void start(const std::string& extra_config) {
    relais::test::write_file(dir / "relais.toml",
                             "[log]\nlevel = \"warn\"\n" + extra_config + relais::test::kShippedPlugins);
    auto config = relais::daemon::load_config(
        dir / "relais.toml", relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
    ASSERT_TRUE(config) << config.error().message;
    endpoint = config->endpoints.front();
    daemon = std::make_unique<relais::daemon::Daemon>(
        std::move(*config), relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
    auto started = daemon->start();
    ASSERT_TRUE(started) << started.error().message;
    socket.emplace(context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->connect(endpoint);
  }

  // Sends one raw frame, returns the reply as JSON.
  json::object ask(const std::string& frame) {
    socket->send(zmq::buffer(frame), zmq::send_flags::none);
    zmq::pollitem_t item{socket->handle(), 0, ZMQ_POLLIN, 0};
    EXPECT_EQ(zmq::poll(&item, 1, std::chrono::seconds(10)), 1) << "no reply to " << frame.substr(0, 80);
    zmq::message_t msg;
    (void)socket->recv(msg);
    return json::parse(msg.to_string_view()).as_object();
  }

  json::object query(const std::string& what, std::int64_t id = 0) {
    relais::protocol::Query q;
    q.what = what;
    q.id = id;
    q.limit = 100;
    auto reply = ask(relais::protocol::encode_query(99, q));
    EXPECT_EQ(reply.at("type"), "result") << json::serialize(reply);
    return reply.at("result").as_object();
  }

  // Submits a post and returns it as `show` does once the pipeline is done.
  json::object processed(const relais::Post& p) {
    auto ack = ask(relais::protocol::encode_submit(1, p));
    const auto id = ack.at("post_id").as_int64();
    json::object shown;
    EXPECT_TRUE(wait_until([&] {
      shown = query("post", id).at("post").as_object();
      return shown.at("state") != "received";
    }));
    return shown;
  }

  static relais::Post post(const std::string& id,
                           const std::string& text = "Bonjour, je cherche de l'aide pour mes courses") {
    relais::Post p;
    p.source = "test";
    p.external_id = id;
    p.text = text;
    return p;
  }

  TempDir dir;
  std::string endpoint;
  std::unique_ptr<relais::daemon::Daemon> daemon;
  zmq::context_t context{1};
  std::optional<zmq::socket_t> socket;
};

TEST_F(DaemonTest, AnswersEveryBadEnvelopeAndKeepsServing) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"not json", "bad_json"},
      {"[1,2]", "bad_json"},
      {std::string("{\"v\":1,\"type\":\"submit\",\"seq\":1,\"post\":{\"text\":\"\xC3\x28\"}}"), "bad_utf8"},
      {R"({"type":"submit","seq":1})", "missing_field"},
      {R"({"v":7,"type":"submit","seq":1})", "unsupported_version"},
      {R"({"v":1,"type":"teleport","seq":1})", "unknown_type"},
      {R"({"v":1,"type":"submit","seq":1,"post":{"source":"t","external_id":"a"}})", "missing_field"},
      {R"({"v":1,"type":"submit","seq":1,"post":{"source":"t","external_id":"a","text":5}})", "wrong_type"},
      {R"({"v":1,"type":"submit","seq":1,"post":{"source":"t","external_id":"a","text":"x","colour":"red"}})",
       "unknown_field"},
      {R"({"v":1,"type":"submit","seq":1,"post":{"source":"t","external_id":"a","text":"x","received_at":"yesterday"}})",
       "invalid_value"},
      {R"({"v":1,"type":"submit","seq":1,"post":{"source":"t","external_id":"a","text":")" +
           std::string(70000, 'a') + "\"}}",
       "too_large"},
      {std::string(300000, ' '), "too_large"},
  };
  for (const auto& [frame, code] : table) {
    SCOPED_TRACE(frame.substr(0, 100));
    auto reply = ask(frame);
    EXPECT_EQ(reply.at("type"), "nack");
    EXPECT_EQ(std::string(reply.at("code").as_string()), code);
    EXPECT_EQ(reply.at("retryable"), false);
    EXPECT_FALSE(reply.at("message").as_string().empty());
  }
  // The field at fault is named.
  auto reply = ask(R"({"v":1,"type":"submit","seq":5,"post":{"source":"t","external_id":"a"}})");
  EXPECT_EQ(reply.at("field"), "post.text");
  EXPECT_EQ(reply.at("seq"), 5);
  // Still serving: a ping and a good post.
  EXPECT_EQ(ask(relais::protocol::encode_ping(8)).at("type"), "pong");
  auto ack = ask(relais::protocol::encode_submit(9, post("good")));
  EXPECT_EQ(ack.at("type"), "ack");
  EXPECT_EQ(ack.at("status"), "stored");
  auto stats = query("stats");
  EXPECT_EQ(stats.at("store").at("posts"), 1);
  EXPECT_GE(stats.at("ingest").at("rejected").to_number<std::uint64_t>(), table.size());
}

TEST_F(DaemonTest, ResendIsAcknowledgedAsDuplicateAndStoredOnce) {
  auto first = ask(relais::protocol::encode_submit(1, post("same")));
  auto again = ask(relais::protocol::encode_submit(1, post("same", "a different text, same id")));
  EXPECT_EQ(first.at("status"), "stored");
  EXPECT_EQ(again.at("status"), "duplicate");
  EXPECT_EQ(first.at("post_id"), again.at("post_id"));
  EXPECT_EQ(query("stats").at("store").at("posts"), 1);
  // The stored text is the first one's.
  auto shown = query("post", first.at("post_id").as_int64());
  EXPECT_EQ(shown.at("post").at("text"), "Bonjour, je cherche de l'aide pour mes courses");
}

TEST_F(DaemonTest, ReqSocketsGetTheirDelimitedReplies) {
  zmq::socket_t req(context, zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.connect(endpoint);
  req.send(zmq::buffer(relais::protocol::encode_submit(4, post("req"))), zmq::send_flags::none);
  zmq::message_t reply;
  zmq::pollitem_t item{req.handle(), 0, ZMQ_POLLIN, 0};
  ASSERT_EQ(zmq::poll(&item, 1, std::chrono::seconds(10)), 1);
  ASSERT_TRUE(req.recv(reply));
  auto ack = json::parse(reply.to_string_view()).as_object();
  EXPECT_EQ(ack.at("status"), "stored");
  relais::protocol::Query stats;
  stats.what = "stats";
  req.send(zmq::buffer(relais::protocol::encode_query(5, stats)), zmq::send_flags::none);
  ASSERT_EQ(zmq::poll(&item, 1, std::chrono::seconds(10)), 1);
  ASSERT_TRUE(req.recv(reply));
  EXPECT_EQ(json::parse(reply.to_string_view()).at("type"), "result");
}

TEST_F(DaemonTest, ClientWindowTracksAcksAndDuplicates) {
  std::vector<relais::SubmitResult> results;
  relais::ClientOptions options;
  options.endpoint = endpoint;
  options.window = 8;
  options.on_result = [&](const relais::SubmitResult& r) { results.push_back(r); };
  relais::Client client(options);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(client.submit(post("w" + std::to_string(i % 50))));
  ASSERT_TRUE(client.flush(std::chrono::seconds(20)));
  ASSERT_EQ(results.size(), 100U);
  std::size_t stored = 0;
  std::size_t duplicates = 0;
  for (const auto& r : results) {
    stored += r.status == relais::SubmitStatus::stored ? 1 : 0;
    duplicates += r.status == relais::SubmitStatus::duplicate ? 1 : 0;
  }
  EXPECT_EQ(stored, 50U);
  EXPECT_EQ(duplicates, 50U);
  EXPECT_EQ(client.in_flight(), 0U);
}

TEST_F(DaemonTest, ClientReportsPermanentRejectionWithField) {
  relais::ClientOptions options;
  options.endpoint = endpoint;
  relais::Client client(options);
  auto p = post("big", std::string(70000, 'x'));
  auto r = client.submit_and_wait(p, std::chrono::seconds(10));
  EXPECT_EQ(r.status, relais::SubmitStatus::rejected);
  EXPECT_EQ(r.code, "too_large");
  EXPECT_EQ(r.field, "post.text");
}

TEST_F(DaemonTest, EachStageIsRecordedAsAnEvent) {
  json::object shown = processed(post("staged"));
  ASSERT_FALSE(shown.empty());
  EXPECT_EQ(shown.at("state"), "unrouted");
  std::vector<std::string> types;
  for (const auto& e : shown.at("events").as_array()) types.emplace_back(e.at("type").as_string());
  EXPECT_EQ(types, (std::vector<std::string>{"received", "moderated", "triaged", "unrouted"}));
  EXPECT_EQ(shown.at("events").as_array()[0].at("actor"), "source:test");
}

TEST_F(DaemonTest, FallbackFromConfigRoutesRequests) {
  daemon->stop();
  daemon.reset();
  relais::test::write_file(
      dir / "network.toml",
      "[[destination]]\nid = \"city_network\"\nfallback = true\ncategories = [\"groceries\"]\n"
      "unknown_area = true\n");
  start("[routing]\nnetwork = \"network.toml\"\n");
  json::object shown = processed(post("routed"));
  ASSERT_FALSE(shown.empty());
  EXPECT_EQ(shown.at("state"), "routed");
  const auto& last = shown.at("events").as_array().back();
  EXPECT_EQ(last.at("detail").at("destinations").as_array().at(0), "city_network");
}

TEST(DaemonResume, PostsStoredButNotProcessedAreRunAfterRestart) {
  TempDir dir;
  // A post committed by ingest whose stage outcome never was: what a crash
  // between the two leaves behind.
  {
    auto store = relais::daemon::open_sqlite_store(dir / "relais.db", {});
    ASSERT_TRUE(store) << store.error().message;
    relais::Post p;
    p.source = "test";
    p.external_id = "orphan";
    p.channel = "test";
    p.text = "J'ai besoin d'aide";
    p.received_at = "2020-04-01T08:12:00+02:00";
    std::vector<relais::Post> posts{p};
    ASSERT_TRUE((*store)->commit(posts, {}));
  }
  relais::test::write_file(dir / "relais.toml",
                           std::string("[log]\nlevel = \"warn\"\n") + relais::test::kShippedPlugins);
  auto config = relais::daemon::load_config(
      dir / "relais.toml", relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  ASSERT_TRUE(config);
  relais::daemon::Daemon daemon(
      std::move(*config), relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  ASSERT_TRUE(daemon.start());
  auto reader = relais::daemon::open_sqlite_store(dir / "relais.db", {.read_only = true});
  ASSERT_TRUE(reader);
  ASSERT_TRUE(wait_until([&] {
    auto post = (*reader)->get_post(1);
    return post && *post && (*post)->state == "unrouted";
  }));
  daemon.stop();
}

TEST(DaemonStart, SecondDaemonOnTheSameStateDirIsRefused) {
  TempDir dir;
  relais::test::write_file(dir / "relais.toml",
                           std::string("[log]\nlevel = \"warn\"\n") + relais::test::kShippedPlugins);
  auto a = relais::daemon::load_config(
      dir / "relais.toml", relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  auto b = relais::daemon::load_config(
      dir / "relais.toml", relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  relais::daemon::Daemon first(
      std::move(*a), relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  ASSERT_TRUE(first.start());
  relais::daemon::Daemon second(
      std::move(*b), relais::daemon::ConfigOverrides{dir.path(), relais::test::plugin_dir(), false});
  auto started = second.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("another relaisd"), std::string::npos) << started.error().message;
}

}  // namespace
