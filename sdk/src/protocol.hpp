// Encoding and validation of the relais ZeroMQ protocol (sdk/PROTOCOL.md).
// Shared by the client library and the daemon; not a public header.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "relais/post.hpp"

namespace relais::protocol {

inline constexpr int kVersion = 1;

enum class Code : std::uint8_t {
  bad_json,
  bad_utf8,
  too_large,
  unsupported_version,
  unknown_type,
  missing_field,
  wrong_type,
  invalid_value,
  unknown_field,
  unavailable,  // retryable: the daemon could not commit now
  not_found,    // the post, need or delivery a query names does not exist
  forbidden,    // a destination's token is wrong, or the need is not its own
  conflict,     // the need is in a state that refuses the act (claimed by another, resolved)
};
std::string_view code_name(Code code) noexcept;
bool is_retryable(std::string_view code) noexcept;

struct Limits {
  std::size_t max_message_bytes = std::size_t{256} * 1024;
  std::size_t max_text_bytes = std::size_t{64} * 1024;
};

// Fixed field limits, written down in PROTOCOL.md.
inline constexpr std::size_t kMaxSourceBytes = 64;
inline constexpr std::size_t kMaxExternalIdBytes = 256;
inline constexpr std::size_t kMaxShortFieldBytes = 256;  // channel, sender, lang
inline constexpr std::size_t kMaxSubjectBytes = 1024;
inline constexpr std::size_t kMaxMapEntries = 32;
inline constexpr std::size_t kMaxMapKeyBytes = 64;
inline constexpr std::size_t kMaxMapValueBytes = 1024;

struct Rejection {
  std::optional<std::uint64_t> seq;
  Code code;
  std::string field;
  std::string message;
};

// A labelled example for the learning moderators (`relaisctl learn`).
struct Example {
  Post post;
  Action label = Action::accept;  // accept: wanted; reject: unwanted
};

struct Query {
  // Reads: posts | post | stats | plugins | queue | needs | need | deliveries.
  // A moderator's decisions: approve | reject (a held post, by id) | learn;
  // assign (a need to a destination) | redrive (a dead delivery).
  // A destination's acts on its needs: claim | decline | resolve.
  std::string what;
  std::int64_t id = 0;
  std::string state;
  std::int64_t limit = 50;
  std::string by;                 // approve, reject, learn, assign, redrive: the person deciding
  std::string note;               // approve, claim, decline, resolve: optional
  std::string reason;             // reject: required
  std::vector<Example> examples;  // learn
  std::string destination;        // claim, decline, resolve, assign; needs: a filter
  std::string token;              // claim, decline, resolve: the destination's token
};

// The most examples one learn query carries; relaisctl sends more in several.
inline constexpr std::size_t kMaxExamples = 500;

struct Submit {
  std::uint64_t seq = 0;
  Post post;
};
struct Ping {
  std::uint64_t seq = 0;
};
struct QueryRequest {
  std::uint64_t seq = 0;
  Query query;
};
using Request = std::variant<Submit, Ping, QueryRequest, Rejection>;

// Parses and validates one request frame. Never throws.
Request parse_request(std::string_view frame, const Limits& limits);

std::string encode_submit(std::uint64_t seq, const Post& post);
std::string encode_ping(std::uint64_t seq);
std::string encode_query(std::uint64_t seq, const Query& query);
std::string encode_ack(std::uint64_t seq, bool duplicate, std::int64_t post_id);
std::string encode_nack(const Rejection& rejection);
std::string encode_pong(std::uint64_t seq);
// `result_json` must be a serialised JSON value.
std::string encode_result(std::uint64_t seq, std::string_view result_json);

struct Reply {
  std::string type;  // ack | nack | pong | result
  std::optional<std::uint64_t> seq;
  std::string status;  // ack: stored | duplicate
  std::int64_t post_id = 0;
  std::string code;
  std::string field;
  std::string message;
  std::string result_json;  // result: the serialised value
};
// Parses a reply; nullopt when it is not a reply of this protocol version.
std::optional<Reply> parse_reply(std::string_view frame);

bool valid_utf8(std::string_view text) noexcept;
bool valid_timestamp(std::string_view text) noexcept;  // RFC 3339
std::string now_rfc3339();
// `at` in UTC, to the millisecond: "2020-04-01T06:12:00.000Z", the form the
// store writes, so that two of them compare as strings.
std::string rfc3339_utc(std::chrono::system_clock::time_point at);

}  // namespace relais::protocol
