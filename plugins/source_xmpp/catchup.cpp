#include "catchup.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <sstream>

namespace relais::xmpp {

namespace {

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    const auto start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == start) return std::nullopt;
  }
  int offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int oh = 0, om = 0;
    if (!digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 60 + om) * 60 * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = std::min(second, 59);
  return static_cast<std::int64_t>(::timegm(&tm)) - offset;
}

std::string format_datetime(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

void Watermarks::seen(const std::string& room, std::uint64_t token, std::int64_t stamp) {
  rooms_[room].open.push_back(Entry{token, stamp, false});
}

bool Watermarks::done(const std::string& room, std::uint64_t token) {
  const auto it = rooms_.find(room);
  if (it == rooms_.end()) return false;
  auto& state = it->second;
  for (auto& e : state.open) {
    if (e.token == token) e.done = true;
  }
  bool moved = false;
  while (!state.open.empty() && state.open.front().done) {
    // History comes oldest first and live messages after it, but a room's
    // clock and ours may disagree: never let the watermark go back.
    if (!state.watermark || state.open.front().stamp > *state.watermark) {
      state.watermark = state.open.front().stamp;
      moved = true;
    }
    state.open.pop_front();
  }
  return moved;
}

std::optional<std::int64_t> Watermarks::watermark(const std::string& room) const {
  const auto it = rooms_.find(room);
  return it == rooms_.end() ? std::nullopt : it->second.watermark;
}

bool Watermarks::start(const std::string& room, std::int64_t stamp) {
  auto& state = rooms_[room];
  if (state.watermark || !state.open.empty()) return false;
  state.watermark = stamp;
  return true;
}

void Watermarks::forget_open() {
  for (auto& [room, state] : rooms_) state.open.clear();
}

Status Watermarks::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return Done{};  // the first run
    return Error{"io", "cannot read " + file.string(), ""};
  }
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    std::int64_t stamp = 0;
    const char* begin = line.data() + space + 1;
    const char* end = line.data() + line.size();
    if (std::from_chars(begin, end, stamp).ec != std::errc()) continue;
    auto& state = rooms_[line.substr(0, space)];
    if (!state.watermark || stamp > *state.watermark) state.watermark = stamp;
  }
  return Done{};
}

Status Watermarks::save(const std::filesystem::path& file) const {
  std::ostringstream text;
  for (const auto& [room, state] : rooms_) {
    if (state.watermark) text << room << ' ' << *state.watermark << '\n';
  }
  // Written beside and renamed over, so a crash leaves the old file or the
  // new one, never half of one.
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text.str();
    out.flush();
    if (!out) return Error{"io", "cannot write " + tmp.string(), ""};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Error{"io", "cannot rename " + tmp.string() + ": " + ec.message(), ""};
  return Done{};
}

}  // namespace relais::xmpp
