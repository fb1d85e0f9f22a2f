// sink_webhook: a delivery as a signed JSON POST to the destination's URL.
// The receiver checks the signature (HMAC-SHA256 over the timestamp and the
// body, with the destination's secret) and drops a duplicate by the
// delivery id header: the outbox sends a delivery again whenever it could
// not tell whether the last attempt arrived.
//
// One attempt per call: the outbox does the retrying. An instance keeps one
// curl handle, so that successive deliveries to the same receiver reuse
// its connection.
#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "curl_transfer.hpp"
#include "delivery_json.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"

namespace {

namespace fs = std::filesystem;
using relais::ConfigTable;
using relais::Delivery;
using relais::DeliveryResult;
using relais::DeliveryStatus;
using relais::Expected;
using relais::LogLevel;
using relais::curl::HeaderList;

// A receiver asking for a pause longer than this gets this: the outbox's
// own schedule is the judge past a day.
constexpr curl_off_t kMaxRetryAfterS = 86'400;

struct WebhookConfig final : relais::PluginConfig {
  relais::curl::Transfer transfer{10'000, 5'000, ""};
  std::string user_agent = "relais-sink-webhook/1.0";
  bool require_secret = false;
};

// A header value never holds a line break: it would end the header and let
// the value write headers of its own.
bool header_safe(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

void append_header(HeaderList& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  static_cast<void>(list.release());
  list.reset(grown);
}

// "v1=" and the lowercase hex of HMAC-SHA256(secret, timestamp "." body).
std::string signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  const auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes(secret), secret.size());
  crypto_auth_hmacsha256_update(&state, bytes(timestamp), timestamp.size());
  crypto_auth_hmacsha256_update(&state, bytes("."), 1);
  crypto_auth_hmacsha256_update(&state, bytes(body), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof state);
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string("v1=") + hex;
}

bool retryable_status(long status) {
  return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

// The response body is not read: the status says it all, and a receiver
// that talks on is cut off by the timeout.
std::size_t discard(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) {
  return size * count;
}

class WebhookSink final : public relais::Sink {
 public:
  WebhookSink(std::shared_ptr<const WebhookConfig> config, relais::Logger& log)
      : config_(std::move(config)), log_(log), handle_(relais::curl::make_handle(config_->transfer)) {
    const auto& c = *config_;
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_POST, 1L);
    set(CURLOPT_USERAGENT, c.user_agent.c_str());
    set(CURLOPT_WRITEFUNCTION, &discard);
    set(CURLOPT_ERRORBUFFER, error_.data());
  }

  DeliveryResult deliver(const Delivery& delivery) override {
    if (!header_safe(delivery.id)) return failed("the delivery id holds a line break");
    if (delivery.secret.empty() && config_->require_secret) {
      return failed("the destination has no secret to sign with (require_secret = true)");
    }
    const std::string body = relais::delivery_json::render(delivery);
    const std::string timestamp = std::to_string(std::time(nullptr));

    HeaderList headers;
    append_header(headers, "Content-Type: application/json");
    append_header(headers, "X-Relais-Delivery: " + delivery.id);
    append_header(headers, "X-Relais-Timestamp: " + timestamp);
    if (!delivery.secret.empty()) {
      append_header(headers, "X-Relais-Signature: " + signature(delivery.secret, timestamp, body));
    }
    append_header(headers, "Expect:");  // no 100-continue round trip before a large body

    set(CURLOPT_URL, delivery.address.c_str());
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    error_[0] = '\0';
    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(handle_.get());
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    // The handle outlives the headers and the body: it must not point at them.
    set(CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    set(CURLOPT_POSTFIELDS, static_cast<const char*>(nullptr));

    DeliveryResult result = code == CURLE_OK ? from_status() : from_transport(code);
    if (log_.enabled(LogLevel::debug)) {
      log_.log(LogLevel::debug, "delivery " + delivery.id + " attempt " + std::to_string(delivery.attempt) +
                                    ": " + (result.reason.empty() ? "delivered" : result.reason) + " in " +
                                    std::to_string(elapsed.count()) + " ms");
    }
    return result;
  }

  relais::Status check_address(std::string_view address) const override {
    const relais::Error refused{"address", "expected an http:// or https:// URL with a host", ""};
    if (!header_safe(address)) return refused;
    // libcurl is lenient with slashes ("https:///host"): a destination's
    // URL is written as people read it, scheme "://" host.
    const auto authority = address.find("://");
    if (authority == std::string_view::npos || authority + 3 >= address.size() ||
        address[authority + 3] == '/') {
      return refused;
    }
    relais::curl::Url url(curl_url());
    if (!url) throw std::bad_alloc();
    if (curl_url_set(url.get(), CURLUPART_URL, std::string(address).c_str(), 0) != CURLUE_OK) return refused;
    char* scheme_out = nullptr;
    char* host_out = nullptr;
    const bool has_scheme = curl_url_get(url.get(), CURLUPART_SCHEME, &scheme_out, 0) == CURLUE_OK;
    const relais::curl::String scheme(scheme_out);
    const bool has_host = curl_url_get(url.get(), CURLUPART_HOST, &host_out, 0) == CURLUE_OK;
    const relais::curl::String host(host_out);
    if (!has_scheme || !has_host || *host == '\0') return refused;
    const std::string_view s(scheme.get());
    if (s != "http" && s != "https") return refused;
    return relais::Done{};
  }

 private:
  template <class Value>
  void set(CURLoption option, Value value) {
    if (curl_easy_setopt(handle_.get(), option, value) != CURLE_OK) {
      throw std::runtime_error("libcurl refused option " + std::to_string(static_cast<int>(option)));
    }
  }

  static DeliveryResult failed(std::string reason) { return {DeliveryStatus::failed, std::move(reason), 0}; }

  DeliveryResult from_status() {
    long status = 0;
    curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299) return {DeliveryStatus::delivered, "", 0};
    std::string reason = "HTTP " + std::to_string(status);
    if (retryable_status(status)) {
      curl_off_t after = 0;
      // libcurl reads both forms of Retry-After, seconds and an HTTP date.
      if (curl_easy_getinfo(handle_.get(), CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after < 0) after = 0;
      after = std::min(after, kMaxRetryAfterS);
      if (after > 0) reason += " (retry after " + std::to_string(after) + " s)";
      return {DeliveryStatus::retry, std::move(reason), static_cast<std::uint32_t>(after)};
    }
    if (status >= 300 && status <= 399) reason += " (redirects are not followed)";
    return failed(std::move(reason));
  }

  DeliveryResult from_transport(CURLcode code) const {
    std::string detail = error_[0] != '\0' ? std::string(error_.data()) : curl_easy_strerror(code);
    // Only a URL that can never work is permanent; anything on the way
    // (DNS, refused, reset, timeout, TLS) may heal.
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) return failed(std::move(detail));
    return {DeliveryStatus::retry, std::move(detail), 0};
  }

  std::shared_ptr<const WebhookConfig> config_;
  relais::Logger& log_;
  relais::curl::Handle handle_;
  std::array<char, CURL_ERROR_SIZE> error_{};
};

using relais::table::read_into;

class WebhookFactory final : public relais::SinkFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<WebhookConfig>();
    for (const auto& status : {
             relais::curl::read_transfer(table, config->transfer),
             read_into([&] { return table.string("user_agent"); }, config->user_agent),
             read_into([&] { return table.boolean("require_secret"); }, config->require_secret),
         }) {
      if (!status) return status.error();
    }
    if (auto finished = table.finish(); !finished) return finished.error();

    if (auto checked = relais::curl::check_transfer(table, config->transfer); !checked)
      return checked.error();
    if (config->user_agent.empty() || !header_safe(config->user_agent)) {
      return table.error("user_agent", "expected a non-empty string on one line");
    }
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Sink> create(std::shared_ptr<const relais::PluginConfig> config,
                                       const relais::PluginContext& context) const override {
    relais::curl::initialise_libraries();
    return std::make_unique<WebhookSink>(std::static_pointer_cast<const WebhookConfig>(std::move(config)),
                                         *context.log);
  }
};

}  // namespace

RELAIS_SINK_PLUGIN("sink_webhook", "1.0.0", WebhookFactory)
