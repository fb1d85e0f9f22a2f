#include "relais/post.hpp"

#include <array>
#include <utility>

namespace relais {
namespace {
constexpr std::array<std::pair<Action, std::string_view>, 3> kActions{
    {{Action::accept, "accept"}, {Action::hold, "hold"}, {Action::reject, "reject"}}};
constexpr std::array<std::pair<Kind, std::string_view>, 4> kKinds{
    {{Kind::request, "request"}, {Kind::offer, "offer"}, {Kind::info, "info"}, {Kind::other, "other"}}};
constexpr std::array<std::pair<Urgency, std::string_view>, 4> kUrgencies{{{Urgency::low, "low"},
                                                                          {Urgency::normal, "normal"},
                                                                          {Urgency::high, "high"},
                                                                          {Urgency::critical, "critical"}}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "?";
}

template <class E, std::size_t N>
std::optional<E> parse_of(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}
}  // namespace

std::string_view to_string(Action action) noexcept { return name_of(kActions, action); }
std::string_view to_string(Kind kind) noexcept { return name_of(kKinds, kind); }
std::string_view to_string(Urgency urgency) noexcept { return name_of(kUrgencies, urgency); }
std::optional<Action> parse_action(std::string_view text) noexcept { return parse_of(kActions, text); }
std::optional<Kind> parse_kind(std::string_view text) noexcept { return parse_of(kKinds, text); }
std::optional<Urgency> parse_urgency(std::string_view text) noexcept { return parse_of(kUrgencies, text); }

}  // namespace relais
