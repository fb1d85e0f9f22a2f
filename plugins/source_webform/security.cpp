#include "security.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace relais::webform {
namespace {

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string out(2 * size + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Crockford's base32: no I, L, O or U, so a reference read aloud or copied
// by hand has fewer look-alikes.
constexpr std::string_view kBase32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// A weighted sum of the digits modulo a prime, with distinct weights: a
// changed digit or two swapped neighbours change it.
unsigned check_value(std::string_view digits) {
  constexpr unsigned kPrime = 1021;
  unsigned sum = 0;
  unsigned weight = 3;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    sum = (sum + static_cast<unsigned>(*it - '0') * weight) % kPrime;
    weight = (weight * 3) % kPrime;
  }
  return sum;
}

std::string check_chars(std::string_view digits) {
  const unsigned v = check_value(digits);
  return {kBase32[v / 32], kBase32[v % 32]};
}

}  // namespace

Expected<Key> Key::load_or_create(const std::filesystem::path& file) {
  Key key;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    randombytes_buf(key.bytes_.data(), key.bytes_.size());
    const std::string hex = to_hex(key.bytes_.data(), key.bytes_.size()) + "\n";
    // O_EXCL: two instances starting together keep the first key written.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const auto written = ::write(fd, hex.data(), hex.size());
      const bool ok = written == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return Error{"config", file.string() + ": cannot write the form key", ""};
      return key;
    }
    if (errno != EEXIST)
      return Error{"config",
                   file.string() + ": cannot create the form key: " +
                       std::error_code(errno, std::generic_category()).message(),
                   ""};
  }
  std::ifstream in(file);
  std::string hex;
  if (!(in >> hex) || hex.size() != 64 || !is_hex(hex))
    return Error{"config", file.string() + ": not a form key (64 hexadecimal digits)", ""};
  std::size_t length = 0;
  if (sodium_hex2bin(key.bytes_.data(), key.bytes_.size(), hex.data(), hex.size(), nullptr, &length,
                     nullptr) != 0 ||
      length != key.bytes_.size())
    return Error{"config", file.string() + ": not a form key (64 hexadecimal digits)", ""};
  return key;
}

Key Key::from_secret(std::string_view secret) {
  Key key;
  crypto_hash_sha256(key.bytes_.data(), bytes_of(secret), secret.size());
  return key;
}

std::string Key::mac_hex(std::string_view domain, std::string_view message, std::size_t bytes) const {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes_.data(), bytes_.size());
  crypto_auth_hmacsha256_update(&state, bytes_of(domain), domain.size());
  crypto_auth_hmacsha256_update(&state, bytes_of("|"), 1);
  crypto_auth_hmacsha256_update(&state, bytes_of(message), message.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof state);
  return to_hex(mac, std::min<std::size_t>(bytes, sizeof mac));
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  randombytes_buf(buffer.data(), buffer.size());
  return to_hex(buffer.data(), buffer.size());
}

std::string sign_csrf(const Key& key, std::string_view cookie, std::string_view nonce, std::int64_t now) {
  const std::string head = std::to_string(now) + "." + std::string(nonce);
  return head + "." + key.mac_hex("csrf", std::string(cookie) + "|" + head);
}

CsrfCheck check_csrf(const Key& key, std::string_view cookie, std::string_view token, std::int64_t now,
                     std::int64_t ttl_seconds) {
  CsrfCheck out;
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (cookie.empty() || second == std::string_view::npos) return out;
  const auto time = token.substr(0, first);
  const auto nonce = token.substr(first + 1, second - first - 1);
  const auto mac = token.substr(second + 1);
  if (time.empty() || time.size() > 12 || !std::all_of(time.begin(), time.end(), is_digit)) return out;
  if (nonce.size() != 32 || !is_hex(nonce) || mac.size() != 32) return out;
  const std::string expected =
      key.mac_hex("csrf", std::string(cookie) + "|" + std::string(token.substr(0, second)));
  if (!equal_secret(expected, mac)) return out;
  out.nonce = std::string(nonce);
  const std::int64_t issued = std::stoll(std::string(time));
  // A little slack for a clock stepped back between two requests.
  out.status = (issued > now + 60 || now - issued > ttl_seconds) ? CsrfStatus::expired : CsrfStatus::ok;
  return out;
}

std::string pseudonym(const Key& key, std::string_view address) {
  return "visitor-" + key.mac_hex("sender", address, 6);
}

std::string reference(std::int64_t post_id) {
  const std::string digits = std::to_string(post_id);
  return "R-" + digits + "-" + check_chars(digits);
}

std::optional<std::int64_t> parse_reference(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; });
  std::string_view s = upper;
  if (s.size() < 2 || s.substr(0, 2) != "R-") return std::nullopt;
  s.remove_prefix(2);
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 15) return std::nullopt;
  const auto digits = s.substr(0, dash);
  if (!std::all_of(digits.begin(), digits.end(), is_digit) || digits.front() == '0') return std::nullopt;
  if (s.substr(dash + 1) != check_chars(digits)) return std::nullopt;
  return std::stoll(std::string(digits));
}

bool equal_secret(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace relais::webform
