// The review queue and the moderators' decisions, carried out by relaisd:
// it checks that the post is still held, records the decision as an event
// naming the moderator, and answers once it is committed.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>

#include "ctl.hpp"

namespace relais::ctl {
namespace json = boost::json;

namespace {

// Long enough to read what a post is about, short enough for one line.
std::string excerpt(const json::value& text, std::size_t max_chars) {
  std::string s = str(text);
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  // Cut on a UTF-8 boundary.
  std::size_t bytes = 0;
  std::size_t chars = 0;
  while (bytes < s.size() && chars < max_chars) {
    const auto lead = static_cast<unsigned char>(s[bytes]);
    bytes += lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    ++chars;
  }
  if (bytes >= s.size()) return s;
  return s.substr(0, bytes) + "…";
}

}  // namespace

int cmd_queue(const Options& o, int limit) {
  protocol::Query q;
  q.what = "queue";
  q.limit = limit;
  auto r = query(o, q);
  if (auto done = reported(o, r)) return *done;
  const auto& posts = r->at("posts").as_array();
  if (posts.empty()) {
    std::cout << "no post is waiting for a moderator\n";
    return 0;
  }
  for (const auto& value : posts) {
    const auto& p = value.as_object();
    std::printf("%-8lld held  score=%-6s %-10s %-9s %-9s %s\n", static_cast<long long>(p.at("id").as_int64()),
                str(p.at("score")).c_str(), str(p.at("channel")).c_str(), str(p.at("kind")).c_str(),
                str(p.at("urgency")).c_str(), str(p.at("received_at")).c_str());
    std::cout << "         " << excerpt(p.at("public_text"), 100) << "\n";
    for (const auto& f : p.at("findings").as_array()) {
      const auto& fo = f.as_object();
      std::cout << "         " << str(fo.at("symbol")) << " score=" << str(fo.at("score"));
      if (const auto* forced = fo.if_contains("forced")) std::cout << " forced=" << str(*forced);
      std::cout << ": " << str(fo.at("description")) << "\n";
    }
  }
  std::cout << posts.size()
            << " held; decide with relaisctl approve ID [--note TEXT] or reject ID --reason TEXT\n";
  return 0;
}

int cmd_decide(const Options& o, bool approve, std::int64_t id, const std::string& by,
               const std::string& text) {
  protocol::Query q;
  q.what = approve ? "approve" : "reject";
  q.id = id;
  q.by = by;
  (approve ? q.note : q.reason) = text;
  auto r = query(o, q);
  if (auto done = reported(o, r)) return *done;
  std::cout << "post " << id << (approve ? " approved" : " rejected") << " by " << by << "; it is now "
            << str(r->at("state")) << "\n";
  return 0;
}

int cmd_learn(const Options& o, const std::string& file, const std::string& by) {
  auto posts = read_posts(file, "learn");
  if (!posts) return fail(posts.error().message);
  const std::string name = file == "-" ? "<stdin>" : file;
  // Sent in parts that stay well under the daemon's message limit.
  constexpr std::size_t kMaxPartBytes = std::size_t{128} * 1024;
  std::size_t learned = 0;
  std::size_t skipped = 0;
  protocol::Query q;
  q.what = "learn";
  q.by = by;
  std::size_t part_bytes = 0;
  const auto send = [&]() -> bool {
    if (q.examples.empty()) return true;
    auto r = query(o, q);
    if (!r) {
      fail(r.error().field.empty() ? r.error().message : r.error().field + ": " + r.error().message);
      return false;
    }
    learned += static_cast<std::size_t>(r->at("learned").to_number<std::int64_t>());
    q.examples.clear();
    part_bytes = 0;
    return true;
  };
  for (auto& p : *posts) {
    // Held is not a judgement of the post itself (someone else's phone
    // number, a rude but genuine need): nothing to learn from it. Nor is a
    // duplicate's rejection, which is about where else it was posted: its
    // words are a genuine need's.
    const bool duplicate = std::find(p.flags.begin(), p.flags.end(), "duplicate") != p.flags.end();
    if (!p.label || *p.label == Action::hold || duplicate) {
      ++skipped;
      continue;
    }
    const std::size_t bytes = p.post.text.size() + (p.post.subject ? p.post.subject->size() : 0) + 512;
    if (part_bytes + bytes > kMaxPartBytes || q.examples.size() == protocol::kMaxExamples) {
      if (!send()) return 1;
    }
    part_bytes += bytes;
    q.examples.push_back({std::move(p.post), *p.label});
  }
  if (!send()) return 1;
  if (learned == 0) return fail(name + ": no post labelled accept or reject");
  std::cout << "learned " << learned << " posts from " << name;
  if (skipped > 0) std::cout << "; " << skipped << " skipped (held, duplicate or without a label)";
  std::cout << "\n";
  return 0;
}

}  // namespace relais::ctl
