// moderate_basic: the marks of bulk spam that need no rule file, links
// stuffed into a post and a post shouted in capitals. Cheap enough to run on
// every post before the heavier moderators.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relais/plugin.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;

struct BasicConfig final : relais::PluginConfig {
  std::int64_t links = 3;  // links from which a post is link-stuffed
  double links_score = 3.0;
  std::int64_t shouting_min_letters = 40;  // shorter texts never shout
  double shouting_ratio = 0.8;             // share of capitals among the letters
  double shouting_score = 1.0;
};

constexpr bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
char lower(char c) { return is_upper(static_cast<unsigned char>(c)) ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `prefix` is lowercase.
bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char p, char c) { return p == lower(c); });
}

// A link is a scheme ("http://", "https://", or their defanged "hxxp"
// forms) up to the next space, or "www." outside such a link. Both are found
// from their "://" and '.', with std::string_view::find (memchr).
std::size_t count_links(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> links;  // [start, end) of scheme links
  for (std::size_t pos = text.find("://"); pos != std::string_view::npos; pos = text.find("://", pos + 1)) {
    const auto before = text.substr(0, pos);
    for (std::string_view scheme : {"https", "http", "hxxps", "hxxp"}) {
      if (before.size() >= scheme.size() &&
          starts_with_nocase(before.substr(before.size() - scheme.size()), scheme)) {
        std::size_t end = pos;
        while (end < text.size() && !is_space(text[end])) ++end;
        links.emplace_back(pos - scheme.size(), end);
        pos = end;
        break;
      }
    }
  }
  std::size_t n = links.size();
  for (std::size_t pos = text.find('.'); pos != std::string_view::npos; pos = text.find('.', pos + 1)) {
    if (pos < 3 || !starts_with_nocase(text.substr(pos - 3), "www.")) continue;
    const std::size_t at = pos - 3;
    const bool inside = std::any_of(links.begin(), links.end(),
                                    [&](const auto& l) { return at >= l.first && at < l.second; });
    if (!inside) ++n;
  }
  return n;
}

struct LetterCount {
  std::size_t letters = 0;
  std::size_t upper = 0;
};

// ASCII letters and capitals, in blocks of fixed size so that the compiler
// turns the inner loop into vector code.
LetterCount count_letters(std::string_view text) {
  constexpr std::size_t kBlock = 64;
  LetterCount count;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  for (; i + kBlock <= text.size(); i += kBlock) {
    unsigned letters = 0;
    unsigned upper = 0;
    for (std::size_t k = 0; k < kBlock; ++k) {
      const unsigned c = bytes[i + k];
      upper += static_cast<unsigned>(c - 'A' < 26U);
      letters += static_cast<unsigned>((c | 0x20U) - 'a' < 26U);
    }
    count.letters += letters;
    count.upper += upper;
  }
  for (; i < text.size(); ++i) {
    const unsigned c = bytes[i];
    count.upper += static_cast<std::size_t>(c - 'A' < 26U);
    count.letters += static_cast<std::size_t>((c | 0x20U) - 'a' < 26U);
  }
  return count;
}

class BasicModerator final : public relais::Moderator {
 public:
  explicit BasicModerator(std::shared_ptr<const BasicConfig> config) : config_(std::move(config)) {}

  void moderate(const Post& post, std::vector<Finding>& findings) override {
    const auto& c = *config_;
    const std::size_t links = count_links(post.text);
    if (links >= static_cast<std::size_t>(c.links)) {
      findings.push_back({"MANY_LINKS",
                          c.links_score,
                          std::to_string(links) + " links in the text: bulk messages carry many",
                          std::nullopt,
                          {}});
    }
    const auto [letters, upper] = count_letters(post.text);
    if (letters >= static_cast<std::size_t>(c.shouting_min_letters) &&
        static_cast<double>(upper) >= c.shouting_ratio * static_cast<double>(letters)) {
      findings.push_back({"SHOUTING", c.shouting_score, "most of the text is in capitals", std::nullopt, {}});
    }
  }

 private:
  std::shared_ptr<const BasicConfig> config_;
};

// Reads `key` into `into` when present; a value at or below `above` is refused.
template <class T>
relais::Status read_key(const ConfigTable& table, std::string_view key, T& into, T above,
                        std::string_view what) {
  Expected<std::optional<T>> value = [&] {
    if constexpr (std::is_same_v<T, double>) {
      return table.number(key);
    } else {
      return table.integer(key);
    }
  }();
  if (!value) return value.error();
  if (!*value) return relais::Done{};
  if (**value <= above) return table.error(key, what);
  into = **value;
  return relais::Done{};
}

class BasicFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<BasicConfig>();
    for (const auto& status : {
             read_key<std::int64_t>(table, "links", config->links, 0, "expected an integer of at least 1"),
             read_key<double>(table, "links_score", config->links_score, -1e9, "expected a number"),
             read_key<std::int64_t>(table, "shouting_min_letters", config->shouting_min_letters, 0,
                                    "expected an integer of at least 1"),
             read_key<double>(table, "shouting_ratio", config->shouting_ratio, 0.0,
                              "expected a number above 0 and at most 1"),
             read_key<double>(table, "shouting_score", config->shouting_score, -1e9, "expected a number"),
         }) {
      if (!status) return status.error();
    }
    if (config->shouting_ratio > 1.0) {
      return table.error("shouting_ratio", "expected a number above 0 and at most 1");
    }
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& /*context*/) const override {
    return std::make_unique<BasicModerator>(std::static_pointer_cast<const BasicConfig>(std::move(config)));
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_basic", "1.0.0", BasicFactory)
