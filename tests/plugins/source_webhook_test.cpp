// source_webhook in a real relaisd: Telegram updates and Mattermost/Slack
// outgoing webhooks of the documented shapes POSTed over real HTTP, and the
// posts checked in the store with relaisctl. The same update twice is one
// post; an edit is a post of its own; no text, nothing stored; a wrong
// secret, malformed JSON, a body too large: an HTTP error and nothing
// stored; relaisd not acknowledging: 503, and the platform's retry stores it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/relaisctl.hpp"
#include "support/support.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using relais::test::Process;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

constexpr const char* kTelegramSecret = "tg-Secret_0123456789";
constexpr const char* kMattermostToken = "mm9xk3d0token";

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string quoted(const std::string& s) { return json::serialize(json::string(s)); }

struct Reply {
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string content_type;
};

// One request on a connection of its own, as the platforms do.
Reply send(const std::string& address, const std::string& method, const std::string& target,
           const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  const auto colon = address.rfind(':');
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address(address.substr(0, colon)),
                                         static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))));
  bhttp::request<bhttp::string_body> req{method == "GET" ? bhttp::verb::get : bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, address);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 20);
  bhttp::read(stream, buffer, parser);
  auto& res = parser.get();
  Reply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.retry_after = std::string(res[bhttp::field::retry_after]);
  reply.content_type = std::string(res[bhttp::field::content_type]);
  reply.body = std::move(res.body());
  return reply;
}

// A Telegram Update with a message, as https://core.telegram.org/bots/api#update shows it.
json::object telegram_message(std::int64_t update_id, std::int64_t message_id, const std::string& text) {
  return json::object{{"update_id", update_id},
                      {"message", json::object{{"message_id", message_id},
                                               {"from", json::object{{"id", 987654321},
                                                                     {"is_bot", false},
                                                                     {"first_name", "Mireille"},
                                                                     {"username", "mireille_p"},
                                                                     {"language_code", "fr"}}},
                                               {"chat", json::object{{"id", -1001234567890},
                                                                     {"title", "Entraide Vitry"},
                                                                     {"type", "supergroup"}}},
                                               {"date", 1709647200},
                                               {"text", text}}}};
}

class SourceWebhook : public ::testing::Test {
 protected:
  void SetUp() override {
    relais::test::write_file(dir / "tg-secret", std::string(kTelegramSecret) + "\n");
    write_config("");
    daemon = start();
    telegram = address_of("telegram.addr");
    mattermost = address_of("mattermost.addr");
  }

  void TearDown() override {
    if (daemon) {
      daemon->signal(SIGTERM);
      EXPECT_EQ(daemon->wait(), 0) << log();
    }
  }

  // Two endpoints, each its own instance on a port of its own (port 0: the
  // test reads the address from address_file).
  void write_config(const std::string& extra) {
    relais::test::write_file(
        dir / "relais.toml",
        "[log]\nlevel = \"info\"\n\n[plugins]\ndirectory = " + quoted(relais::test::plugin_dir().string()) +
            "\n\n"
            "[[source]]\nplugin = \"source_webhook\"\nplatform = \"telegram\"\nlisten = \"127.0.0.1:0\"\n"
            "url_path = \"/telegram/entraide\"\nchannel = \"telegram:entraide\"\nsecret_token_file = "
            "\"tg-secret\"\n"
            "address_file = \"telegram.addr\"\nsubmit_timeout_ms = 1500\nmax_body_bytes = 4096\n\n"
            "[[source]]\nplugin = \"source_webhook\"\nplatform = \"mattermost\"\nlisten = \"127.0.0.1:0\"\n"
            "url_path = \"/mattermost/quartier\"\nchannel = \"mattermost:quartier\"\ntoken = " +
            quoted(kMattermostToken) + "\naddress_file = \"mattermost.addr\"\n" + extra);
  }

  std::unique_ptr<Process> start() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", (dir / "relais.toml").string(), "--state-dir",
                                 state()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !p->running(); })) << log();
    EXPECT_TRUE(p->running()) << log();
    return p;
  }

  std::string address_of(const std::string& file) {
    std::string address;
    EXPECT_TRUE(wait_until([&] {
      if (!std::filesystem::exists(dir / file)) return false;
      address = relais::test::read_file(dir / file);
      return !address.empty() && address.back() == '\n';
    })) << log();
    if (!address.empty()) address.pop_back();
    return address;
  }

  std::string state() const { return (dir / "state").string(); }
  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  relais::test::RunResult ctl(std::vector<std::string> args) {
    return relais::test::relaisctl(state(), std::move(args), "", 2000);
  }

  json::value ctl_json(std::vector<std::string> args) {
    return relais::test::relaisctl_json(state(), std::move(args), 2000);
  }

  // Every stored post, as "source external_id".
  std::vector<std::string> stored() {
    std::vector<std::string> out;
    auto v = ctl_json({"posts", "--limit", "1000"});
    if (!v.is_object()) return out;
    for (const auto& p : v.at("posts").as_array()) {
      out.push_back(std::string(p.at("source").as_string()) + " " +
                    std::string(p.at("external_id").as_string()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // The stored post of `source`/`external_id`, in full.
  json::object post(const std::string& source, const std::string& external_id) {
    auto v = ctl_json({"posts", "--limit", "1000"});
    if (!v.is_object()) return {};
    for (const auto& p : v.at("posts").as_array()) {
      if (p.at("source") == source.c_str() && p.at("external_id") == external_id.c_str()) {
        auto shown = ctl_json({"show", std::to_string(p.at("id").as_int64())});
        return shown.is_object() ? shown.at("post").as_object() : json::object{};
      }
    }
    ADD_FAILURE() << "no post " << source << " " << external_id << " among " << v;
    return {};
  }

  Reply to_telegram(const json::value& update, const std::string& secret = kTelegramSecret) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
    if (!secret.empty()) headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", secret);
    return send(telegram, "POST", "/telegram/entraide", headers, json::serialize(update));
  }

  Reply to_mattermost(const std::string& content_type, const std::string& body,
                      const std::string& path = "/mattermost/quartier") {
    return send(mattermost, "POST", path, {{"Content-Type", content_type}}, body);
  }

  TempDir dir;
  std::unique_ptr<Process> daemon;
  std::string telegram;
  std::string mattermost;
};

TEST_F(SourceWebhook, LogsWhereItListens) {
  EXPECT_NE(telegram.find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(telegram, "127.0.0.1:0");
  EXPECT_NE(log().find("listening address=" + telegram), std::string::npos) << log();
  EXPECT_NE(log().find("listening address=" + mattermost), std::string::npos) << log();
}

TEST_F(SourceWebhook, ATelegramMessageIsStoredOnceWhenDeliveredTwice) {
  const auto update = telegram_message(10001, 42, "Bonjour, qui pourrait faire mes courses samedi ?");
  auto first = to_telegram(update);
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body, "{}");
  // Telegram sends it again when it missed our answer: one post still.
  auto again = to_telegram(update);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(stored(), (std::vector<std::string>{"telegram -1001234567890:42"}));

  const auto p = post("telegram", "-1001234567890:42");
  EXPECT_EQ(p.at("text"), "Bonjour, qui pourrait faire mes courses samedi ?");
  EXPECT_EQ(p.at("channel"), "telegram:entraide");
  EXPECT_EQ(p.at("sender"), "mireille_p");  // the handle, not the name
  EXPECT_EQ(std::string(p.at("received_at").as_string()).substr(0, 19), "2024-03-05T14:00:00");
}

TEST_F(SourceWebhook, AnEditedTelegramMessageIsANewPostLinkedToTheFirst) {
  ASSERT_EQ(to_telegram(telegram_message(10001, 42, "Besoin d'aide pour les courses")).status, 200);
  auto edit = telegram_message(10002, 42, "Besoin d'aide pour les courses, plus besoin merci");
  auto message = edit.at("message").as_object();
  message["edit_date"] = 1709650800;
  edit.erase("message");
  edit["edited_message"] = message;
  ASSERT_EQ(to_telegram(edit).status, 200);
  ASSERT_EQ(to_telegram(edit).status, 200);  // the same edit twice
  EXPECT_EQ(stored(), (std::vector<std::string>{"telegram -1001234567890:42",
                                                "telegram -1001234567890:42:edit:1709650800"}));
  const auto p = post("telegram", "-1001234567890:42:edit:1709650800");
  EXPECT_EQ(p.at("text"), "Besoin d'aide pour les courses, plus besoin merci");
  EXPECT_EQ(p.at("fields").at("edit_of"), "-1001234567890:42");
  EXPECT_EQ(std::string(p.at("received_at").as_string()).substr(0, 19), "2024-03-05T15:00:00");

  // A channel's post, edited: the channel is the sender.
  json::object channel_post{
      {"update_id", 10003},
      {"edited_channel_post",
       json::object{{"message_id", 7},
                    {"sender_chat", json::object{{"id", -1009}, {"username", "vitry_infos"}}},
                    {"chat", json::object{{"id", -1009}, {"type", "channel"}}},
                    {"date", 1709647200},
                    {"edit_date", 1709647260},
                    {"text", "Distribution alimentaire jeudi"}}}};
  ASSERT_EQ(to_telegram(channel_post).status, 200);
  EXPECT_EQ(post("telegram", "-1009:7:edit:1709647260").at("sender"), "vitry_infos");
}

TEST_F(SourceWebhook, ATelegramMessageWithoutTextIsAnsweredButNotStored) {
  // A photo alone, a sticker, someone joining: 200, or Telegram resends.
  auto photo = telegram_message(10001, 43, "");
  photo.at("message").as_object().erase("text");
  photo.at("message").as_object()["photo"] = json::array{
      json::object{{"file_id", "AgAD"}, {"file_unique_id", "AQAD"}, {"width", 90}, {"height", 67}}};
  EXPECT_EQ(to_telegram(photo).status, 200);
  json::object joined{{"update_id", 10002},
                      {"message", json::object{{"message_id", 44},
                                               {"chat", json::object{{"id", -100}, {"type", "group"}}},
                                               {"date", 1709647200},
                                               {"new_chat_members", json::array{json::object{{"id", 5}}}}}}};
  EXPECT_EQ(to_telegram(joined).status, 200);
  json::object callback{{"update_id", 10003},
                        {"callback_query", json::object{{"id", "4382"}, {"data", "x"}}}};
  EXPECT_EQ(to_telegram(callback).status, 200);
  EXPECT_TRUE(stored().empty());

  // A photo with a caption: the caption is the text.
  photo.at("message").as_object()["caption"] = "Je donne ce vélo enfant";
  EXPECT_EQ(to_telegram(photo).status, 200);
  EXPECT_EQ(post("telegram", "-1001234567890:43").at("text"), "Je donne ce vélo enfant");
}

TEST_F(SourceWebhook, TelegramWithoutTheSecretIsRefused) {
  const auto update = telegram_message(10001, 45, "Bonjour");
  auto missing = to_telegram(update, "");
  EXPECT_EQ(missing.status, 401) << missing.body;
  auto wrong = to_telegram(update, "tg-Secret_0123456788");
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  EXPECT_NE(wrong.body.find("X-Telegram-Bot-Api-Secret-Token"), std::string::npos) << wrong.body;
  EXPECT_TRUE(stored().empty());
}

TEST_F(SourceWebhook, MalformedRequestsGetAClearErrorAndNothingIsStored) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/json"}, {"X-Telegram-Bot-Api-Secret-Token", kTelegramSecret}};
  auto bad_json = send(telegram, "POST", "/telegram/entraide", headers, "{\"update_id\": 1, \"message\": ");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("\"error\":\"bad_json\""), std::string::npos) << bad_json.body;
  EXPECT_NE(bad_json.body.find("not JSON"), std::string::npos) << bad_json.body;

  auto not_update = send(telegram, "POST", "/telegram/entraide", headers, "[1, 2]");
  EXPECT_EQ(not_update.status, 400) << not_update.body;
  auto no_chat = send(telegram, "POST", "/telegram/entraide", headers,
                      R"({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "hello"}})");
  EXPECT_EQ(no_chat.status, 400) << no_chat.body;
  EXPECT_NE(no_chat.body.find("chat.id"), std::string::npos) << no_chat.body;

  auto too_big = to_telegram(telegram_message(1, 1, std::string(5000, 'a')));
  EXPECT_EQ(too_big.status, 413) << too_big.body;
  EXPECT_EQ(send(telegram, "GET", "/telegram/entraide", headers, "").status, 405);
  EXPECT_EQ(send(telegram, "POST", "/elsewhere", headers, "{}").status, 404);

  auto mm_bad = to_mattermost("application/json", "{\"token\": ");
  EXPECT_EQ(mm_bad.status, 400);
  EXPECT_NE(mm_bad.body.find("bad_json"), std::string::npos) << mm_bad.body;
  EXPECT_EQ(to_mattermost("text/plain", "token=x").status, 415);
  EXPECT_EQ(to_mattermost("application/x-www-form-urlencoded",
                          "token=" + std::string(kMattermostToken) + "&text=hello")
                .status,
            400);  // no post_id, nor channel_id and timestamp
  EXPECT_TRUE(stored().empty());
}

TEST_F(SourceWebhook, AMattermostOutgoingWebhookIsStoredOnce) {
  const std::string form = "token=" + std::string(kMattermostToken) +
                           "&team_id=ta1&team_domain=quartier&channel_id=ch1&channel_name=entraide"
                           "&timestamp=1709647200123&user_id=u1&user_name=paul.v&post_id=p8xk3b5zqjgdtx9d"
                           "&text=J%27ai+une+voiture+le+samedi%2C+je+peux+conduire+quelqu%27un&trigger_word=";
  auto reply = to_mattermost("application/x-www-form-urlencoded", form);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "{}");  // no "text": Mattermost would post it in the channel
  EXPECT_EQ(to_mattermost("application/x-www-form-urlencoded", form).status, 200);

  // The JSON flavour, with a numeric timestamp.
  json::object body{{"token", kMattermostToken},
                    {"team_domain", "quartier"},
                    {"channel_id", "ch1"},
                    {"channel_name", "entraide"},
                    {"timestamp", 1709647260000},
                    {"user_name", "anne"},
                    {"post_id", "q1w2e3r4t5y6u7i8o9p0a1s2d3"},
                    {"text", "Je cherche quelqu'un pour promener mon chien"}};
  EXPECT_EQ(to_mattermost("application/json; charset=utf-8", json::serialize(body)).status, 200);

  // Slack's shape: no post_id; the channel and its timestamp name the message.
  const std::string slack =
      "token=" + std::string(kMattermostToken) +
      "&team_id=T0001&team_domain=example&channel_id=C2147483705&channel_name=test"
      "&timestamp=1355517523.000005&user_id=U2147483697&user_name=Steve&text=googlebot%3A+hi";
  EXPECT_EQ(to_mattermost("application/x-www-form-urlencoded", slack).status, 200);

  EXPECT_EQ(stored(), (std::vector<std::string>{"mattermost C2147483705:1355517523.000005",
                                                "mattermost p8xk3b5zqjgdtx9d",
                                                "mattermost q1w2e3r4t5y6u7i8o9p0a1s2d3"}));
  const auto p = post("mattermost", "p8xk3b5zqjgdtx9d");
  EXPECT_EQ(p.at("text"), "J'ai une voiture le samedi, je peux conduire quelqu'un");
  EXPECT_EQ(p.at("sender"), "paul.v");
  EXPECT_EQ(p.at("channel"), "mattermost:quartier");
  EXPECT_EQ(std::string(p.at("received_at").as_string()).substr(0, 19), "2024-03-05T14:00:00");
  EXPECT_EQ(std::string(post("mattermost", "C2147483705:1355517523.000005").at("received_at").as_string())
                .substr(0, 19),
            "2012-12-14T20:38:43");
}

TEST_F(SourceWebhook, MattermostChecksTheTokenAndIgnoresEmptyText) {
  const std::string rest = "&channel_id=ch1&timestamp=1709647200123&user_name=paul.v&post_id=p1&text=hello";
  auto missing = to_mattermost("application/x-www-form-urlencoded", rest.substr(1));
  EXPECT_EQ(missing.status, 401) << missing.body;
  auto wrong = to_mattermost("application/x-www-form-urlencoded", "token=mm9xk3d0tokem" + rest);
  EXPECT_EQ(wrong.status, 403) << wrong.body;
  auto wrong_json =
      to_mattermost("application/json", R"({"token": "nope", "post_id": "p1", "text": "hello"})");
  EXPECT_EQ(wrong_json.status, 403) << wrong_json.body;
  auto empty = to_mattermost("application/x-www-form-urlencoded",
                             "token=" + std::string(kMattermostToken) + "&post_id=p2&text=++");
  EXPECT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(stored().empty());
}

TEST_F(SourceWebhook, WhenRelaisdDoesNotAcknowledgeThePlatformGets503AndItsRetryIsStored) {
  // Another connection holds the database's write lock: relaisd cannot
  // commit, so it does not acknowledge, as when it is overloaded or stuck.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "state" / "relais.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  const auto update = telegram_message(10001, 46, "Urgent : plus de médicaments");
  auto busy = to_telegram(update);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(busy.retry_after, "5");
  EXPECT_NE(busy.body.find("retry"), std::string::npos) << busy.body;

  // Telegram sends it again: stored, once (the first attempt, still in
  // flight, may land first; the retry is then a duplicate).
  auto retried = to_telegram(update);
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(to_telegram(update).status, 200);
  EXPECT_EQ(stored(), (std::vector<std::string>{"telegram -1001234567890:46"}));
}

TEST_F(SourceWebhook, NeitherTextNorNamesReachTheLog) {
  ASSERT_EQ(to_telegram(telegram_message(10001, 47, "Mon voisin Gaston a besoin de pain")).status, 200);
  ASSERT_EQ(
      to_mattermost("application/x-www-form-urlencoded",
                    "token=" + std::string(kMattermostToken) + "&post_id=p3&user_name=jeanne.d&text=Gaston")
          .status,
      200);
  ASSERT_EQ(to_telegram(telegram_message(10002, 48, "x"), "wrong").status, 403);
  const auto text = log();
  EXPECT_EQ(text.find("Gaston"), std::string::npos) << text;
  EXPECT_EQ(text.find("mireille"), std::string::npos) << text;
  EXPECT_EQ(text.find("Mireille"), std::string::npos) << text;
  EXPECT_EQ(text.find("jeanne"), std::string::npos) << text;
  EXPECT_EQ(text.find(kTelegramSecret), std::string::npos) << text;
}

}  // namespace
