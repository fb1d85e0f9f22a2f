#include "eval_dataset.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <initializer_list>
#include <map>
#include <span>
#include <stdexcept>
#include <variant>

#include "protocol.hpp"

namespace relais::eval {
namespace {

namespace json = boost::json;

// Thrown while one line is read; becomes that line's error.
class LineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void bad(const std::string& field, const std::string& reason) {
  throw LineError(field + ": " + reason);
}

std::string joined(std::span<const std::string_view> names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// A key this schema does not define is refused, as the protocol refuses one:
// a misspelt label would otherwise be silently ignored.
void only_keys(const json::object& o, std::initializer_list<std::string_view> keys,
               const std::string& prefix) {
  for (const auto& kv : o) {
    if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
      bad(prefix + std::string(kv.key()), "unknown field");
    }
  }
}

const json::value& need(const json::object& o, std::string_view key, const std::string& prefix) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) bad(prefix + std::string(key), "is missing");
  return *v;
}

std::string text_of(const json::value& v, const std::string& field) {
  if (!v.is_string()) bad(field, "must be a string");
  return std::string(v.get_string());
}

// null becomes the empty string.
std::string text_or_null(const json::value& v, const std::string& field) {
  if (v.is_null()) return {};
  if (!v.is_string()) bad(field, "must be a string or null");
  return std::string(v.get_string());
}

std::vector<std::string> texts_of(const json::value& v, const std::string& field) {
  if (!v.is_array()) bad(field, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_string()) bad(field, "must be a list of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::string one_of(const json::value& v, const std::string& field,
                   std::span<const std::string_view> allowed) {
  std::string s = text_of(v, field);
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    bad(field, "\"" + s + "\" is not one of " + joined(allowed));
  }
  return s;
}

constexpr std::array<std::string_view, 4> kKinds = {"request", "offer", "info", "other"};
constexpr std::array<std::string_view, 4> kUrgencies = {"low", "normal", "high", "critical"};

Labels parse_labels(const json::value& v) {
  if (!v.is_object()) bad("labels", "must be an object");
  const auto& o = v.get_object();
  only_keys(
      o,
      {"kind", "categories", "urgency", "expected_action", "flags", "area", "expected_route", "duplicate_of"},
      "labels.");
  const std::string p = "labels.";
  Labels l;
  l.kind = one_of(need(o, "kind", p), p + "kind", kKinds);
  l.categories = texts_of(need(o, "categories", p), p + "categories");
  // The category metric compares the first one: a post without one could
  // not be scored.
  if (l.categories.empty()) bad(p + "categories", "must hold at least one category");
  l.urgency = one_of(need(o, "urgency", p), p + "urgency", kUrgencies);
  l.expected_action = one_of(need(o, "expected_action", p), p + "expected_action", kActions);
  l.flags = texts_of(need(o, "flags", p), p + "flags");
  for (const auto& f : l.flags) {
    if (std::find(kFlags.begin(), kFlags.end(), f) == kFlags.end()) {
      bad(p + "flags", "\"" + f + "\" is not one of " + joined(kFlags));
    }
  }
  l.area = text_or_null(need(o, "area", p), p + "area");
  l.expected_route = texts_of(need(o, "expected_route", p), p + "expected_route");
  l.duplicate_of = text_or_null(need(o, "duplicate_of", p), p + "duplicate_of");
  return l;
}

}  // namespace

Expected<LabelledPost> parse_line(std::string_view line) {
  try {
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    if (ec) return Error{"bad_json", "not JSON: " + ec.message(), ""};
    if (!v.is_object()) return Error{"bad_json", "not a JSON object", ""};
    const auto& o = v.get_object();
    only_keys(o, {"id", "channel", "sender", "received_at", "subject", "text", "labels"}, "");
    LabelledPost lp;
    lp.id = text_of(need(o, "id", ""), "id");
    if (lp.id.empty()) bad("id", "must not be empty");
    auto& post = lp.post;
    post.source = std::string(kSource);
    post.external_id = lp.id;
    post.channel = text_of(need(o, "channel", ""), "channel");
    post.sender = text_of(need(o, "sender", ""), "sender");
    post.received_at = text_of(need(o, "received_at", ""), "received_at");
    if (const auto& s = need(o, "subject", ""); !s.is_null()) post.subject = text_of(s, "subject");
    post.text = text_of(need(o, "text", ""), "text");
    lp.labels = parse_labels(need(o, "labels", ""));

    // The daemon's own rules, checked here so that a post relaisd would
    // refuse is reported with its line before anything starts.
    const auto request = protocol::parse_request(protocol::encode_submit(0, post), protocol::Limits{});
    if (const auto* r = std::get_if<protocol::Rejection>(&request)) {
      std::string field = r->field.starts_with("post.") ? r->field.substr(5) : r->field;
      if (field == "external_id") field = "id";
      return Error{std::string(protocol::code_name(r->code)), r->message, field};
    }
    return lp;
  } catch (const LineError& e) {
    return Error{"invalid", e.what(), ""};
  }
}

Expected<std::vector<LabelledPost>> read_posts(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"io", file.string() + ": cannot open", ""};
  std::vector<LabelledPost> posts;
  std::map<std::string, std::size_t, std::less<>> lines_by_id;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(n) + ": ";
    auto lp = parse_line(line);
    if (!lp) {
      const auto& e = lp.error();
      return Error{e.code, where + (e.field.empty() ? e.message : e.field + ": " + e.message), e.field};
    }
    if (auto [it, fresh] = lines_by_id.emplace(lp->id, n); !fresh) {
      return Error{"invalid",
                   where + "id: \"" + lp->id + "\" already used on line " + std::to_string(it->second), "id"};
    }
    lp->line = n;
    posts.push_back(std::move(*lp));
  }
  if (in.bad()) return Error{"io", file.string() + ": read error", ""};
  if (posts.empty()) return Error{"invalid", file.string() + ": no post in the file", ""};
  return posts;
}

}  // namespace relais::eval
