// What the bridge remembers of each room so that, after a reconnect or a
// restart, it asks the room only for what it may have missed.
//
// A room's watermark is the time of the newest message below which every
// message the bridge saw has been acknowledged by relaisd (stored, a
// duplicate, or refused for good). Messages still queued or in flight hold it
// back, so a crash never skips them: they come again with the history.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "relais/expected.hpp"

namespace relais::xmpp {

// XEP-0082 date-times ("2024-03-05T14:00:00Z", "...00.123+01:00") to Unix
// seconds; nothing when `text` is not one.
std::optional<std::int64_t> parse_datetime(std::string_view text);
// Unix seconds to "2024-03-05T14:00:00Z".
std::string format_datetime(std::int64_t seconds);

class Watermarks {
 public:
  // Remembers `token` (any id unique to the message) as seen in `room` at
  // `stamp`; the room's watermark cannot pass it until done(token).
  void seen(const std::string& room, std::uint64_t token, std::int64_t stamp);
  // The message is acknowledged; returns true when a watermark moved.
  bool done(const std::string& room, std::uint64_t token);
  std::optional<std::int64_t> watermark(const std::string& room) const;
  // Sets the watermark of a room that has none and nothing in flight (the
  // time of a first join); returns true when it did.
  bool start(const std::string& room, std::int64_t stamp);
  // Forgets the messages not acknowledged yet, keeping the watermarks: for
  // a new client, which will never acknowledge the old one's.
  void forget_open();

  // The state file: one "room@service <unix seconds>" per line.
  Status load(const std::filesystem::path& file);
  Status save(const std::filesystem::path& file) const;

 private:
  struct Entry {
    std::uint64_t token;
    std::int64_t stamp;
    bool done;
  };
  struct RoomState {
    std::optional<std::int64_t> watermark;
    std::deque<Entry> open;  // in the order seen
  };
  std::map<std::string, RoomState, std::less<>> rooms_;
};

}  // namespace relais::xmpp
