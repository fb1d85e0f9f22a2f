// http/pages: the small HTML pages behind the signed links of messages, in
// the destination's language (French or English): what the link will do
// and a button to confirm it, then what came of it. Every dynamic value is
// escaped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "router/needs.hpp"

namespace relais::daemon::pages {

struct LinkPage {
  std::string lang;  // "fr" or "en"
  NeedAct act = NeedAct::claim;
  std::int64_t post_id = 0;
  std::string destination_name;
  std::string path;  // the link's own path, where the form posts
};

std::string escape(std::string_view text);
std::string link_confirm(const LinkPage& page);
std::string link_done(const LinkPage& page, const NeedActResult& result);
std::string link_failed(const LinkPage& page, std::string_view code, std::string_view message);
// A link that is not one, is forged or has expired (`code`: not_found,
// forbidden, expired, method).
std::string link_refused(std::string_view lang, std::string_view code);

}  // namespace relais::daemon::pages
