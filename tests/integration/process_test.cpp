// relaisd as a process: crash safety under load, reload, start-up errors, and
// relaisctl, each against a real daemon in a temporary state directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <set>

#include "relais/client.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using relais::test::Process;
using relais::test::run;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string relaisctl() { return (relais::test::bin_dir() / "daemon" / "relaisctl").string(); }

class ProcessTest : public ::testing::Test {
 protected:
  // The shipped plugins come after `text`, which keeps its line numbers.
  void write_config(const std::string& text) {
    relais::test::write_file(config(), text + "\n" + relais::test::kShippedPlugins);
  }
  std::string config() const { return (dir / "relais.toml").string(); }
  std::string endpoint() const { return "ipc://" + (dir / "state" / "ingest.sock").string(); }

  std::unique_ptr<Process> start() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", config(), "--state-dir", (dir / "state").string(),
                                 "--plugin-dir", relais::test::plugin_dir().string()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !p->running(); }))
        << relais::test::read_file(dir / "relaisd.log");
    return p;
  }

  relais::test::RunResult ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {relaisctl(), "--state-dir", (dir / "state").string(), "--timeout-ms", "2000"});
    return run(args, input);
  }

  json::value stats() {
    auto r = ctl({"--json", "stats"});
    EXPECT_EQ(r.status, 0) << r.output;
    return json::parse(r.output);
  }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  static relais::Post post(const std::string& id, std::size_t text_bytes = 120) {
    relais::Post p;
    p.source = "load";
    p.external_id = id;
    p.text = "Bonjour, ma voisine de 82 ans ne peut plus sortir faire ses courses, qui pourrait l'aider ? ";
    p.text.resize(text_bytes, '.');
    return p;
  }

  TempDir dir;
};

// The issue's crash test: SIGKILL in the middle of 100,000 posts.
TEST_F(ProcessTest, SigkillUnderLoadLosesNoAcknowledgedPostAndStoresNoneTwice) {
  write_config("[log]\nlevel = \"warn\"\n");
  auto daemon = start();
  constexpr int kPosts = 100000;
  std::set<std::string> acknowledged;
  std::size_t rejected = 0;
  relais::ClientOptions options;
  options.endpoint = endpoint();
  options.window = 256;
  options.ack_timeout = std::chrono::milliseconds(500);
  options.max_resend_interval = std::chrono::milliseconds(1000);
  options.on_result = [&](const relais::SubmitResult& r) {
    if (r.status == relais::SubmitStatus::stored || r.status == relais::SubmitStatus::duplicate) {
      acknowledged.insert(r.external_id);
    } else {
      ++rejected;
    }
  };
  relais::Client client(options);
  std::size_t acked_before_kill = 0;
  bool killed = false;
  for (int i = 0; i < kPosts; ++i) {
    ASSERT_TRUE(client.submit(post("p" + std::to_string(i))));
    if (!killed && acknowledged.size() >= 30000) {
      daemon->signal(SIGKILL);
      ASSERT_EQ(daemon->wait(), 128 + SIGKILL);
      acked_before_kill = acknowledged.size();
      killed = true;
      daemon = start();  // the client goes on submitting and resending meanwhile
    }
  }
  ASSERT_TRUE(client.flush(std::chrono::seconds(120))) << "still in flight: " << client.in_flight();
  ASSERT_TRUE(killed);
  EXPECT_GT(acked_before_kill, 0U);
  EXPECT_EQ(rejected, 0U);
  EXPECT_EQ(acknowledged.size(), static_cast<std::size_t>(kPosts));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();

  // Count in the file itself.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir / "state" / "relais.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    const auto v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(scalar("SELECT count(*) FROM posts"), kPosts);
  EXPECT_EQ(scalar("SELECT count(DISTINCT external_id) FROM posts"), kPosts);
  // Every post went through the pipeline once, crash or not.
  EXPECT_EQ(scalar("SELECT count(*) FROM outcomes"), kPosts);
  EXPECT_EQ(scalar("SELECT count(*) FROM (SELECT post_id FROM events WHERE type = 'moderated' "
                   "GROUP BY post_id HAVING count(*) > 1)"),
            0);
  sqlite3_close(db);
}

TEST_F(ProcessTest, SighupAppliesAGoodFileAndRefusesABadOne) {
  write_config("[log]\nlevel = \"info\"\n[ingest]\nmax_text_bytes = 1024\n");
  auto daemon = start();
  relais::ClientOptions options;
  options.endpoint = endpoint();
  std::size_t acked = 0;
  options.on_result = [&](const relais::SubmitResult& r) {
    acked += r.status == relais::SubmitStatus::stored ? 1 : 0;
  };
  relais::Client client(options);
  auto big = client.submit_and_wait(post("big-1", 2000), std::chrono::seconds(10));
  EXPECT_EQ(big.code, "too_large");

  // A good file, while posts are in flight.
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(client.submit(post("a" + std::to_string(i))));
  write_config("[log]\nlevel = \"info\"\n[ingest]\nmax_text_bytes = 4096\n");
  daemon->signal(SIGHUP);
  for (int i = 2000; i < 4000; ++i) ASSERT_TRUE(client.submit(post("a" + std::to_string(i))));
  ASSERT_TRUE(client.flush(std::chrono::seconds(30)));
  ASSERT_TRUE(wait_until([&] { return stats().at("config").at("generation") == 2; })) << log();
  EXPECT_EQ(client.submit_and_wait(post("big-2", 2000), std::chrono::seconds(10)).status,
            relais::SubmitStatus::stored);

  // A bad file: refused, reported, the running configuration kept.
  write_config("[log]\nlevel = \"info\"\n[ingest]\nmax_text_bytes = \"lots\"\n");
  daemon->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return stats().at("config").at("reload_failures") == 1; })) << log();
  auto s = stats();
  EXPECT_EQ(s.at("config").at("generation"), 2);
  EXPECT_EQ(s.at("config").at("max_text_bytes"), 4096);
  const std::string error(s.at("config").at("last_reload_error").as_string());
  EXPECT_NE(error.find("relais.toml:4:18: ingest.max_text_bytes: expected an integer"), std::string::npos)
      << error;
  EXPECT_NE(log().find("reload_refused"), std::string::npos);
  EXPECT_EQ(client.submit_and_wait(post("big-3", 2000), std::chrono::seconds(10)).status,
            relais::SubmitStatus::stored);

  // Nothing in flight was dropped or stored twice across the reloads.
  EXPECT_EQ(acked, 4002U);
  EXPECT_EQ(s.at("store").at("posts"), 4001);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0);
}

TEST_F(ProcessTest, BadConfigStopsStartupWithItsPosition) {
  write_config("[log]\nlevel = \"info\"\n\n[storage]\nsynchronous = \"sometimes\"\n");
  auto r = run({relaisd(), "--config", config(), "--state-dir", (dir / "state").string(), "--plugin-dir",
                relais::test::plugin_dir().string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("relais.toml:5:15: storage.synchronous: expected one of full, normal"),
            std::string::npos)
      << r.output;

  write_config("[ingest]\nendpoint = \"tcp://127.0.0.1:7400\"\n");
  r = run({relaisd(), "--check-config", config(), "--plugin-dir", relais::test::plugin_dir().string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("relais.toml:2:1: ingest.endpoint: unknown key"), std::string::npos) << r.output;

  r = run({relaisd(), "--check-config", (relais::test::source_dir() / "config" / "relais.toml").string(),
           "--plugin-dir", relais::test::plugin_dir().string()});
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(ProcessTest, RelaisctlSubmitsListsShowsAndFailsWithOneLine) {
  write_config("[log]\nlevel = \"info\"\n");
  // Without a daemon: a non-zero exit and one line saying why.
  auto down = ctl({"posts"});
  EXPECT_NE(down.status, 0);
  EXPECT_NE(down.output.find("is it running?"), std::string::npos) << down.output;

  auto daemon = start();
  auto one = ctl(
      {"submit", "-"},
      R"({"source":"cli","external_id":"c1","text":"Je cherche quelqu'un pour promener mon chien","private":{"phone":"01 99 00 12 34"}})");
  EXPECT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find("stored id=1"), std::string::npos) << one.output;

  relais::test::write_file(
      dir / "posts.jsonl",
      "{\"source\":\"cli\",\"external_id\":\"c2\",\"text\":\"Besoin d'aide pour un dossier CAF\"}\n"
      "\n"
      "{\"source\":\"cli\",\"external_id\":\"c1\",\"text\":\"encore\"}\n");
  auto lines = ctl({"submit", (dir / "posts.jsonl").string()});
  EXPECT_EQ(lines.status, 0) << lines.output;
  EXPECT_NE(lines.output.find("duplicate id=1"), std::string::npos) << lines.output;

  relais::test::write_file(dir / "bad.jsonl",
                           "{\"source\":\"cli\",\"external_id\":\"c3\",\"text\":\"ok\"}\n"
                           "{\"source\":\"cli\",\"text\":\"no id\"}\n");
  auto bad = ctl({"submit", (dir / "bad.jsonl").string()});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("bad.jsonl:2: missing_field: post.external_id"), std::string::npos) << bad.output;

  ASSERT_TRUE(wait_until([&] {
    return ctl({"posts", "--state", "received"}).output.find("cli ") == std::string::npos;
  }));
  auto posts = ctl({"posts"});
  EXPECT_EQ(posts.status, 0);
  EXPECT_NE(posts.output.find("unrouted"), std::string::npos) << posts.output;

  auto show = ctl({"show", "1"});
  EXPECT_EQ(show.status, 0) << show.output;
  EXPECT_NE(show.output.find("received  by source:cli"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("triaged"), std::string::npos) << show.output;

  auto missing = ctl({"show", "999"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("no post with id 999"), std::string::npos) << missing.output;

  // Personal data stays out of the log at info level.
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0);
  EXPECT_EQ(log().find("01 99 00 12 34"), std::string::npos);
  EXPECT_EQ(log().find("promener"), std::string::npos);
}

}  // namespace
