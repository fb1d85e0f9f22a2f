#include "router/hours.hpp"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace relais::daemon {
namespace {

using namespace std::chrono;
using LocalMillis = std::chrono::local_time<std::chrono::milliseconds>;

constexpr int kMinutesPerDay = 24 * 60;

}  // namespace

// ICU's zones carry their own copy of the IANA database; a zone object's
// const methods are safe to call from several threads.
struct TimeZone::Impl {
  std::unique_ptr<icu::TimeZone> zone;
};

TimeZone::TimeZone(std::string name, std::unique_ptr<Impl> impl)
    : name_(std::move(name)), impl_(std::move(impl)) {}
TimeZone::~TimeZone() = default;

Expected<std::shared_ptr<const TimeZone>> TimeZone::named(const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->zone.reset(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
  if (!impl->zone || *impl->zone == icu::TimeZone::getUnknown()) {
    return Error{"config", "unknown time zone \"" + name + "\" (an IANA name such as \"Europe/Paris\")", ""};
  }
  return std::shared_ptr<const TimeZone>(new TimeZone(name, std::move(impl)));
}

minutes TimeZone::offset(Instant at) const {
  std::int32_t raw = 0;
  std::int32_t dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  impl_->zone->getOffset(static_cast<UDate>(to_millis(at)), false, raw, dst, status);
  if (U_FAILURE(status)) return minutes(0);
  return duration_cast<minutes>(milliseconds(raw + dst));
}

Instant TimeZone::from_local(LocalMillis local) const {
  // A zone changes its offset at most once a day: the offsets a day before
  // and a day after are the only candidates. A valid one maps back to the
  // same local time; both are valid in the repeated hour of autumn (the
  // earlier wins); neither is in the skipped hour of spring, which is read
  // with the offset before the change (02:30 becomes 03:30).
  const Instant naive{local.time_since_epoch()};
  const minutes before = offset(naive - hours(24));
  const minutes after = offset(naive + hours(24));
  const Instant with_before = naive - before;
  const Instant with_after = naive - after;
  const bool before_valid = offset(with_before) == before;
  const bool after_valid = offset(with_after) == after;
  if (before_valid && after_valid) return std::min(with_before, with_after);
  if (after_valid) return with_after;
  return with_before;
}

LocalTime local_time(const TimeZone& zone, Instant at) {
  const LocalMillis local{at.time_since_epoch() + duration_cast<milliseconds>(zone.offset(at))};
  LocalTime t;
  t.day = floor<days>(local);
  t.weekday = weekday(t.day).iso_encoding() - 1;
  t.minute = static_cast<int>(duration_cast<minutes>(local - t.day).count());
  return t;
}

std::string local_date(const TimeZone& zone, Instant at) {
  const year_month_day ymd{local_time(zone, at).day};
  std::array<char, 16> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf.data();
}

std::string describe(const TimeZone& zone, Instant at) {
  static constexpr std::array<const char*, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const auto t = local_time(zone, at);
  std::array<char, 16> hm{};
  (void)std::snprintf(hm.data(), hm.size(), "%02d:%02d", t.minute / 60, t.minute % 60);
  return std::string(kDays[t.weekday]) + " " + local_date(zone, at) + " " + hm.data() + " " + zone.name();
}

std::optional<Interval> WeeklyHours::parse_interval(std::string_view text) {
  // HH:MM-HH:MM
  if (text.size() != 11 || text[2] != ':' || text[5] != '-' || text[8] != ':') return std::nullopt;
  auto two = [&](std::size_t at) -> int {
    const char a = text[at];
    const char b = text[at + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
    return (a - '0') * 10 + (b - '0');
  };
  const int h1 = two(0);
  const int m1 = two(3);
  const int h2 = two(6);
  const int m2 = two(9);
  if (h1 < 0 || m1 < 0 || h2 < 0 || m2 < 0 || m1 > 59 || m2 > 59 || h1 > 23 || h2 > 24) return std::nullopt;
  if (h2 == 24 && m2 != 0) return std::nullopt;
  Interval i{h1 * 60 + m1, h2 * 60 + m2};
  if (i.end <= i.start) i.end += kMinutesPerDay;
  return i;
}

std::optional<unsigned> WeeklyHours::parse_day(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (unsigned i = 0; i < kDays.size(); ++i) {
    if (kDays[i] == text) return i;
  }
  return std::nullopt;
}

bool WeeklyHours::open_at(const LocalTime& t) const {
  for (const auto& i : days[t.weekday]) {
    if (i.start <= t.minute && t.minute < i.end) return true;
  }
  // Yesterday's intervals that run past midnight.
  for (const auto& i : days[(t.weekday + 6) % 7]) {
    if (i.end > kMinutesPerDay && t.minute < i.end - kMinutesPerDay) return true;
  }
  return false;
}

bool WeeklyHours::never_open() const {
  return std::all_of(days.begin(), days.end(), [](const auto& d) { return d.empty(); });
}

bool is_open(const WeeklyHours& hours, const TimeZone& zone, Instant at) {
  return hours.open_at(local_time(zone, at));
}

std::optional<Instant> add_open_time(const WeeklyHours& hours, const TimeZone& zone, Instant from,
                                     milliseconds open_time) {
  if (hours.never_open()) return std::nullopt;
  if (open_time <= milliseconds::zero()) return from;
  // Walk the open intervals in time order from the day before (whose
  // interval may run past midnight into `from`), counting each stretch once
  // where intervals overlap. Weekly hours that open at all open within a
  // week, so the walk ends; the bound is only a guard.
  milliseconds remaining = open_time;
  Instant counted_to = from;
  const local_days first = local_time(zone, from).day - days(1);
  constexpr int kMaxDays = 10 * 366;
  for (int d = 0; d < kMaxDays; ++d) {
    const local_days day = first + days(d);
    const unsigned wd = weekday(day).iso_encoding() - 1;
    for (const auto& i : hours.days[wd]) {
      const Instant start = zone.from_local(LocalMillis(day) + minutes(i.start));
      const Instant end = zone.from_local(LocalMillis(day) + minutes(i.end));
      const Instant begin = std::max(start, counted_to);
      if (end <= begin) continue;
      const auto available = end - begin;
      if (available >= remaining) return begin + remaining;
      remaining -= duration_cast<milliseconds>(available);
      counted_to = end;
    }
  }
  return std::nullopt;
}

}  // namespace relais::daemon
