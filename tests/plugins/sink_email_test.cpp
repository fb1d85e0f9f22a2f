// sink_email, loaded from the build's plugin directory as relaisd loads it,
// sending to a real SMTP server on loopback (tests/support/smtp_receiver.py,
// aiosmtpd) that decodes every message with Python's email package: what a
// destination reads, in French and in English, how the server's replies map
// to delivered, retry or failed, its templates, addresses and keys.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/plugin_set.hpp"
#include "support/receiver.hpp"
#include "support/sample_delivery.hpp"

namespace {

namespace json = boost::json;
using relais::Delivery;
using relais::DeliveryPurpose;
using relais::DeliveryStatus;
using relais::test::ScriptReceiver;
using relais::test::TempDir;

// The keys of a sink_email table sending to `receiver`.
std::string keys(const ScriptReceiver& receiver, const std::string& more = "") {
  return "server = \"smtp://127.0.0.1:" + std::to_string(receiver.port()) +
         "\"\nfrom = \"relais@relais.example\"\nfrom_name = \"Relais Vitry\"\n" + more;
}

std::shared_ptr<const relais::daemon::PluginSet> load(const std::string& keys) {
  auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_email\"\n" + keys);
  if (!set) ADD_FAILURE() << set.error().message;
  return set ? *set : nullptr;
}

Delivery sample(const std::string& lang = "fr") {
  Delivery d = relais::test::sample_delivery();
  d.address = "epicerie_solidaire_vitry@associations.example";
  d.lang = lang;
  d.post.lang.clear();
  d.post.text = "Bonjour, nous n'avons plus rien à manger depuis deux jours.\nMerci d'avance — Mme D.";
  return d;
}

std::string str(const json::object& object, const char* key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}
std::string header(const json::object& message, const char* name) {
  return str(message.at("headers").as_object(), name);
}
bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(sink_email, LoadsAsASinkPlugin) {
  const auto set = load("server = \"smtp://127.0.0.1:25\"\nfrom = \"relais@relais.example\"\n");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->sinks.size(), 1u);
  EXPECT_EQ(set->sinks[0].instance, "sink:email:0");
  EXPECT_EQ(set->sinks[0].plugin, "sink_email");
  EXPECT_EQ(set->sinks[0].version, "1.0.0");
}

TEST(sink_email, SendsTheNeedInFrench) {
  ScriptReceiver receiver("smtp_receiver.py");
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  const Delivery delivery = sample("fr");
  const auto result = set->sinks[0].object->deliver(delivery);
  ASSERT_EQ(result.status, DeliveryStatus::delivered) << result.reason;

  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  EXPECT_EQ(str(m, "mail_from"), "relais@relais.example");
  EXPECT_EQ(m.at("rcpt_tos").as_array(), (json::array{delivery.address}));
  EXPECT_EQ(header(m, "To"), delivery.address);
  EXPECT_EQ(header(m, "From"), "Relais Vitry <relais@relais.example>");
  EXPECT_EQ(str(m, "subject"), "[relais] Demande d'aide n°1042 : food_aid, groceries");
  EXPECT_EQ(header(m, "Message-ID"), "<1042-epicerie_solidaire_vitry-0@relais.example>");
  EXPECT_EQ(header(m, "X-Relais-Delivery"), delivery.id);
  EXPECT_EQ(header(m, "MIME-Version"), "1.0");
  EXPECT_EQ(header(m, "Auto-Submitted"), "auto-generated");
  EXPECT_FALSE(header(m, "Date").empty());
  EXPECT_EQ(str(m, "content_type"), "text/plain");
  EXPECT_EQ(str(m, "charset"), "utf-8");
  EXPECT_EQ(str(m, "transfer_encoding"), "quoted-printable");
  EXPECT_TRUE(m.at("defects").as_array().empty()) << json::serialize(m.at("defects"));
  EXPECT_LE(m.at("max_line_length").as_int64(), 78);

  const std::string body = str(m, "body");
  for (const std::string& part : {
           std::string("Bonjour Épicerie solidaire du Square (Vitry),"),
           std::string("Une demande d'aide vous est adressée."),
           delivery.post.text,
           std::string("Objet : Colis alimentaire"),
           std::string("Catégories : food_aid, groceries"),
           std::string("Urgence : haute"),
           std::string("Secteur : vitry_centre"),
           std::string("Pour joindre la personne :\n  Nom : Mme Durand\n  Téléphone : 01 99 00 12 34\n"),
           std::string("Pourquoi vous : categories food_aid in vitry_centre"),
           "Je m'en occupe : " + delivery.links.at("claim"),
           "Nous ne pouvons pas : " + delivery.links.at("decline"),
           "C'est fait : " + delivery.links.at("resolve"),
           std::string("\n-- \nrelais · demande n°1042 · envoi 1042-epicerie_solidaire_vitry-0\n"),
       }) {
    EXPECT_TRUE(contains(body, part)) << "missing: " << part << "\nin:\n" << body;
  }
  EXPECT_FALSE(contains(body, "{{")) << body;
  // The raw message is 7-bit: the UTF-8 text travels quoted-printable.
  const std::string raw = str(m, "raw");
  EXPECT_TRUE(std::all_of(raw.begin(), raw.end(),
                          [](char c) { return (static_cast<unsigned char>(c) & 0x80U) == 0; }));
  EXPECT_TRUE(contains(raw, "=C3=A0 manger")) << raw;
  EXPECT_TRUE(contains(raw, "Subject: =?UTF-8?B?")) << raw;
}

TEST(sink_email, SendsTheNeedInEnglish) {
  ScriptReceiver receiver("smtp_receiver.py");
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  const Delivery delivery = sample("en");
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(str(messages[0], "subject"), "[relais] Request for help #1042: food_aid, groceries");
  const std::string body = str(messages[0], "body");
  for (const std::string& part : {
           std::string("Hello Épicerie solidaire du Square (Vitry),"),
           std::string("A request for help has been routed to you."),
           delivery.post.text,
           std::string("Urgency: high"),
           std::string("Area: vitry_centre"),
           std::string("To reach the person:\n  Name: Mme Durand\n  Phone: 01 99 00 12 34\n"),
           std::string("Why you: categories food_aid in vitry_centre"),
           "I'll take it: " + delivery.links.at("claim"),
           "We can't: " + delivery.links.at("decline"),
           "It's done: " + delivery.links.at("resolve"),
       }) {
    EXPECT_TRUE(contains(body, part)) << "missing: " << part << "\nin:\n" << body;
  }
}

// Every purpose has its own wording in both languages, and every built-in
// template renders without a trace of its syntax.
TEST(sink_email, EachPurposeHasItsWording) {
  ScriptReceiver receiver("smtp_receiver.py");
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  std::set<std::string> subjects;
  for (const auto purpose : {DeliveryPurpose::need, DeliveryPurpose::urgent_copy, DeliveryPurpose::escalation,
                             DeliveryPurpose::reroute, DeliveryPurpose::offer, DeliveryPurpose::unrouted}) {
    for (const char* lang : {"fr", "en"}) {
      Delivery delivery = sample(lang);
      delivery.purpose = purpose;
      delivery.related_post = purpose == DeliveryPurpose::offer ? 977 : 0;
      ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
    }
  }
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 12u);
  for (const auto& m : messages) {
    subjects.insert(str(m, "subject"));
    EXPECT_FALSE(contains(str(m, "body"), "{{")) << str(m, "body");
    EXPECT_FALSE(contains(str(m, "subject"), "{{")) << str(m, "subject");
    EXPECT_TRUE(m.at("defects").as_array().empty());
  }
  EXPECT_EQ(subjects.size(), 12u);
  EXPECT_TRUE(contains(str(messages[8], "body"), "qui répond à votre demande n°977"))
      << str(messages[8], "body");
  EXPECT_TRUE(contains(str(messages[9], "body"), "answering your request #977")) << str(messages[9], "body");
}

// A destination's language without templates gets the `lang` key's.
TEST(sink_email, AnotherLanguageGetsTheDefaultOne) {
  ScriptReceiver receiver("smtp_receiver.py");
  for (const auto& [more, expected] : {std::pair<std::string, std::string>{"", "[relais] Demande d'aide"},
                                       {"lang = \"en\"\n", "[relais] Request for help"}}) {
    const auto set = load(keys(receiver, more));
    ASSERT_TRUE(set);
    ASSERT_EQ(set->sinks[0].object->deliver(sample("de")).status, DeliveryStatus::delivered);
    const auto messages = receiver.received();
    ASSERT_FALSE(messages.empty());
    EXPECT_EQ(str(messages.back(), "subject").substr(0, expected.size()), expected);
  }
}

// A public view: no contact, no links, and the message says nothing of them.
TEST(sink_email, APublicViewHasNoContact) {
  ScriptReceiver receiver("smtp_receiver.py");
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  Delivery delivery = sample("fr");
  delivery.post.private_data.clear();
  delivery.links.clear();
  delivery.triage.area.clear();
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 1u);
  const std::string body = str(messages[0], "body");
  EXPECT_TRUE(contains(body, delivery.post.text));
  for (const char* absent : {"Pour joindre", "Téléphone", "Je m'en occupe", "Nous ne pouvons pas",
                             "C'est fait", "Secteur", "https://"}) {
    EXPECT_FALSE(contains(body, absent)) << absent << "\n" << body;
  }
}

// Long lines, trailing blanks, '=', a leading dot or "From ", tabs, CR LF
// and characters outside the BMP come back as they were written.
TEST(sink_email, QuotedPrintableDecodesBackToTheText) {
  ScriptReceiver receiver("smtp_receiver.py");
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  Delivery delivery = sample("fr");
  std::string long_line;
  for (int i = 0; i < 40; ++i) long_line += "déjà=vu ";
  delivery.post.text =
      long_line + "\r\n.\r\n.point\nFrom here on  \n\ttab\there \t\nemoji 🙂🙂🙂 end=\n= \n";
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 1u);
  const auto& m = messages[0];
  std::string expected = delivery.post.text;
  for (std::size_t at = expected.find("\r\n"); at != std::string::npos; at = expected.find("\r\n", at)) {
    expected.erase(at, 1);
  }
  EXPECT_TRUE(contains(str(m, "body"), "\n\n" + expected + "\n")) << str(m, "body");
  EXPECT_LE(m.at("max_line_length").as_int64(), 78);
  EXPECT_TRUE(m.at("defects").as_array().empty()) << json::serialize(m.at("defects"));
}

// A reply 4xx is retried; the next attempt is the same message to the
// receiving side: the same Message-ID.
TEST(sink_email, TemporaryRefusalIsRetriedWithTheSameMessageId) {
  ScriptReceiver receiver("smtp_receiver.py", {"--fail-first", "1", "--fail-code", "451"});
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  Delivery delivery = sample("fr");
  const auto first = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(first.status, DeliveryStatus::retry);
  EXPECT_EQ(first.reason, "SMTP 451");
  delivery.attempt = 2;
  const auto second = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(second.status, DeliveryStatus::delivered) << second.reason;
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("code").as_int64(), 451);
  EXPECT_EQ(messages[1].at("code").as_int64(), 250);
  EXPECT_EQ(header(messages[0], "Message-ID"), "<1042-epicerie_solidaire_vitry-0@relais.example>");
  EXPECT_EQ(header(messages[1], "Message-ID"), header(messages[0], "Message-ID"));
  EXPECT_EQ(header(messages[1], "X-Relais-Delivery"), delivery.id);
}

TEST(sink_email, PermanentRefusalFails) {
  ScriptReceiver receiver("smtp_receiver.py", {"--fail-first", "1", "--fail-code", "550"});
  const auto set = load(keys(receiver));
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample("fr"));
  EXPECT_EQ(result.status, DeliveryStatus::failed);
  EXPECT_EQ(result.reason, "SMTP 550");
}

// A port bound but not listening: the connection is refused, at once.
TEST(sink_email, NothingListeningIsRetried) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const auto set = load("server = \"smtp://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) +
                        "\"\nfrom = \"relais@relais.example\"\n");
  ASSERT_TRUE(set);
  const auto result = set->sinks[0].object->deliver(sample("fr"));
  ::close(fd);
  EXPECT_EQ(result.status, DeliveryStatus::retry);
  EXPECT_FALSE(result.reason.empty());
}

// Line breaks in an address or in what a subject is made of never make a
// header of their own.
TEST(sink_email, HeadersCannotBeInjected) {
  ScriptReceiver receiver("smtp_receiver.py");
  TempDir templates;
  relais::test::write_file(templates / "need.fr.txt", "Subject: {{subject}} {{area}}\n\n{{text}}\n");
  const auto set = load(keys(receiver, "templates = \"" + templates.path().string() + "\"\n"));
  ASSERT_TRUE(set);
  Delivery delivery = sample("fr");
  delivery.address = "epicerie@associations.example\r\nBcc: someone@elsewhere.example";
  const auto refused = set->sinks[0].object->deliver(delivery);
  EXPECT_EQ(refused.status, DeliveryStatus::failed);
  EXPECT_TRUE(receiver.received().empty());

  delivery = sample("fr");
  delivery.post.subject = "Courses\r\nBcc: someone@elsewhere.example\r\n";
  delivery.triage.area = "centre\nX-Injected: yes";
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].at("rcpt_tos").as_array(), (json::array{sample().address}));
  EXPECT_EQ(header(messages[0], "Bcc"), "");
  EXPECT_EQ(header(messages[0], "X-Injected"), "");
  EXPECT_EQ(str(messages[0], "subject"), "Courses Bcc: someone@elsewhere.example centre X-Injected: yes");
}

// A directory of templates overrides a built-in one, adds a language, and
// leaves the others alone.
TEST(sink_email, TemplatesFromADirectory) {
  ScriptReceiver receiver("smtp_receiver.py");
  TempDir templates;
  relais::test::write_file(templates / "need.en.txt",
                           "Subject: Need {{post_id}}{{#area}} in {{area}}{{/area}}\n"
                           "\n"
                           "Hi {{destination}},\n"
                           "{{^contact}}\n"
                           "No contact given.\n"
                           "{{/contact}}\n"
                           "{{#contact}}\n"
                           "Contact:\n"
                           "{{contact}}\n"
                           "{{/contact}}\n"
                           "{{text}}\n");
  relais::test::write_file(templates / "need.es.txt", "Subject: Necesidad {{post_id}}\n\n{{text}}\n");
  relais::test::write_file(templates / "README.md", "not a template: ignored\n");
  const auto set = load(keys(receiver, "templates = \"" + templates.path().string() + "\"\n"));
  ASSERT_TRUE(set);
  Delivery delivery = sample("en");
  delivery.post.private_data.clear();
  ASSERT_EQ(set->sinks[0].object->deliver(delivery).status, DeliveryStatus::delivered);
  ASSERT_EQ(set->sinks[0].object->deliver(sample("es")).status, DeliveryStatus::delivered);
  Delivery offer = sample("es");
  offer.purpose = DeliveryPurpose::offer;
  ASSERT_EQ(set->sinks[0].object->deliver(offer).status, DeliveryStatus::delivered);
  const auto messages = receiver.received();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(str(messages[0], "subject"), "Need 1042 in vitry_centre");
  EXPECT_EQ(str(messages[0], "body"),
            "Hi epicerie_solidaire_vitry,\nNo contact given.\n" + delivery.post.text + "\n");
  EXPECT_EQ(str(messages[1], "subject"), "Necesidad 1042");
  // No offer template in Spanish: the default language's.
  EXPECT_EQ(str(messages[2], "subject").substr(0, 27), "[relais] Proposition d'aide");
}

struct BadTable {
  std::string keys;
  std::string expected;  // part of the error message
};

TEST(sink_email, BadTemplatesAreRefused) {
  TempDir dir;
  const std::string keys =
      "server = \"smtp://127.0.0.1:25\"\nfrom = \"relais@relais.example\"\ntemplates = \"" +
      dir.path().string() + "\"\n";
  for (const auto& bad : std::vector<BadTable>{
           {"Subject: x\n\nBonjour {{nom}}\n", "need.fr.txt:3: unknown placeholder \"nom\""},
           {"Subject: x\n\n{{#contact}}\n{{contact}}\n", "need.fr.txt:3: \"{{#contact}}\" is never closed"},
           {"Subject: x\n\n{{#contact}}\n{{/area}}\n",
            "need.fr.txt:4: \"{{/area}}\" closes \"{{#contact}}\""},
           {"Subject: x\n\n{{text\n", "need.fr.txt:3: \"{{\" is never closed"},
           {"Sujet : x\n\n{{text}}\n", "need.fr.txt:1: expected a first line \"Subject: ...\""},
           {"Subject: x\n{{text}}\n", "need.fr.txt:2: expected an empty line after the subject"},
       }) {
    SCOPED_TRACE(bad.keys);
    relais::test::write_file(dir / "need.fr.txt", bad.keys);
    auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_email\"\n" + keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find("sink[0].templates"), std::string::npos) << set.error().message;
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
  std::filesystem::remove(dir / "need.fr.txt");
  relais::test::write_file(dir / "besoin.fr.txt", "Subject: x\n\n{{text}}\n");
  auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_email\"\n" + keys);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find("expected a name <purpose>.<lang>.txt"), std::string::npos)
      << set.error().message;
}

TEST(sink_email, AddressesAreEmailAddresses) {
  const auto set = load("server = \"smtp://127.0.0.1:25\"\nfrom = \"relais@relais.example\"\n");
  ASSERT_TRUE(set);
  const auto& sink = *set->sinks[0].object;
  for (const char* good : {"epicerie_solidaire_vitry@associations.example", "a.b+tag@x.fr", "root@localhost",
                           "O'Brien@mail.example.org"}) {
    EXPECT_TRUE(sink.check_address(good)) << good;
  }
  for (const char* bad :
       {"", "no-at-sign", "a@b@c.example", "a b@c.example", "a@c.example\r\nBcc: x@y.example",
        "a@c.example\n", "<a@b.example>", "A <a@b.example>", "a@", "@b.example", "a@-b.example",
        "a@b..example", "a..b@c.example", ".a@c.example", "é@x.fr", "a@b.example ", "a,b@c.example",
        "a@[127.0.0.1]"}) {
    const auto checked = sink.check_address(bad);
    EXPECT_FALSE(checked) << bad;
    if (!checked) {
      EXPECT_NE(checked.error().message.find("e-mail address"), std::string::npos);
    }
  }
}

TEST(sink_email, BadTablesAreRefusedWithTheirPosition) {
  TempDir dir;
  relais::test::write_file(dir / "empty-password", "\n");
  const std::string from = "from = \"relais@relais.example\"\n";
  const std::string server = "server = \"smtp://127.0.0.1:25\"\n";
  for (const auto& bad : std::vector<BadTable>{
           {from, "sink[0].server: expected an smtp:// or smtps:// URL with a host"},
           {"server = \"http://127.0.0.1:25\"\n" + from,
            "relais.toml:3:10: sink[0].server: expected an smtp://"},
           {"server = \"smtp://\"\n" + from, "relais.toml:3:10: sink[0].server"},
           {"server = 25\n" + from, "relais.toml:3:10: sink[0].server: expected a string"},
           {server, "sink[0].from: expected the sender's e-mail address"},
           {server + "from = \"relais\"\n",
            "relais.toml:4:8: sink[0].from: expected the sender's e-mail address"},
           {server + from + "from_name = \"R\\nBcc: x@y.example\"\n", "relais.toml:5:13: sink[0].from_name"},
           {server + from + "starttls = \"maybe\"\n",
            "relais.toml:5:12: sink[0].starttls: expected \"required\""},
           {"server = \"smtps://127.0.0.1:465\"\n" + from + "starttls = \"required\"\n",
            "relais.toml:5:12: sink[0].starttls: smtps:// is TLS from the first byte"},
           {server + from + "username = \"relais\"\n",
            "relais.toml:5:12: sink[0].username: expected both username and password_file"},
           {server + from + "username = \"relais\"\npassword_file = \"" + (dir / "empty-password").string() +
                "\"\nstarttls = \"opportunistic\"\n",
            "sink[0].username: a password must not cross in clear"},
           {server + from + "starttls = \"required\"\nusername = \"relais\"\npassword_file = \"" +
                (dir / "empty-password").string() + "\"\n",
            "relais.toml:7:17: sink[0].password_file: " + (dir / "empty-password").string() + " is empty"},
           {server + from + "starttls = \"required\"\nusername = \"relais\"\npassword_file = \"" +
                (dir / "none").string() + "\"\n",
            "relais.toml:7:17: sink[0].password_file: cannot read"},
           {server + from + "message_id_domain = \"not a domain\"\n",
            "relais.toml:5:21: sink[0].message_id_domain"},
           {server + from + "lang = \"de\"\n",
            "relais.toml:5:8: sink[0].lang: expected a language with a template"},
           {server + from + "templates = \"" + (dir / "none").string() + "\"\n",
            "relais.toml:5:13: sink[0].templates: " + (dir / "none").string() + ": not a directory"},
           {server + from + "timeout_ms = 0\n",
            "relais.toml:5:14: sink[0].timeout_ms: expected milliseconds"},
           {server + from + "connect_timeout_ms = -1\n", "relais.toml:5:22: sink[0].connect_timeout_ms"},
           {server + from + "ca_file = \"no-such-ca.pem\"\n", "relais.toml:5:11: sink[0].ca_file"},
           {server + from + "form = \"x@y.example\"\n", "relais.toml:5:1: sink[0].form: unknown key"},
       }) {
    SCOPED_TRACE(bad.keys);
    auto set = relais::test::plugin_set("[[sink]]\nplugin = \"sink_email\"\n" + bad.keys);
    ASSERT_FALSE(set);
    EXPECT_NE(set.error().message.find(bad.expected), std::string::npos) << set.error().message;
  }
}

}  // namespace
