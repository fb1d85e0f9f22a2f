// bench/eval: the labelled posts file (the schema of the dev set's README),
// read and checked line by line so that every error names its line.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais::eval {

// The flags of the labels, in the order reports list them.
inline constexpr std::array<std::string_view, 6> kFlags = {"spam", "scam",      "abuse",
                                                           "pii",  "off_topic", "duplicate"};
inline constexpr std::array<std::string_view, 3> kActions = {"accept", "hold", "reject"};

struct Labels {
  std::string kind;
  std::vector<std::string> categories;  // primary first, never empty
  std::string urgency;
  std::string expected_action;
  std::vector<std::string> flags;
  std::string area;  // empty: null
  std::vector<std::string> expected_route;
  std::string duplicate_of;  // empty: null
};

struct LabelledPost {
  std::size_t line = 0;  // in the file, from 1
  std::string id;
  Post post;  // as submitted: source "eval", external_id = id
  Labels labels;
};

// The source every post is submitted under.
inline constexpr std::string_view kSource = "eval";

// One line of the file; the error's message names the field at fault.
Expected<LabelledPost> parse_line(std::string_view line);

// The whole file, in file order; an error reads `file:line: reason`. Blank
// lines are skipped; an id seen twice is an error.
Expected<std::vector<LabelledPost>> read_posts(const std::filesystem::path& file);

}  // namespace relais::eval
