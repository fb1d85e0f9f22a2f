#include "privacy.hpp"

#include <algorithm>

namespace relais::daemon {

std::string redacted(const std::string& original, const std::vector<StoredFinding>& findings,
                     std::string_view field) {
  std::vector<const Redaction*> spans;
  for (const auto& f : findings) {
    for (const auto& r : f.finding.redactions) {
      if (r.field == field && r.length > 0 && r.offset + r.length <= original.size()) spans.push_back(&r);
    }
  }
  std::stable_sort(spans.begin(), spans.end(),
                   [](const auto* a, const auto* b) { return a->offset < b->offset; });
  std::string out;
  std::size_t at = 0;
  for (const auto* r : spans) {
    if (r->offset < at) continue;
    out.append(original, at, r->offset - at);
    out += r->replacement;
    at = r->offset + r->length;
  }
  out.append(original, at, std::string::npos);
  return out;
}

Post public_view(const StoredPost& stored) {
  Post p = stored.post;
  p.text = redacted(stored.post.text, stored.findings, "text");
  if (p.subject) p.subject = redacted(*stored.post.subject, stored.findings, "subject");
  p.sender.clear();
  p.private_data.clear();
  return p;
}

}  // namespace relais::daemon
