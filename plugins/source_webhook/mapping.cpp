#include "mapping.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <ctime>
#include <optional>

#include "http_server.hpp"

namespace relais::webhook {
namespace {

namespace json = boost::json;

Mapped invalid(std::string code, std::string message) {
  Mapped m;
  m.outcome = Mapped::Outcome::invalid;
  m.code = std::move(code);
  m.message = std::move(message);
  return m;
}

Mapped ignored(std::string code, std::string message) {
  Mapped m;
  m.outcome = Mapped::Outcome::ignored;
  m.code = std::move(code);
  m.message = std::move(message);
  return m;
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::string string_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  // Mattermost sends `timestamp` as a number in JSON, a string in a form.
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) return json::serialize(*v);
  return {};
}

bool blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Who posted, as a handle: the username, else the numeric id. Never the
// display name, which is often a real name.
std::string handle_of(const json::object* who) {
  if (who == nullptr) return {};
  if (const auto* u = who->if_contains("username");
      u != nullptr && u->is_string() && !u->get_string().empty())
    return std::string(u->get_string());
  if (auto id = integer(*who, "id")) return std::to_string(*id);
  return {};
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

// Unix seconds from a Mattermost (milliseconds, "1709647200123") or Slack
// ("1709647200.000200") timestamp.
std::optional<std::int64_t> unix_seconds(std::string_view ts) {
  const auto dot = ts.find('.');
  const auto whole = ts.substr(0, dot);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), n);
  if (whole.empty() || ec != std::errc() || end != whole.data() + whole.size() || n <= 0) return std::nullopt;
  // Seconds reach 1e11 in the year 5138; milliseconds passed it in 1973.
  if (dot == std::string_view::npos && n >= 100'000'000'000) n /= 1000;
  return n;
}

}  // namespace

std::string rfc3339_utc(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return {};
  char out[32];
  if (std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return {};
  return out;
}

Mapped from_telegram(std::string_view body) {
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec) return invalid("bad_json", "the body is not JSON: " + ec.message());
  const auto* update = value.if_object();
  if (update == nullptr || !integer(*update, "update_id"))
    return invalid("not_an_update", "expected a Telegram Update: a JSON object with an integer update_id");

  // The kinds of update that carry a message someone wrote in a chat; the
  // others (callback queries, polls, member changes) are not posts.
  static constexpr std::string_view kKinds[] = {"message", "edited_message", "channel_post",
                                                "edited_channel_post"};
  std::string_view kind;
  const json::object* message = nullptr;
  for (const auto k : kKinds) {
    if (const auto* v = update->if_contains(k)) {
      kind = k;
      message = v->if_object();
      if (message == nullptr) return invalid("bad_message", std::string(k) + ": expected an object");
      break;
    }
  }
  if (message == nullptr) return ignored("update_kind", "an update without a message: nothing to store");

  const auto message_id = integer(*message, "message_id");
  const auto* chat = object_at(*message, "chat");
  const auto chat_id = chat != nullptr ? integer(*chat, "id") : std::nullopt;
  const auto date = integer(*message, "date");
  if (!message_id || !chat_id || !date)
    return invalid(
        "bad_message",
        std::string(kind) + ": message_id, chat.id and date must be integers: not a Telegram Message");

  // A photo's caption is what its poster wrote about it: the post's text.
  std::string text;
  if (const auto* t = message->if_contains("text"); t != nullptr && t->is_string()) {
    text = std::string(t->get_string());
  } else if (const auto* c = message->if_contains("caption"); c != nullptr && c->is_string()) {
    text = std::string(c->get_string());
  }
  if (blank(text)) return ignored("no_text", "a message without text or caption: nothing to store");

  Mapped m;
  m.outcome = Mapped::Outcome::post;
  const std::string id = std::to_string(*chat_id) + ":" + std::to_string(*message_id);
  const bool edited = kind.starts_with("edited_");
  std::int64_t when = *date;
  if (edited) {
    // An edit is a post of its own, linked to the first by `edit_of`: the
    // first may already be moderated and routed, and what changed (a phone
    // number added, "found someone, thanks") is for moderators to see.
    // edit_date tells one edit from the next and makes the same edit,
    // delivered twice, the same post.
    when = integer(*message, "edit_date").value_or(*date);
    m.post.external_id = id + ":edit:" + std::to_string(when);
    m.post.fields["edit_of"] = id;
  } else {
    m.post.external_id = id;
  }
  m.post.received_at = rfc3339_utc(when);
  m.post.text = std::move(text);
  m.post.sender = handle_of(object_at(*message, "from"));
  if (m.post.sender.empty()) m.post.sender = handle_of(object_at(*message, "sender_chat"));
  if (m.post.sender.empty()) m.post.sender = handle_of(chat);  // a channel's post: the channel
  return m;
}

MattermostPayload from_mattermost(std::string_view content_type, std::string_view body) {
  MattermostPayload out;
  const auto type = http::media_type(content_type);
  json::object fields;
  if (type == "application/json") {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec) {
      out.mapped = invalid("bad_json", "the body is not JSON: " + ec.message());
      return out;
    }
    if (!value.is_object()) {
      out.mapped = invalid("bad_json", "expected a JSON object");
      return out;
    }
    fields = std::move(value.as_object());
  } else if (type == "application/x-www-form-urlencoded" || type.empty()) {
    auto form = http::parse_form(body);
    if (!form) {
      out.mapped = invalid("bad_form", "the form is not url-encoded: " + form.error().message);
      return out;
    }
    for (auto& [k, v] : *form) fields[k] = v;  // a repeated name: the last wins
  } else {
    out.mapped = invalid("unsupported_media_type",
                         "send application/x-www-form-urlencoded or application/json, not " + type);
    return out;
  }

  out.token = string_of(fields, "token");
  const auto text = string_of(fields, "text");
  const auto post_id = string_of(fields, "post_id");
  const auto channel_id = string_of(fields, "channel_id");
  const auto timestamp = string_of(fields, "timestamp");
  // Checked before the text: a payload without its id is broken whatever
  // it says.
  if (post_id.empty() && (channel_id.empty() || timestamp.empty())) {
    out.mapped =
        invalid("missing_field", "post_id (Mattermost), or channel_id and timestamp (Slack), is required");
    return out;
  }
  if (blank(text)) {
    out.mapped = ignored("no_text", "a message without text: nothing to store");
    return out;
  }
  Mapped& m = out.mapped;
  m.outcome = Mapped::Outcome::post;
  // Mattermost's post ids are unique on their server; Slack has none, and
  // a message is its channel and timestamp there.
  m.post.external_id = !post_id.empty() ? post_id : channel_id + ":" + timestamp;
  m.post.text = text;
  m.post.sender = string_of(fields, "user_name");
  if (auto seconds = unix_seconds(timestamp)) m.post.received_at = rfc3339_utc(*seconds);
  return out;
}

}  // namespace relais::webhook
