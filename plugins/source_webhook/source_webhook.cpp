// source_webhook: posts from chat platforms that call a webhook, Telegram
// bots and Mattermost (or Slack) outgoing webhooks. One instance is one
// endpoint: it listens, checks the platform's secret, maps the payload to a
// post (mapping.cpp) and answers only once relaisd has acknowledged the post
// as stored, so that a platform that gets no 2xx sends it again and nothing
// is lost.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "http_server.hpp"
#include "mapping.hpp"
#include "relais/client.hpp"
#include "relais/plugin.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using relais::http::Request;
using relais::http::Response;

enum class Platform : std::uint8_t { telegram, mattermost };

struct WebhookConfig final : relais::PluginConfig {
  std::string listen;
  Platform platform = Platform::telegram;
  std::string path;
  std::string source;
  std::string channel;
  std::string secret;  // Telegram's secret_token, or Mattermost's token
  std::chrono::milliseconds submit_timeout{5000};
  std::int64_t retry_after_s = 5;
  std::size_t max_body_bytes = std::size_t{256} * 1024;
  std::string address_file;  // empty: none
};

Response error(int status, std::string_view code, std::string_view message) {
  return Response::json(status, json::serialize(json::object{{"error", code}, {"message", message}}) + "\n");
}

// Telegram's own rule for secret_token: it refuses any other, and a token
// it refuses is a webhook that never works.
bool telegram_token_chars(std::string_view s) {
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

class Log {
 public:
  explicit Log(relais::Logger* log) : log_(log) {}
  void operator()(relais::LogLevel level, const std::string& message) const {
    if (log_ != nullptr && log_->enabled(level)) log_->log(level, message);
  }
  relais::Logger* raw() const { return log_; }

 private:
  relais::Logger* log_;
};

class WebhookSource final : public relais::Source {
 public:
  WebhookSource(std::shared_ptr<const WebhookConfig> config, relais::Logger* log)
      : config_(std::move(config)), log_(log) {}

  void run(const relais::SourceEnvironment& env) override {
    relais::ClientOptions options;
    options.endpoint = env.endpoint;
    options.zmq_context = env.zmq_context;
    // Resend within the wait, so that one lost message does not turn into
    // a 503 and a retry by the platform.
    options.ack_timeout = std::max(std::chrono::milliseconds(50), config_->submit_timeout / 4);
    relais::Client client(options);
    std::mutex client_mutex;  // the client is not thread-safe; the server has threads

    relais::http::ServerOptions server_options;
    server_options.listen = config_->listen;
    server_options.max_body_bytes = config_->max_body_bytes;
    server_options.log = log_.raw();
    server_options.error_response = [](int status, const Request&) {
      switch (status) {
        case 413:
          return error(413, "too_large", "the request body is over max_body_bytes");
        case 431:
          return error(431, "too_large", "the request header is too large");
        case 503:
          return error(503, "busy", "too many connections");
        default:
          return error(status, "bad_request", "malformed HTTP request");
      }
    };
    auto server = relais::http::Server::start(
        server_options, [&](const Request& request) { return handle(request, client, client_mutex); });
    // Thrown, the daemon logs it and runs the source again after a backoff:
    // a port still held by the previous process is free a moment later.
    if (!server) throw std::runtime_error(server.error().message);
    const std::string address = (*server)->address();
    log_(relais::LogLevel::info, "listening address=" + address + " path=" + config_->path);
    if (!config_->address_file.empty()) write_address(address);
    (*server)->run_until(env.stop);
  }

 private:
  Response handle(const Request& request, relais::Client& client, std::mutex& client_mutex) {
    if (request.path != config_->path) return error(404, "not_found", "no webhook at this path");
    if (request.method != "POST") return error(405, "method", "use POST").with_header("Allow", "POST");

    relais::webhook::Mapped mapped;
    if (config_->platform == Platform::telegram) {
      // Before the body is even parsed: a stranger learns nothing.
      if (!request.has_header("X-Telegram-Bot-Api-Secret-Token"))
        return refuse(request, 401, "missing X-Telegram-Bot-Api-Secret-Token");
      if (!relais::http::constant_time_equals(config_->secret,
                                              request.header("X-Telegram-Bot-Api-Secret-Token")))
        return refuse(request, 403, "wrong X-Telegram-Bot-Api-Secret-Token");
      mapped = relais::webhook::from_telegram(request.body);
    } else {
      auto payload = relais::webhook::from_mattermost(request.header("Content-Type"), request.body);
      // A body we cannot read has no token to check: 400 or 415 first,
      // which tells a stranger nothing about the token.
      if (payload.mapped.outcome != relais::webhook::Mapped::Outcome::invalid ||
          payload.mapped.code == "missing_field") {
        if (payload.token.empty()) return refuse(request, 401, "missing token");
        if (!relais::http::constant_time_equals(config_->secret, payload.token))
          return refuse(request, 403, "wrong token");
      }
      mapped = std::move(payload.mapped);
    }

    using Outcome = relais::webhook::Mapped::Outcome;
    if (mapped.outcome == Outcome::invalid) {
      log_(relais::LogLevel::debug, "refused path=" + request.path + " code=" + mapped.code);
      return error(mapped.code == "unsupported_media_type" ? 415 : 400, mapped.code, mapped.message);
    }
    if (mapped.outcome == Outcome::ignored) {
      // 200: the platform would send it again and again otherwise.
      log_(relais::LogLevel::debug, "ignored path=" + request.path + " reason=" + mapped.code);
      return Response::json(200, "{}");
    }

    auto& post = mapped.post;
    post.source = config_->source;
    post.channel = config_->channel;
    relais::SubmitResult result;
    {
      const std::lock_guard lock(client_mutex);
      result = client.submit_and_wait(post, config_->submit_timeout);
    }
    switch (result.status) {
      case relais::SubmitStatus::stored:
      case relais::SubmitStatus::duplicate:
        log_(relais::LogLevel::debug,
             std::string(result.status == relais::SubmitStatus::stored ? "stored" : "duplicate") +
                 " post=" + std::to_string(result.post_id) + " external_id=" + post.external_id);
        return Response::json(200, "{}");
      case relais::SubmitStatus::rejected:
        log_(relais::LogLevel::warn, "relaisd refused a post external_id=" + post.external_id +
                                         " code=" + result.code + " field=" + result.field);
        // Telegram resends whatever is not a 2xx, and holds the chat's next
        // updates behind it: a post refused for good is answered 200 there.
        if (config_->platform == Platform::telegram) return Response::json(200, "{}");
        return error(422, result.code, result.message);
      case relais::SubmitStatus::gave_up:
        break;
    }
    log_(relais::LogLevel::warn, "relaisd did not acknowledge in time external_id=" + post.external_id +
                                     "; answering 503 so that the platform retries");
    return error(503, "unavailable", "relais could not store the post now; retry later")
        .with_header("Retry-After", std::to_string(config_->retry_after_s));
  }

  Response refuse(const Request& request, int status, const std::string& why) {
    // The address is the platform's server, or someone probing: worth a warning.
    log_(relais::LogLevel::warn,
         "refused path=" + request.path + " from=" + request.remote_address + ": " + why);
    return error(status, status == 401 ? "unauthorized" : "forbidden", why);
  }

  // Written whole, then renamed: a reader never sees half an address.
  void write_address(const std::string& address) const {
    const fs::path file(config_->address_file);
    const fs::path tmp = file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << address << "\n";
      if (!out) {
        log_(relais::LogLevel::error, "cannot write address_file " + file.string());
        return;
      }
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) log_(relais::LogLevel::error, "cannot write address_file " + file.string() + ": " + ec.message());
  }

  std::shared_ptr<const WebhookConfig> config_;
  Log log_;
};

// A secret from the table, inline or from a file (relative to relais.toml's
// folder; trailing whitespace, the file's newline, is not part of it).
relais::Expected<std::string> read_secret(const relais::ConfigTable& table, const std::string& key) {
  const std::string file_key = key + "_file";
  auto inline_value = table.string(key);
  if (!inline_value) return inline_value.error();
  auto file = table.string(file_key);
  if (!file) return file.error();
  if (*inline_value && *file) return table.error(file_key, "give " + key + " or " + file_key + ", not both");
  if (*inline_value) return **inline_value;
  if (!*file)
    return table.error("", key + " or " + file_key + " is required: the endpoint is not open to anyone");
  fs::path path(**file);
  if (path.is_relative()) path = fs::path(table.config_file()).parent_path() / path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return table.error(file_key, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() &&
         (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t'))
    secret.pop_back();
  return secret;
}

class WebhookFactory final : public relais::SourceFactory {
 public:
  relais::Expected<std::shared_ptr<const relais::PluginConfig>> configure(
      const relais::ConfigTable& table) const override {
    auto config = std::make_shared<WebhookConfig>();

    auto platform = table.string("platform");
    if (!platform) return platform.error();
    if (!*platform) return table.error("", "platform is required: \"telegram\" or \"mattermost\"");
    if (**platform == "telegram") {
      config->platform = Platform::telegram;
    } else if (**platform == "mattermost") {
      config->platform = Platform::mattermost;
    } else {
      return table.error("platform", "expected \"telegram\" or \"mattermost\" (also for Slack)");
    }

    auto listen = table.string("listen");
    if (!listen) return listen.error();
    if (!*listen) return table.error("", "listen is required, e.g. \"127.0.0.1:8090\"");
    if (auto parsed = relais::http::parse_listen(**listen); !parsed)
      return table.error("listen", parsed.error().message);
    config->listen = **listen;

    // `path` is the daemon's (the plugin's file): the URL's is `url_path`.
    auto path = table.string("url_path");
    if (!path) return path.error();
    if (!*path) return table.error("", "url_path is required, e.g. \"/telegram/entraide\"");
    if ((*path)->empty() || (*path)->front() != '/' || (*path)->find_first_of("?# ") != std::string::npos)
      return table.error("url_path", "expected a path starting with '/', without '?', '#' or spaces");
    config->path = **path;

    config->source = **platform;
    auto source = table.string("source");
    if (!source) return source.error();
    if (*source) {
      const auto& s = **source;
      const bool ok = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.' || c == ':';
      });
      if (!ok) return table.error("source", "expected 1 to 64 of A-Z a-z 0-9 _ - . :");
      config->source = s;
    }
    config->channel = config->source;
    auto channel = table.string("channel");
    if (!channel) return channel.error();
    if (*channel) {
      if ((*channel)->empty() || (*channel)->size() > 256)
        return table.error("channel", "expected 1 to 256 bytes");
      config->channel = **channel;
    }

    // Each platform's own word for its secret, so that the table reads
    // like the platform's documentation; the other platform's is refused.
    const std::string key = config->platform == Platform::telegram ? "secret_token" : "token";
    auto secret = read_secret(table, key);
    if (!secret) return secret.error();
    if (secret->empty()) return table.error(key, "is empty");
    if (config->platform == Platform::telegram && !telegram_token_chars(*secret))
      return table.error(key, "Telegram accepts 1 to 256 of A-Z a-z 0-9 _ - only");
    config->secret = std::move(*secret);

    auto timeout = table.integer("submit_timeout_ms");
    if (!timeout) return timeout.error();
    if (*timeout) {
      if (**timeout < 1 || **timeout > 60000) return table.error("submit_timeout_ms", "expected 1 to 60000");
      config->submit_timeout = std::chrono::milliseconds(**timeout);
    }
    auto retry_after = table.integer("retry_after_s");
    if (!retry_after) return retry_after.error();
    if (*retry_after) {
      if (**retry_after < 0 || **retry_after > 3600)
        return table.error("retry_after_s", "expected 0 to 3600");
      config->retry_after_s = **retry_after;
    }
    auto max_body = table.integer("max_body_bytes");
    if (!max_body) return max_body.error();
    if (*max_body) {
      if (**max_body < 1024 || **max_body > std::int64_t{16} * 1024 * 1024)
        return table.error("max_body_bytes", "expected 1024 to 16777216");
      config->max_body_bytes = static_cast<std::size_t>(**max_body);
    }
    auto address_file = table.string("address_file");
    if (!address_file) return address_file.error();
    if (*address_file) {
      fs::path p(**address_file);
      if (p.is_relative()) p = fs::path(table.config_file()).parent_path() / p;
      config->address_file = p.string();
    }

    auto finished = table.finish();
    if (!finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Source> create(std::shared_ptr<const relais::PluginConfig> config,
                                         const relais::PluginContext& context) const override {
    return std::make_unique<WebhookSource>(std::static_pointer_cast<const WebhookConfig>(std::move(config)),
                                           context.log);
  }
};

}  // namespace

RELAIS_SOURCE_PLUGIN("source_webhook", "1.0.0", WebhookFactory)
