// curl_transfer: what the sinks that reach their destinations through
// libcurl (sink_email, sink_webhook) share — the libraries' one global
// initialisation, owning handles, and the keys every transfer has
// (`timeout_ms`, `connect_timeout_ms`, `ca_file`), read, checked and
// applied the same way.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "relais/config_table.hpp"
#include "relais/expected.hpp"

namespace relais::curl {

// libcurl and libsodium each want one global initialisation, made before
// any other call and never undone: a plugin unloaded at reload must not
// pull the ground from under another one still using them. Throws if
// either fails.
void initialise_libraries();

struct HandleDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};
struct StringDeleter {
  void operator()(char* text) const noexcept { curl_free(text); }
};
using Handle = std::unique_ptr<CURL, HandleDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;
using Url = std::unique_ptr<CURLU, UrlDeleter>;
using String = std::unique_ptr<char, StringDeleter>;

inline constexpr std::int64_t kMaxTimeoutMs = 600'000;

struct Transfer {
  std::int64_t timeout_ms = 10'000;
  std::int64_t connect_timeout_ms = 5'000;
  std::string ca_file;  // empty: the system's certificate store
};

// Reads `timeout_ms`, `connect_timeout_ms` and `ca_file` into `transfer`
// (whose values are the defaults), before the table is finished.
Status read_transfer(const ConfigTable& table, Transfer& transfer);
// After the table is finished: the timeouts within range, `ca_file` made
// absolute (relative to the config file's folder) and present.
Status check_transfer(const ConfigTable& table, Transfer& transfer);

// A handle with the transfer's limits set, and no signals: the daemon has
// threads, and libcurl would time out with SIGALRM otherwise. Throws if
// libcurl cannot make one.
Handle make_handle(const Transfer& transfer);

}  // namespace relais::curl
