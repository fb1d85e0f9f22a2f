// traffic: generated posts that look like a mutual-aid network's day —
// requests (most), offers, notices and thanks, in French with some English,
// from a web form, e-mail and chat groups, about the places of the
// network's gazetteer — and that differ from each other as real posts do,
// so that near-duplicate detection (moderate_dedup) lets them through and
// flood limits (moderate_flood) see many senders and many groups. A few are
// deliberate reposts of an earlier need, and some carry contact details in
// their text, as real traffic does.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "relais/post.hpp"

namespace relais::bench {

struct Area {
  std::string id;
  std::string name;
  std::string city;
  std::string postcode;
  std::vector<std::string> aliases;
  std::vector<std::string> streets;
  std::vector<std::string> landmarks;
};

// The [[area]] tables of a network file (config/demo-network.toml).
// Throws std::runtime_error when it cannot be read or has no area.
std::vector<Area> read_gazetteer(const std::filesystem::path& network_file);

// What was generated, by intent (what the triager finds may differ).
struct TrafficMix {
  std::size_t posts = 0;
  std::size_t requests = 0, offers = 0, infos = 0, thanks = 0;
  std::size_t reposts = 0;         // an earlier request again, on another channel
  std::size_t one_liners = 0;      // chat posts of a few words (among the requests and offers)
  std::size_t english = 0;         // written in English
  std::size_t with_fields = 0;     // a web form with kind, category and area fields
  std::size_t own_contact = 0;     // the sender's phone in the text (redacted, not held)
  std::size_t others_contact = 0;  // someone else's phone in the text (held)
  std::size_t no_area = 0;         // no place the gazetteer knows
};

class Traffic {
 public:
  // `sources`: how many source names posts are spread over (chat groups,
  // forms, mailboxes).
  Traffic(std::vector<Area> areas, std::uint64_t seed, std::size_t sources);

  // The next post, without external_id nor received_at (the sender sets
  // both when it sends the post).
  Post next();
  const TrafficMix& mix() const { return mix_; }

  // Who a request is for (traffic.cpp).
  struct Person;

 private:
  std::string pick_source(std::string_view channel);
  std::string place_phrase(const Area& area);
  std::string request_text(const Area* area, std::string& category, std::string& subject, bool english);
  std::string offer_text(const Area* area, std::string& category, bool english);
  std::string info_text(const Area* area);
  std::string thanks_text();
  std::string expand(std::string_view tpl);
  std::string slot(std::string_view name);
  std::size_t roll(std::size_t n);
  bool chance(double p);
  template <class Array>
  std::string one(const Array& a) {
    return std::string(a[roll(a.size())]);
  }

  std::vector<Area> areas_;
  std::mt19937_64 rng_;
  std::size_t sources_;
  const Area* area_ = nullptr;      // the area of the post being written
  const Person* person_ = nullptr;  // who the need is for
  bool channel_email_ = false;      // an e-mail: longer
  std::deque<std::string> recent_;  // recent requests, for reposts
  TrafficMix mix_;
};

}  // namespace relais::bench
