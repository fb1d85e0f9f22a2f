#include "message.hpp"

#include "catchup.hpp"

namespace relais::xmpp {

namespace {

constexpr const char* kDelayNs = "urn:xmpp:delay";
constexpr const char* kStanzaIdNs = "urn:xmpp:sid:0";
constexpr const char* kOccupantIdNs = "urn:xmpp:occupant-id:0";

std::string text_of(xmpp_stanza_t* element) {
  if (element == nullptr) return {};
  char* text = xmpp_stanza_get_text(element);
  if (text == nullptr) return {};
  std::string out(text);
  xmpp_free(xmpp_stanza_get_context(element), text);
  return out;
}

std::string attribute(xmpp_stanza_t* element, const char* name) {
  const char* v = element == nullptr ? nullptr : xmpp_stanza_get_attribute(element, name);
  return v == nullptr ? std::string() : std::string(v);
}

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Cut at a character boundary, for fields with a byte limit.
std::string clip(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  return text;
}

std::string hex_sha1(xmpp_stanza_t* stanza, std::string_view data) {
  xmpp_ctx_t* ctx = xmpp_stanza_get_context(stanza);
  char* digest = xmpp_sha1(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out = digest != nullptr ? digest : "";
  if (digest != nullptr) xmpp_free(ctx, digest);
  return out;
}

// The id the room gave the message (XEP-0359), which a replay of the history
// carries too; else the sender's origin-id or message id. Namespaced with
// the room: ids are unique within a room at best.
std::string external_id_of(xmpp_stanza_t* stanza, const std::string& room, const std::string& nick,
                           const std::string& body, std::int64_t stamp) {
  std::string id;
  for (xmpp_stanza_t* child = xmpp_stanza_get_children(stanza); child != nullptr;
       child = xmpp_stanza_get_next(child)) {
    const char* name = xmpp_stanza_get_name(child);
    const char* ns = xmpp_stanza_get_ns(child);
    if (name == nullptr || ns == nullptr || std::string_view(ns) != kStanzaIdNs) continue;
    // Only the room's own stanza-id: anyone else's could be forged by the sender.
    if (std::string_view(name) == "stanza-id" && lower(attribute(child, "by")) == room) {
      id = "sid:" + attribute(child, "id");
      break;
    }
  }
  if (id.size() <= 4) {
    id.clear();
    auto* origin = xmpp_stanza_get_child_by_name_and_ns(stanza, "origin-id", kStanzaIdNs);
    if (const auto v = attribute(origin, "id"); !v.empty()) id = "oid:" + v;
  }
  if (id.empty()) {
    if (const char* v = xmpp_stanza_get_id(stanza); v != nullptr && *v != '\0') id = "id:" + std::string(v);
  }
  if (id.empty()) {
    // No id at all: the sender, the text and the day make one, the same live
    // and in a replay of the history.
    const std::string day = format_datetime(stamp).substr(0, 10);
    id = "hash:" + hex_sha1(stanza, nick + '\n' + day + '\n' + body);
  }
  std::string out = room + "#" + id;
  if (out.size() > 256)
    out = room.size() <= 200 ? room + "#sha1:" + hex_sha1(stanza, id) : "sha1:" + hex_sha1(stanza, out);
  return out;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // truncated
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Mapping map_message(xmpp_stanza_t* stanza, const RoomView& view, const Config& config, std::int64_t now) {
  const Room& room = *view.room;
  const char* from_attr = xmpp_stanza_get_from(stanza);
  const std::string nick = from_attr != nullptr ? resource_of(from_attr) : std::string();
  // The room speaking for itself: configuration changes, notices.
  if (nick.empty()) return Skipped{"from the room itself"};

  auto* body_element = xmpp_stanza_get_child_by_name(stanza, "body");
  if (body_element == nullptr) {
    if (xmpp_stanza_get_child_by_name(stanza, "subject") != nullptr) return Skipped{"a subject change"};
    return Skipped{"no body"};
  }
  std::string body = text_of(body_element);
  if (blank(body)) return Skipped{"an empty body"};

  // Our own words, echoed live or replayed from history, even under a nick
  // we had before.
  auto* occupant = xmpp_stanza_get_child_by_name_and_ns(stanza, "occupant-id", kOccupantIdNs);
  const std::string occupant_id = attribute(occupant, "id");
  if (nick == view.nick || (!view.occupant_id.empty() && occupant_id == view.occupant_id)) {
    return Skipped{"our own message"};
  }
  const auto real = view.real_jids.find(nick);
  if (real != view.real_jids.end() && real->second == config.bare_jid) return Skipped{"our own message"};

  Mapped out;
  out.stamp = now;
  for (xmpp_stanza_t* child = xmpp_stanza_get_children(stanza); child != nullptr;
       child = xmpp_stanza_get_next(child)) {
    const char* name = xmpp_stanza_get_name(child);
    const char* ns = xmpp_stanza_get_ns(child);
    if (name == nullptr || ns == nullptr || std::string_view(name) != "delay" ||
        std::string_view(ns) != kDelayNs) {
      continue;
    }
    // The room marks what it replays; a delay from anyone else (a client's
    // offline queue) does not make a message history.
    const auto by = lower(attribute(child, "from"));
    if (by.empty() || by == room.jid) {
      if (const auto stamp = parse_datetime(attribute(child, "stamp"))) {
        out.stamp = *stamp;
        out.history = true;
      }
    }
  }

  if (body.size() > config.max_text_bytes) {
    return Skipped{"a body of " + std::to_string(body.size()) + " bytes, over max_text_bytes (" +
                       std::to_string(config.max_text_bytes) + ")",
                   true};
  }
  if (!valid_utf8(body)) return Skipped{"a body that is not valid UTF-8", true};

  Post& post = out.post;
  post.source = "xmpp";
  post.channel = room.jid;
  if (config.sender == SenderFrom::jid && real != view.real_jids.end()) {
    post.sender = clip(real->second, 256);
  } else {
    post.sender = clip(nick, 256);
  }
  post.external_id = external_id_of(stanza, room.jid, nick, body, out.stamp);
  post.received_at = format_datetime(out.stamp);
  if (const auto thread = text_of(xmpp_stanza_get_child_by_name(stanza, "thread")); !blank(thread)) {
    post.fields["thread"] = clip(thread, 1024);
  }
  post.text = std::move(body);
  return out;
}

}  // namespace relais::xmpp
