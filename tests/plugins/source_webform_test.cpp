// source_webform in a real relaisd: the form filled in a real browser
// (tests/browser/webform.mjs, Debian's chromium driven by playwright-core)
// in French and English, then its posts found in the store with the
// contact apart from the text; and over plain HTTP, what the form refuses
// — a missing or forged CSRF token (403), a filled honeypot (a fake
// success), a body too large (413), too many posts from one address (429),
// a missing consent (the form again, the error next to its field) — with
// nothing stored, the same submission sent twice stored once, and a post
// relaisd did not acknowledge in time kept for the visitor to send again.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <sodium.h>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <ctime>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support/relaisctl.hpp"
#include "support/support.hpp"

namespace json = boost::json;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using relais::test::Process;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string relaisctl() { return (relais::test::bin_dir() / "daemon" / "relaisctl").string(); }
std::string quoted(const std::string& s) { return json::serialize(json::string(s)); }

struct Reply {
  unsigned status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string form_body(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  return out;
}

// What a visitor's browser holds once it has opened the form: its cookie
// and the form's token.
struct Visit {
  std::string cookie;  // "relais_form=..."
  std::string csrf;
};

// A valid request for help, as the form sends it.
std::map<std::string, std::string> valid_fields(const Visit& visit) {
  return {{"csrf", visit.csrf},
          {"lang", "fr"},
          {"kind", "request"},
          {"category", "medication"},
          {"area", "vitry_centre"},
          {"postcode", ""},
          {"when", "cet après-midi"},
          {"urgency", "high"},
          {"description", "Bonjour, ma mère a besoin qu'on aille chercher ses médicaments à la pharmacie."},
          {"name", "Paulette Essai"},
          {"phone", "06 98 76 54 32"},
          {"email", "paulette@example.org"},
          {"address", "3 rue Camille-Groult"},
          {"consent", "yes"},
          {"website", ""}};
}

class Webform : public ::testing::Test {
 protected:
  std::filesystem::path config() const { return dir / "relais.toml"; }
  std::string state() const { return (dir / "state").string(); }

  // The form's table gets `extra` keys.
  void write_config(const std::string& extra) {
    relais::test::write_file(
        config(),
        "[log]\nlevel = \"debug\"\n\n[plugins]\ndirectory = " + quoted(relais::test::plugin_dir().string()) +
            "\n\n[[source]]\nplugin = \"source_webform\"\nlisten = \"127.0.0.1:0\"\nnetwork = " +
            quoted((relais::test::source_dir() / "config" / "demo-network.toml").string()) +
            "\naddress_file = \"webform.url\"\nfollow_up = \"01 99 00 00 00\"\n" + extra + "\n");
  }

  // relaisd, once the form has said where it listens.
  std::unique_ptr<Process> start() {
    std::error_code ec;
    fs::remove(dir / "state" / "webform.url", ec);
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", config().string(), "--state-dir", state()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return fs::exists(dir / "state" / "webform.url") || !p->running(); }))
        << log();
    EXPECT_TRUE(p->running()) << log();
    const std::string url = relais::test::read_file(dir / "state" / "webform.url");
    const std::smatch m = [&] {
      std::smatch match;
      static const std::regex pattern(R"(^http://([0-9.]+):([0-9]+)/\s*$)");
      std::regex_search(url, match, pattern);
      return match;
    }();
    EXPECT_EQ(m.size(), 3u) << url;
    if (m.size() == 3) {
      host = m[1];
      port = m[2];
    }
    return p;
  }

  Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::string_body> req{method == "POST" ? bhttp::verb::post : bhttp::verb::get, target,
                                           11};
    req.set(bhttp::field::host, host + ":" + port);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (method == "POST") {
      if (req[bhttp::field::content_type].empty())
        req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
      req.body() = body;
      req.prepare_payload();
    }
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{16} * 1024 * 1024);
    beast::error_code ec;
    bhttp::read(stream, buffer, parser, ec);
    Reply reply;
    if (ec) {
      ADD_FAILURE() << "HTTP " << method << " " << target << ": " << ec.message();
      return reply;
    }
    const auto& res = parser.get();
    reply.status = res.result_int();
    for (const auto& field : res) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](char c) { return std::tolower(c); });
      reply.headers.emplace(name, std::string(field.value()));
    }
    reply.body = res.body();
    return reply;
  }

  Visit open_form(const std::string& query = "kind=request&lang=fr") {
    const Reply page = request("GET", "/form?" + query);
    EXPECT_EQ(page.status, 200u) << page.body;
    Visit visit;
    const std::string set_cookie = page.header("set-cookie");
    visit.cookie = set_cookie.substr(0, set_cookie.find(';'));
    EXPECT_EQ(visit.cookie.rfind("relais_form=", 0), 0u) << set_cookie;
    std::smatch m;
    static const std::regex csrf(R"re(name="csrf" value="([^"]+)")re");
    if (std::regex_search(page.body, m, csrf)) visit.csrf = m[1];
    EXPECT_FALSE(visit.csrf.empty()) << page.body;
    return visit;
  }

  Reply post_form(const Visit& visit, const std::map<std::string, std::string>& fields,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!visit.cookie.empty()) headers.emplace_back("Cookie", visit.cookie);
    return request("POST", "/form", form_body(fields), headers);
  }

  relais::test::RunResult ctl(std::vector<std::string> args) {
    return relais::test::relaisctl(state(), std::move(args), "", 5000);
  }
  json::value ctl_json(std::vector<std::string> args) {
    return relais::test::relaisctl_json(state(), std::move(args), 5000);
  }
  std::vector<json::object> posts() {
    std::vector<json::object> out;
    const auto v = ctl_json({"posts"});
    if (!v.is_object()) return out;
    for (const auto& p : v.at("posts").as_array()) out.push_back(p.as_object());
    return out;
  }
  json::object show(std::int64_t id) {
    const auto v = ctl_json({"show", std::to_string(id)});
    return v.is_object() ? v.at("post").as_object() : json::object();
  }

  // The post id in a reference "R-<id>-<check>".
  static std::int64_t id_of(const std::string& reference) {
    std::smatch m;
    static const std::regex pattern(R"(R-([0-9]+)-[0-9A-Z]{2})");
    return std::regex_search(reference, m, pattern) ? std::stoll(m[1]) : 0;
  }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  // No contact nor text reaches relaisd's log, at any level.
  void expect_private_log() const {
    const std::string text = log();
    for (const char* secret :
         {"06 98 76 54 32", "paulette@example.org", "Camille-Groult", "Paulette", "pharmacie",
          "06 12 34 56 78", "Mireille", "sam@example.org", "quai Jules-Guesde"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in the log";
    }
  }

  TempDir dir;
  std::string host = "127.0.0.1";
  std::string port;
};

// run() does not search PATH.
std::string program(const std::string& name) {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): nothing sets it
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path candidate = fs::path(rest.substr(0, colon)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return name;
}

std::string browser_dir() { return (relais::test::source_dir() / "tests" / "browser").string(); }

// playwright-core from the lock file, once: `npm ci` needs the registry
// (or npm's cache) the first time only.
void install_playwright() {
  if (fs::exists(fs::path(browser_dir()) / "node_modules" / "playwright-core" / "package.json")) return;
  const auto r = relais::test::run({program("npm"), "ci", "--prefix", browser_dir(), "--prefer-offline",
                                    "--no-audit", "--no-fund", "--loglevel=error"});
  ASSERT_EQ(r.status, 0) << "npm ci in tests/browser: " << r.output;
}

TEST_F(Webform, ABrowserSendsTheFormInFrenchAndEnglishAndTheContactIsStoredApart) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing sets it
  ASSERT_TRUE(fs::exists("/usr/bin/chromium") || std::getenv("CHROMIUM") != nullptr) << "Debian's chromium";
  install_playwright();
  write_config("");
  auto daemon = start();
  const std::string base = "http://" + host + ":" + port + "/";
  const auto r = relais::test::run({program("node"), browser_dir() + "/webform.mjs", base});
  ASSERT_EQ(r.status, 0) << r.output << log();

  std::map<std::string, std::int64_t> ids;  // by language
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    static const std::regex pattern(R"(^REF (fr|en) (request|offer) (R-[0-9]+-[0-9A-Z]{2})$)");
    if (std::regex_match(line, m, pattern)) ids[m[1]] = id_of(m[3]);
  }
  ASSERT_EQ(ids.size(), 2u) << r.output;

  const auto fr = show(ids["fr"]);
  EXPECT_EQ(fr.at("source"), "webform");
  EXPECT_EQ(fr.at("lang"), "fr");
  EXPECT_EQ(fr.at("text"),
            "Bonjour, j'ai 84 ans et je ne peux plus sortir : qui pourrait faire mes courses ?");
  EXPECT_EQ(fr.at("fields"),
            json::parse(R"({"kind":"request","category":"groceries","area":"vitry_port_a_langlais",
                                            "urgency":"high","when":"demain matin"})"));
  EXPECT_EQ(fr.at("private"), json::parse(R"({"name":"Mireille Test","phone":"06 12 34 56 78",
                                             "address":"12 quai Jules-Guesde, 3e étage"})"));
  EXPECT_EQ(std::string(fr.at("external_id").as_string()).rfind("form-", 0), 0u);

  const auto en = show(ids["en"]);
  EXPECT_EQ(en.at("source"), "webform");
  EXPECT_EQ(en.at("lang"), "en");
  EXPECT_EQ(en.at("text"), "I have a car on Saturdays and can drive people to their appointments.");
  EXPECT_EQ(en.at("fields"),
            json::parse(R"({"kind":"offer","category":"transport","area":"paris20","when":"Saturdays"})"));
  EXPECT_EQ(en.at("private"), json::parse(R"({"name":"Sam Test","email":"sam@example.org"})"));

  // The two bad submissions stored nothing.
  EXPECT_EQ(posts().size(), 2u);
  expect_private_log();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

TEST_F(Webform, PagesAreInTheVisitorsLanguageWithSecurityHeaders) {
  write_config("default_lang = \"fr\"");
  auto daemon = start();
  const Reply fr = request("GET", "/");
  EXPECT_EQ(fr.status, 200u);
  EXPECT_NE(fr.body.find("<html lang=\"fr\""), std::string::npos);
  EXPECT_NE(fr.body.find(">J'ai besoin d'aide</a>"), std::string::npos) << fr.body;
  const Reply en = request("GET", "/", "", {{"Accept-Language", "de-DE, en-GB;q=0.8, fr;q=0.5"}});
  EXPECT_NE(en.body.find("<html lang=\"en\""), std::string::npos);
  EXPECT_NE(en.body.find("I need help"), std::string::npos);
  EXPECT_NE(request("GET", "/?lang=fr", "", {{"Accept-Language", "en"}}).body.find("lang=\"fr\""),
            std::string::npos);

  const Reply form = request("GET", "/form?kind=offer&lang=en");
  EXPECT_EQ(form.status, 200u);
  EXPECT_EQ(form.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(form.header("referrer-policy"), "no-referrer");
  const std::string csp = form.header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(form.header("set-cookie").find("HttpOnly; SameSite=Lax"), std::string::npos);
  // The network's categories and areas, grouped by city.
  EXPECT_NE(form.body.find("<option value=\"caregivers_support\">"), std::string::npos);
  EXPECT_NE(form.body.find("<optgroup label=\"Vitry-sur-Seine\"><option value=\"vitry_port_a_langlais\">"),
            std::string::npos);
  EXPECT_NE(form.body.find("value=\"offer\" checked"), std::string::npos);
  EXPECT_EQ(form.body.find("<script"), std::string::npos);
  EXPECT_EQ(form.body.find("http://"), std::string::npos);  // nothing from elsewhere
  EXPECT_EQ(form.body.find("https://"), std::string::npos);

  EXPECT_EQ(request("GET", "/nowhere").status, 404u);
  EXPECT_EQ(request("POST", "/", "a=b").status, 405u);
  EXPECT_EQ(request("GET", "/thanks?ref=R-12-00").status, 404u);  // a wrong check
  EXPECT_EQ(request("GET", "/healthz").body, "ok\n");
}

TEST_F(Webform, AMissingOrForgedCsrfTokenIsForbiddenAndNothingIsStored) {
  write_config("");
  auto daemon = start();
  const Visit visit = open_form();

  // No cookie (a cross-site post, or cookies blocked).
  Reply r = post_form(Visit{"", visit.csrf}, valid_fields(visit));
  EXPECT_EQ(r.status, 403u) << r.body;
  EXPECT_NE(r.body.find("Rien n'a été enregistré"), std::string::npos) << r.body;
  // No token.
  auto fields = valid_fields(visit);
  fields.erase("csrf");
  EXPECT_EQ(post_form(visit, fields).status, 403u);
  // A token altered by one character.
  fields = valid_fields(visit);
  fields["csrf"].back() = fields["csrf"].back() == '0' ? '1' : '0';
  EXPECT_EQ(post_form(visit, fields).status, 403u);
  // Another visitor's token with this visitor's cookie.
  const Visit other = open_form();
  EXPECT_EQ(post_form(visit, valid_fields(other)).status, 403u);
  // A token from before a restart with another key: the key is kept in the
  // state directory, so the same form still works after a restart.
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0);
  daemon = start();
  EXPECT_TRUE(posts().empty());
  r = post_form(visit, valid_fields(visit));
  EXPECT_EQ(r.status, 303u) << r.body;
  EXPECT_EQ(posts().size(), 1u);
}

// A token as the form makes it (README: time.nonce.mac), with the key of
// the state directory: how a form left open too long looks.
std::string token(const std::string& key_hex, const std::string& cookie_value, std::int64_t time,
                  const std::string& nonce) {
  std::array<unsigned char, 32> key{};
  EXPECT_EQ(sodium_hex2bin(key.data(), key.size(), key_hex.data(), 64, nullptr, nullptr, nullptr), 0);
  const std::string head = std::to_string(time) + "." + nonce;
  const std::string message = "csrf|" + cookie_value + "|" + head;
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  std::array<char, 33> hex{};
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), 16);
  return head + "." + hex.data();
}

TEST_F(Webform, AFormOpenTooLongComesBackWithTheAnswersToSendAgain) {
  write_config("token_ttl_s = 600");
  auto daemon = start();
  const Visit visit = open_form();
  const std::string key = relais::test::read_file(dir / "state" / "source_webform.key").substr(0, 64);
  const std::string cookie_value = visit.cookie.substr(visit.cookie.find('=') + 1);
  const std::string nonce(32, 'a');
  const std::int64_t now = std::time(nullptr);

  auto fields = valid_fields(visit);
  fields["csrf"] = token(key, cookie_value, now - 30, nonce);
  // The test's own token is a real one: accepted while fresh...
  const Reply fresh = post_form(visit, fields);
  EXPECT_EQ(fresh.status, 303u) << fresh.body;
  // ...and, made 11 minutes ago, refused with the answers kept and a
  // fresh token of the same submission.
  fields["csrf"] = token(key, cookie_value, now - 660, std::string(32, 'b'));
  const Reply old = post_form(visit, fields);
  EXPECT_EQ(old.status, 403u);
  EXPECT_NE(old.body.find("ouvert depuis trop longtemps"), std::string::npos) << old.body;
  EXPECT_NE(old.body.find("value=\"06 98 76 54 32\""), std::string::npos);
  EXPECT_NE(old.body.find("." + std::string(32, 'b') + "."), std::string::npos);
  EXPECT_EQ(posts().size(), 1u);
}

TEST_F(Webform, AFilledHoneypotGetsAFakeSuccessAndNothingIsStored) {
  write_config("");
  auto daemon = start();
  const Visit visit = open_form();
  auto fields = valid_fields(visit);
  fields["website"] = "http://spam.example";
  const Reply r = post_form(visit, fields);
  EXPECT_EQ(r.status, 303u);
  const std::string location = r.header("location");
  EXPECT_EQ(location.rfind("thanks?ref=R-", 0), 0u) << location;
  EXPECT_EQ(request("GET", "/" + location).status, 200u);
  EXPECT_TRUE(posts().empty());
  EXPECT_NE(log().find("hidden field was filled"), std::string::npos) << log();
}

TEST_F(Webform, ABodyTooLargeIs413AndATextTooLongIsAnErrorOfItsField) {
  write_config("max_description_chars = 500\nmax_body_bytes = 16384");
  auto daemon = start();
  const Visit visit = open_form();
  auto fields = valid_fields(visit);
  fields["description"] = std::string(20000, 'a');
  const Reply too_large = post_form(visit, fields);
  EXPECT_EQ(too_large.status, 413u);
  // The form's own page, in the visitor's language, not the server's text.
  EXPECT_NE(too_large.body.find("<html lang=\"fr\""), std::string::npos) << too_large.body;
  fields["description"] = std::string(501, 'a');
  const Reply r = post_form(visit, fields);
  EXPECT_EQ(r.status, 422u);
  EXPECT_NE(r.body.find("id=\"description-error\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("500 caractères au plus"), std::string::npos);
  // A form that is not URL-encoded UTF-8 is not read.
  EXPECT_EQ(post_form(visit, valid_fields(visit), {{"Content-Type", "text/plain"}}).status, 415u);
  EXPECT_EQ(request("POST", "/form", "csrf=%ZZ", {{"Cookie", visit.cookie}}).status, 400u);
  EXPECT_EQ(request("POST", "/form", "description=%FF%FE", {{"Cookie", visit.cookie}}).status, 400u);
  EXPECT_TRUE(posts().empty());
}

TEST_F(Webform, TooManyPostsFromOneAddressAre429) {
  write_config("rate_per_minute = 1\nrate_burst = 2");
  auto daemon = start();
  const Visit visit = open_form();
  auto fields = valid_fields(visit);
  fields["consent"] = "";  // each answered with the form again, nothing stored
  EXPECT_EQ(post_form(visit, fields).status, 422u);
  EXPECT_EQ(post_form(visit, fields).status, 422u);
  const Reply r = post_form(visit, fields);
  EXPECT_EQ(r.status, 429u);
  EXPECT_GE(std::stoi(r.header("retry-after")), 1);
  EXPECT_NE(r.body.find("Trop d'envois</h1>"), std::string::npos) << r.body;
  // Pages are still served: only posting is limited.
  EXPECT_EQ(request("GET", "/form").status, 200u);
  EXPECT_TRUE(posts().empty());
}

TEST_F(Webform, BehindATrustedProxyEachVisitorHasItsOwnLimit) {
  write_config("rate_per_minute = 1\nrate_burst = 1\ntrusted_proxies = [\"127.0.0.1\"]");
  auto daemon = start();
  const Visit visit = open_form();
  auto fields = valid_fields(visit);
  fields["consent"] = "";
  const auto from = [&](const std::string& forwarded) {
    return post_form(visit, fields, {{"X-Forwarded-For", forwarded}}).status;
  };
  EXPECT_EQ(from("192.0.2.1"), 422u);
  EXPECT_EQ(from("192.0.2.1"), 429u);
  // A forged first hop changes nothing: the proxy appended the real one.
  EXPECT_EQ(from("198.51.100.7, 192.0.2.1"), 429u);
  EXPECT_EQ(from("192.0.2.2"), 422u);
}

TEST_F(Webform, ConfigurationErrorsNameTheirKey) {
  const auto check = [&](const std::string& extra) {
    write_config(extra);
    return relais::test::run({relaisd(), "--check-config", config().string(), "--plugin-dir",
                              relais::test::plugin_dir().string()});
  };
  auto r = check("listn = \"127.0.0.1:1\"");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("listn: unknown key"), std::string::npos) << r.output;
  r = check("max_description_chars = 5000\nmax_body_bytes = 8192");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("max_body_bytes: too small"), std::string::npos) << r.output;
  r = check("categories = [\"groceries\", \"bikes=Vélos|Bikes\", \"groceries\"]");
  EXPECT_NE(r.output.find("\"groceries\" named twice"), std::string::npos) << r.output;
  r = check("trusted_proxies = [\"proxy.example\"]");
  EXPECT_NE(r.output.find("expected an IP address"), std::string::npos) << r.output;
  r = check("default_lang = \"de\"");
  EXPECT_NE(r.output.find("default_lang: expected \"fr\" or \"en\""), std::string::npos) << r.output;
  r = check("categories = [\"groceries\", \"bikes=Vélos|Bikes\"]\nareas = [\"nord=Quartier nord\"]");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(Webform, TheSameSubmissionSentTwiceIsStoredOnce) {
  write_config("");
  auto daemon = start();
  const Visit visit = open_form();
  const Reply first = post_form(visit, valid_fields(visit));
  const Reply second = post_form(visit, valid_fields(visit));  // a double click, or the browser's resend
  ASSERT_EQ(first.status, 303u) << first.body;
  ASSERT_EQ(second.status, 303u) << second.body;
  EXPECT_EQ(first.header("location"), second.header("location"));
  const auto stored = posts();
  ASSERT_EQ(stored.size(), 1u);

  const std::int64_t id = id_of(first.header("location"));
  const auto post = show(id);
  EXPECT_EQ(post.at("text"), json::value(valid_fields(visit).at("description")));
  EXPECT_EQ(post.at("private"), json::parse(R"({"name":"Paulette Essai","phone":"06 98 76 54 32",
                                               "email":"paulette@example.org","address":"3 rue Camille-Groult"})"));
  EXPECT_EQ(post.at("fields").at("category"), "medication");
  EXPECT_TRUE(post.at("sender").as_string().starts_with("visitor-"));  // a pseudonym, not the address

  // The confirmation gives the reference and how to follow it.
  const Reply thanks = request("GET", "/" + first.header("location"));
  EXPECT_EQ(thanks.status, 200u);
  EXPECT_NE(thanks.body.find("R-" + std::to_string(id) + "-"), std::string::npos) << thanks.body;
  EXPECT_NE(thanks.body.find("01 99 00 00 00"), std::string::npos);

  // Another form of the same visitor is another post.
  const Visit again = open_form();
  EXPECT_EQ(post_form(again, valid_fields(again)).status, 303u);
  EXPECT_EQ(posts().size(), 2u);
  expect_private_log();
}

TEST_F(Webform, AMissingConsentGivesTheFormBackWithTheErrorNextToIt) {
  write_config("");
  auto daemon = start();
  const Visit visit = open_form();
  auto fields = valid_fields(visit);
  fields.erase("consent");
  fields["email"] = "pas-une-adresse";
  const Reply r = post_form(visit, fields);
  EXPECT_EQ(r.status, 422u);
  const std::string& page = r.body;
  // The summary at the top links to each field in error.
  EXPECT_NE(page.find("<a href=\"#consent\">"), std::string::npos) << page;
  EXPECT_NE(page.find("<a href=\"#email\">"), std::string::npos);
  // Each error is next to its field, which points to it.
  EXPECT_NE(page.find("id=\"consent-error\""), std::string::npos);
  EXPECT_NE(page.find("name=\"consent\" value=\"yes\" aria-describedby=\"consent-hint consent-error\" "
                      "aria-invalid=\"true\""),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("aria-describedby=\"email-error\" aria-invalid=\"true\""), std::string::npos);
  // The answers are kept, with the same token (the same submission).
  EXPECT_NE(page.find("value=\"06 98 76 54 32\""), std::string::npos);
  EXPECT_NE(page.find("ses médicaments à la pharmacie.</textarea>"), std::string::npos);
  EXPECT_NE(page.find("<option value=\"vitry_centre\" selected>"), std::string::npos);
  EXPECT_TRUE(posts().empty());

  // No way of contact at all: the error is on the contact block.
  fields = valid_fields(visit);
  fields["phone"] = fields["email"] = fields["address"] = "";
  const Reply none = post_form(visit, fields);
  EXPECT_EQ(none.status, 422u);
  EXPECT_NE(none.body.find("id=\"contact-error\""), std::string::npos);
  EXPECT_TRUE(posts().empty());
}

TEST_F(Webform, WhenRelaisdIsDownTheVisitorKeepsTheFormAndItsResendIsStoredOnce) {
  // A front relaisd serves the form and submits to a main relaisd's ingest
  // socket, so that the main one can be down while the form is up.
  const fs::path main_state = dir / "main";
  const std::string main_config = (dir / "main.toml").string();
  relais::test::write_file(main_config, "[log]\nlevel = \"debug\"\n");
  write_config("submit_timeout_ms = 1500\nretry_after_s = 7\nendpoint = " +
               quoted("ipc://" + (main_state / "ingest.sock").string()));
  auto front = start();
  const Visit visit = open_form();
  const Reply r = post_form(visit, valid_fields(visit));
  ASSERT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.header("retry-after"), "7");
  EXPECT_NE(r.body.find("rien n'est perdu"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("value=\"06 98 76 54 32\""), std::string::npos);  // the answers are kept
  std::smatch m;
  static const std::regex csrf(R"re(name="csrf" value="([^"]+)")re");
  ASSERT_TRUE(std::regex_search(r.body, m, csrf));
  auto fields = valid_fields(visit);
  fields["csrf"] = m[1];  // what the browser sends when the visitor presses "Envoyer" again

  // The main relaisd is back: the resend is stored, once however often it
  // comes.
  Process main({relaisd(), "--config", main_config, "--state-dir", main_state.string()}, dir / "main.log");
  const auto main_posts = [&] {
    auto out = relais::test::run(
        {relaisctl(), "--state-dir", main_state.string(), "--timeout-ms", "5000", "--json", "posts"});
    boost::system::error_code ec;
    auto v = json::parse(out.output, ec);
    return ec || out.status != 0 ? -1 : static_cast<int>(v.at("posts").as_array().size());
  };
  ASSERT_TRUE(wait_until([&] { return main_posts() >= 0; })) << relais::test::read_file(dir / "main.log");
  const Reply again = post_form(visit, fields);
  EXPECT_EQ(again.status, 303u) << again.body;
  const Reply twice = post_form(visit, fields);
  EXPECT_EQ(twice.header("location"), again.header("location"));
  EXPECT_EQ(main_posts(), 1);
  EXPECT_TRUE(posts().empty());  // nothing in the front relaisd's own store
}

}  // namespace
