// source_xmpp: how a room's message becomes a post (or does not), the
// catch-up's memory, and the bridge in a real relaisd against a real prosody
// (tests/support/prosody.hpp) with a second XMPP client saying things in
// the room: live messages, what was said while relaisd was down, a server
// restart, and the messages that must not become posts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <strophe.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catchup.hpp"
#include "config.hpp"
#include "message.hpp"
#include "support/prosody.hpp"
#include "support/relaisctl.hpp"
#include "support/support.hpp"
#include "support/xmpp_client.hpp"

namespace json = boost::json;
using relais::test::Process;
using relais::test::Prosody;
using relais::test::TempDir;
using relais::test::wait_until;
using relais::test::XmppClient;

namespace {

constexpr const char* kRoom = "entraide@conference.relais.test";

// ---- a message stanza as a post ----

class MapMessage : public ::testing::Test {
 protected:
  MapMessage() {
    static std::once_flag initialized;
    std::call_once(initialized, [] { xmpp_initialize(); });
    ctx_ = xmpp_ctx_new(nullptr, nullptr);
    config_.bare_jid = "relais@relais.test";
    config_.max_text_bytes = 100;
    config_.rooms.push_back(relais::xmpp::Room{kRoom, "relais", ""});
    view_.room = &config_.rooms.front();
    view_.nick = "relais";
    view_.occupant_id = "OURS";
  }
  ~MapMessage() override {
    for (auto* s : stanzas_) xmpp_stanza_release(s);
    xmpp_ctx_free(ctx_);
  }

  xmpp_stanza_t* parse(const std::string& xml) {
    auto* s = xmpp_stanza_new_from_string(ctx_, xml.c_str());
    EXPECT_NE(s, nullptr) << xml;
    stanzas_.push_back(s);
    return s;
  }

  relais::xmpp::Mapping map(const std::string& xml, std::int64_t now = 1709647200) {
    return relais::xmpp::map_message(parse(xml), view_, config_, now);
  }

  static std::string skipped(const relais::xmpp::Mapping& m) {
    const auto* s = std::get_if<relais::xmpp::Skipped>(&m);
    return s == nullptr ? "(mapped)" : (s->refused ? "refused: " : "skipped: ") + s->reason;
  }

  // A copy: `m` is often a temporary.
  static relais::xmpp::Mapped mapped(const relais::xmpp::Mapping& m) {
    const auto* p = std::get_if<relais::xmpp::Mapped>(&m);
    EXPECT_NE(p, nullptr) << skipped(m);
    return p != nullptr ? *p : relais::xmpp::Mapped{};
  }

  xmpp_ctx_t* ctx_ = nullptr;
  relais::xmpp::Config config_;
  relais::xmpp::RoomView view_;
  std::vector<xmpp_stanza_t*> stanzas_;
};

TEST_F(MapMessage, ALiveMessageIsAPostWithTheRoomsStanzaId) {
  const auto& m =
      mapped(map("<message type='groupchat' from='entraide@conference.relais.test/Mireille' id='c1'>"
                 "<body>Qui peut faire mes courses ?</body><thread>t-42</thread>"
                 "<stanza-id xmlns='urn:xmpp:sid:0' by='someone@else.example' id='forged'/>"
                 "<stanza-id xmlns='urn:xmpp:sid:0' by='Entraide@conference.relais.test' id='S1'/>"
                 "<origin-id xmlns='urn:xmpp:sid:0' id='O1'/></message>"));
  EXPECT_FALSE(m.history);
  EXPECT_EQ(m.stamp, 1709647200);
  EXPECT_EQ(m.post.source, "xmpp");
  EXPECT_EQ(m.post.channel, kRoom);
  EXPECT_EQ(m.post.sender, "Mireille");
  EXPECT_EQ(m.post.text, "Qui peut faire mes courses ?");
  EXPECT_EQ(m.post.external_id, std::string(kRoom) + "#sid:S1");  // the room's, not the forged one
  EXPECT_EQ(m.post.received_at, "2024-03-05T14:00:00Z");
  EXPECT_EQ(m.post.fields.at("thread"), "t-42");
}

TEST_F(MapMessage, HistoryKeepsItsTimeAndTheSameIdAsLive) {
  const std::string live =
      "<message type='groupchat' from='entraide@conference.relais.test/Paul' id='p1'>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='O2'/><body>J'ai une voiture samedi</body>";
  const auto h = mapped(map(live + "<delay xmlns='urn:xmpp:delay' from='entraide@conference.relais.test' "
                                   "stamp='2024-03-05T13:00:00.250+01:00'/></message>"));
  EXPECT_TRUE(h.history);
  EXPECT_EQ(h.post.received_at, "2024-03-05T12:00:00Z");
  EXPECT_EQ(h.post.external_id, mapped(map(live + "</message>")).post.external_id);
  EXPECT_EQ(h.post.external_id, std::string(kRoom) + "#oid:O2");
  // A delay put by someone else (a client's offline queue) is not the room's history.
  EXPECT_FALSE(mapped(map(live + "<delay xmlns='urn:xmpp:delay' from='paul@relais.test' "
                                 "stamp='2024-03-05T13:00:00Z'/></message>"))
                   .history);

  // Without any id: the sender, the day and the text make one, live or replayed.
  const std::string bare =
      "<message type='groupchat' from='entraide@conference.relais.test/Paul'><body>Besoin de pain</body>";
  const auto a = mapped(map(bare + "</message>", 1709647200));
  const auto b = mapped(map(bare + "<delay xmlns='urn:xmpp:delay' from='entraide@conference.relais.test' "
                                   "stamp='2024-03-05T09:00:00Z'/></message>"));
  EXPECT_EQ(a.post.external_id, b.post.external_id);
  EXPECT_EQ(a.post.external_id.rfind(std::string(kRoom) + "#hash:", 0), 0u) << a.post.external_id;
  EXPECT_EQ(mapped(map("<message type='groupchat' from='entraide@conference.relais.test/Paul' id='x9'>"
                       "<body>Besoin de pain</body></message>"))
                .post.external_id,
            std::string(kRoom) + "#id:x9");
}

TEST_F(MapMessage, WhatIsNotAPostIsSkippedOrRefused) {
  const std::string from = "from='entraide@conference.relais.test/Paul' id='z'";
  EXPECT_EQ(skipped(map("<message type='groupchat' " + from +
                        "><active xmlns='http://jabber.org/protocol/chatstates'/></message>")),
            "skipped: no body");
  EXPECT_EQ(skipped(map("<message type='groupchat' " + from + "><subject>Entraide</subject></message>")),
            "skipped: a subject change");
  EXPECT_EQ(skipped(map("<message type='groupchat' " + from + "><body>  \n </body></message>")),
            "skipped: an empty body");
  EXPECT_EQ(skipped(map("<message type='groupchat' from='entraide@conference.relais.test'>"
                        "<body>This room is not anonymous</body></message>")),
            "skipped: from the room itself");
  EXPECT_EQ(skipped(map("<message type='groupchat' from='entraide@conference.relais.test/relais'>"
                        "<body>Bonjour</body></message>")),
            "skipped: our own message");
  // Under a nick we had before, known by our occupant-id.
  EXPECT_EQ(
      skipped(map("<message type='groupchat' from='entraide@conference.relais.test/relais-old'>"
                  "<body>Bonjour</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='OURS'/></message>")),
      "skipped: our own message");
  EXPECT_EQ(skipped(map("<message type='groupchat' " + from + "><body>" + std::string(101, 'a') +
                        "</body></message>")),
            "refused: a body of 101 bytes, over max_text_bytes (100)");

  // The XML parser lets no invalid UTF-8 through; a stanza built otherwise might.
  xmpp_stanza_t* bad = xmpp_message_new(ctx_, "groupchat", "relais@relais.test", "b1");
  stanzas_.push_back(bad);
  xmpp_stanza_set_from(bad, "entraide@conference.relais.test/Paul");
  xmpp_message_set_body(bad, "caf\xE9 \xFF");
  EXPECT_EQ(skipped(relais::xmpp::map_message(bad, view_, config_, 0)),
            "refused: a body that is not valid UTF-8");
}

TEST(SourceXmppText, Utf8AndDates) {
  using relais::xmpp::valid_utf8;
  EXPECT_TRUE(valid_utf8("Épicerie solidaire, 🍞"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("ok \xE2\x82"));       // cut short
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  using relais::xmpp::parse_datetime;
  EXPECT_EQ(parse_datetime("2024-03-05T14:00:00Z"), 1709647200);
  EXPECT_EQ(parse_datetime("2024-03-05T15:30:00.5+01:30"), 1709647200);
  EXPECT_EQ(parse_datetime("2024-03-05 14:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_datetime("2024-03-05T14:00:00"), std::nullopt);
  EXPECT_EQ(relais::xmpp::format_datetime(1709647200), "2024-03-05T14:00:00Z");
}

TEST(SourceXmppWatermarks, MoveOnlyPastWhatWasAcknowledgedAndSurviveARestart) {
  relais::xmpp::Watermarks marks;
  marks.seen("a@muc", 1, 100);
  marks.seen("a@muc", 2, 110);
  marks.seen("a@muc", 3, 105);           // a clock that went back
  EXPECT_FALSE(marks.done("a@muc", 2));  // 1 is still in flight
  EXPECT_EQ(marks.watermark("a@muc"), std::nullopt);
  EXPECT_TRUE(marks.done("a@muc", 1));
  EXPECT_EQ(marks.watermark("a@muc"), 110);
  EXPECT_FALSE(marks.done("a@muc", 3));  // never back
  EXPECT_EQ(marks.watermark("a@muc"), 110);

  TempDir dir;
  ASSERT_TRUE(marks.save(dir / "state"));
  relais::xmpp::Watermarks again;
  ASSERT_TRUE(again.load(dir / "state"));
  EXPECT_EQ(again.watermark("a@muc"), 110);
  EXPECT_EQ(again.watermark("b@muc"), std::nullopt);
  EXPECT_TRUE(again.load(dir / "none"));  // the first run

  EXPECT_FALSE(again.start("a@muc", 200));  // it has one
  EXPECT_TRUE(again.start("b@muc", 200));   // a first join
  EXPECT_EQ(again.watermark("b@muc"), 200);
}

// ---- the bridge in a real relaisd, against a real prosody ----

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string quoted(const std::string& s) { return json::serialize(json::string(s)); }

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// relaisd with source_xmpp, and a prosody for it.
class XmppBridge : public ::testing::Test {
 protected:
  void start_prosody(bool mam) {
    prosody = std::make_unique<Prosody>(relais::test::ProsodyOptions{.mam = mam});
    prosody->add_user("relais", "bridge-secret");
    prosody->add_user("alice", "alice-secret");
    ASSERT_TRUE(prosody->start()) << prosody->log();
  }

  std::filesystem::path config() const { return dir / "relais.toml"; }
  std::string state() const { return (dir / "state").string(); }

  void write_config(const std::string& extra = "", const std::string& level = "info") {
    if (!std::filesystem::exists(dir / "xmpp-password")) {
      relais::test::write_file(dir / "xmpp-password", "bridge-secret\n");
    }
    relais::test::write_file(
        config(), "[log]\nlevel = \"" + level +
                      "\"\n\n[plugins]\ndirectory = " + quoted(relais::test::plugin_dir().string()) +
                      "\nsource_restart_min_ms = 100\nsource_restart_max_ms = 1000\n\n"
                      "[[source]]\nplugin = \"source_xmpp\"\njid = \"relais@relais.test\"\n"
                      "password_file = \"xmpp-password\"\nserver = \"127.0.0.1\"\nport = " +
                      std::to_string(prosody->port()) + "\ntls = \"off\"\nrooms = [\"" + kRoom +
                      "\"]\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\nmax_text_bytes = 2000\n" +
                      extra);
  }

  std::unique_ptr<Process> start_relaisd() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", config().string(), "--state-dir", state()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !p->running(); })) << log();
    EXPECT_TRUE(p->running()) << log();
    return p;
  }

  // Waits until the bridge has joined the room `times` times in all.
  bool joined(std::size_t times = 1) {
    return wait_until([&] { return count(log(), std::string("joined ") + kRoom) >= times; });
  }

  relais::test::RunResult ctl(std::vector<std::string> args) {
    return relais::test::relaisctl(state(), std::move(args), "", 2000);
  }

  // Lenient: asked while relaisd may be starting or stopped.
  json::value ctl_json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = ctl(std::move(args));
    boost::system::error_code ec;
    auto v = json::parse(r.output, ec);
    return ec || r.status != 0 ? json::value() : v;
  }

  // The xmpp posts, oldest first.
  std::vector<json::object> posts() {
    std::vector<json::object> out;
    auto v = ctl_json({"posts", "--limit", "1000"});
    if (!v.is_object()) return out;
    for (const auto& p : v.at("posts").as_array()) {
      if (p.at("source") == "xmpp") out.insert(out.begin(), p.as_object());
    }
    return out;
  }

  // The post of `external_id` with its details, once it is stored.
  json::object post(const std::string& external_id) {
    std::int64_t id = 0;
    EXPECT_TRUE(wait_until([&] {
      for (const auto& p : posts()) {
        if (p.at("external_id") == external_id.c_str()) id = p.at("id").as_int64();
      }
      return id != 0;
    })) << "no post "
        << external_id << "\n"
        << log();
    if (id == 0) return {};
    auto v = ctl_json({"show", std::to_string(id)});
    return v.is_object() ? v.at("post").as_object() : json::object();
  }

  std::int64_t duplicates() {
    auto v = ctl_json({"stats"});
    return v.is_object() ? v.at("ingest").at("duplicates").as_int64() : -1;
  }

  // The external id the bridge gives a message: the room's stanza-id with
  // MAM, the message's id without.
  static std::string external_id(const std::string& id, const std::string& stanza_id) {
    return std::string(kRoom) + (stanza_id.empty() ? "#id:" + id : "#sid:" + stanza_id);
  }

  std::unique_ptr<XmppClient> alice() {
    auto c = std::make_unique<XmppClient>("alice@relais.test/test", "alice-secret", prosody->port());
    EXPECT_TRUE(c->online()) << prosody->log();
    EXPECT_TRUE(c->join(kRoom, "alice")) << prosody->log();
    return c;
  }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  TempDir dir;
  std::unique_ptr<Prosody> prosody;
};

// With MUC archives (XEP-0313 on the room, stanza-ids) and without (the
// room's own history, message ids).
class SourceXmpp : public XmppBridge, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override { start_prosody(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Mam, SourceXmpp, ::testing::Bool(), [](const ::testing::TestParamInfo<bool>& p) {
  return p.param ? "WithMam" : "WithoutMam";
});

TEST_P(SourceXmpp, RoomMessagesBecomePostsAndTheRestDoesNot) {
  write_config("", "debug");
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log() << prosody->log();
  auto a = alice();

  std::string sid;
  ASSERT_TRUE(a->send_and_wait_echo(std::string("<message type='groupchat' to='") + kRoom +
                                        "' id='m1'><body>Bonjour, qui pourrait faire mes courses samedi "
                                        "?</body><thread>t-42</thread></message>",
                                    "m1", &sid));
  EXPECT_EQ(sid.empty(), !GetParam());
  const auto first = post(external_id("m1", sid));
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.at("text"), "Bonjour, qui pourrait faire mes courses samedi ?");
  EXPECT_EQ(first.at("sender"), "alice");
  EXPECT_EQ(first.at("channel"), kRoom);
  EXPECT_EQ(first.at("fields").at("thread"), "t-42");

  // Not posts: a chat state, a subject, the bridge's own account speaking
  // under its nick from another session, and a body over max_text_bytes.
  a->send_raw(std::string("<message type='groupchat' to='") + kRoom +
              "' id='m2'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
  a->send_raw(std::string("<message type='groupchat' to='") + kRoom +
              "' id='m3'><subject>Entraide du quartier</subject></message>");
  {
    XmppClient bridge_account("relais@relais.test/other", "bridge-secret", prosody->port());
    ASSERT_TRUE(bridge_account.online());
    ASSERT_TRUE(bridge_account.join(kRoom, "relais"));
    ASSERT_TRUE(bridge_account.say(kRoom, "Message du pont", "m4"));
  }
  ASSERT_TRUE(a->say(kRoom, std::string(3000, 'x'), "m5"));
  // Messages are handled in order: once this one is stored, all before it were seen.
  std::string last_sid;
  ASSERT_TRUE(a->say(kRoom, "Merci à tous !", "m6", &last_sid));
  EXPECT_EQ(post(external_id("m6", last_sid)).at("text"), "Merci à tous !");
  const auto all = posts();
  ASSERT_EQ(all.size(), 2u) << log();

  const std::string text = log();
  EXPECT_NE(text.find(std::string("warning [source:xmpp:0] refused a message in ") + kRoom +
                      " (id m5): a body of 3000 bytes, over max_text_bytes (2000)"),
            std::string::npos)
      << text;
  for (const auto& skipped : {"(id m2): no body", "): a subject change", "(id m4): our own message"}) {
    EXPECT_NE(text.find(skipped), std::string::npos) << skipped << "\n" << text;
  }
  // Privacy, even at debug: no message text, no account but the bridge's own.
  EXPECT_EQ(text.find("courses"), std::string::npos) << text;
  EXPECT_EQ(text.find("alice"), std::string::npos) << text;
  EXPECT_EQ(text.find("bridge-secret"), std::string::npos) << text;

  // Stopping is prompt and orderly.
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

TEST_P(SourceXmpp, WhatWasSaidWhileRelaisdWasDownIsCaughtUpOnce) {
  write_config();
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log();
  auto a = alice();
  std::string sid1, sid2, sid3;
  ASSERT_TRUE(a->say(kRoom, "Premier message", "c1", &sid1));
  post(external_id("c1", sid1));

  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait(), 0) << log();
  // What relaisd acknowledged is remembered in the state directory.
  EXPECT_TRUE(
      std::filesystem::exists(std::filesystem::path(state()) / "source_xmpp-relais@relais.test.state"));
  ASSERT_TRUE(a->say(kRoom, "Dit pendant l'absence", "c2", &sid2));
  ASSERT_TRUE(a->say(kRoom, "Et encore ceci", "c3", &sid3));

  daemon = start_relaisd();
  EXPECT_EQ(post(external_id("c2", sid2)).at("text"), "Dit pendant l'absence");
  EXPECT_EQ(post(external_id("c3", sid3)).at("text"), "Et encore ceci");
  // The history asked for overlaps what was stored: the first message came
  // again and was dropped as a duplicate.
  EXPECT_TRUE(wait_until([&] { return duplicates() >= 1; })) << log();
  const auto all = posts();
  ASSERT_EQ(all.size(), 3u) << log();
  for (const auto& p : all) EXPECT_NE(p.at("received_at"), "");
}

TEST_P(SourceXmpp, AServerRestartMeansReconnectingAndRejoining) {
  write_config();
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log();
  {
    auto a = alice();
    std::string sid;
    ASSERT_TRUE(a->say(kRoom, "Avant le redémarrage", "r1", &sid));
    post(external_id("r1", sid));
  }
  prosody->stop();
  ASSERT_TRUE(prosody->start()) << prosody->log();
  ASSERT_TRUE(joined(2)) << log();
  EXPECT_NE(log().find("reconnecting in"), std::string::npos) << log();

  auto a = alice();
  std::string sid;
  ASSERT_TRUE(a->say(kRoom, "Après le redémarrage", "r2", &sid));
  EXPECT_EQ(post(external_id("r2", sid)).at("text"), "Après le redémarrage");
  EXPECT_EQ(posts().size(), 2u) << log();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

TEST_P(SourceXmpp, WhileRelaisdCannotStoreMessagesWaitAndNoneIsLost) {
  write_config("", "debug");
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log();
  auto a = alice();
  // Another connection holds the store's write lock: relaisd cannot commit,
  // so it acknowledges nothing, as when it is overloaded or stuck.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((std::filesystem::path(state()) / "relais.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) {
    std::string sid;
    ASSERT_TRUE(a->say(kRoom, "Message en attente " + std::to_string(i), "w" + std::to_string(i), &sid));
    ids.push_back(external_id("w" + std::to_string(i), sid));
  }
  const bool seen = wait_until([&] {
    const auto text = log();
    return std::all_of(ids.begin(), ids.end(),
                       [&](const auto& id) { return text.find("live message " + id) != std::string::npos; });
  });
  const auto while_stuck = posts().size();
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  ASSERT_TRUE(seen) << log();
  EXPECT_EQ(while_stuck, 0u);
  for (const auto& id : ids) post(id);
  EXPECT_EQ(posts().size(), 3u) << log();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

// One server, for what its archive plays no part in.
class SourceXmppServer : public XmppBridge {
 protected:
  void SetUp() override { start_prosody(true); }
};

TEST_F(SourceXmppServer, ARoomThatGoesAwayIsJoinedAgain) {
  write_config();
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log();
  {
    // The bridge created the room, so its account owns it: another session
    // of that account destroys it, and the bridge with it.
    XmppClient owner("relais@relais.test/owner", "bridge-secret", prosody->port());
    ASSERT_TRUE(owner.online());
    owner.send_raw(std::string("<iq type='set' id='d1' to='") + kRoom +
                   "'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>");
    ASSERT_TRUE(wait_until([&] {
      owner.run_for(std::chrono::milliseconds(10));
      return log().find("removed (the room was destroyed)") != std::string::npos;
    })) << log();
  }
  ASSERT_TRUE(joined(2)) << log();
  auto a = alice();
  std::string sid;
  ASSERT_TRUE(a->say(kRoom, "De retour", "g1", &sid));
  EXPECT_EQ(post(external_id("g1", sid)).at("text"), "De retour");
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

TEST_F(SourceXmppServer, AQuietRoomIsCaughtUpFromTheFirstJoin) {
  write_config();
  auto daemon = start_relaisd();
  ASSERT_TRUE(joined()) << log();
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait(), 0) << log();
  // The first thing ever said in the room, while relaisd is down.
  auto a = alice();
  std::string sid;
  ASSERT_TRUE(a->say(kRoom, "Premier message du salon", "q1", &sid));
  daemon = start_relaisd();
  EXPECT_EQ(post(external_id("q1", sid)).at("text"), "Premier message du salon");
}

TEST_F(SourceXmppServer, ARefusedLoginOrAServerWithoutTlsIsRetriedAndSaidWhy) {
  // The default is TLS or nothing, and this server offers none.
  relais::test::write_file(dir / "xmpp-password", "bridge-secret\n");
  write_config();
  auto text = relais::test::read_file(config());
  text.replace(text.find("tls = \"off\"\n"), 12, "");
  relais::test::write_file(config(), text);
  auto daemon = start_relaisd();
  ASSERT_TRUE(wait_until([&] { return count(log(), "could not connect or log in; reconnecting in") >= 2; }))
      << log();
  EXPECT_EQ(log().find("joined"), std::string::npos) << log();
  EXPECT_NE(log().find("TLS is not supported, but set as mandatory"), std::string::npos) << log();
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait(), 0) << log();

  // A wrong password: the same, and the password is never logged.
  write_config();
  relais::test::write_file(dir / "xmpp-password", "not-the-password\n");
  std::filesystem::remove(dir / "relaisd.log");
  daemon = start_relaisd();
  ASSERT_TRUE(wait_until([&] { return count(log(), "could not connect or log in; reconnecting in") >= 2; }))
      << log();
  EXPECT_NE(log().find("libstrophe auth: "), std::string::npos) << log();
  EXPECT_EQ(log().find("not-the-password"), std::string::npos) << log();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

TEST(SourceXmppConfig, BadTablesAreRefusedWithTheirPosition) {
  TempDir dir;
  const auto base = "[plugins]\ndirectory = " + quoted(relais::test::plugin_dir().string()) +
                    "\n\n[[source]]\nplugin = \"source_xmpp\"\n";
  struct Case {
    std::string table, expected;
  };
  const std::vector<Case> cases = {
      {"rooms = [\"a@muc.example\"]\npassword = \"x\"\n", "jid is required"},
      {"jid = \"nobody\"\npassword = \"x\"\nrooms = [\"a@muc.example\"]\n",
       "source[0].jid: expected an account JID"},
      {"jid = \"bot@example.org\"\nrooms = [\"a@muc.example\"]\n", "password or password_file is required"},
      {"jid = \"bot@example.org\"\npassword_file = \"missing\"\nrooms = [\"a@muc.example\"]\n",
       "source[0].password_file: cannot read"},
      {"jid = \"bot@example.org\"\npassword = \"x\"\n", "at least one room is required"},
      {"jid = \"bot@example.org\"\npassword = \"x\"\nrooms = [\"a@muc.example\", \"A@muc.example/x\"]\n",
       "a@muc.example is listed twice"},
      {"jid = \"bot@example.org\"\npassword = \"x\"\nrooms = [\"a@muc.example\"]\ntls = \"maybe\"\n",
       "source[0].tls: expected \"required\""},
      {"jid = \"bot@example.org\"\npassword = \"x\"\nrooms = [\"a@muc.example\"]\nreconnect_min_ms = 5000\n"
       "reconnect_max_ms = 1000\n",
       "reconnect_max_ms: must not be below reconnect_min_ms"},
      {"jid = \"bot@example.org\"\npassword = \"x\"\nrooms = [\"a@muc.example\"]\nroom = \"b@muc.example\"\n",
       "source[0].room: unknown key"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.table);
    relais::test::write_file(dir / "relais.toml", base + c.table);
    const auto out = relais::test::run({relaisd(), "--check-config", (dir / "relais.toml").string()});
    EXPECT_EQ(out.status, 1) << out.output;
    EXPECT_NE(out.output.find(c.expected), std::string::npos) << out.output;
  }
  relais::test::write_file(dir / "relais.toml",
                           base +
                               "jid = \"bot@example.org\"\npassword = \"x\"\n"
                               "rooms = [\"a@muc.example\", \"b@muc.example/Relais\"]\n");
  const auto ok = relais::test::run({relaisd(), "--check-config", (dir / "relais.toml").string()});
  EXPECT_EQ(ok.status, 0) << ok.output;
}

}  // namespace
