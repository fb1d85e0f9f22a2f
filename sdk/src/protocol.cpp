#include "protocol.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace relais::protocol {
namespace json = boost::json;

std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::bad_json:
      return "bad_json";
    case Code::bad_utf8:
      return "bad_utf8";
    case Code::too_large:
      return "too_large";
    case Code::unsupported_version:
      return "unsupported_version";
    case Code::unknown_type:
      return "unknown_type";
    case Code::missing_field:
      return "missing_field";
    case Code::wrong_type:
      return "wrong_type";
    case Code::invalid_value:
      return "invalid_value";
    case Code::unknown_field:
      return "unknown_field";
    case Code::unavailable:
      return "unavailable";
    case Code::not_found:
      return "not_found";
    case Code::forbidden:
      return "forbidden";
    case Code::conflict:
      return "conflict";
  }
  return "unavailable";
}

bool is_retryable(std::string_view code) noexcept { return code == "unavailable"; }

bool valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Most text is ASCII: skip it a word at a time.
    while (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    for (std::size_t i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    p += len;
  }
  return true;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int number(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

bool valid_timestamp(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2) ||
      s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2)) {
    return false;
  }
  const int year = number(s, 0, 4);
  const int month = number(s, 5, 2);
  const int day = number(s, 8, 2);
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return false;
  const int month_days = kDays[static_cast<std::size_t>(month - 1)] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || day > month_days || number(s, 11, 2) > 23 || number(s, 14, 2) > 59 ||
      number(s, 17, 2) > 60) {
    return false;
  }
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return false;
  }
  if (pos == s.size()) return false;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return true;
  if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && digits(s, pos + 1, 2) && s[pos + 3] == ':' &&
      digits(s, pos + 4, 2)) {
    return number(s, pos + 1, 2) <= 23 && number(s, pos + 4, 2) <= 59;
  }
  return false;
}

std::string rfc3339_utc(std::chrono::system_clock::time_point at) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(at);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 80> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf.data();
}

std::string now_rfc3339() { return rfc3339_utc(std::chrono::system_clock::now()); }

namespace {

// Validation of one JSON object: each accessor records the first fault, so
// the reply names the first field that is wrong.
class ObjectReader {
 public:
  ObjectReader(const json::object& object, std::string prefix, std::optional<Rejection>& fault)
      : object_(object), prefix_(std::move(prefix)), fault_(fault) {}

  std::string path(std::string_view key) const { return prefix_ + std::string(key); }

  void fail(Code code, std::string_view key, std::string message) {
    if (!fault_) fault_ = Rejection{std::nullopt, code, path(key), std::move(message)};
  }

  const json::value* find(std::string_view key, bool required) {
    const auto* v = object_.if_contains(key);
    if (v == nullptr && required) fail(Code::missing_field, key, "is required");
    return v;
  }

  std::optional<std::string> string(std::string_view key, bool required, std::size_t max_bytes,
                                    bool allow_null = false) {
    const auto* v = find(key, required);
    if (v == nullptr || (allow_null && v->is_null())) return std::nullopt;
    if (!v->is_string()) {
      fail(Code::wrong_type, key, "must be a string");
      return std::nullopt;
    }
    const auto& s = v->get_string();
    if (s.size() > max_bytes) {
      fail(Code::too_large, key,
           "is " + std::to_string(s.size()) + " bytes, the limit is " + std::to_string(max_bytes));
      return std::nullopt;
    }
    return std::string(s.data(), s.size());
  }

  std::optional<std::uint64_t> unsigned_integer(std::string_view key, bool required) {
    const auto* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    fail(v->is_number() ? Code::invalid_value : Code::wrong_type, key, "must be a non-negative integer");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(std::string_view key, bool required) {
    const auto* v = find(key, required);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v->get_uint64());
    fail(v->is_number() ? Code::invalid_value : Code::wrong_type, key, "must be an integer");
    return std::nullopt;
  }

  void only(std::initializer_list<std::string_view> known) {
    for (const auto& kv : object_) {
      bool ok = false;
      for (auto k : known) ok = ok || kv.key() == k;
      if (!ok) {
        fail(Code::unknown_field, kv.key(), "is not a field of this message");
        return;
      }
    }
  }

 private:
  const json::object& object_;
  std::string prefix_;
  std::optional<Rejection>& fault_;
};

std::map<std::string, std::string> read_string_map(const json::value* v, const std::string& path,
                                                   std::optional<Rejection>& fault,
                                                   const std::vector<std::string_view>* allowed) {
  std::map<std::string, std::string> out;
  if (v == nullptr || v->is_null()) return out;
  auto set = [&](Code code, const std::string& field, std::string message) {
    if (!fault) fault = Rejection{std::nullopt, code, field, std::move(message)};
  };
  if (!v->is_object()) {
    set(Code::wrong_type, path, "must be an object of strings");
    return out;
  }
  const auto& obj = v->get_object();
  if (obj.size() > kMaxMapEntries) {
    set(Code::too_large, path, "has more than " + std::to_string(kMaxMapEntries) + " entries");
    return out;
  }
  for (const auto& kv : obj) {
    const std::string key(kv.key());
    std::string field = path;
    field += ".";
    field += key;
    if (key.empty() || key.size() > kMaxMapKeyBytes) {
      set(Code::invalid_value, field, "keys must be 1 to 64 bytes");
      return out;
    }
    if (allowed != nullptr) {
      bool ok = false;
      for (auto k : *allowed) ok = ok || key == k;
      if (!ok) {
        set(Code::unknown_field, field, "is not a private field (name, phone, email, address, note)");
        return out;
      }
    }
    if (!kv.value().is_string()) {
      set(Code::wrong_type, field, "must be a string");
      return out;
    }
    const auto& s = kv.value().get_string();
    if (s.size() > kMaxMapValueBytes) {
      set(Code::too_large, field, "is longer than " + std::to_string(kMaxMapValueBytes) + " bytes");
      return out;
    }
    out.emplace(key, std::string(s.data(), s.size()));
  }
  return out;
}

bool valid_source_name(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return !s.empty();
}

std::optional<Post> read_post(const json::value* v, const Limits& limits, std::optional<Rejection>& fault) {
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    fault = Rejection{std::nullopt, Code::wrong_type, "post", "must be an object"};
    return std::nullopt;
  }
  ObjectReader r(v->get_object(), "post.", fault);
  r.only({"source", "external_id", "channel", "sender", "subject", "text", "received_at", "lang", "fields",
          "private"});
  Post post;
  if (auto s = r.string("source", true, kMaxSourceBytes)) {
    if (!valid_source_name(*s)) {
      r.fail(Code::invalid_value, "source", "must be 1 to 64 of A-Z a-z 0-9 _ - . :");
    }
    post.source = std::move(*s);
  }
  if (auto s = r.string("external_id", true, kMaxExternalIdBytes)) {
    if (s->empty()) r.fail(Code::invalid_value, "external_id", "must not be empty");
    post.external_id = std::move(*s);
  }
  if (auto s = r.string("text", true, limits.max_text_bytes)) post.text = std::move(*s);
  post.subject = r.string("subject", false, kMaxSubjectBytes, true);
  if (auto s = r.string("channel", false, kMaxShortFieldBytes)) post.channel = std::move(*s);
  if (auto s = r.string("sender", false, kMaxShortFieldBytes)) post.sender = std::move(*s);
  if (auto s = r.string("lang", false, kMaxShortFieldBytes)) post.lang = std::move(*s);
  if (auto s = r.string("received_at", false, kMaxShortFieldBytes)) {
    if (!valid_timestamp(*s)) {
      r.fail(Code::invalid_value, "received_at",
             "must be an RFC 3339 timestamp such as 2020-04-01T08:12:00+02:00");
    }
    post.received_at = std::move(*s);
  }
  if (!fault) {
    post.fields = read_string_map(r.find("fields", false), "post.fields", fault, nullptr);
  }
  if (!fault) {
    static const std::vector<std::string_view> kPrivate = {"name", "phone", "email", "address", "note"};
    post.private_data = read_string_map(r.find("private", false), "post.private", fault, &kPrivate);
  }
  if (!fault && post.text.find_first_not_of(" \t\r\n") == std::string::npos &&
      (!post.subject || post.subject->find_first_not_of(" \t\r\n") == std::string::npos)) {
    r.fail(Code::invalid_value, "text", "is empty and there is no subject either");
  }
  if (fault) return std::nullopt;
  if (post.channel.empty()) post.channel = post.source;
  if (post.received_at.empty()) post.received_at = now_rfc3339();
  return post;
}

// [{"post": {...}, "label": "accept" | "reject"}, ...]; a fault names the
// example: "examples[3].post.text".
std::vector<Example> read_examples(const json::value* v, const Limits& limits,
                                   std::optional<Rejection>& fault) {
  std::vector<Example> out;
  if (v == nullptr) return out;
  if (!v->is_array()) {
    fault = Rejection{std::nullopt, Code::wrong_type, "examples", "must be an array"};
    return out;
  }
  const auto& items = v->get_array();
  if (items.empty() || items.size() > kMaxExamples) {
    fault = Rejection{std::nullopt, Code::invalid_value, "examples",
                      "must hold 1 to " + std::to_string(kMaxExamples) + " examples"};
    return out;
  }
  for (std::size_t i = 0; i < items.size() && !fault; ++i) {
    const std::string where = "examples[" + std::to_string(i) + "]";
    if (!items[i].is_object()) {
      fault = Rejection{std::nullopt, Code::wrong_type, where, "must be an object"};
      break;
    }
    ObjectReader r(items[i].get_object(), where + ".", fault);
    r.only({"post", "label"});
    Example example;
    if (auto label = r.string("label", true, 16)) {
      const auto action = parse_action(*label);
      if (!action || *action == Action::hold) {
        r.fail(Code::invalid_value, "label", "must be accept or reject");
      } else {
        example.label = *action;
      }
    }
    if (fault) break;
    auto post = read_post(r.find("post", true), limits, fault);
    if (fault) {
      if (fault->field.empty())
        fault->field = where + ".post";
      else if (fault->field.rfind(where, 0) != 0)
        fault->field = where + "." + fault->field;
      break;
    }
    example.post = std::move(*post);
    out.push_back(std::move(example));
  }
  return out;
}

json::object header(std::string_view type) {
  json::object o;
  o["v"] = kVersion;
  o["type"] = type;
  return o;
}

}  // namespace

Request parse_request(std::string_view frame, const Limits& limits) {
  if (frame.size() > limits.max_message_bytes) {
    return Rejection{std::nullopt, Code::too_large, "",
                     "message is " + std::to_string(frame.size()) + " bytes, the limit is " +
                         std::to_string(limits.max_message_bytes)};
  }
  if (!valid_utf8(frame)) {
    return Rejection{std::nullopt, Code::bad_utf8, "", "message is not valid UTF-8"};
  }
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  // The document lives only while the post is read out of it: a monotonic
  // arena, starting on the stack, spares an allocation per value.
  alignas(std::max_align_t) unsigned char arena[8192];
  json::monotonic_resource resource(arena, sizeof arena);
  json::value doc = json::parse(frame, ec, &resource, opts);
  if (ec) {
    return Rejection{std::nullopt, Code::bad_json, "", "not a JSON document: " + ec.message()};
  }
  if (!doc.is_object()) {
    return Rejection{std::nullopt, Code::bad_json, "", "the message must be a JSON object"};
  }
  const auto& obj = doc.get_object();
  std::optional<Rejection> fault;
  ObjectReader r(obj, "", fault);
  // seq first, so that every later rejection can be matched by the client.
  std::optional<std::uint64_t> seq;
  if (const auto* s = obj.if_contains("seq"); s != nullptr) {
    if (s->is_uint64())
      seq = s->get_uint64();
    else if (s->is_int64() && s->get_int64() >= 0)
      seq = static_cast<std::uint64_t>(s->get_int64());
  }
  auto reject = [&](Rejection rej) {
    rej.seq = seq;
    return rej;
  };
  const auto* v = r.find("v", true);
  if (v == nullptr) return reject(*fault);
  if (!v->is_int64() && !v->is_uint64()) {
    return reject({seq, Code::wrong_type, "v", "must be an integer"});
  }
  if (!(v->is_int64() && v->get_int64() == kVersion)) {
    return reject({seq, Code::unsupported_version, "v",
                   "protocol version " + json::serialize(*v) + " is not supported; this daemon speaks 1"});
  }
  auto type = r.string("type", true, 32);
  if (fault) return reject(*fault);
  auto s = r.unsigned_integer("seq", true);
  if (fault) return reject(*fault);
  if (*type == "submit") {
    r.only({"v", "type", "seq", "post"});
    auto post = read_post(r.find("post", true), limits, fault);
    if (fault) return reject(*fault);
    return Submit{*s, std::move(*post)};
  }
  if (*type == "ping") {
    r.only({"v", "type", "seq"});
    if (fault) return reject(*fault);
    return Ping{*s};
  }
  if (*type == "query") {
    r.only({"v", "type", "seq", "query", "id", "state", "limit", "by", "note", "reason", "examples",
            "destination", "token"});
    Query q;
    if (auto what = r.string("query", true, 32)) q.what = *what;
    if (auto id = r.integer("id", false)) q.id = *id;
    if (auto st = r.string("state", false, 32)) q.state = *st;
    if (auto lim = r.integer("limit", false)) q.limit = *lim;
    if (auto by = r.string("by", false, kMaxShortFieldBytes)) q.by = *by;
    if (auto note = r.string("note", false, kMaxMapValueBytes)) q.note = *note;
    if (auto reason = r.string("reason", false, kMaxMapValueBytes)) q.reason = *reason;
    if (auto destination = r.string("destination", false, 64)) q.destination = *destination;
    if (auto token = r.string("token", false, kMaxShortFieldBytes)) q.token = *token;
    static constexpr std::string_view kQueries[] = {
        "posts", "post", "stats",  "plugins",    "queue",   "approve", "reject",  "learn",
        "needs", "need", "assign", "deliveries", "redrive", "claim",   "decline", "resolve"};
    if (!fault && std::find(std::begin(kQueries), std::end(kQueries), q.what) == std::end(kQueries)) {
      r.fail(Code::invalid_value, "query",
             "must be posts, post, stats, plugins, queue, approve, reject, learn, needs, need, assign, "
             "deliveries, "
             "redrive, claim, decline or resolve");
    }
    auto one_of = [&](std::initializer_list<std::string_view> states, const char* list) {
      if (fault || q.state.empty()) return;
      if (std::find(states.begin(), states.end(), q.state) == states.end()) {
        r.fail(Code::invalid_value, "state", std::string("must be ") + list);
      }
    };
    if (q.what == "deliveries") {
      one_of({"pending", "delivered", "dead", "failed"}, "pending, delivered, dead or failed");
    } else if (q.what == "needs") {
      one_of({"routed", "claimed", "resolved", "unrouted"}, "routed, claimed, resolved or unrouted");
    } else {
      one_of({"received", "held", "rejected", "accepted", "routed", "unrouted", "claimed", "resolved"},
             "received, held, rejected, accepted, routed, unrouted, claimed or resolved");
    }
    const bool act = q.what == "claim" || q.what == "decline" || q.what == "resolve";
    const bool by_id = q.what == "post" || q.what == "approve" || q.what == "reject" || q.what == "need" ||
                       q.what == "assign" || q.what == "redrive" || act;
    if (!fault && by_id && q.id <= 0) {
      r.fail(Code::missing_field, "id", "a " + q.what + " query needs a positive id");
    }
    const bool decision = q.what == "approve" || q.what == "reject" || q.what == "learn" ||
                          q.what == "assign" || q.what == "redrive";
    if (!fault && decision && q.by.find_first_not_of(" \t") == std::string::npos) {
      r.fail(Code::missing_field, "by", "a " + q.what + " query names the person deciding");
    }
    if (!fault && q.what == "reject" && q.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
      r.fail(Code::missing_field, "reason", "a reject query gives the reason");
    }
    if (!fault && (act || q.what == "assign") && q.destination.empty()) {
      r.fail(Code::missing_field, "destination", "a " + q.what + " query names the destination");
    }
    if (!fault && act && q.token.empty()) {
      r.fail(Code::missing_field, "token", "a " + q.what + " query gives the destination's token");
    }
    if (!fault && (q.limit < 1 || q.limit > 10000)) {
      r.fail(Code::invalid_value, "limit", "must be between 1 and 10000");
    }
    if (!fault && q.what == "learn") q.examples = read_examples(r.find("examples", true), limits, fault);
    if (fault) return reject(*fault);
    return QueryRequest{*s, std::move(q)};
  }
  return reject({seq, Code::unknown_type, "type", "unknown message type; expected submit, ping or query"});
}

namespace {
json::object post_to_json(const Post& post) {
  json::object p;
  p["source"] = post.source;
  p["external_id"] = post.external_id;
  p["text"] = post.text;
  if (post.subject) p["subject"] = *post.subject;
  if (!post.channel.empty()) p["channel"] = post.channel;
  if (!post.sender.empty()) p["sender"] = post.sender;
  if (!post.received_at.empty()) p["received_at"] = post.received_at;
  if (!post.lang.empty()) p["lang"] = post.lang;
  auto map = [](const std::map<std::string, std::string>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
  };
  if (!post.fields.empty()) p["fields"] = map(post.fields);
  if (!post.private_data.empty()) p["private"] = map(post.private_data);
  return p;
}
}  // namespace

std::string encode_submit(std::uint64_t seq, const Post& post) {
  auto o = header("submit");
  o["seq"] = seq;
  o["post"] = post_to_json(post);
  return json::serialize(o);
}

std::string encode_ping(std::uint64_t seq) {
  auto o = header("ping");
  o["seq"] = seq;
  return json::serialize(o);
}

std::string encode_query(std::uint64_t seq, const Query& query) {
  auto o = header("query");
  o["seq"] = seq;
  o["query"] = query.what;
  if (query.id > 0) o["id"] = query.id;
  if (!query.state.empty()) o["state"] = query.state;
  o["limit"] = query.limit;
  if (!query.by.empty()) o["by"] = query.by;
  if (!query.note.empty()) o["note"] = query.note;
  if (!query.reason.empty()) o["reason"] = query.reason;
  if (!query.destination.empty()) o["destination"] = query.destination;
  if (!query.token.empty()) o["token"] = query.token;
  if (!query.examples.empty()) {
    json::array examples;
    for (const auto& e : query.examples) {
      examples.push_back(json::object{{"post", post_to_json(e.post)}, {"label", to_string(e.label)}});
    }
    o["examples"] = std::move(examples);
  }
  return json::serialize(o);
}

std::string encode_ack(std::uint64_t seq, bool duplicate, std::int64_t post_id) {
  auto o = header("ack");
  o["seq"] = seq;
  o["status"] = duplicate ? "duplicate" : "stored";
  o["post_id"] = post_id;
  return json::serialize(o);
}

std::string encode_nack(const Rejection& rejection) {
  auto o = header("nack");
  if (rejection.seq) o["seq"] = *rejection.seq;
  o["code"] = code_name(rejection.code);
  o["retryable"] = is_retryable(code_name(rejection.code));
  if (!rejection.field.empty()) o["field"] = rejection.field;
  o["message"] = rejection.field.empty() ? rejection.message : rejection.field + ": " + rejection.message;
  return json::serialize(o);
}

std::string encode_pong(std::uint64_t seq) {
  auto o = header("pong");
  o["seq"] = seq;
  return json::serialize(o);
}

std::string encode_result(std::uint64_t seq, std::string_view result_json) {
  std::string out = R"({"v":1,"type":"result","seq":)";
  out += std::to_string(seq);
  out += R"(,"result":)";
  out += result_json;
  out += '}';
  return out;
}

std::optional<Reply> parse_reply(std::string_view frame) {
  boost::system::error_code ec;
  json::value doc = json::parse(frame, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto& o = doc.get_object();
  const auto* v = o.if_contains("v");
  const auto* type = o.if_contains("type");
  if (v == nullptr || !v->is_int64() || v->get_int64() != kVersion || type == nullptr || !type->is_string()) {
    return std::nullopt;
  }
  Reply r;
  r.type = type->get_string();
  auto str = [&](std::string_view key) -> std::string {
    const auto* x = o.if_contains(key);
    return (x != nullptr && x->is_string()) ? std::string(x->get_string()) : std::string();
  };
  if (const auto* s = o.if_contains("seq"); s != nullptr) {
    if (s->is_uint64())
      r.seq = s->get_uint64();
    else if (s->is_int64() && s->get_int64() >= 0)
      r.seq = static_cast<std::uint64_t>(s->get_int64());
  }
  r.status = str("status");
  r.code = str("code");
  r.field = str("field");
  r.message = str("message");
  if (const auto* id = o.if_contains("post_id"); id != nullptr && id->is_int64()) {
    r.post_id = id->get_int64();
  }
  if (const auto* res = o.if_contains("result"); res != nullptr) r.result_json = json::serialize(*res);
  return r;
}

}  // namespace relais::protocol
