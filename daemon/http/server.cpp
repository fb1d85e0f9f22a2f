#include "http/server.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <thread>

#include "http/links.hpp"
#include "http/pages.hpp"
#include "log.hpp"
#include "privacy.hpp"
#include "protocol.hpp"
#include "router/needs.hpp"
#include "storage/store.hpp"

namespace relais::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHeaderBytes = std::size_t{8} * 1024;
constexpr std::size_t kMaxBodyBytes = std::size_t{16} * 1024;
constexpr std::chrono::seconds kReadTimeout{30};
constexpr std::size_t kMaxListedNeeds = 200;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The segments of a request's path, without its query and leading slash.
std::vector<std::string_view> split_path(std::string_view target) {
  auto parts = path_segments(target.substr(0, target.find('?')));
  if (!parts.empty()) parts.erase(parts.begin());
  return parts;
}

// The value of `key` in the target's query string, undecoded: only plain
// words (a state) are looked for.
std::string query_value(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == key && eq != std::string_view::npos) return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

bool parse_id(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

http::status status_of(std::string_view code) {
  if (code == need_error::not_found) return http::status::not_found;
  if (code == need_error::forbidden) return http::status::forbidden;
  if (code == need_error::conflict) return http::status::conflict;
  if (code == "invalid_value" || code == "bad_request") return http::status::bad_request;
  if (code == "expired") return http::status::gone;
  return http::status::service_unavailable;
}

json::object post_json(const Post& p) {
  json::object o{{"id", p.id}, {"channel", p.channel}, {"received_at", p.received_at}, {"text", p.text}};
  o["subject"] = p.subject ? json::value(*p.subject) : json::value(nullptr);
  if (!p.sender.empty()) o["sender"] = p.sender;
  if (!p.private_data.empty()) {
    json::object priv;
    for (const auto& [k, v] : p.private_data) priv[k] = v;
    o["private"] = std::move(priv);
  }
  return o;
}

json::object need_json(const StoredNeed& n, std::string_view destination) {
  json::array categories;
  for (const auto& c : n.triage.categories) categories.emplace_back(c);
  std::string mine;
  for (const auto& a : n.assignments) {
    if (a.destination == destination) mine = a.state;
  }
  json::object o{{"id", n.post_id},
                 {"state", n.state},
                 {"urgency", to_string(n.triage.urgency)},
                 {"categories", std::move(categories)},
                 {"area", n.triage.area},
                 {"received_at", n.received_at},
                 {"yours", n.need.owner == destination || n.need.claimed_by == destination},
                 {"claimed_by_you", n.need.claimed_by == destination},
                 {"assignment", mine}};
  return o;
}

}  // namespace

struct HttpServer::Impl {
  const LiveConfig& config;
  NeedTracker& needs;
  const LinkSigner& links;
  Counters& counters;
  const LivePlugins& plugins;
  Clock now;
  std::shared_ptr<spdlog::logger> log = component_logger("http");
  std::unique_ptr<Store> store;  // read-only; used on the server's thread only
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::string address;
  std::thread thread;

  Impl(const LiveConfig& c, NeedTracker& n, const LinkSigner& l, Counters& k, const LivePlugins& p,
       Clock clock)
      : config(c), needs(n), links(l), counters(k), plugins(p), now(std::move(clock)) {}

  void accept();
  void metrics(Response& res) const;
  const Destination* by_token(const Config& cfg, std::string_view authorization) const;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      Request none;
      return send(
          error_response(none, http::status::payload_too_large, "too_large", "the request is too large"),
          false);
    }
    if (ec) return;  // a timeout or a reset: nothing to answer
    request_ = parser_->release();
    handle();
  }

  Response json_response(const Request& req, http::status status, const json::value& body) {
    Response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = json::serialize(body) + "\n";
    return res;
  }

  Response error_response(const Request& req, http::status status, std::string_view code,
                          std::string_view message) {
    return json_response(req, status, json::object{{"error", code}, {"message", message}});
  }

  Response html_response(const Request& req, http::status status, std::string body) {
    Response res{status, req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    // The pages are the server's own: no script, no frame, no referrer.
    res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Frame-Options", "DENY");
    res.body() = std::move(body);
    return res;
  }

  void send(Response res, bool keep_alive = true) {
    res.keep_alive(keep_alive && request_.keep_alive());
    res.prepare_payload();
    auto shared = std::make_shared<Response>(std::move(res));
    http::async_write(stream_, *shared,
                      [self = shared_from_this(), shared](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!shared->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->read();
                      });
  }

  // Runs on the need tracker's thread: the answer goes back to this
  // session's executor.
  template <class Make>
  void answer_later(Make make) {
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), make = std::move(make)]() mutable { self->send(make(*self)); });
  }

  void handle() {
    const auto& req = request_;
    const auto target = std::string_view(req.target().data(), req.target().size());
    const auto parts = split_path(target);
    const auto config = server_.config.get();
    if (parts.size() == 1 && parts[0] == "healthz") {
      if (req.method() != http::verb::get)
        return send(error_response(req, http::status::method_not_allowed, "method", "use GET"));
      Response res{http::status::ok, req.version()};
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "ok\n";
      return send(std::move(res));
    }
    if (parts.size() == 1 && parts[0] == "metrics") {
      Response res{http::status::ok, req.version()};
      server_.metrics(res);
      return send(std::move(res));
    }
    if (!parts.empty() && parts[0] == "l") return link(*config, target);
    if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "needs") return api(*config, parts);
    send(error_response(req, http::status::not_found, "not_found", "no such resource"));
  }

  // /v1/needs, /v1/needs/ID, /v1/needs/ID/{claim,decline,resolve}
  void api(const Config& config, const std::vector<std::string_view>& parts) {
    const auto& req = request_;
    const auto auth = req[http::field::authorization];
    const auto* destination = server_.by_token(config, std::string_view(auth.data(), auth.size()));
    if (destination == nullptr) {
      auto res = error_response(req, http::status::unauthorized, "unauthorized",
                                "give the destination's token: Authorization: Bearer <token>");
      res.set(http::field::www_authenticate, "Bearer realm=\"relais\"");
      return send(std::move(res));
    }
    if (parts.size() == 2) {
      if (req.method() != http::verb::get)
        return send(error_response(req, http::status::method_not_allowed, "method", "use GET"));
      const auto state = query_value(std::string_view(req.target().data(), req.target().size()), "state");
      if (!state.empty() && state != "routed" && state != "claimed" && state != "resolved" &&
          state != "unrouted") {
        return send(error_response(req, http::status::bad_request, "bad_request",
                                   "state must be routed, claimed, resolved or unrouted"));
      }
      auto needs = server_.store->list_needs(state, destination->id, kMaxListedNeeds);
      if (!needs)
        return send(
            error_response(req, http::status::service_unavailable, "unavailable", needs.error().message));
      json::array list;
      for (const auto& n : *needs) list.push_back(need_json(n, destination->id));
      return send(json_response(req, http::status::ok,
                                json::object{{"destination", destination->id}, {"needs", std::move(list)}}));
    }
    std::int64_t id = 0;
    if (!parse_id(parts[2], id))
      return send(error_response(req, http::status::not_found, "not_found", "no such need"));
    if (parts.size() == 3) {
      if (req.method() != http::verb::get)
        return send(error_response(req, http::status::method_not_allowed, "method", "use GET"));
      return show(config, *destination, id);
    }
    const auto act = parts.size() == 4 ? parse_need_act(parts[3]) : std::nullopt;
    if (!act) return send(error_response(req, http::status::not_found, "not_found", "no such resource"));
    if (req.method() != http::verb::post)
      return send(error_response(req, http::status::method_not_allowed, "method", "use POST"));
    NeedActRequest request;
    request.post_id = id;
    request.act = *act;
    request.destination = destination->id;
    request.token = destination->token;
    request.authenticated = true;  // by_token() matched it
    request.via = "http";
    if (!req.body().empty()) {
      boost::system::error_code ec;
      const auto body = json::parse(req.body(), ec);
      const auto* o = ec ? nullptr : body.if_object();
      if (o == nullptr)
        return send(
            error_response(req, http::status::bad_request, "bad_request", "the body must be a JSON object"));
      for (const auto& kv : *o) {
        if (kv.key() != "note" || !kv.value().is_string() || kv.value().get_string().size() > 1024) {
          return send(error_response(req, http::status::bad_request, "bad_request",
                                     "the body may only hold \"note\", a string of at most 1024 bytes"));
        }
        request.note = std::string(kv.value().get_string());
      }
      if (!protocol::valid_utf8(request.note))
        return send(error_response(req, http::status::bad_request, "bad_request", "note: not UTF-8"));
    }
    server_.needs.act(std::move(request), [self = shared_from_this()](Expected<NeedActResult> result) {
      self->answer_later([result = std::move(result)](Session& s) {
        if (!result)
          return s.error_response(s.request_, status_of(result.error().code), result.error().code,
                                  result.error().message);
        json::object o{{"id", result->post_id},
                       {"state", result->state},
                       {"owner", result->owner},
                       {"changed", result->changed}};
        if (result->post) o["post"] = post_json(*result->post);
        return s.json_response(s.request_, http::status::ok, o);
      });
    });
  }

  void show(const Config& config, const Destination& destination, std::int64_t id) {
    const auto& req = request_;
    auto need = server_.store->get_need(id);
    if (!need)
      return send(
          error_response(req, http::status::service_unavailable, "unavailable", need.error().message));
    const bool given = *need && std::any_of((*need)->assignments.begin(), (*need)->assignments.end(),
                                            [&](const auto& a) { return a.destination == destination.id; });
    // Not found and not yours look the same: ids of others' needs stay unknown.
    if (!given)
      return send(error_response(req, http::status::not_found, "not_found", "no such need among yours"));
    auto post = server_.store->get_post(id, false);
    if (!post || !*post)
      return send(
          error_response(req, http::status::service_unavailable, "unavailable", "the post cannot be read"));
    auto o = need_json(**need, destination.id);
    const bool full =
        destination.personal_data == PersonalData::always || (*need)->need.claimed_by == destination.id;
    o["post"] = post_json(full ? (*post)->post : public_view(**post));
    (void)config;
    send(json_response(req, http::status::ok, json::object{{"need", std::move(o)}}));
  }

  // /l/ACT/POST/DEST/EXPIRES/SIGNATURE: GET shows what the link will do and
  // asks to confirm (a mail scanner that follows links acts on nothing);
  // POST does it.
  void link(const Config& config, std::string_view target) {
    const auto& req = request_;
    const auto path = target.substr(0, target.find('?'));
    const auto unix_now =
        std::chrono::duration_cast<std::chrono::seconds>(server_.now().time_since_epoch()).count();
    auto verified = server_.links.verify(path, unix_now);
    const auto* destination = verified ? config.network->find(verified->destination) : nullptr;
    const std::string lang = destination != nullptr ? destination->lang : "fr";
    if (!verified || destination == nullptr) {
      const std::string code = verified ? std::string("forbidden") : verified.error().code;
      return send(html_response(req, status_of(code), pages::link_refused(lang, code)));
    }
    pages::LinkPage page{lang, verified->act, verified->post_id, destination->name, std::string(path)};
    if (req.method() == http::verb::get || req.method() == http::verb::head) {
      return send(html_response(req, http::status::ok, pages::link_confirm(page)));
    }
    if (req.method() != http::verb::post)
      return send(html_response(req, http::status::method_not_allowed, pages::link_refused(lang, "method")));
    NeedActRequest request;
    request.post_id = verified->post_id;
    request.act = verified->act;
    request.destination = verified->destination;
    request.authenticated = true;  // the signature stands for the token
    request.via = "link";
    server_.needs.act(std::move(request), [self = shared_from_this(), page](Expected<NeedActResult> result) {
      self->answer_later([result = std::move(result), page](Session& s) {
        if (!result) {
          return s.html_response(s.request_, status_of(result.error().code),
                                 pages::link_failed(page, result.error().code, result.error().message));
        }
        return s.html_response(s.request_, http::status::ok, pages::link_done(page, *result));
      });
    });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
};

}  // namespace

const Destination* HttpServer::Impl::by_token(const Config& cfg, std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer)
    return nullptr;
  const auto token = authorization.substr(kBearer.size());
  // Every destination is compared, in constant time, so that the time taken
  // says nothing about which token came close.
  const Destination* found = nullptr;
  for (const auto& d : cfg.network->destinations) {
    if (!d.token.empty() && d.token.size() == token.size() &&
        sodium_memcmp(d.token.data(), token.data(), token.size()) == 0) {
      found = &d;
    }
  }
  return found;
}

void HttpServer::Impl::metrics(Response& res) const {
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::string out;
  auto line = [&](std::string_view name, std::string_view help, std::string_view type) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  };
  auto value = [&](std::string_view name, std::string_view labels, std::uint64_t v) {
    out += name;
    out += labels;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  };
  line("relais_info", "The version of relaisd.", "gauge");
  value("relais_info", "{version=\"" RELAIS_VERSION "\"}", 1);
  line("relais_ingest_messages_total", "Messages received on the ingest sockets.", "counter");
  value("relais_ingest_messages_total", "", counters.messages.load());
  line("relais_posts_stored_total", "Posts stored (duplicates apart).", "counter");
  value("relais_posts_stored_total", "", counters.stored.load());
  line("relais_posts_processed_total", "Posts through the pipeline.", "counter");
  value("relais_posts_processed_total", "", counters.processed.load());
  line("relais_deliveries_total", "Delivery attempts, by outcome.", "counter");
  value("relais_deliveries_total", "{outcome=\"delivered\"}", counters.deliveries_delivered.load());
  value("relais_deliveries_total", "{outcome=\"retried\"}", counters.deliveries_retried.load());
  value("relais_deliveries_total", "{outcome=\"dead_lettered\"}", counters.deliveries_dead.load());
  line("relais_config_reload_failures_total", "Reloads refused.", "counter");
  value("relais_config_reload_failures_total", "", counters.reload_failures.load());
  line("relais_plugin_errors_total", "Exceptions caught from a plugin instance.", "counter");
  const auto set = plugins.get();
  auto errors = [&](const auto& instances) {
    for (const auto& i : instances) {
      value("relais_plugin_errors_total", "{instance=\"" + i.instance + "\"}", i.counters->errors.load());
    }
  };
  errors(set->sources);
  errors(set->moderators);
  errors(set->triagers);
  errors(set->sinks);
  res.body() = std::move(out);
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log->warn("accept_failed error=\"{}\"", ec.message());
      if (!acceptor.is_open()) return;
    } else {
      std::make_shared<Session>(std::move(socket), *this)->start();
    }
    accept();
  });
}

HttpServer::HttpServer(const LiveConfig& config, NeedTracker& needs, const LinkSigner& links,
                       Counters& counters, const LivePlugins& plugins, Clock now)
    : impl_(std::make_unique<Impl>(config, needs, links, counters, plugins, std::move(now))) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& listen, const std::filesystem::path& database) {
  auto& d = *impl_;
  auto store = open_sqlite_store(database, {.read_only = true});
  if (!store) return store.error();
  d.store = std::move(*store);
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{"start", "http.listen: \"" + listen + "\": not an IP address and port", ""};
  const auto port = static_cast<unsigned short>(std::stoul(listen.substr(colon + 1)));
  const tcp::endpoint endpoint(address, port);
  d.acceptor.open(endpoint.protocol(), ec);
  if (!ec) d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(endpoint, ec);
  if (!ec) d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"start", "http.listen: cannot listen on " + listen + ": " + ec.message(), ""};
  const auto bound = d.acceptor.local_endpoint();
  d.address =
      (bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string()) +
      ":" + std::to_string(bound.port());
  d.accept();
  d.thread = std::thread([&d] {
    name_this_thread("http");
    d.io.run();
  });
  d.log->info("listening address={}", d.address);
  return Done{};
}

std::string HttpServer::address() const { return impl_->address; }

void HttpServer::stop() {
  auto& d = *impl_;
  if (!d.thread.joinable()) return;
  asio::post(d.io, [&d] {
    boost::system::error_code ignored;
    d.acceptor.close(ignored);
  });
  d.io.stop();
  d.thread.join();
}

}  // namespace relais::daemon
