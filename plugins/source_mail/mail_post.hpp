// mail_post: one RFC 5322 message as a relais post, read with GMime.
//
// - source "mail"; external_id the Message-ID without its angle brackets,
//   or, for a message without one, "sha256:" and a hash of the headers that
//   do not change on the way (From, To, Cc, Date, Subject) and of the body,
//   so that a retried delivery is the same post;
// - sender the From address (lower-cased), private e-mail the same, private
//   name the From display name; the public text never gets either;
// - subject and text: text/plain preferred, HTML turned into text otherwise;
//   replies' quotes and signatures stripped (body_text.hpp); every charset
//   GMime knows converted to UTF-8, ISO-8859-1 read as windows-1252 as mail
//   programs mean it;
// - lang from Content-Language; received_at from Date (RFC 3339), or now
//   when it is missing or in the future.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais::mail {

// GMime and libxml2 each want one global initialisation: done once, on the
// first call, whatever the thread. Never undone: a plugin that uses them is
// never unloaded (see CMakeLists.txt).
void initialise();

// Postfix's message_size_limit is 10 MB by default: a message larger than
// this default is not a post someone wrote.
inline constexpr std::size_t kDefaultMaxMessageBytes = std::size_t{25} * 1024 * 1024;

struct ParseOptions {
  std::string channel = "email";
  std::size_t max_message_bytes = kDefaultMaxMessageBytes;  // the raw message
  std::size_t max_text_bytes = 65536;                       // ingest.max_text_bytes' default
  // The clock, for received_at when Date is missing; the epoch: the wall clock.
  std::chrono::system_clock::time_point now{};
};

// Error codes: "too_large" (the message or its text over a limit),
// "not_a_message" (no header section, no From address), "no_text" (neither
// a text nor a subject). Messages name no address and quote no text: they
// end up in bounces and logs.
Expected<Post> post_from_message(std::string_view raw, const ParseOptions& options = {});

}  // namespace relais::mail
