// security: the form's secrets and what is signed with them — the CSRF
// token, the visitor's pseudonym — and the reference a poster cites.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "relais/expected.hpp"

namespace relais::webform {

// A 32-byte key for HMAC-SHA256. Kept in a file of the state directory so
// that a restart does not invalidate the forms visitors have open.
class Key {
 public:
  // Reads the key (64 hex digits) from `file`, or makes one and writes it
  // there, readable by its owner only.
  static Expected<Key> load_or_create(const std::filesystem::path& file);
  // A key derived from a configured secret (several instances behind one
  // proxy then accept each other's forms).
  static Key from_secret(std::string_view secret);

  // Hex HMAC-SHA256 of `domain` and `message`, cut to `bytes` bytes; the
  // domain keeps one use of the key from standing in for another.
  std::string mac_hex(std::string_view domain, std::string_view message, std::size_t bytes = 16) const;

 private:
  std::array<unsigned char, 32> bytes_{};
};

// `bytes` random bytes as lowercase hex.
std::string random_hex(std::size_t bytes);

// The CSRF token of one form: "<unix time>.<nonce>.<mac>", the MAC over
// the visitor's cookie, the time and the nonce. The nonce is also the
// submission's id: the same form sent twice is the same post.
std::string sign_csrf(const Key& key, std::string_view cookie, std::string_view nonce, std::int64_t now);

enum class CsrfStatus : unsigned char { ok, invalid, expired };
struct CsrfCheck {
  CsrfStatus status = CsrfStatus::invalid;
  std::string nonce;  // when the signature is good (ok or expired)
};
CsrfCheck check_csrf(const Key& key, std::string_view cookie, std::string_view token, std::int64_t now,
                     std::int64_t ttl_seconds);

// A stable pseudonym of the visitor's address, for moderate_flood's
// per-sender limits, that stores no address.
std::string pseudonym(const Key& key, std::string_view address);

// The reference a poster cites: "R-1042-K7", the post's id and two check
// characters that catch a mistyped or swapped digit. Not a secret: it
// shows no more than the id.
std::string reference(std::int64_t post_id);
// The post id of a reference ("r-1042-k7", " R-1042-K7 "), or nothing
// when it is not one.
std::optional<std::int64_t> parse_reference(std::string_view text);

// Constant-time comparison of two strings of the same length.
bool equal_secret(std::string_view a, std::string_view b) noexcept;

}  // namespace relais::webform
