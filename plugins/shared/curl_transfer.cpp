#include "curl_transfer.hpp"

#include <sodium.h>

#include <filesystem>
#include <stdexcept>

#include "table.hpp"

namespace relais::curl {

namespace fs = std::filesystem;

void initialise_libraries() {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  static const bool sodium_ready = sodium_init() >= 0;
  if (!curl_ready) throw std::runtime_error("libcurl failed to initialise");
  if (!sodium_ready) throw std::runtime_error("libsodium failed to initialise");
}

Status read_transfer(const ConfigTable& table, Transfer& transfer) {
  using relais::table::read_into;
  for (const auto& status : {
           read_into([&] { return table.integer("timeout_ms"); }, transfer.timeout_ms),
           read_into([&] { return table.integer("connect_timeout_ms"); }, transfer.connect_timeout_ms),
           read_into([&] { return table.string("ca_file"); }, transfer.ca_file),
       }) {
    if (!status) return status.error();
  }
  return Done{};
}

Status check_transfer(const ConfigTable& table, Transfer& transfer) {
  const std::string range = "expected milliseconds from 1 to " + std::to_string(kMaxTimeoutMs);
  if (transfer.timeout_ms < 1 || transfer.timeout_ms > kMaxTimeoutMs) return table.error("timeout_ms", range);
  if (transfer.connect_timeout_ms < 1 || transfer.connect_timeout_ms > kMaxTimeoutMs) {
    return table.error("connect_timeout_ms", range);
  }
  if (!transfer.ca_file.empty()) {
    fs::path file(transfer.ca_file);
    if (file.is_relative()) file = fs::path(table.config_file()).parent_path() / file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      return table.error("ca_file",
                         "expected a file of CA certificates (PEM), found none at " + file.string());
    }
    transfer.ca_file = file.string();
  }
  return Done{};
}

Handle make_handle(const Transfer& transfer) {
  Handle handle(curl_easy_init());
  if (!handle) throw std::runtime_error("curl_easy_init failed");
  CURL* h = handle.get();
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(transfer.timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(transfer.connect_timeout_ms));
  if (!transfer.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, transfer.ca_file.c_str());
  return handle;
}

}  // namespace relais::curl
