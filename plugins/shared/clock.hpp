// clock: the time of a post, for the moderators that count posts over time
// (rate limits, a window of recent posts). A post's time is its
// `received_at`, when the source received it, so that replaying old posts
// sees them as far apart as they were; the wall clock stands in when that is
// missing, unreadable or in the future.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace relais::timestamp {

using Millis = std::chrono::sys_time<std::chrono::milliseconds>;

// RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), 'T' also 't' or a
// space, 'Z' also 'z'. Digits of the fraction past milliseconds are ignored;
// a leap second counts as the first second of the next minute.
std::optional<Millis> parse_rfc3339(std::string_view text) noexcept;

// How far ahead of `now` a post's time may be: clocks of sources drift. Past
// it, the time is taken as `now`, so that a source cannot move a window or
// refill a bucket by writing a date to come.
inline constexpr std::chrono::minutes kFutureTolerance{5};

// `received_at` when it parses and is at most kFutureTolerance after `now`;
// otherwise `now`.
Millis post_time(std::string_view received_at, Millis now) noexcept;

// The wall clock, to the millisecond.
Millis now() noexcept;

}  // namespace relais::timestamp
