// A room's message stanza as a post, or the reason it is not one.
#pragma once

#include <strophe.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "config.hpp"
#include "relais/post.hpp"

namespace relais::xmpp {

// What the bridge knows of a room it is in.
struct RoomView {
  const Room* room = nullptr;
  std::string nick;                              // ours, as the room knows it now
  std::string occupant_id;                       // ours (XEP-0421), when the room gives one
  std::map<std::string, std::string> real_jids;  // nick -> bare JID, when the room shows it
};

struct Mapped {
  Post post;
  std::int64_t stamp = 0;  // Unix seconds: when the room got it
  bool history = false;
};

// Not a post: quietly (`refused` false: our own message, a subject, a
// chat state), or refused as malformed, which is worth a warning.
struct Skipped {
  std::string reason;
  bool refused = false;
};

using Mapping = std::variant<Mapped, Skipped>;

// `stanza` is a groupchat message from `view`'s room; `now` in Unix seconds.
Mapping map_message(xmpp_stanza_t* stanza, const RoomView& view, const Config& config, std::int64_t now);

bool valid_utf8(std::string_view text);

}  // namespace relais::xmpp
