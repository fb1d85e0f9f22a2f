// pages: the web form's HTML, in French or English. Mobile-first, no
// script and nothing from elsewhere: one inline stylesheet, allowed by its
// hash in the Content-Security-Policy. Every dynamic value is escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "form.hpp"

namespace relais::webform::pages {

// What the pages say about the deployment.
struct Site {
  std::string title;        // the network's name
  std::string controller;   // who is responsible for the contact data
  std::string follow_up;    // how to reach the coordinators, quoting a reference
  std::string privacy_url;  // a fuller privacy notice; empty: none
  FormRules rules;
};

std::string escape(std::string_view text);
std::string_view stylesheet();
// The site's icon (SVG), served at favicon.svg and favicon.ico.
std::string_view icon();

// A message shown above the form, beside the errors of its fields.
enum class Notice : unsigned char { none, expired, unavailable, refused };

struct FormView {
  Lang lang = Lang::fr;
  Submission values;
  std::vector<FieldError> errors;
  std::string csrf;
  Notice notice = Notice::none;
  std::string refused_message;  // Notice::refused: the daemon's words
};

std::string home(const Site& site, Lang lang);
std::string form(const Site& site, const FormView& view);
// After a post was stored: its reference and how to follow it.
std::string thanks(const Site& site, Lang lang, std::string_view kind, std::string_view reference);
// A page with a title, a paragraph and a link back to the start.
enum class Problem : unsigned char { not_found, method, forbidden, too_large, too_many, malformed };
std::string problem(const Site& site, Lang lang, Problem which);

}  // namespace relais::webform::pages
