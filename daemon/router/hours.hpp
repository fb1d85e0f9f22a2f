// router/hours: a destination's weekly opening hours in its named time zone,
// and the clock that runs only while they are open (how long a need has
// waited, counted in the hours someone could have answered it).
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"

namespace relais::daemon {

// A point in time, to the millisecond, as relais counts time everywhere.
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// A named IANA time zone ("Europe/Paris"), with its daylight-saving rules.
// Immutable and safe to share between threads.
class TimeZone {
 public:
  // Fails for a name the time zone database does not know.
  static Expected<std::shared_ptr<const TimeZone>> named(const std::string& name);
  ~TimeZone();
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

  const std::string& name() const noexcept { return name_; }
  // Local time minus UTC at `at`: +02:00 in a Paris summer.
  std::chrono::minutes offset(Instant at) const;
  // The instant a local wall-clock time of this zone happens. A time skipped
  // by a spring-forward change maps to the instant after the gap; a time
  // that happens twice, to its first occurrence.
  Instant from_local(std::chrono::local_time<std::chrono::milliseconds> local) const;

 private:
  struct Impl;
  TimeZone(std::string name, std::unique_ptr<Impl> impl);
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

// A wall-clock time in a zone, split the way opening hours are written.
struct LocalTime {
  std::chrono::local_days day;  // the local calendar day
  unsigned weekday = 0;         // 0 Monday ... 6 Sunday
  int minute = 0;               // minutes since the local midnight, 0 to 1439
};
LocalTime local_time(const TimeZone& zone, Instant at);
// "2020-04-01": the local calendar day, as capacity is counted.
std::string local_date(const TimeZone& zone, Instant at);
// "Wed 2020-04-01 08:12 Europe/Paris", for events.
std::string describe(const TimeZone& zone, Instant at);

// [start, end) in minutes after the day's local midnight. An interval whose
// end is not after its start runs past midnight: 06:00-01:00 is [360, 1500).
struct Interval {
  int start = 0;
  int end = 0;
};

// Open hours for each day of the week, Monday first.
struct WeeklyHours {
  std::array<std::vector<Interval>, 7> days;

  // "08:00-20:00", "06:00-01:00", "00:00-24:00".
  static std::optional<Interval> parse_interval(std::string_view text);
  // "mon", "sun": 0 to 6.
  static std::optional<unsigned> parse_day(std::string_view text);

  bool open_at(const LocalTime& t) const;
  bool never_open() const;
};

bool is_open(const WeeklyHours& hours, const TimeZone& zone, Instant at);

// The instant when `open_time` of open hours has passed since `from`, the
// clock stopping while the hours are closed. nullopt when they never open.
std::optional<Instant> add_open_time(const WeeklyHours& hours, const TimeZone& zone, Instant from,
                                     std::chrono::milliseconds open_time);

// Milliseconds since the Unix epoch, as the store keeps instants.
inline std::int64_t to_millis(Instant t) { return t.time_since_epoch().count(); }
inline Instant from_millis(std::int64_t ms) { return Instant(std::chrono::milliseconds(ms)); }

}  // namespace relais::daemon
