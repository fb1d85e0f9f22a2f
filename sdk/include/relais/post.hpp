// The data a post carries through relais, as plugins and sources see it.
// Part of the public SDK: any change here changes the SDK ABI.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relais {

// A post as it was submitted. `text` and `subject` are what the poster wrote
// for the public; `private_data` (name, phone, e-mail, address) is the
// poster's own contact, which only the destinations of a need may see.
struct Post {
  std::int64_t id = 0;  // assigned by the store; 0 before it is stored
  std::string source;
  std::string external_id;
  std::string channel;
  std::string sender;
  std::optional<std::string> subject;
  std::string text;
  std::string received_at;                          // RFC 3339
  std::string lang;                                 // a hint from the source, may be empty
  std::map<std::string, std::string> fields;        // structured form fields
  std::map<std::string, std::string> private_data;  // never shown publicly
};

enum class Action : std::uint8_t { accept, hold, reject };
enum class Kind : std::uint8_t { request, offer, info, other };
enum class Urgency : std::uint8_t { low, normal, high, critical };

// The names used in the protocol, the store and relais.toml. Inline, so that
// a plugin needs no library for them.
constexpr std::string_view to_string(Action action) noexcept {
  switch (action) {
    case Action::accept:
      return "accept";
    case Action::hold:
      return "hold";
    case Action::reject:
      return "reject";
  }
  return "?";
}
constexpr std::string_view to_string(Kind kind) noexcept {
  switch (kind) {
    case Kind::request:
      return "request";
    case Kind::offer:
      return "offer";
    case Kind::info:
      return "info";
    case Kind::other:
      return "other";
  }
  return "?";
}
constexpr std::string_view to_string(Urgency urgency) noexcept {
  switch (urgency) {
    case Urgency::low:
      return "low";
    case Urgency::normal:
      return "normal";
    case Urgency::high:
      return "high";
    case Urgency::critical:
      return "critical";
  }
  return "?";
}
constexpr std::optional<Action> parse_action(std::string_view text) noexcept {
  for (auto a : {Action::accept, Action::hold, Action::reject}) {
    if (to_string(a) == text) return a;
  }
  return std::nullopt;
}
constexpr std::optional<Kind> parse_kind(std::string_view text) noexcept {
  for (auto k : {Kind::request, Kind::offer, Kind::info, Kind::other}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}
constexpr std::optional<Urgency> parse_urgency(std::string_view text) noexcept {
  for (auto u : {Urgency::low, Urgency::normal, Urgency::high, Urgency::critical}) {
    if (to_string(u) == text) return u;
  }
  return std::nullopt;
}

// A span of public text to hide when the post is shown publicly.
struct Redaction {
  std::string field;  // "text" or "subject"
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string replacement;
};

// One observation of a moderator: a named symbol with a score, as in Rspamd.
struct Finding {
  std::string symbol;
  double score = 0.0;
  std::string description;
  // hold or reject: at least that, whatever the score; accept: accept
  // whatever the score (an allow-list), unless another finding forces more.
  std::optional<Action> forced;
  std::vector<Redaction> redactions;
  // Another stored post this finding is about, by id: the first post of a
  // duplicate. 0: none.
  std::int64_t related_post = 0;
};

// The outcome of the moderate stage.
struct Verdict {
  Action action = Action::accept;
  double score = 0.0;
  std::vector<Finding> findings;
};

// The outcome of the triage stage.
struct Triage {
  Kind kind = Kind::other;
  std::vector<std::string> categories;  // primary first
  Urgency urgency = Urgency::normal;
  std::string area;  // empty: unknown
  std::string lang;  // empty: unknown
};

}  // namespace relais
