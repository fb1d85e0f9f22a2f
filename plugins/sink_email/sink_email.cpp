// sink_email: a delivery as an e-mail, through an SMTP server. The message
// is worded by a template per purpose and language (French and English
// built in, others or overrides from a directory) and carries the need, the
// poster's contact when the destination may see it, why it was sent there,
// and the signed links to claim, decline or resolve it.
//
// Its Message-ID comes from the delivery id, so that a message sent again
// after an attempt the outbox could not confirm is the same message to the
// receiving mail system and to the people reading it. One attempt per call;
// an instance keeps one curl handle, so that its SMTP connection is reused.
#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "curl_transfer.hpp"
#include "message.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"
#include "templates.hpp"

namespace {

namespace fs = std::filesystem;
using relais::ConfigTable;
using relais::Delivery;
using relais::DeliveryResult;
using relais::DeliveryStatus;
using relais::Expected;
using relais::LogLevel;

enum class StartTls : std::uint8_t { off, opportunistic, required };

struct EmailConfig final : relais::PluginConfig {
  std::string server;  // smtp://host[:port][/ehlo-name] or smtps://...
  bool implicit_tls = false;
  StartTls starttls = StartTls::opportunistic;
  std::string username;
  std::string password;
  std::string from;
  std::string from_name;
  std::string message_id_domain;
  std::string lang = "fr";
  relais::curl::Transfer transfer{30'000, 10'000, ""};
  std::shared_ptr<const relais::email::Templates> templates;
};

// The part of a URL libcurl parsed, or empty.
std::string url_part(CURLU* url, CURLUPart part) {
  char* out = nullptr;
  if (curl_url_get(url, part, &out, 0) != CURLUE_OK) return {};
  const relais::curl::String owned(out);
  return owned ? std::string(owned.get()) : std::string();
}

// The message, handed to libcurl as it asks for it.
std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* rest = static_cast<std::string_view*>(user);
  const std::size_t n = std::min(size * count, rest->size());
  std::memcpy(buffer, rest->data(), n);
  rest->remove_prefix(n);
  return n;
}

class EmailSink final : public relais::Sink {
 public:
  EmailSink(std::shared_ptr<const EmailConfig> config, relais::Logger& log)
      : config_(std::move(config)), log_(log), handle_(relais::curl::make_handle(config_->transfer)) {
    const auto& c = *config_;
    set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    set(CURLOPT_URL, c.server.c_str());
    set(CURLOPT_MAIL_FROM, envelope_from_.c_str());
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_READFUNCTION, &read_message);
    set(CURLOPT_READDATA, &upload_);
    set(CURLOPT_ERRORBUFFER, error_.data());
    if (!c.implicit_tls) {
      set(CURLOPT_USE_SSL, c.starttls == StartTls::required        ? static_cast<long>(CURLUSESSL_ALL)
                           : c.starttls == StartTls::opportunistic ? static_cast<long>(CURLUSESSL_TRY)
                                                                   : static_cast<long>(CURLUSESSL_NONE));
    }
    if (!c.username.empty()) {
      set(CURLOPT_USERNAME, c.username.c_str());
      set(CURLOPT_PASSWORD, c.password.c_str());
    }
  }

  DeliveryResult deliver(const Delivery& delivery) override {
    const auto& c = *config_;
    if (!relais::email::plausible_address(delivery.address)) {
      return failed("the address is not a plausible e-mail address");
    }
    const std::string lang = c.templates->language_for(delivery.purpose, delivery.lang, c.lang);
    const auto& wording = c.templates->at(delivery.purpose, lang);
    const auto values = relais::email::values_of(delivery, lang);
    relais::email::MessageParts parts;
    parts.from = c.from;
    parts.from_name = c.from_name;
    parts.to = delivery.address;
    parts.subject = wording.subject(values);
    parts.delivery_id = delivery.id;
    parts.message_id_domain = c.message_id_domain;
    parts.date = std::time(nullptr);
    parts.body = wording.body(values);
    auto message = relais::email::build_message(parts);
    if (!message) return failed(message.error().message);

    relais::curl::HeaderList recipients(curl_slist_append(nullptr, ("<" + delivery.address + ">").c_str()));
    if (!recipients) throw std::bad_alloc();
    set(CURLOPT_MAIL_RCPT, recipients.get());
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message->size()));
    upload_ = *message;
    error_[0] = '\0';
    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(handle_.get());
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    // The handle outlives the recipients and the message: it must not point at them.
    set(CURLOPT_MAIL_RCPT, static_cast<curl_slist*>(nullptr));
    upload_ = {};

    DeliveryResult result = outcome(code);
    if (log_.enabled(LogLevel::debug)) {
      log_.log(LogLevel::debug, "delivery " + delivery.id + " attempt " + std::to_string(delivery.attempt) +
                                    " (" + lang +
                                    "): " + (result.reason.empty() ? "delivered" : result.reason) + " in " +
                                    std::to_string(elapsed.count()) + " ms");
    }
    return result;
  }

  relais::Status check_address(std::string_view address) const override {
    if (relais::email::plausible_address(address)) return relais::Done{};
    return relais::Error{
        "address", "expected an e-mail address local@domain (ASCII, one '@', no spaces or line breaks)", ""};
  }

 private:
  template <class Value>
  void set(CURLoption option, Value value) {
    if (curl_easy_setopt(handle_.get(), option, value) != CURLE_OK) {
      throw std::runtime_error("libcurl refused option " + std::to_string(static_cast<int>(option)));
    }
  }

  static DeliveryResult failed(std::string reason) { return {DeliveryStatus::failed, std::move(reason), 0}; }

  // The server's last reply decides: 5xx is permanent, 4xx transient; no
  // reply at all (refused, reset, timed out) is transient too.
  DeliveryResult outcome(CURLcode code) const {
    if (code == CURLE_OK) return {DeliveryStatus::delivered, "", 0};
    long reply = 0;
    curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &reply);
    if (reply >= 500 && reply <= 599) return failed("SMTP " + std::to_string(reply));
    if (reply >= 400 && reply <= 499) return {DeliveryStatus::retry, "SMTP " + std::to_string(reply), 0};
    std::string detail = error_[0] != '\0' ? std::string(error_.data()) : curl_easy_strerror(code);
    return {DeliveryStatus::retry, std::move(detail), 0};
  }

  std::shared_ptr<const EmailConfig> config_;
  relais::Logger& log_;
  relais::curl::Handle handle_;
  std::string envelope_from_ = "<" + config_->from + ">";
  std::string_view upload_;
  std::array<char, CURL_ERROR_SIZE> error_{};
};

using relais::table::read_into;

fs::path beside_config(const ConfigTable& table, const std::string& file) {
  fs::path path(file);
  return path.is_relative() ? fs::path(table.config_file()).parent_path() / path : path;
}

// server: smtp:// or smtps://, with a host.
relais::Status read_server(const ConfigTable& table, EmailConfig& config) {
  auto server = table.string("server");
  if (!server) return server.error();
  const auto refused = [&] {
    return table.error("server",
                       "expected an smtp:// or smtps:// URL with a host, e.g. \"smtp://127.0.0.1:25\"");
  };
  if (!*server) return refused();
  relais::curl::Url url(curl_url());
  if (!url) throw std::bad_alloc();
  if (!relais::email::header_safe(**server) ||
      curl_url_set(url.get(), CURLUPART_URL, (*server)->c_str(), 0) != CURLUE_OK) {
    return refused();
  }
  const std::string scheme = url_part(url.get(), CURLUPART_SCHEME);
  if ((scheme != "smtp" && scheme != "smtps") || url_part(url.get(), CURLUPART_HOST).empty()) {
    return refused();
  }
  config.server = **server;
  config.implicit_tls = scheme == "smtps";
  return relais::Done{};
}

relais::Status read_starttls(const ConfigTable& table, EmailConfig& config) {
  auto starttls = table.string("starttls");
  if (!starttls) return starttls.error();
  if (!*starttls) return relais::Done{};
  if (config.implicit_tls) {
    return table.error("starttls", "smtps:// is TLS from the first byte: starttls applies to smtp:// only");
  }
  if (**starttls == "off") {
    config.starttls = StartTls::off;
  } else if (**starttls == "opportunistic") {
    config.starttls = StartTls::opportunistic;
  } else if (**starttls == "required") {
    config.starttls = StartTls::required;
  } else {
    return table.error("starttls", "expected \"required\", \"opportunistic\" or \"off\"");
  }
  return relais::Done{};
}

relais::Status read_credentials(const ConfigTable& table, EmailConfig& config) {
  std::string password_file;
  for (const auto& status : {
           read_into([&] { return table.string("username"); }, config.username),
           read_into([&] { return table.string("password_file"); }, password_file),
       }) {
    if (!status) return status.error();
  }
  if (config.username.empty() != password_file.empty()) {
    return table.error(config.username.empty() ? "password_file" : "username",
                       "expected both username and password_file, or neither");
  }
  if (config.username.empty()) return relais::Done{};
  if (!config.implicit_tls && config.starttls != StartTls::required) {
    return table.error("username",
                       "a password must not cross in clear: use smtps:// or starttls = \"required\"");
  }
  const fs::path file = beside_config(table, password_file);
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return table.error("password_file", "cannot read " + file.string());
  config.password = text.str();
  // The file's final line break is not part of the password.
  while (!config.password.empty() && (config.password.back() == '\n' || config.password.back() == '\r')) {
    config.password.pop_back();
  }
  if (config.password.empty()) return table.error("password_file", file.string() + " is empty");
  return relais::Done{};
}

relais::Status read_templates(const ConfigTable& table, EmailConfig& config) {
  std::string directory;
  if (auto read = read_into([&] { return table.string("templates"); }, directory); !read) return read.error();
  auto templates = std::make_shared<relais::email::Templates>();
  if (!directory.empty()) {
    if (auto loaded = templates->load_directory(beside_config(table, directory)); !loaded) {
      return table.error("templates", loaded.error().message);
    }
  }
  if (!templates->complete(config.lang)) {
    return table.error("lang",
                       "expected a language with a template for every purpose (\"fr\", \"en\", or one "
                       "completed by the templates directory)");
  }
  config.templates = std::move(templates);
  return relais::Done{};
}

class EmailFactory final : public relais::SinkFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<EmailConfig>();
    for (const auto& status : {
             read_server(table, *config),
             read_starttls(table, *config),
             read_credentials(table, *config),
             read_into([&] { return table.string("from"); }, config->from),
             read_into([&] { return table.string("from_name"); }, config->from_name),
             read_into([&] { return table.string("message_id_domain"); }, config->message_id_domain),
             read_into([&] { return table.string("lang"); }, config->lang),
             read_templates(table, *config),
             relais::curl::read_transfer(table, config->transfer),
         }) {
      if (!status) return status.error();
    }
    if (auto finished = table.finish(); !finished) return finished.error();

    if (!relais::email::plausible_address(config->from)) {
      return table.error("from", "expected the sender's e-mail address, local@domain");
    }
    if (!relais::email::header_safe(config->from_name)) {
      return table.error("from_name", "expected a name on one line");
    }
    if (config->message_id_domain.empty()) {
      config->message_id_domain = std::string(relais::email::domain_of(config->from));
    } else if (!relais::email::plausible_domain(config->message_id_domain)) {
      return table.error("message_id_domain", "expected a domain name, e.g. \"relais.example.org\"");
    }
    if (auto checked = relais::curl::check_transfer(table, config->transfer); !checked)
      return checked.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Sink> create(std::shared_ptr<const relais::PluginConfig> config,
                                       const relais::PluginContext& context) const override {
    relais::curl::initialise_libraries();
    return std::make_unique<EmailSink>(std::static_pointer_cast<const EmailConfig>(std::move(config)),
                                       *context.log);
  }
};

}  // namespace

RELAIS_SINK_PLUGIN("sink_email", "1.0.0", EmailFactory)
