#include "app.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace relais::webform {
namespace {

constexpr std::string_view kCookie = "relais_form";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer.data(), n);
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool is_token(std::string_view s, std::size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The form's cookie, when the request has one of the right shape.
std::string cookie_of(const http::Request& request) {
  const std::string header = request.header("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string pair = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == kCookie) {
      std::string value = pair.substr(eq + 1);
      if (is_token(value, 32)) return value;
    }
  }
  return {};
}

// The language a browser prefers among ours: the highest q of a French or
// English tag, the first of equals.
std::optional<Lang> accepted(std::string_view header) {
  std::optional<Lang> best;
  double best_q = 0.0;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto semi = item.find(';');
    std::string tag = trim(std::string_view(item).substr(0, semi));
    std::transform(tag.begin(), tag.end(), tag.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
    double q = 1.0;
    if (semi != std::string::npos) {
      const auto at = item.find("q=", semi);
      if (at != std::string::npos) {
        try {
          q = std::stod(item.substr(at + 2));
        } catch (const std::exception&) {
          q = 0.0;
        }
      }
    }
    const auto lang = parse_lang(tag.substr(0, tag.find('-')));
    if (lang && q > best_q) {
      best = lang;
      best_q = q;
    }
  }
  return best;
}

std::map<std::string, std::string> query_of(const http::Request& request) {
  auto parsed = parse_urlencoded(request.query);
  return parsed ? std::move(*parsed) : std::map<std::string, std::string>();
}

std::string get(const std::map<std::string, std::string>& params, const std::string& name) {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// The hash of the one inline stylesheet, so that the policy allows it and
// nothing else inline.
std::string style_hash() {
  const auto css = pages::stylesheet();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(css.data()), css.size());
  std::string out(sodium_base64_ENCODED_LEN(digest.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), digest.data(), digest.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return "'sha256-" + out + "'";
}

}  // namespace

App::App(AppSettings settings, Key key, Submitter submit, Limiter limit, Logger& log)
    : settings_(std::move(settings)),
      key_(key),
      submit_(std::move(submit)),
      limit_(std::move(limit)),
      log_(log),
      csp_("default-src 'none'; style-src " + style_hash() +
           "; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'") {}

// Behind a reverse proxy every visitor comes from the proxy: the address
// that counts is the last one X-Forwarded-For names that is not a proxy
// of ours (the ones before it could be written by anybody).
std::string App::visitor_address(const http::Request& request) const {
  const auto trusted = [&](const std::string& address) {
    return std::find(settings_.trusted_proxies.begin(), settings_.trusted_proxies.end(), address) !=
           settings_.trusted_proxies.end();
  };
  if (!trusted(request.remote_address)) return request.remote_address;
  const std::string forwarded = request.header("X-Forwarded-For");
  std::string_view rest = forwarded;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    std::string hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (!hop.empty() && !trusted(hop)) return hop;
  }
  return request.remote_address;
}

Lang App::language(const http::Request& request, const std::map<std::string, std::string>& params) const {
  if (const auto lang = parse_lang(get(params, "lang"))) return *lang;
  if (const auto lang = accepted(request.header("Accept-Language"))) return *lang;
  return settings_.default_lang;
}

http::Response App::finish(http::Response response, Lang lang) const {
  response.with_header("Content-Security-Policy", csp_)
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("X-Frame-Options", "DENY")
      .with_header("Referrer-Policy", "no-referrer")
      .with_header("Cache-Control", "no-store")
      .with_header("Content-Language", std::string(to_string(lang)))
      .with_header("Vary", "Accept-Language, Cookie");
  return response;
}

http::Response App::problem(int status, Lang lang, pages::Problem which) const {
  return finish(http::Response::html(status, pages::problem(settings_.site, lang, which)), lang);
}

http::Response App::server_error(int status, const http::Request& request) const {
  const Lang lang = language(request, {});
  if (status == 413) return problem(status, lang, pages::Problem::too_large);
  if (status == 400 || status == 431) return problem(status, lang, pages::Problem::malformed);
  throw std::invalid_argument("no page of the form for status " + std::to_string(status));
}

http::Response App::handle(const http::Request& request) {
  const auto query = query_of(request);
  const std::string& path = request.path;
  const bool get_like = request.method == "GET" || request.method == "HEAD";
  if (path == "/healthz") {
    if (!get_like) return http::Response::text(405, "method not allowed\n").with_header("Allow", "GET, HEAD");
    return http::Response::text(200, "ok\n");
  }
  if (path == "/favicon.svg" || path == "/favicon.ico") {
    http::Response icon = http::Response::text(200, std::string(pages::icon()));
    icon.content_type = "image/svg+xml";
    return icon.with_header("Cache-Control", "max-age=86400")
        .with_header("X-Content-Type-Options", "nosniff");
  }
  if (path == "/form" && request.method == "POST") return submit(request);
  const Lang lang = language(request, query);
  if (path != "/" && path != "/form" && path != "/thanks")
    return problem(404, lang, pages::Problem::not_found);
  if (!get_like) {
    auto response = problem(405, lang, pages::Problem::method);
    return response.with_header("Allow", path == "/form" ? "GET, HEAD, POST" : "GET, HEAD");
  }
  if (path == "/") return finish(http::Response::html(200, pages::home(settings_.site, lang)), lang);
  if (path == "/thanks") return thanks(query, lang);
  return form_page(request, lang);
}

http::Response App::show_form(int status, pages::FormView view, const std::string& cookie,
                              std::string_view nonce, bool set_cookie) const {
  view.csrf = sign_csrf(key_, cookie, nonce, unix_now());
  const Lang lang = view.lang;
  auto response = finish(http::Response::html(status, pages::form(settings_.site, view)), lang);
  if (set_cookie) {
    std::string value = std::string(kCookie) + "=" + cookie + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                        std::to_string(settings_.token_ttl_seconds);
    if (settings_.cookie_secure) value += "; Secure";
    response.with_header("Set-Cookie", value);
  }
  return response;
}

http::Response App::form_page(const http::Request& request, Lang lang) {
  const auto query = query_of(request);
  pages::FormView view;
  view.lang = lang;
  view.values.kind = get(query, "kind") == "offer" ? "offer" : "request";
  std::string cookie = cookie_of(request);
  const bool fresh = cookie.empty();
  if (fresh) cookie = random_hex(16);
  // The nonce is the submission's id: one per form shown, kept when the
  // same form comes back with errors.
  return show_form(200, std::move(view), cookie, random_hex(16), fresh);
}

http::Response App::submit(const http::Request& request) {
  const std::string address = visitor_address(request);
  if (const auto wait = limit_(address); wait.count() > 0) {
    ++counters_.limited;
    log_.log(LogLevel::debug, "a post refused: rate limit of its address");
    auto response = problem(429, language(request, {}), pages::Problem::too_many);
    return response.with_header("Retry-After", std::to_string(wait.count()));
  }
  if (http::media_type(request.header("Content-Type")) != "application/x-www-form-urlencoded") {
    ++counters_.invalid;
    auto response = problem(415, language(request, {}), pages::Problem::malformed);
    return response;
  }
  auto params = parse_urlencoded(request.body);
  if (!params) {
    ++counters_.invalid;
    return problem(400, language(request, {}), pages::Problem::malformed);
  }
  const Lang lang = language(request, *params);
  const std::string cookie = cookie_of(request);
  const auto csrf = check_csrf(key_, cookie, get(*params, "csrf"), unix_now(), settings_.token_ttl_seconds);
  if (csrf.status == CsrfStatus::invalid) {
    ++counters_.forbidden;
    log_.log(LogLevel::debug, "a post refused: no valid CSRF token");
    return problem(403, lang, pages::Problem::forbidden);
  }
  // Bots that fill every field are told it worked, so that they learn
  // nothing; a person never sees the field.
  if (!get(*params, "website").empty()) {
    ++counters_.honeypot;
    log_.log(LogLevel::info, "a post dropped: its hidden field was filled (a bot)");
    std::int64_t fake = 0;
    randombytes_buf(&fake, sizeof fake);
    const std::string kind = get(*params, "kind") == "offer" ? "offer" : "request";
    return finish(http::Response::redirect("thanks?ref=" + reference(1000 + (fake & 0xFFFFF)) +
                                           "&kind=" + kind + "&lang=" + std::string(to_string(lang))),
                  lang);
  }
  pages::FormView view;
  view.lang = lang;
  view.values = read_submission(*params);
  if (csrf.status == CsrfStatus::expired) {
    ++counters_.forbidden;
    view.notice = pages::Notice::expired;
    return show_form(403, std::move(view), cookie, csrf.nonce, false);
  }
  view.errors = validate(view.values, settings_.site.rules);
  if (!view.errors.empty()) {
    ++counters_.invalid;
    return show_form(422, std::move(view), cookie, csrf.nonce, false);
  }

  Post post = to_post(view.values, lang);
  post.source = settings_.source;
  post.external_id = "form-" + csrf.nonce;
  post.sender = pseudonym(key_, address);
  post.received_at = rfc3339_now();
  const SubmitOutcome outcome = submit_(post);
  switch (outcome.status) {
    case SubmitOutcome::Status::stored: {
      ++counters_.stored;
      log_.log(LogLevel::debug,
               "form " + post.external_id + " stored as post " + std::to_string(outcome.post_id));
      return finish(http::Response::redirect("thanks?ref=" + reference(outcome.post_id) + "&kind=" +
                                             view.values.kind + "&lang=" + std::string(to_string(lang))),
                    lang);
    }
    case SubmitOutcome::Status::refused:
      ++counters_.invalid;
      log_.log(LogLevel::warn, "form " + post.external_id + " refused by relaisd: " + outcome.field);
      if (outcome.field == "text") {
        view.errors.push_back({"description", "too_long", settings_.site.rules.max_description_chars});
      } else {
        view.notice = pages::Notice::refused;
        view.refused_message = outcome.message;
      }
      return show_form(422, std::move(view), cookie, csrf.nonce, false);
    case SubmitOutcome::Status::unavailable:
      break;
  }
  ++counters_.unavailable;
  log_.log(LogLevel::warn,
           "form " + post.external_id + ": relaisd did not acknowledge it in time; the visitor may retry");
  view.notice = pages::Notice::unavailable;
  auto response = show_form(503, std::move(view), cookie, csrf.nonce, false);
  return response.with_header("Retry-After", std::to_string(settings_.retry_after.count()));
}

http::Response App::thanks(const std::map<std::string, std::string>& query, Lang lang) const {
  const auto id = parse_reference(get(query, "ref"));
  if (!id) return problem(404, lang, pages::Problem::not_found);
  const std::string kind = get(query, "kind") == "offer" ? "offer" : "request";
  return finish(http::Response::html(200, pages::thanks(settings_.site, lang, kind, reference(*id))), lang);
}

}  // namespace relais::webform
