// source_webform: the web form residents post needs and offers with, served
// by the plugin's own HTTP server (plugins/shared/http_server). A visitor's
// answer is acknowledged only once relaisd has stored it: the page waits for
// the acknowledgement, and when none comes in time it says so and keeps the
// answers, whose resend is then stored once (the form's nonce is the post's
// external_id).
#include <sodium.h>

#include <toml++/toml.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "app.hpp"
#include "files.hpp"
#include "http_server.hpp"
#include "relais/client.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"

namespace {

namespace fs = std::filesystem;
using relais::ConfigTable;
using relais::Expected;
using relais::LogLevel;
using relais::Status;
using relais::webform::Choice;

struct WebformConfig final : relais::PluginConfig {
  relais::webform::AppSettings app;
  std::string listen = "127.0.0.1:8090";
  std::size_t max_body_bytes = std::size_t{32} * 1024;
  std::chrono::milliseconds submit_timeout{5000};
  double rate_per_minute = 6.0;
  double rate_burst = 10.0;
  unsigned threads = 4;
  std::string secret;        // from `secret`: wins over the key file
  fs::path secret_file;      // empty: source_webform.key in the state directory
  std::string address_file;  // relative to the state directory
  std::string endpoint;      // empty: the daemon's own ingest
};

std::string region(const std::string& file, const toml::source_region& where) {
  return file + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

// The areas of the network file's [[area]] tables, grouped by city, and
// the categories its destinations handle, in the order first named.
Status read_network(const ConfigTable& table, const fs::path& file, std::vector<Choice>& areas,
                    std::vector<std::string>& categories, std::string& name) {
  toml::table doc;
  try {
    doc = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return table.error("network", region(file.string(), e.source()) + ": " + std::string(e.description()));
  }
  if (const auto* network = doc["network"].as_table()) {
    if (const auto* n = network->get_as<std::string>("name")) name = n->get();
  }
  const auto bad = [&](const toml::node& node, const std::string& what) {
    return table.error("network", region(file.string(), node.source()) + ": " + what);
  };
  if (const auto* list = doc["area"].as_array()) {
    for (const auto& node : *list) {
      const auto* area = node.as_table();
      if (area == nullptr) return bad(node, "area: expected a table");
      const auto* id = area->get_as<std::string>("id");
      if (id == nullptr || id->get().empty()) return bad(node, "area: `id` missing");
      const auto* label = area->get_as<std::string>("name");
      const auto* city = area->get_as<std::string>("city");
      const std::string text = label != nullptr ? label->get() : id->get();
      areas.push_back({id->get(), text, text, city != nullptr ? city->get() : std::string()});
    }
  }
  // Areas of one city together, cities in the order first met.
  std::stable_sort(areas.begin(), areas.end(), [&](const Choice& a, const Choice& b) {
    const auto rank = [&](const std::string& group) {
      return std::find_if(areas.begin(), areas.end(), [&](const Choice& c) { return c.group == group; }) -
             areas.begin();
    };
    return rank(a.group) < rank(b.group);
  });
  if (const auto* list = doc["destination"].as_array()) {
    for (const auto& node : *list) {
      const auto* destination = node.as_table();
      const auto* handled = destination != nullptr ? destination->get_as<toml::array>("categories") : nullptr;
      if (handled == nullptr) continue;
      for (const auto& c : *handled) {
        const auto* id = c.as_string();
        if (id != nullptr && std::find(categories.begin(), categories.end(), id->get()) == categories.end())
          categories.push_back(id->get());
      }
    }
  }
  return relais::Done{};
}

// A category's labels: the built-in ones of the default taxonomy, else
// "id=Libellé|Label" from the table, else the id itself.
Expected<Choice> category_choice(const ConfigTable& table, const std::string& entry) {
  const auto eq = entry.find('=');
  const std::string id = entry.substr(0, eq);
  if (id.empty()) return table.error("categories", "\"" + entry + "\": no id before '='");
  if (eq != std::string::npos) {
    const std::string labels = entry.substr(eq + 1);
    const auto bar = labels.find('|');
    const std::string fr = labels.substr(0, bar);
    const std::string en = bar == std::string::npos ? fr : labels.substr(bar + 1);
    if (fr.empty() || en.empty()) return table.error("categories", "\"" + entry + "\": an empty label");
    return Choice{id, fr, en, ""};
  }
  if (const auto* known = relais::webform::find_choice(relais::webform::default_categories(), id))
    return *known;
  std::string label = id;
  std::replace(label.begin(), label.end(), '_', ' ');
  return Choice{id, label, label, ""};
}

template <class T>
Status read_range(const ConfigTable& table, std::string_view key, T& into, std::int64_t min,
                  std::int64_t max) {
  auto value = table.integer(key);
  if (!value) return value.error();
  if (!*value) return relais::Done{};
  if (**value < min || **value > max)
    return table.error(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  into = static_cast<T>(**value);
  return relais::Done{};
}

Expected<std::shared_ptr<const relais::PluginConfig>> configure_webform(const ConfigTable& table) {
  auto config = std::make_shared<WebformConfig>();
  auto& app = config->app;
  auto& site = app.site;
  const fs::path base = relais::files::base_directory(table);

  if (auto s = relais::table::read_into([&] { return table.string("listen"); }, config->listen); !s)
    return s.error();
  if (auto parsed = relais::http::parse_listen(config->listen); !parsed)
    return table.error("listen", parsed.error().message);

  std::vector<std::string> category_ids;
  std::string network_name;
  auto network = table.string("network");
  if (!network) return network.error();
  if (*network) {
    const fs::path file = base / **network;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return table.error("network", file.string() + ": no such file");
    if (auto s = read_network(table, file, site.rules.areas, category_ids, network_name); !s)
      return s.error();
  }
  auto areas = table.strings("areas");
  if (!areas) return areas.error();
  if (*areas) {
    site.rules.areas.clear();
    for (const auto& entry : **areas) {
      const auto eq = entry.find('=');
      if (eq == 0 || eq == std::string::npos || eq + 1 == entry.size())
        return table.error("areas", "\"" + entry + "\": expected \"id=Label\"");
      site.rules.areas.push_back({entry.substr(0, eq), entry.substr(eq + 1), entry.substr(eq + 1), ""});
    }
  }
  auto categories = table.strings("categories");
  if (!categories) return categories.error();
  if (*categories) category_ids = **categories;
  if (category_ids.empty()) {
    for (const auto& c : relais::webform::default_categories()) category_ids.push_back(c.id);
  }
  for (const auto& entry : category_ids) {
    auto choice = category_choice(table, entry);
    if (!choice) return choice.error();
    if (relais::webform::find_choice(site.rules.categories, choice->id) != nullptr)
      return table.error("categories", "\"" + choice->id + "\" named twice");
    site.rules.categories.push_back(std::move(*choice));
  }

  site.title = network_name.empty() ? "relais" : network_name;
  for (auto [key, into] :
       {std::pair{"title", &site.title}, std::pair{"controller", &site.controller},
        std::pair{"follow_up", &site.follow_up}, std::pair{"privacy_url", &site.privacy_url},
        std::pair{"source", &app.source}, std::pair{"address_file", &config->address_file},
        std::pair{"secret", &config->secret}, std::pair{"endpoint", &config->endpoint}}) {
    if (auto s = relais::table::read_into([&, k = key] { return table.string(k); }, *into); !s)
      return s.error();
  }
  if (site.title.empty()) return table.error("title", "must not be empty");
  if (site.controller.empty()) site.controller = site.title;
  if (app.source.empty() || app.source.size() > 64)
    return table.error("source", "expected 1 to 64 characters");
  if (!site.privacy_url.empty() && site.privacy_url.rfind("https://", 0) != 0 &&
      site.privacy_url.rfind("http://", 0) != 0 && site.privacy_url.front() != '/')
    return table.error("privacy_url", "expected an http(s) URL or a path");
  // Another relaisd's ingest socket on this host; tcp:// would need CURVE
  // keys the form does not have.
  if (!config->endpoint.empty() && (config->endpoint.rfind("ipc://", 0) != 0 || config->endpoint.size() <= 6))
    return table.error("endpoint", "expected an ipc:// endpoint (another relaisd's ingest socket)");
  if (!config->secret.empty() && config->secret.size() < 16)
    return table.error("secret", "too short: at least 16 characters");

  auto default_lang = table.string("default_lang");
  if (!default_lang) return default_lang.error();
  if (*default_lang) {
    const auto lang = relais::webform::parse_lang(**default_lang);
    if (!lang) return table.error("default_lang", "expected \"fr\" or \"en\"");
    app.default_lang = *lang;
  }
  auto secret_file = table.string("secret_file");
  if (!secret_file) return secret_file.error();
  if (*secret_file) config->secret_file = base / **secret_file;

  std::int64_t timeout_ms = config->submit_timeout.count();
  std::int64_t retry_after = app.retry_after.count();
  if (auto s = read_range(table, "max_description_chars", site.rules.max_description_chars, 100, 20000); !s)
    return s.error();
  if (auto s = read_range(table, "max_body_bytes", config->max_body_bytes, 4096, 1 << 20); !s)
    return s.error();
  if (auto s = read_range(table, "token_ttl_s", app.token_ttl_seconds, 300, std::int64_t{7} * 86400); !s)
    return s.error();
  if (auto s = read_range(table, "submit_timeout_ms", timeout_ms, 1, 120000); !s) return s.error();
  if (auto s = read_range(table, "retry_after_s", retry_after, 1, 3600); !s) return s.error();
  if (auto s = read_range(table, "threads", config->threads, 1, 64); !s) return s.error();
  config->submit_timeout = std::chrono::milliseconds(timeout_ms);
  app.retry_after = std::chrono::seconds(retry_after);
  // The body holds every field at its longest, percent-encoded (up to
  // three bytes a byte, four bytes a character): a limit below that would
  // turn a valid form into a 413.
  if (config->max_body_bytes < 4096 + 12 * site.rules.max_description_chars)
    return table.error("max_body_bytes", "too small for max_description_chars: at least " +
                                             std::to_string(4096 + 12 * site.rules.max_description_chars));

  auto rate = table.number("rate_per_minute");
  if (!rate) return rate.error();
  if (*rate) {
    if (**rate <= 0.0 || **rate > 6000.0)
      return table.error("rate_per_minute", "expected a number in (0, 6000]");
    config->rate_per_minute = **rate;
  }
  std::int64_t burst = static_cast<std::int64_t>(config->rate_burst);
  if (auto s = read_range(table, "rate_burst", burst, 1, 10000); !s) return s.error();
  config->rate_burst = static_cast<double>(burst);

  auto proxies = table.strings("trusted_proxies");
  if (!proxies) return proxies.error();
  if (*proxies) {
    for (const auto& proxy : **proxies) {
      // An address as the server reports a peer's: an IP literal, no port.
      auto parsed = relais::http::parse_listen(proxy.find(':') == std::string::npos ? proxy + ":0"
                                                                                    : "[" + proxy + "]:0");
      if (!parsed || parsed->host != proxy)
        return table.error("trusted_proxies", "\"" + proxy + "\": expected an IP address");
    }
    app.trusted_proxies = **proxies;
  }

  auto secure = table.boolean("cookie_secure");
  if (!secure) return secure.error();
  if (*secure) app.cookie_secure = **secure;

  if (auto finished = table.finish(); !finished) return finished.error();
  return std::shared_ptr<const relais::PluginConfig>(std::move(config));
}

// Clients are not thread-safe and the server runs handlers on several
// threads: each submission borrows an idle client, or makes one.
class ClientPool {
 public:
  explicit ClientPool(relais::ClientOptions options) : options_(std::move(options)) {}

  relais::webform::SubmitOutcome submit(const relais::Post& post, std::chrono::milliseconds timeout) {
    std::unique_ptr<relais::Client> client;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        client = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!client) client = std::make_unique<relais::Client>(options_);
    const auto result = client->submit_and_wait(post, timeout);
    using relais::webform::SubmitOutcome;
    SubmitOutcome outcome;
    switch (result.status) {
      case relais::SubmitStatus::stored:
      case relais::SubmitStatus::duplicate:
        outcome.status = SubmitOutcome::Status::stored;
        outcome.post_id = result.post_id;
        break;
      case relais::SubmitStatus::rejected:
        outcome.status = SubmitOutcome::Status::refused;
        outcome.field = result.field;
        outcome.message = result.message;
        break;
      case relais::SubmitStatus::gave_up:
        outcome.status = SubmitOutcome::Status::unavailable;
        break;
    }
    // A client still waiting for an acknowledgement would hand it to the
    // next visitor's wait: it goes, and its post with it (the visitor's
    // resend is the retry).
    if (outcome.status != SubmitOutcome::Status::unavailable && client->in_flight() == 0) {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(client));
    }
    return outcome;
  }

 private:
  relais::ClientOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<relais::Client>> idle_;
};

class WebformSource final : public relais::Source {
 public:
  WebformSource(std::shared_ptr<const WebformConfig> config, const relais::PluginContext& context)
      : config_(std::move(config)), log_(*context.log), state_dir_(context.state_directory) {
    if (sodium_init() < 0) throw std::runtime_error("source_webform: libsodium cannot be initialised");
  }

  void run(const relais::SourceEnvironment& env) override {
    // Read here rather than when the instance is made: `relaisd
    // --check-config` makes instances too, and must leave no file behind.
    const relais::webform::Key key = load_key();
    relais::ClientOptions options;
    options.endpoint = config_->endpoint.empty() ? env.endpoint : config_->endpoint;
    options.zmq_context = env.zmq_context;
    options.ack_timeout = std::chrono::milliseconds(500);
    ClientPool pool(options);
    relais::http::RateLimiter limiter({config_->rate_per_minute / 60.0, config_->rate_burst, 10000});

    const auto timeout = config_->submit_timeout;
    relais::webform::App app(
        config_->app, key, [&](const relais::Post& post) { return pool.submit(post, timeout); },
        [&](const std::string& address) {
          if (limiter.allow(address)) return std::chrono::seconds(0);
          return std::max(std::chrono::seconds(1),
                          limiter.retry_after(address, relais::http::RateLimiter::Clock::now()));
        },
        log_);

    relais::http::ServerOptions server_options;
    server_options.listen = config_->listen;
    server_options.max_body_bytes = config_->max_body_bytes;
    server_options.threads = config_->threads;
    server_options.log = &log_;
    server_options.error_response = [&](int status, const relais::http::Request& r) {
      return app.server_error(status, r);
    };
    auto server = relais::http::Server::start(server_options,
                                              [&](const relais::http::Request& r) { return app.handle(r); });
    if (!server) throw std::runtime_error("source_webform: " + server.error().message);
    const std::string url = "http://" + (*server)->address() + "/";
    log_.log(LogLevel::info, "web form at " + url);
    if (!config_->address_file.empty()) write_address(url);

    std::mutex mutex;
    std::condition_variable_any stopped;
    std::unique_lock lock(mutex);
    // The stop token's callback wakes the wait; nothing else ever does.
    stopped.wait(lock, env.stop, [] { return false; });
    lock.unlock();
    (*server)->stop();
    const auto& c = app.counters();
    log_.log(LogLevel::info, "web form stopped: " + std::to_string(c.stored.load()) + " stored, " +
                                 std::to_string(c.invalid.load()) + " invalid, " +
                                 std::to_string(c.forbidden.load()) + " forbidden, " +
                                 std::to_string(c.honeypot.load()) + " honeypot, " +
                                 std::to_string(c.limited.load()) + " rate-limited, " +
                                 std::to_string(c.unavailable.load()) + " unacknowledged");
  }

 private:
  relais::webform::Key load_key() const {
    if (!config_->secret.empty()) return relais::webform::Key::from_secret(config_->secret);
    const fs::path file =
        config_->secret_file.empty() ? state_dir_ / "source_webform.key" : config_->secret_file;
    auto key = relais::webform::Key::load_or_create(file);
    if (!key) throw std::runtime_error("source_webform: " + key.error().message);
    return *key;
  }

  // Written whole then renamed, so that a reader never sees half a URL.
  void write_address(const std::string& url) const {
    const fs::path file = state_dir_ / config_->address_file;
    const fs::path tmp = fs::path(file.string() + ".tmp");
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << url << "\n";
      if (!out) throw std::runtime_error("source_webform: cannot write " + tmp.string());
    }
    fs::rename(tmp, file);
  }

  std::shared_ptr<const WebformConfig> config_;
  relais::Logger& log_;
  fs::path state_dir_;
};

class WebformFactory final : public relais::SourceFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    return configure_webform(table);
  }
  std::unique_ptr<relais::Source> create(std::shared_ptr<const relais::PluginConfig> config,
                                         const relais::PluginContext& context) const override {
    return std::make_unique<WebformSource>(std::static_pointer_cast<const WebformConfig>(std::move(config)),
                                           context);
  }
};

}  // namespace

RELAIS_SOURCE_PLUGIN("source_webform", "1.0.0", WebformFactory)
