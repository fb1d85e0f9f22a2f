// http/links: the signed links a message gives a destination to claim,
// decline or resolve a need without its token. A link names the act, the
// need, the destination and until when it is valid, signed with a key only
// relaisd has (HMAC-SHA256; the key lives in the state directory), so that
// a link cannot be made up or turned to another need.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "router/needs.hpp"

namespace relais::daemon {

// The segments of a path between its slashes: "/l/claim" is "", "l", "claim".
std::vector<std::string_view> path_segments(std::string_view path);

class LinkSigner {
 public:
  using Key = std::array<unsigned char, 32>;
  explicit LinkSigner(const Key& key) : key_(key) {}

  // The key kept in `file`, made (32 random bytes, readable by its owner
  // only) the first time.
  static Expected<LinkSigner> open(const std::filesystem::path& file);

  // "/l/claim/12/reseau_solidarite_ville/1767225600/<signature>"
  std::string path(NeedAct act, std::int64_t post_id, std::string_view destination,
                   std::int64_t expires_unix) const;

  struct Link {
    NeedAct act = NeedAct::claim;
    std::int64_t post_id = 0;
    std::string destination;
    std::int64_t expires_unix = 0;
  };
  // The link a path carries, if its signature is right and it has not
  // expired at `now_unix`; the error says which.
  Expected<Link> verify(std::string_view path, std::int64_t now_unix) const;

 private:
  std::string sign(std::string_view message) const;
  Key key_;
};

}  // namespace relais::daemon
