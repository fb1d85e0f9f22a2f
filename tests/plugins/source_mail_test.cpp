// source_mail: messages as posts (GMime, the fixtures in fixtures/mail);
// relais-mail's exit statuses against a real relaisd; the Maildir modes;
// and end to end, a real Postfix on loopback piping what swaks sends to
// relais-mail, while relaisd runs and while it is stopped.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "body_text.hpp"
#include "mail_post.hpp"
#include "support/relaisctl.hpp"
#include "support/support.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using relais::test::Process;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

std::string fixture(const std::string& name) {
  return relais::test::read_file(relais::test::source_dir() / "tests" / "plugins" / "fixtures" / "mail" /
                                 name);
}

relais::Post parsed(const std::string& name) {
  auto post = relais::mail::post_from_message(fixture(name));
  EXPECT_TRUE(post) << name << ": " << post.error().message;
  return post ? *post : relais::Post{};
}

// --- A message as a post -------------------------------------------------

TEST(MailPost, MultipartAlternativePrefersThePlainTextAndSkipsAttachments) {
  const auto post = parsed("alternative.eml");
  EXPECT_EQ(post.source, "mail");
  EXPECT_EQ(post.external_id, "20200401081200.4242@mail.example.org");
  EXPECT_EQ(post.channel, "email");
  EXPECT_EQ(post.sender, "mireille.perez@example.org");
  EXPECT_EQ(post.private_data.at("email"), "Mireille.Perez@Example.org");
  EXPECT_EQ(post.private_data.at("name"), "Mireille Pérez");
  EXPECT_EQ(post.subject, "Besoin d'aide pour les courses – quai Jules-Guesde");
  EXPECT_EQ(post.text,
            "Bonjour, j'habite quai Jules-Guesde, j'ai 78 ans et je ne peux plus sortir depuis le début du "
            "confinement.\nQui pourrait faire mes courses samedi ?");
  EXPECT_EQ(post.lang, "fr");
  EXPECT_EQ(post.received_at, "2020-04-01T08:12:00+02:00");
  // Neither the contact nor the attachment reaches the public text.
  EXPECT_EQ(post.text.find("example.org"), std::string::npos);
  EXPECT_EQ(post.text.find("lait"), std::string::npos);
}

TEST(MailPost, Latin1QuotedPrintableIsReadAsWindows1252) {
  const auto post = parsed("latin1_qp.eml");
  EXPECT_EQ(
      post.text,
      "Bonjour,\nJe cherche quelqu’un pour promener mon chien à Vitry, près de la mairie.\nMerci d’avance.");
  EXPECT_EQ(post.subject, "Promenade du chien à Vitry");
  EXPECT_EQ(post.sender, "jean.martin@example.net");
  EXPECT_EQ(post.private_data.at("name"), "Jean Martin");
  EXPECT_EQ(post.received_at, "2020-04-02T10:00:00+00:00");
  EXPECT_EQ(post.lang, "");
}

TEST(MailPost, Windows1252Base64) {
  const auto post = parsed("cp1252_base64.eml");
  EXPECT_EQ(post.text,
            "Je propose 20 € de courses par semaine pour une personne âgée, et des œufs de mes poules.");
  EXPECT_EQ(post.sender, "offre@example.com");
  EXPECT_EQ(post.private_data.count("name"), 0U);
}

TEST(MailPost, HtmlOnlyBodyBecomesTextWithoutItsQuote) {
  const auto post = parsed("html_only.eml");
  EXPECT_EQ(
      post.text,
      "Bonjour à tous,\n\nIl me faudrait quelqu'un pour aller\nchercher mes médicaments :\n\n- Doliprane\n"
      "- Ventoline\n\nVoir la pharmacie de garde (https://pharmacie.example/garde).");
  EXPECT_EQ(post.private_data.at("name"), "Amina B.");
}

TEST(MailPost, QuotedReplyAndSignatureAreStripped) {
  const auto post = parsed("reply_signature.eml");
  EXPECT_EQ(post.text, "Je peux m'en charger mardi matin.");
  EXPECT_EQ(post.subject, "Re: Courses");
}

TEST(MailPost, WithoutMessageIdTheIdIsAStableHash) {
  const auto post = parsed("no_message_id.eml");
  EXPECT_EQ(post.external_id.rfind("sha256:", 0), 0U) << post.external_id;
  EXPECT_EQ(post.external_id.size(), 7U + 64U);
  // The same message again, with the headers relays add: the same id.
  const auto again = relais::mail::post_from_message(
      "Return-Path: <sans-id@example.org>\nReceived: from elsewhere by mx; Tue, 07 Apr 2020 12:00:05 +0200\n"
      "Delivered-To: besoins@relais.example\n" +
      fixture("no_message_id.eml"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->external_id, post.external_id);
  // Another body: another id.
  auto other = fixture("no_message_id.eml");
  other.replace(other.find("Un message"), 10, "Un courrier");
  const auto different = relais::mail::post_from_message(other);
  ASSERT_TRUE(different);
  EXPECT_NE(different->external_id, post.external_id);
}

TEST(MailPost, GarbageIsNotAMessage) {
  const auto post = relais::mail::post_from_message(fixture("garbage.eml"));
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().code, "not_a_message");
  for (const char* input : {"", "\n\n", "just a line of text\n", "X-Header: only\n\nno sender here\n"}) {
    const auto refused = relais::mail::post_from_message(input);
    ASSERT_FALSE(refused) << input;
    EXPECT_EQ(refused.error().code, "not_a_message") << input;
  }
}

TEST(MailPost, LimitsAndEmptyMessagesAreRefusedWithoutQuotingThem) {
  const auto big = fixture("alternative.eml");
  relais::mail::ParseOptions small;
  small.max_message_bytes = 100;
  auto refused = relais::mail::post_from_message(big, small);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "too_large");
  small = {};
  small.max_text_bytes = 20;
  refused = relais::mail::post_from_message(big, small);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "too_large");
  EXPECT_EQ(refused.error().message.find("Bonjour"), std::string::npos);
  refused = relais::mail::post_from_message("From: a@example.org\nMessage-ID: <e@x>\n\n\n");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "no_text");
  EXPECT_EQ(refused.error().message.find("a@example.org"), std::string::npos);
  // A subject alone is a post.
  const auto subject_only =
      relais::mail::post_from_message("From: a@example.org\nSubject: Besoin de pain\n\n");
  ASSERT_TRUE(subject_only);
  EXPECT_EQ(subject_only->text, "");
}

TEST(MailPost, DatesInTheFutureOrMissingAreNow) {
  relais::mail::ParseOptions options;
  options.now = std::chrono::sys_days{std::chrono::year{2020} / 4 / 1} + std::chrono::hours(6);
  const auto future = relais::mail::post_from_message(
      "From: a@example.org\nDate: Thu, 01 Jan 2037 00:00:00 +0000\n\nbonjour\n", options);
  ASSERT_TRUE(future);
  EXPECT_EQ(future->received_at, "2020-04-01T06:00:00Z");
  const auto missing = relais::mail::post_from_message("From: a@example.org\n\nbonjour\n", options);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->received_at, "2020-04-01T06:00:00Z");
}

TEST(MailPost, FlowedTextIsJoined) {
  const auto post = relais::mail::post_from_message(
      "From: a@example.org\nContent-Type: text/plain; charset=utf-8; format=flowed\n\n"
      "Une ligne longue \ncoupee par le client.\nUne autre.\n");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->text, "Une ligne longue coupee par le client.\nUne autre.");
}

TEST(StripReplies, KeepsThePostersWordsOnly) {
  using relais::mail::strip_replies;
  EXPECT_EQ(strip_replies("Oui, je peux.\n\n-----Original Message-----\nFrom: x\nSubject: y\n\nold"),
            "Oui, je peux.");
  EXPECT_EQ(strip_replies("Oui.\n\n________________________________\nDe : Paul\nold text"), "Oui.");
  EXPECT_EQ(strip_replies("Dispo samedi.\n\nEnvoyé de mon iPhone"), "Dispo samedi.");
  EXPECT_EQ(strip_replies("Le ven. 3 avr. 2020 à 09:30, Paul a écrit :\n> cité\nRéponse en dessous."),
            "Réponse en dessous.");
  // An "... a écrit :" that no quote follows is the poster's own sentence.
  EXPECT_EQ(strip_replies("Le voisin a écrit :\nil faut du pain."), "Le voisin a écrit :\nil faut du pain.");
  // A reply that only quotes keeps its text rather than losing the post.
  EXPECT_EQ(strip_replies("> tout est cité\n> ici"), "> tout est cité\n> ici");
  EXPECT_EQ(strip_replies("a  \n\n\n\nb\n-- \nsig"), "a\n\nb");
}

TEST(HtmlToText, BlocksLinksAndQuotes) {
  using relais::mail::html_to_text;
  EXPECT_EQ(html_to_text("<p>un</p><p>deux<br>trois</p>"), "un\n\ndeux\ntrois");
  EXPECT_EQ(html_to_text("<a href=\"https://x.example/\">https://x.example/</a>"), "https://x.example/");
  EXPECT_EQ(html_to_text("<p>avant</p><blockquote><p>a</p><p>b</p></blockquote>"), "avant\n\n> a\n>\n> b");
  EXPECT_EQ(html_to_text("<pre>  garde\n  les blancs</pre>"), "  garde\n  les blancs");
  EXPECT_EQ(html_to_text(""), "");
}

// --- relais-mail and the plugin against a real relaisd ------------------

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string quoted(const std::string& s) { return json::serialize(json::string(s)); }

class MailDelivery : public ::testing::Test {
 protected:
  fs::path config() const { return dir / "relais.toml"; }
  std::string state() const { return (dir / "state").string(); }
  std::string endpoint() const { return "ipc://" + state() + "/ingest.sock"; }

  void write_config(const std::string& body = "") {
    relais::test::write_file(config(), "[log]\nlevel = \"info\"\n\n[plugins]\ndirectory = " +
                                           quoted(relais::test::plugin_dir().string()) + "\n\n" + body);
  }

  std::unique_ptr<Process> start() {
    if (!fs::exists(config())) write_config();
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", config().string(), "--state-dir", state()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !p->running(); })) << log();
    EXPECT_TRUE(p->running()) << log();
    return p;
  }

  void stop(std::unique_ptr<Process>& daemon) {
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait(), 0) << log();
    daemon.reset();
  }

  relais::test::RunResult ctl(std::vector<std::string> args) {
    return relais::test::relaisctl(state(), std::move(args), "", 2000);
  }

  json::value ctl_json(std::vector<std::string> args) {
    return relais::test::relaisctl_json(state(), std::move(args), 2000);
  }

  // The ids of the stored posts of source "mail" with this external_id.
  std::vector<std::int64_t> posts_of(const std::string& external_id) {
    std::vector<std::int64_t> ids;
    const auto v = ctl_json({"posts", "--limit", "1000"});
    if (!v.is_object()) return ids;
    for (const auto& p : v.at("posts").as_array()) {
      if (p.at("source") == "mail" && p.at("external_id") == external_id.c_str())
        ids.push_back(p.at("id").as_int64());
    }
    return ids;
  }

  std::size_t post_count() {
    const auto v = ctl_json({"posts", "--limit", "1000"});
    return v.is_object() ? v.at("posts").as_array().size() : 0;
  }

  json::object show(std::int64_t id) {
    const auto v = ctl_json({"show", std::to_string(id)});
    return v.is_object() ? v.at("post").as_object() : json::object{};
  }

  relais::test::RunResult mail(std::vector<std::string> args, const std::string& input) {
    args.insert(args.begin(), RELAIS_MAIL_BIN);
    return relais::test::run(args, input);
  }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  TempDir dir;
};

TEST_F(MailDelivery, StoredOnceAndAcknowledgedWithZero) {
  auto daemon = start();
  const auto first = mail({"--endpoint", endpoint(), "--timeout", "10"}, fixture("alternative.eml"));
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("stored post "), std::string::npos) << first.output;
  const auto ids = posts_of("20200401081200.4242@mail.example.org");
  ASSERT_EQ(ids.size(), 1U);
  const auto post = show(ids[0]);
  EXPECT_EQ(post.at("channel"), "email");
  EXPECT_EQ(post.at("sender"), "mireille.perez@example.org");
  EXPECT_EQ(post.at("subject"), "Besoin d'aide pour les courses – quai Jules-Guesde");

  // Postfix delivering it again (a retry, a second list address): stored once.
  const auto again = mail({"--endpoint", endpoint(), "--timeout", "10"}, fixture("alternative.eml"));
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("already stored as post " + std::to_string(ids[0])), std::string::npos)
      << again.output;
  EXPECT_EQ(posts_of("20200401081200.4242@mail.example.org").size(), 1U);

  // Nothing of the message in relaisd's log, nor in what relais-mail says.
  for (const std::string& said : {log(), first.output, again.output}) {
    EXPECT_EQ(said.find("mireille"), std::string::npos) << said;
    EXPECT_EQ(said.find("Jules-Guesde"), std::string::npos) << said;
  }
}

TEST_F(MailDelivery, GarbageBouncesWith65AndStoresNothing) {
  auto daemon = start();
  const auto before = post_count();
  const auto result = mail({"--endpoint", endpoint()}, fixture("garbage.eml"));
  EXPECT_EQ(result.status, 65) << result.output;
  EXPECT_NE(result.output.find("not a mail message"), std::string::npos) << result.output;
  const auto too_large = mail({"--endpoint", endpoint(), "--max-message-bytes", "1024"},
                              fixture("alternative.eml") + std::string(2048, 'x'));
  EXPECT_EQ(too_large.status, 65) << too_large.output;
  EXPECT_EQ(post_count(), before);
}

TEST_F(MailDelivery, NoRelaisdMeansTryAgainLater) {
  const auto started = std::chrono::steady_clock::now();
  const auto result = mail({"--endpoint", "ipc://" + (dir / "nobody.sock").string(), "--timeout", "1"},
                           fixture("alternative.eml"));
  EXPECT_EQ(result.status, 75) << result.output;
  EXPECT_NE(result.output.find("try again later"), std::string::npos) << result.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST_F(MailDelivery, UsageErrorsAndDryRun) {
  EXPECT_EQ(mail({"--endpoint", "http://x"}, "").status, 64);
  EXPECT_EQ(mail({"--no-such-option"}, "").status, 64);
  const auto dry = mail({"--dry-run"}, fixture("latin1_qp.eml"));
  ASSERT_EQ(dry.status, 0) << dry.output;
  const auto post = json::parse(dry.output).as_object();
  EXPECT_EQ(post.at("external_id"), "latin1-qp@example.net");
  EXPECT_EQ(post.at("private").at("email"), "jean.martin@example.net");
}

void deliver_to_maildir(const fs::path& maildir, const std::string& name, const std::string& message) {
  // As a mail system does: written in tmp/, then renamed into new/.
  relais::test::write_file(maildir / "tmp" / name, message);
  fs::rename(maildir / "tmp" / name, maildir / "new" / name);
}

fs::path make_maildir(const fs::path& maildir) {
  for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(maildir / sub);
  return maildir;
}

std::vector<std::string> names_in(const fs::path& folder) {
  std::vector<std::string> names;
  if (!fs::is_directory(folder)) return names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(MailDelivery, MaildirModeMovesOnlyWhatWasAcknowledged) {
  const auto maildir = make_maildir(dir / "Maildir");
  deliver_to_maildir(maildir, "1585720320.1.host", fixture("alternative.eml"));
  deliver_to_maildir(maildir, "1585720321.2.host", fixture("cp1252_base64.eml"));
  deliver_to_maildir(maildir, "1585720322.3.host", fixture("garbage.eml"));

  // relaisd down: nothing moves but what can never be a post.
  const auto down = mail({"--endpoint", endpoint(), "--timeout", "1", "--maildir", maildir.string()}, "");
  EXPECT_EQ(down.status, 75) << down.output;
  EXPECT_EQ(names_in(maildir / "new"), (std::vector<std::string>{"1585720320.1.host", "1585720321.2.host"}));
  EXPECT_EQ(names_in(maildir / ".relais-refused" / "new"), (std::vector<std::string>{"1585720322.3.host"}));
  EXPECT_NE(down.output.find("1585720322.3.host: set aside"), std::string::npos) << down.output;

  auto daemon = start();
  const auto up = mail({"--endpoint", endpoint(), "--timeout", "10", "--maildir", maildir.string()}, "");
  EXPECT_EQ(up.status, 0) << up.output;
  EXPECT_TRUE(names_in(maildir / "new").empty());
  EXPECT_EQ(names_in(maildir / "cur"),
            (std::vector<std::string>{"1585720320.1.host:2,S", "1585720321.2.host:2,S"}));
  EXPECT_EQ(posts_of("20200401081200.4242@mail.example.org").size(), 1U);
  EXPECT_EQ(posts_of("cp1252-b64@example.com").size(), 1U);
}

TEST_F(MailDelivery, ThePluginWatchesAMaildirFromInsideRelaisd) {
  const auto maildir = make_maildir(dir / "Maildir");
  deliver_to_maildir(maildir, "1585720320.1.host", fixture("reply_signature.eml"));
  write_config("[[source]]\nplugin = \"source_mail\"\nmaildir = \"Maildir\"\npoll_interval_ms = 100\n");
  auto daemon = start();
  EXPECT_TRUE(wait_until([&] { return posts_of("reply-sig@example.org").size() == 1; })) << log();
  EXPECT_TRUE(wait_until([&] { return names_in(maildir / "cur").size() == 1; }));

  // Delivered while it runs: found at the next pass; a repeat stored once.
  deliver_to_maildir(maildir, "1585720400.2.host", fixture("html_only.eml"));
  deliver_to_maildir(maildir, "1585720401.3.host", fixture("reply_signature.eml"));
  deliver_to_maildir(maildir, "1585720402.4.host", fixture("garbage.eml"));
  EXPECT_TRUE(wait_until([&] { return names_in(maildir / "cur").size() == 3; })) << log();
  EXPECT_EQ(posts_of("html-only@example.org").size(), 1U);
  EXPECT_EQ(posts_of("reply-sig@example.org").size(), 1U);
  EXPECT_TRUE(wait_until([&] { return names_in(maildir / ".relais-refused" / "new").size() == 1; }));
  const auto text = log();
  EXPECT_NE(text.find("1585720402.4.host set aside"), std::string::npos) << text;
  EXPECT_EQ(text.find("jean.dupont"), std::string::npos) << text;
  stop(daemon);

  // A typo in the table is refused with its position.
  write_config("[[source]]\nplugin = \"source_mail\"\nmaildir = \"Maildir\"\npoll_intervall_ms = 100\n");
  const auto check = relais::test::run({relaisd(), "--check-config", config().string()});
  EXPECT_EQ(check.status, 1) << check.output;
  EXPECT_NE(check.output.find("poll_intervall_ms"), std::string::npos) << check.output;
}

// --- End to end: Postfix, swaks, relais-mail, relaisd --------------------

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  ::close(fd);
  return bound ? ntohs(address.sin_port) : 0;
}

// A Postfix of its own: config, queue and data under `root`, smtpd on
// 127.0.0.1:`port`, relais.test piped to `pipe_argv` as `nobody` (the
// unprivileged user a site would give the transport). Stopped when it goes
// out of scope, whatever happened.
class Postfix {
 public:
  Postfix(const fs::path& root, int port, const std::string& pipe_argv) : root_(root) {
    for (const char* sub : {"etc", "spool", "data"}) fs::create_directories(root / sub);
    const passwd* owner = ::getpwnam("postfix");  // NOLINT(concurrency-mt-unsafe): one thread
    if (owner != nullptr) (void)::chown((root / "data").c_str(), owner->pw_uid, owner->pw_gid);
    relais::test::write_file(
        root / "etc" / "main.cf",
        "compatibility_level = 3.6\n"
        "queue_directory = " +
            (root / "spool").string() + "\n" + "data_directory = " + (root / "data").string() + "\n" +
            "maillog_file = " + log_file().string() + "\n" + "maillog_file_prefixes = " + root.string() +
            "\n" +
            "mail_owner = postfix\nsetgid_group = postdrop\n"
            "myhostname = mx.relais.test\nmydomain = relais.test\nmyorigin = relais.test\n"
            "mydestination =\nrelay_domains = relais.test\n"
            "transport_maps = inline:{ relais.test=relais: }\n"
            // Bounces and anything else addressed outside go nowhere.
            "default_transport = discard:\n"
            "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n"
            "alias_maps =\nalias_database =\nlocal_recipient_maps =\nbiff = no\nsmtputf8_enable = no\n"
            "relais_destination_recipient_limit = 1\n");
    relais::test::write_file(root / "etc" / "master.cf",
                             "127.0.0.1:" + std::to_string(port) +
                                 " inet n - n - - smtpd\n"
                                 // postqueue -f checks that the mail system is up by pickup's socket.
                                 "pickup unix n - n 60 1 pickup\n"
                                 "cleanup unix n - n - 0 cleanup\n"
                                 "qmgr unix n - n 300 1 qmgr\n"
                                 "rewrite unix - - n - - trivial-rewrite\n"
                                 "bounce unix - - n - 0 bounce\n"
                                 "defer unix - - n - 0 bounce\n"
                                 "trace unix - - n - 0 bounce\n"
                                 "verify unix - - n - 1 verify\n"
                                 "flush unix n - n 1000? 0 flush\n"
                                 "proxymap unix - - n - - proxymap\n"
                                 "showq unix n - n - - showq\n"
                                 "error unix - - n - - error\n"
                                 "retry unix - - n - - error\n"
                                 "discard unix - - n - - discard\n"
                                 "anvil unix - - n - 1 anvil\n"
                                 "scache unix - - n - 1 scache\n"
                                 "postlog unix-dgram n - n - 1 postlogd\n"
                                 "relais unix - n n - - pipe\n"
                                 "  flags=Rq user=nobody argv=" +
                                 pipe_argv + "\n");
  }
  ~Postfix() { stop(); }
  Postfix(const Postfix&) = delete;
  Postfix& operator=(const Postfix&) = delete;

  // master(8) in the foreground (-d), a child of the test, stopped by the
  // destructor whatever the test did. `postfix check` first, as `postfix
  // start` does: it makes the queue's folders. Should the test process
  // itself die, a watchdog stops master: the parent-death signal support.cpp
  // sets does not survive master changing its credentials.
  bool start(int port) {
    const auto checked = relais::test::run({"/usr/sbin/postfix", "-c", config_dir(), "check"});
    relais::test::write_file(root_ / "master.out", checked.output);
    if (checked.status != 0) return false;
    auto daemon_directory =
        relais::test::run({"/usr/sbin/postconf", "-c", config_dir(), "-h", "daemon_directory"});
    while (!daemon_directory.output.empty() && daemon_directory.output.back() == '\n') {
      daemon_directory.output.pop_back();
    }
    master_ = std::make_unique<Process>(
        std::vector<std::string>{daemon_directory.output + "/master", "-d", "-c", config_dir()},
        root_ / "master.out");
    // The watchdog is a subshell of a shell that exits at once: a grandchild,
    // which the parent-death signal does not reach. It checks the command
    // line before it signals, in case the pid was given to another process.
    static constexpr const char* kWatchdog =
        "(while kill -0 \"$1\" && kill -0 \"$2\"; do sleep 1; done 2>/dev/null; "
        "grep -qa \"$3\" /proc/\"$2\"/cmdline 2>/dev/null && kill -TERM \"$2\") &";
    watchdog_ = std::make_unique<Process>(
        std::vector<std::string>{"/bin/sh", "-c", kWatchdog, "watchdog", std::to_string(::getpid()),
                                 std::to_string(master_->pid()), config_dir()},
        root_ / "watchdog.out");
    return wait_until([&] { return !master_->running() || accepts(port); }) && master_->running();
  }
  void stop() {
    if (!master_ || !master_->running()) return;
    master_->signal(SIGTERM);
    if (!wait_until([&] { return !master_->running(); }, std::chrono::seconds(10))) master_->signal(SIGKILL);
    master_->wait();
  }
  std::string output() const { return relais::test::read_file(root_ / "master.out"); }
  // `postqueue -f`: every deferred message is tried again now.
  relais::test::RunResult flush() {
    return relais::test::run({"/usr/sbin/postqueue", "-c", config_dir(), "-f"});
  }
  relais::test::RunResult queue() {
    return relais::test::run({"/usr/sbin/postqueue", "-c", config_dir(), "-p"});
  }
  std::string log() const { return relais::test::read_file(log_file()); }

 private:
  std::string config_dir() const { return (root_ / "etc").string(); }
  fs::path log_file() const { return root_ / "maillog"; }

  static bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
  }

  fs::path root_;
  std::unique_ptr<Process> master_;
  std::unique_ptr<Process> watchdog_;
};

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class PostfixEndToEnd : public MailDelivery {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "Postfix's master runs as root only; run this test as root (as CI does)";
    for (const char* tool : {"/usr/sbin/postfix", "/usr/sbin/postqueue", "/usr/bin/swaks"}) {
      if (::access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is not installed (scripts/install-deps)";
    }
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the test has one thread
    if (::getpwnam("postfix") == nullptr || ::getpwnam("nobody") == nullptr) {
      GTEST_SKIP() << "the users postfix and nobody are needed";
    }
    // The pipe runs relais-mail as nobody: it must reach the ingest socket
    // through the test's directory, as a site's relais-mail user reaches
    // relaisd's state directory through its group.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }

  // relaisd, its ingest socket writable by nobody.
  std::unique_ptr<Process> start_reachable() {
    auto daemon = start();
    fs::permissions(state(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::permissions(fs::path(state()) / "ingest.sock", fs::perms::all);
    return daemon;
  }

  relais::test::RunResult swaks(int port, const std::string& message_id, const std::string& body) {
    return relais::test::run({"/usr/bin/swaks", "--server", "127.0.0.1:" + std::to_string(port), "--to",
                              "besoins@relais.test", "--from", "mireille@example.org", "--header",
                              "Message-Id: <" + message_id + ">", "--header", "Subject: Courses", "--body",
                              body, "--silent", "2"});
  }
};

TEST_F(PostfixEndToEnd, DeliveredOnceWhetherRelaisdIsUpOrDown) {
  const int port = free_port();
  ASSERT_NE(port, 0) << "no free port on loopback";
  Postfix postfix(dir / "postfix", port,
                  std::string(RELAIS_MAIL_BIN) + " --endpoint " + endpoint() + " --timeout 3");
  auto daemon = start_reachable();
  ASSERT_TRUE(postfix.start(port)) << postfix.output() << postfix.log();

  // relaisd up: stored at once.
  auto sent = swaks(port, "e2e-1@example.org", "Bonjour, qui pourrait faire mes courses samedi ?");
  ASSERT_EQ(sent.status, 0) << sent.output << postfix.log();
  EXPECT_TRUE(wait_until([&] { return posts_of("e2e-1@example.org").size() == 1; }))
      << postfix.log() << log();
  EXPECT_TRUE(wait_until([&] { return count_of(postfix.log(), "relay=relais") >= 1; }));
  EXPECT_NE(postfix.log().find("status=sent (delivered via relais service (stored post "), std::string::npos)
      << postfix.log();
  const auto ids = posts_of("e2e-1@example.org");
  ASSERT_EQ(ids.size(), 1U);
  EXPECT_EQ(show(ids[0]).at("text"), "Bonjour, qui pourrait faire mes courses samedi ?");

  // The same message sent again: delivered, stored once.
  sent = swaks(port, "e2e-1@example.org", "Bonjour, qui pourrait faire mes courses samedi ?");
  ASSERT_EQ(sent.status, 0) << sent.output;
  EXPECT_TRUE(wait_until([&] { return count_of(postfix.log(), "status=sent") >= 2; })) << postfix.log();
  EXPECT_EQ(posts_of("e2e-1@example.org").size(), 1U);

  // relaisd down: relais-mail exits 75, Postfix defers and keeps the message.
  stop(daemon);
  sent = swaks(port, "e2e-2@example.org", "J'ai une voiture le samedi, je peux conduire quelqu'un.");
  ASSERT_EQ(sent.status, 0) << sent.output;
  EXPECT_TRUE(
      wait_until([&] { return count_of(postfix.log(), "status=deferred") >= 1; }, std::chrono::seconds(30)))
      << postfix.log();
  EXPECT_NE(postfix.log().find("try again later"), std::string::npos) << postfix.log();
  EXPECT_EQ(postfix.queue().output.find("Mail queue is empty"), std::string::npos);

  // relaisd back, the queue flushed: the message arrives, once.
  daemon = start_reachable();
  EXPECT_TRUE(posts_of("e2e-2@example.org").empty());
  const auto flushed = postfix.flush();
  EXPECT_EQ(flushed.status, 0) << flushed.output;
  EXPECT_TRUE(wait_until([&] { return posts_of("e2e-2@example.org").size() == 1; }, std::chrono::seconds(30)))
      << postfix.log() << log();
  EXPECT_TRUE(wait_until([&] {
    return postfix.queue().output.find("Mail queue is empty") != std::string::npos;
  })) << postfix.queue().output;
  EXPECT_EQ(count_of(postfix.log(), "status=sent"), 3U) << postfix.log();
  EXPECT_EQ(count_of(postfix.log(), "status=bounced"), 0U) << postfix.log();
  EXPECT_EQ(posts_of("e2e-2@example.org").size(), 1U);
  EXPECT_EQ(posts_of("e2e-1@example.org").size(), 1U);
}

}  // namespace
