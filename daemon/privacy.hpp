// privacy: what of a post may be shown beyond the destinations that receive
// its personal data: the text and subject with every redaction moderation
// found applied, without the poster's contact or address.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "relais/post.hpp"
#include "storage/store.hpp"

namespace relais::daemon {

// A field as the public sees it: every redaction of the field applied, the
// first of two overlapping ones winning.
std::string redacted(const std::string& original, const std::vector<StoredFinding>& findings,
                     std::string_view field);

// The post with its public text and subject, and neither its sender nor its
// private data.
Post public_view(const StoredPost& stored);

}  // namespace relais::daemon
