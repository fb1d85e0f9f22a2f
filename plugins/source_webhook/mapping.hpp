// mapping: from what a chat platform POSTs to a webhook to a relais post,
// or to the reason there is none. Pure functions of the request's body, so
// that they are tested without a server; the HTTP side (secrets, status
// codes, acknowledgements) is source_webhook.cpp's.
#pragma once

#include <string>
#include <string_view>

#include "relais/post.hpp"

namespace relais::webhook {

struct Mapped {
  enum class Outcome : std::uint8_t {
    post,     // `post` is to be submitted
    ignored,  // understood, deliberately not a post (no text, an update kind we do not take)
    invalid,  // not what the platform sends: `code` and `message` say why
  };
  Outcome outcome = Outcome::invalid;
  Post post;            // for Outcome::post: all but source and channel
  std::string code;     // for ignored and invalid: stable, short ("no_text", "bad_json")
  std::string message;  // for people; never the post's text nor a user name
};

// A Telegram Bot API Update (https://core.telegram.org/bots/api#update):
// its message, edited_message, channel_post or edited_channel_post.
Mapped from_telegram(std::string_view body);

// A Mattermost outgoing webhook, or Slack's of the same shape, in
// `content_type` (application/x-www-form-urlencoded or application/json).
// The `token` field is returned in `token` for the caller to check.
struct MattermostPayload {
  Mapped mapped;
  std::string token;
};
MattermostPayload from_mattermost(std::string_view content_type, std::string_view body);

// Unix seconds as RFC 3339 in UTC: "2024-03-05T14:00:00Z".
std::string rfc3339_utc(std::int64_t unix_seconds);

}  // namespace relais::webhook
