// form: what the web form asks, how a submission is read and checked, and
// the post it becomes. No HTTP and no HTML here, so that the rules of the
// form are in one place and the pages only show them.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais::webform {

enum class Lang : unsigned char { fr, en };
std::string_view to_string(Lang lang) noexcept;
std::optional<Lang> parse_lang(std::string_view text) noexcept;

// One option of a select: its id (what the post carries) and its label in
// each language.
struct Choice {
  std::string id;
  std::string fr;
  std::string en;
  std::string group = {};  // shown as an <optgroup> (an area's city); may be empty
  const std::string& label(Lang lang) const { return lang == Lang::en ? en : fr; }
};

// The labels of the default taxonomy (the categories triage knows), in
// its order; the labels of the other ids come from the configuration.
const std::vector<Choice>& default_categories();
const Choice* find_choice(const std::vector<Choice>& choices, std::string_view id);

// What the form offers and how much it takes; fixed when the plugin's
// table is read.
struct FormRules {
  std::vector<Choice> categories;
  std::vector<Choice> areas;
  std::size_t max_description_chars = 2000;
};

// Limits of the other fields, in characters: enough for any real answer,
// small enough that a page of errors stays a page.
inline constexpr std::size_t kMaxNameChars = 100;
inline constexpr std::size_t kMaxPhoneChars = 40;
inline constexpr std::size_t kMaxEmailChars = 254;
inline constexpr std::size_t kMaxAddressChars = 300;
inline constexpr std::size_t kMaxWhenChars = 200;
inline constexpr std::size_t kMaxPostcodeChars = 10;
inline constexpr std::size_t kMinDescriptionChars = 10;
// A form has about fifteen fields; more parameters than this is not a
// browser filling it.
inline constexpr std::size_t kMaxParameters = 40;

// application/x-www-form-urlencoded (a body or a query string): the first
// value of each name. Errors: a broken %-escape, bytes that are not UTF-8,
// too many parameters.
Expected<std::map<std::string, std::string>> parse_urlencoded(std::string_view body);

// What a visitor typed, as the form shows it again: trimmed, line breaks
// as \n, other control characters removed.
struct Submission {
  std::string kind;  // "request" or "offer"
  std::string category;
  std::string area;
  std::string postcode;
  std::string urgency;  // empty: let triage decide
  std::string when;
  std::string description;
  std::string name;
  std::string phone;
  std::string email;
  std::string address;
  bool consent = false;
};
Submission read_submission(const std::map<std::string, std::string>& params);

// One field's error: the id of the field it is shown next to and a code the
// pages turn into a sentence in the page's language.
struct FieldError {
  std::string field;  // the input's name; "contact" for the contact block
  std::string code;   // required, choice, too_long, too_short, phone, email, postcode, contact
  std::size_t limit = 0;
};
std::vector<FieldError> validate(const Submission& s, const FormRules& rules);

std::size_t utf8_length(std::string_view text) noexcept;

// The post a valid submission becomes: the description is the only public
// text; the contact goes to private_data and nowhere else.
Post to_post(const Submission& s, Lang lang);

}  // namespace relais::webform
