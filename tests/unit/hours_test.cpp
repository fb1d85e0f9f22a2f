// Opening hours in a named time zone: intervals that run past midnight, the
// end minute excluded, the changes of offset in spring and autumn, and the
// clock that runs only while a destination is open.
#include <gtest/gtest.h>

#include "router/hours.hpp"

namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using relais::daemon::add_open_time;
using relais::daemon::Instant;
using relais::daemon::is_open;
using relais::daemon::TimeZone;
using relais::daemon::WeeklyHours;

// A UTC instant.
Instant utc(int y, unsigned m, unsigned d, int h, int mi) {
  return Instant(sys_days(year(y) / month(m) / day(d)) + hours(h) + minutes(mi));
}

std::shared_ptr<const TimeZone> zone(const std::string& name) {
  auto z = TimeZone::named(name);
  EXPECT_TRUE(z) << z.error().message;
  return z ? *z : nullptr;
}

WeeklyHours every_day(std::string_view interval) {
  WeeklyHours h;
  for (auto& d : h.days) d.push_back(*WeeklyHours::parse_interval(interval));
  return h;
}

TEST(hours, IntervalsParse) {
  EXPECT_EQ(WeeklyHours::parse_interval("08:00-20:00")->start, 480);
  EXPECT_EQ(WeeklyHours::parse_interval("08:00-20:00")->end, 1200);
  EXPECT_EQ(WeeklyHours::parse_interval("00:00-24:00")->end, 1440);
  // Past midnight: the end is the next day's.
  EXPECT_EQ(WeeklyHours::parse_interval("06:00-01:00")->end, 1440 + 60);
  for (auto bad :
       {"8:00-20:00", "08:00-20", "24:00-10:00", "08:60-09:00", "08:00-24:30", "", "08:00–20:00"}) {
    EXPECT_FALSE(WeeklyHours::parse_interval(bad)) << bad;
  }
  EXPECT_EQ(WeeklyHours::parse_day("mon"), 0u);
  EXPECT_EQ(WeeklyHours::parse_day("sun"), 6u);
  EXPECT_FALSE(WeeklyHours::parse_day("monday"));
}

TEST(hours, UnknownZoneIsRefused) {
  auto z = TimeZone::named("Europe/Atlantis");
  ASSERT_FALSE(z);
  EXPECT_NE(z.error().message.find("Europe/Atlantis"), std::string::npos);
}

TEST(hours, StartIncludedEndExcluded) {
  const auto paris = zone("Europe/Paris");
  const auto pool = every_day("08:00-20:00");
  // 2020-04-01, CEST (UTC+2).
  EXPECT_FALSE(is_open(pool, *paris, utc(2020, 4, 1, 5, 59)));  // 07:59
  EXPECT_TRUE(is_open(pool, *paris, utc(2020, 4, 1, 6, 0)));    // 08:00
  EXPECT_TRUE(is_open(pool, *paris, utc(2020, 4, 1, 17, 59)));  // 19:59
  EXPECT_FALSE(is_open(pool, *paris, utc(2020, 4, 1, 18, 0)));  // 20:00
}

TEST(hours, AnIntervalRunsPastMidnightIntoTheNextDay) {
  const auto paris = zone("Europe/Paris");
  WeeklyHours h;
  h.days[5].push_back(*WeeklyHours::parse_interval("06:00-01:00"));  // Saturday only
  // Sunday 2020-04-05 00:40 local is still Saturday's interval; 01:30 is not.
  EXPECT_TRUE(is_open(h, *paris, utc(2020, 4, 4, 22, 40)));
  EXPECT_FALSE(is_open(h, *paris, utc(2020, 4, 4, 23, 30)));
  // Sunday itself has no interval of its own.
  EXPECT_FALSE(is_open(h, *paris, utc(2020, 4, 5, 10, 0)));
  // Saturday 05:59 is Friday's night, and Friday has none.
  EXPECT_FALSE(is_open(h, *paris, utc(2020, 4, 4, 3, 59)));
}

TEST(hours, TheAutumnChangeMovesTheOffset) {
  const auto paris = zone("Europe/Paris");
  // 2020-10-25: 00:30Z is 02:30 CEST; 01:30Z is 02:30 CET (the hour seen
  // twice); 02:30Z is 03:30 CET.
  EXPECT_EQ(paris->offset(utc(2020, 10, 25, 0, 30)), 120min);
  EXPECT_EQ(paris->offset(utc(2020, 10, 25, 2, 30)), 60min);
  WeeklyHours h;
  h.days[6].push_back(*WeeklyHours::parse_interval("02:00-03:00"));  // Sunday
  EXPECT_TRUE(is_open(h, *paris, utc(2020, 10, 25, 0, 30)));
  EXPECT_TRUE(is_open(h, *paris, utc(2020, 10, 25, 1, 30)));
  EXPECT_FALSE(is_open(h, *paris, utc(2020, 10, 25, 2, 30)));
  EXPECT_EQ(relais::daemon::describe(*paris, utc(2020, 10, 25, 2, 30)), "Sun 2020-10-25 03:30 Europe/Paris");
}

TEST(hours, TheSpringChangeSkipsAnHour) {
  const auto paris = zone("Europe/Paris");
  // 2020-03-29: 00:59Z is 01:59 CET, 01:00Z is 03:00 CEST.
  WeeklyHours h;
  h.days[6].push_back(*WeeklyHours::parse_interval("03:00-04:00"));
  EXPECT_FALSE(is_open(h, *paris, utc(2020, 3, 29, 0, 59)));
  EXPECT_TRUE(is_open(h, *paris, utc(2020, 3, 29, 1, 0)));
  // A local time in the skipped hour is read with the offset before it.
  EXPECT_EQ(paris->from_local(local_days(year(2020) / 3 / 29) + 2h + 30min), utc(2020, 3, 29, 1, 30));
  // The repeated hour of autumn: its first occurrence.
  EXPECT_EQ(paris->from_local(local_days(year(2020) / 10 / 25) + 2h + 30min), utc(2020, 10, 25, 0, 30));
}

TEST(hours, EachDestinationKeepsItsOwnZone) {
  const auto paris = zone("Europe/Paris");
  const auto montreal = zone("America/Montreal");
  const auto office = every_day("09:00-17:00");
  const Instant at = utc(2020, 4, 1, 14, 0);  // 16:00 in Paris, 10:00 in Montreal
  EXPECT_TRUE(is_open(office, *paris, at));
  EXPECT_TRUE(is_open(office, *montreal, at));
  const Instant later = utc(2020, 4, 1, 16, 0);  // 18:00 in Paris, 12:00 in Montreal
  EXPECT_FALSE(is_open(office, *paris, later));
  EXPECT_TRUE(is_open(office, *montreal, later));
  EXPECT_EQ(relais::daemon::local_date(*paris, utc(2020, 4, 1, 22, 30)), "2020-04-02");
  EXPECT_EQ(relais::daemon::local_date(*montreal, utc(2020, 4, 1, 22, 30)), "2020-04-01");
}

TEST(hours, TheClockRunsOnlyWhileOpen) {
  const auto paris = zone("Europe/Paris");
  const auto pool = every_day("08:00-20:00");
  // Two hours counted from 19:00 local: one before closing, one after
  // opening the next morning.
  EXPECT_EQ(*add_open_time(pool, *paris, utc(2020, 4, 1, 17, 0), 2h), utc(2020, 4, 2, 7, 0));
  // From a closed hour, the clock starts at opening.
  EXPECT_EQ(*add_open_time(pool, *paris, utc(2020, 4, 1, 2, 0), 30min), utc(2020, 4, 1, 6, 30));
  // Always open: the wall clock.
  const auto always = every_day("00:00-24:00");
  EXPECT_EQ(*add_open_time(always, *paris, utc(2020, 4, 1, 17, 0), 72h), utc(2020, 4, 4, 17, 0));
  // Never open: no deadline can be given.
  EXPECT_FALSE(add_open_time(WeeklyHours{}, *paris, utc(2020, 4, 1, 17, 0), 1h));
}

TEST(hours, TheClockSkipsClosedDaysAndCountsPastMidnightOnce) {
  const auto paris = zone("Europe/Paris");
  WeeklyHours weekdays;
  for (unsigned d = 0; d < 5; ++d) weekdays.days[d].push_back(*WeeklyHours::parse_interval("09:00-17:00"));
  // Friday 2020-04-03 16:00 local + 2 h of open time: Monday 10:00 local.
  EXPECT_EQ(*add_open_time(weekdays, *paris, utc(2020, 4, 3, 14, 0), 2h), utc(2020, 4, 6, 8, 0));
  // 06:00-01:00 every day: 19 open hours a day, the night part counted once.
  const auto late = every_day("06:00-01:00");
  EXPECT_EQ(*add_open_time(late, *paris, utc(2020, 4, 1, 22, 0), 2h),
            utc(2020, 4, 2, 5, 0));  // 00:00 → 07:00
}

TEST(hours, TheClockCrossesTheAutumnChange) {
  const auto paris = zone("Europe/Paris");
  const auto always = every_day("00:00-24:00");
  // Saturday 2020-10-24 22:00Z + 24 h of wall clock: the local day has 25 h.
  EXPECT_EQ(*add_open_time(always, *paris, utc(2020, 10, 24, 22, 0), 24h), utc(2020, 10, 25, 22, 0));
  const auto pool = every_day("08:00-20:00");
  // Saturday 19:00 CEST (17:00Z) + 2 h: one hour Saturday, one from 08:00
  // CET Sunday (07:00Z).
  EXPECT_EQ(*add_open_time(pool, *paris, utc(2020, 10, 24, 17, 0), 2h), utc(2020, 10, 25, 8, 0));
}

}  // namespace
