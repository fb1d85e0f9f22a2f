// moderate_flood: rate limits per sender and per source, as token buckets.
// A resident who posts five needs in ten minutes is more likely a script or
// a spammer than a neighbour; a web form taking hundreds of posts a minute
// is under attack. Both are counted on the posts' own times (received_at),
// so that a replay of old posts sees them as far apart as they were.
//
// Memory is bounded: a sender's bucket is dropped once it has refilled (an
// idle sender is indistinguishable from a new one), and past `max_senders`
// the least recently seen sender is forgotten. Nothing is kept on disk: a
// restart forgives everyone, which a rate limit can afford.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "clock.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;
using relais::timestamp::Millis;

// Past this many sources, the least recently seen is forgotten. Sources are
// configured programs, a handful; the bound only matters against a client
// that makes up source names.
constexpr std::size_t kMaxSources = 1024;

struct Limit {
  double rate = 0.0;       // posts per hour, refilled continuously
  std::int64_t burst = 0;  // bucket size; 0: no limit
  double score = 0.0;
  std::optional<relais::Action> forced = relais::Action::hold;
};

struct FloodConfig final : relais::PluginConfig {
  Limit sender{.rate = 4.0, .burst = 4};
  Limit source{.rate = 1800.0, .burst = 120};
  std::int64_t max_senders = 10000;
  std::unordered_set<std::string> exempt_senders;  // ASCII-lowercased
  std::unordered_set<std::string> exempt_sources;
};

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "4", "0.5", "1800": a rate as people write it.
std::string format_rate(double rate) {
  std::string s = std::to_string(std::round(rate * 100.0) / 100.0);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

enum class Take : std::uint8_t { ok, first_over, over };

// Token buckets by key, least recently used last.
class Buckets {
 public:
  Buckets(const Limit& limit, std::size_t max)
      : per_ms_(limit.rate / 3.6e6), burst_(limit.burst), max_(max) {}

  // Takes a token from `key`'s bucket at time `t`. A post over the limit
  // takes nothing, so that a sender who keeps posting gets through at the
  // refill rate.
  Take take(const std::string& key, Millis t) {
    auto found = index_.find(key);
    if (found == index_.end()) {
      lru_.push_front({key, static_cast<double>(burst_), t, false});
      index_.emplace(lru_.front().key, lru_.begin());
      forget_idle(t);
    } else {
      lru_.splice(lru_.begin(), lru_, found->second);
    }
    Bucket& b = lru_.front();
    refill(b, t);
    // An episode ends when the bucket is full again, not at the first post
    // let through: a steady flood is reported once, not at every refill.
    if (b.tokens >= static_cast<double>(burst_)) b.over = false;
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return Take::ok;
    }
    const bool first = !b.over;
    b.over = true;
    return first ? Take::first_over : Take::over;
  }

 private:
  struct Bucket {
    std::string key;
    double tokens = 0.0;
    Millis last;
    bool over = false;  // over the limit since the bucket was last full
  };

  // Out-of-order times (two sources' clocks, a late e-mail) refill nothing
  // and never move a bucket back in time.
  void refill(Bucket& b, Millis t) const {
    if (t <= b.last) return;
    const auto elapsed = static_cast<double>((t - b.last).count());
    b.tokens = std::min(static_cast<double>(burst_), b.tokens + elapsed * per_ms_);
    b.last = t;
  }

  // Drops the buckets at the cold end that have refilled by `t` (the one
  // just used is at the hot end), then the coldest ones past the bound.
  // Each bucket is dropped once, so the cost is constant on average.
  void forget_idle(Millis t) {
    while (lru_.size() > 1) {
      Bucket& cold = lru_.back();
      refill(cold, t);
      if (cold.tokens < static_cast<double>(burst_) && lru_.size() <= max_) break;
      index_.erase(cold.key);
      lru_.pop_back();
    }
  }

  double per_ms_;
  std::int64_t burst_;
  std::size_t max_;
  std::list<Bucket> lru_;  // most recently used first
  // Keys view the strings of `lru_`, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index_;
};

class FloodModerator final : public relais::Moderator {
 public:
  FloodModerator(std::shared_ptr<const FloodConfig> config, relais::Logger* log)
      : config_(std::move(config)),
        log_(log),
        senders_(config_->sender, static_cast<std::size_t>(config_->max_senders)),
        sources_(config_->source, kMaxSources) {}

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const auto& c = *config_;
    if (c.exempt_sources.contains(post.source)) return;
    const Millis t = relais::timestamp::post_time(post.received_at, relais::timestamp::now());

    if (c.source.burst > 0) {
      const Take taken = sources_.take(post.source, t);
      if (taken != Take::ok) {
        const std::string limit = describe(c.source);
        // A source name is configuration, not personal data: it may be logged.
        if (taken == Take::first_over && log_->enabled(relais::LogLevel::info)) {
          log_->log(relais::LogLevel::info, "source \"" + shortened(post.source) + "\" went over " + limit);
        }
        findings.push_back({"FLOOD_SOURCE",
                            c.source.score,
                            "source \"" + shortened(post.source) + "\" over its rate limit (" + limit + ")",
                            c.source.forced,
                            {}});
      }
    }

    // An anonymous post has no sender to count: the source's limit covers it.
    if (c.sender.burst > 0 && !post.sender.empty() && !c.exempt_senders.contains(ascii_lower(post.sender))) {
      // Length-prefixed, so that no two (source, sender) pairs share a key.
      const Take taken =
          senders_.take(std::to_string(post.source.size()) + ':' + post.source + post.sender, t);
      if (taken != Take::ok) {
        // The sender is personal data: neither the finding nor the log names it.
        if (taken == Take::first_over && log_->enabled(relais::LogLevel::debug)) {
          log_->log(relais::LogLevel::debug,
                    "a sender of source \"" + shortened(post.source) + "\" went over its rate limit");
        }
        findings.push_back({"FLOOD_SENDER",
                            c.sender.score,
                            "sender over its rate limit (" + describe(c.sender) + ")",
                            c.sender.forced,
                            {}});
      }
    }
  }

 private:
  static std::string describe(const Limit& l) {
    return format_rate(l.rate) + (l.rate == 1.0 ? " post" : " posts") + " per hour, bursts of " +
           std::to_string(l.burst);
  }

  // Source names come from clients: a long one is cut for people to read.
  static std::string shortened(std::string_view s) {
    constexpr std::size_t kMax = 64;
    if (s.size() <= kMax) return std::string(s);
    std::size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0U) == 0x80U) --end;  // whole UTF-8 characters
    return std::string(s.substr(0, end)) + "…";
  }

  std::shared_ptr<const FloodConfig> config_;
  relais::Logger* log_;
  Buckets senders_;
  Buckets sources_;
};

using relais::table::read_action;
using relais::table::read_into;

relais::Status read_limit(const ConfigTable& table, const std::string& prefix, Limit& limit) {
  for (const auto& status : {
           read_into([&] { return table.number(prefix + "_rate"); }, limit.rate),
           read_into([&] { return table.integer(prefix + "_burst"); }, limit.burst),
           read_into([&] { return table.number(prefix + "_score"); }, limit.score),
           read_action(table, prefix + "_action", limit.forced),
       }) {
    if (!status) return status.error();
  }
  if (!(limit.rate > 0.0) || !std::isfinite(limit.rate)) {
    return table.error(prefix + "_rate", "expected a number of posts per hour above 0");
  }
  if (limit.burst < 0)
    return table.error(prefix + "_burst", "expected an integer of at least 0 (0: no limit)");
  if (!std::isfinite(limit.score)) return table.error(prefix + "_score", "expected a finite number");
  return relais::Done{};
}

class FloodFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<FloodConfig>();
    std::vector<std::string> exempt_senders;
    std::vector<std::string> exempt_sources;
    for (const auto& status : {
             read_limit(table, "sender", config->sender),
             read_limit(table, "source", config->source),
             read_into([&] { return table.integer("max_senders"); }, config->max_senders),
             read_into([&] { return table.strings("exempt_senders"); }, exempt_senders),
             read_into([&] { return table.strings("exempt_sources"); }, exempt_sources),
         }) {
      if (!status) return status.error();
    }
    if (config->max_senders < 1) return table.error("max_senders", "expected an integer of at least 1");
    for (const auto& s : exempt_senders) {
      if (s.empty()) return table.error("exempt_senders", "expected non-empty sender names");
      config->exempt_senders.insert(ascii_lower(s));
    }
    for (const auto& s : exempt_sources) {
      if (s.empty()) return table.error("exempt_sources", "expected non-empty source names");
      config->exempt_sources.insert(s);
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& context) const override {
    return std::make_unique<FloodModerator>(std::static_pointer_cast<const FloodConfig>(std::move(config)),
                                            context.log);
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_flood", "1.0.0", FloodFactory)
