#include "clock.hpp"

#include <cstddef>
#include <cstdint>

namespace relais::timestamp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at `pos`, or -1.
int digits_at(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<Millis> parse_rfc3339(std::string_view s) noexcept {
  using namespace std::chrono;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const int y = digits_at(s, 0, 4);
  const int mo = digits_at(s, 5, 2);
  const int d = digits_at(s, 8, 2);
  const int h = digits_at(s, 11, 2);
  const int mi = digits_at(s, 14, 2);
  const int sec = digits_at(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;

  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < s.size() && is_digit(s[pos])) {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (std::size_t k = pos - start; k < 3; ++k) millis *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  minutes offset{0};
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    // UTC
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    const int oh = digits_at(s, pos + 1, 2);
    const int om = digits_at(s, pos + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (s[pos] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  // Local time minus its offset is UTC.
  return Millis{sys_days{date}} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{millis} - offset;
}

Millis post_time(std::string_view received_at, Millis now) noexcept {
  const auto parsed = parse_rfc3339(received_at);
  if (!parsed || *parsed > now + kFutureTolerance) return now;
  return *parsed;
}

Millis now() noexcept {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace relais::timestamp
