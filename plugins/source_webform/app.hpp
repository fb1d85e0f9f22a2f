// app: what each request to the web form gets — the pages, the checks of a
// submission (rate, CSRF, honeypot, fields) and its submission to relaisd —
// apart from the server and the client, so that both can be replaced.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "form.hpp"
#include "http_server.hpp"
#include "pages.hpp"
#include "relais/plugin.hpp"
#include "security.hpp"

namespace relais::webform {

struct AppSettings {
  pages::Site site;
  Lang default_lang = Lang::fr;
  std::string source = "webform";
  std::int64_t token_ttl_seconds = 7200;
  bool cookie_secure = false;
  std::chrono::seconds retry_after{30};  // told to a visitor when relaisd did not answer
  // Peers whose X-Forwarded-For is believed: the reverse proxies in front.
  std::vector<std::string> trusted_proxies;
};

// What became of one post submitted to relaisd.
struct SubmitOutcome {
  enum class Status : unsigned char { stored, refused, unavailable };
  Status status = Status::unavailable;
  std::int64_t post_id = 0;  // stored: the post's id (a duplicate's: the first one's)
  std::string field;         // refused: the post's field at fault, when there is one
  std::string message;       // refused: why, for people
};
// Blocks until relaisd acknowledged the post, or gives up (unavailable).
using Submitter = std::function<SubmitOutcome(const Post&)>;
// Seconds until `address` may post again; 0: now.
using Limiter = std::function<std::chrono::seconds(const std::string& address)>;

class App {
 public:
  App(AppSettings settings, Key key, Submitter submit, Limiter limit, Logger& log);

  http::Response handle(const http::Request& request);
  // The answers the server gives by itself, as pages of the form in the
  // visitor's language: 413 (a body over max_body_bytes) and 400/431
  // (a request the server could not read). Any other status throws, which
  // leaves the server's own short text.
  http::Response server_error(int status, const http::Request& request) const;

  // For `relaisctl stats`-style reporting and tests of the plugin's logs.
  struct Counters {
    std::atomic<std::uint64_t> stored{0};
    std::atomic<std::uint64_t> invalid{0};
    std::atomic<std::uint64_t> forbidden{0};
    std::atomic<std::uint64_t> honeypot{0};
    std::atomic<std::uint64_t> limited{0};
    std::atomic<std::uint64_t> unavailable{0};
  };
  const Counters& counters() const { return counters_; }

 private:
  std::string visitor_address(const http::Request& request) const;
  Lang language(const http::Request& request, const std::map<std::string, std::string>& params) const;
  http::Response finish(http::Response response, Lang lang) const;
  http::Response form_page(const http::Request& request, Lang lang);
  http::Response submit(const http::Request& request);
  http::Response thanks(const std::map<std::string, std::string>& query, Lang lang) const;
  http::Response problem(int status, Lang lang, pages::Problem which) const;
  http::Response show_form(int status, pages::FormView view, const std::string& cookie,
                           std::string_view nonce, bool set_cookie) const;

  AppSettings settings_;
  Key key_;
  Submitter submit_;
  Limiter limit_;
  Logger& log_;
  std::string csp_;
  Counters counters_;
};

}  // namespace relais::webform
