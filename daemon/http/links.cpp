#include "http/links.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <vector>

namespace relais::daemon {
namespace {

std::string message_of(NeedAct act, std::int64_t post_id, std::string_view destination,
                       std::int64_t expires) {
  // Versioned, and one field a line: no field can run into the next.
  return "relais-link-1\n" + std::string(to_string(act)) + "\n" + std::to_string(post_id) + "\n" +
         std::string(destination) + "\n" + std::to_string(expires);
}

template <class T>
bool number(std::string_view text, T& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(at, end - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return parts;
}

Expected<LinkSigner> LinkSigner::open(const std::filesystem::path& file) {
  if (sodium_init() < 0) return Error{"start", "libsodium could not be initialised", ""};
  Key key{};
  std::ifstream in(file, std::ios::binary);
  if (in) {
    in.read(reinterpret_cast<char*>(key.data()), static_cast<std::streamsize>(key.size()));
    if (in.gcount() != static_cast<std::streamsize>(key.size())) {
      return Error{"start",
                   file.string() + ": the link key is not " + std::to_string(key.size()) + " bytes long", ""};
    }
    return LinkSigner(key);
  }
  randombytes_buf(key.data(), key.size());
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"start",
                 file.string() + ": cannot create the link key: " +
                     std::error_code(errno, std::generic_category()).message(),
                 ""};
  }
  const auto written = ::write(fd, key.data(), key.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(key.size()) || !synced) {
    return Error{"start", file.string() + ": cannot write the link key", ""};
  }
  return LinkSigner(key);
}

std::string LinkSigner::sign(std::string_view message) const {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key_.data(), key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  std::string hex(mac.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  hex.pop_back();
  return hex;
}

std::string LinkSigner::path(NeedAct act, std::int64_t post_id, std::string_view destination,
                             std::int64_t expires_unix) const {
  return "/l/" + std::string(to_string(act)) + "/" + std::to_string(post_id) + "/" +
         std::string(destination) + "/" + std::to_string(expires_unix) + "/" +
         sign(message_of(act, post_id, destination, expires_unix));
}

Expected<LinkSigner::Link> LinkSigner::verify(std::string_view path, std::int64_t now_unix) const {
  // "", "l", act, post, destination, expires, signature
  const auto parts = path_segments(path);
  Link link;
  if (parts.size() != 7 || !parts[0].empty() || parts[1] != "l") return Error{"not_found", "not a link", ""};
  const auto act = parse_need_act(parts[2]);
  if (!act || !number(parts[3], link.post_id) || parts[4].empty() || !number(parts[5], link.expires_unix)) {
    return Error{"not_found", "not a link", ""};
  }
  link.act = *act;
  link.destination = std::string(parts[4]);
  const std::string expected = sign(message_of(link.act, link.post_id, link.destination, link.expires_unix));
  if (parts[6].size() != expected.size() ||
      sodium_memcmp(parts[6].data(), expected.data(), expected.size()) != 0) {
    return Error{"forbidden", "the link's signature is wrong", ""};
  }
  if (link.expires_unix < now_unix) return Error{"expired", "the link has expired", ""};
  return link;
}

}  // namespace relais::daemon
