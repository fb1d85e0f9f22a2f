#include "ctl.hpp"

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <zmq.hpp>

namespace relais::ctl {
namespace json = boost::json;

int fail(const std::string& reason) {
  std::cerr << "relaisctl: " << reason << "\n";
  return 1;
}

// Sends one query and returns its result, or a one-line reason.
Expected<json::value> query(const Options& o, const protocol::Query& q) {
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.connect(o.ep());
  s.send(zmq::buffer(protocol::encode_query(1, q)), zmq::send_flags::none);
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(o.timeout_ms)) == 0) {
    return Error{"timeout",
                 "relaisd did not answer at " + o.ep() + " within " + std::to_string(o.timeout_ms) +
                     " ms (is it running?)",
                 ""};
  }
  zmq::message_t msg;
  (void)s.recv(msg);
  auto reply = protocol::parse_reply(msg.to_string_view());
  if (!reply) return Error{"protocol", "relaisd sent a reply this relaisctl cannot read", ""};
  if (reply->type != "result") return Error{reply->code, reply->message, reply->field};
  return json::parse(reply->result_json);
}

std::optional<int> reported(const Options& o, const Expected<json::value>& answer) {
  if (!answer) return fail(answer.error().message);
  if (!o.as_json) return std::nullopt;
  std::cout << json::serialize(*answer) << "\n";
  return 0;
}

Expected<Post> check_post(const std::string& envelope, const std::string& at) {
  const std::string frame = R"({"v":1,"type":"submit","seq":0,"post":)" + envelope + "}";
  auto request = protocol::parse_request(frame, {});
  if (auto* r = std::get_if<protocol::Rejection>(&request)) {
    return Error{"input",
                 at + std::string(protocol::code_name(r->code)) + ": " +
                     (r->field.empty() ? r->message : r->field + ": " + r->message),
                 r->field};
  }
  return std::get<protocol::Submit>(std::move(request)).post;
}

std::string str(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "-";
  if (v.is_double()) {
    std::array<char, 32> buf{};
    (void)std::snprintf(buf.data(), buf.size(), "%g", v.get_double());
    return buf.data();
  }
  return json::serialize(v);
}

std::string read_input(const std::string& file) {
  std::stringstream buffer;
  if (file == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file + ": cannot open");
    buffer << in.rdbuf();
  }
  return buffer.str();
}

namespace {

// The post object of one line: the envelope's own keys, whichever of the
// formats the line is in.
json::object post_object(const json::object& line, const std::string& source,
                         const std::string& fallback_id) {
  const json::object& in =
      line.contains("post") && line.at("post").is_object() ? line.at("post").get_object() : line;
  static constexpr std::string_view kKeys[] = {"source", "external_id", "channel", "sender", "subject",
                                               "text",   "received_at", "lang",    "fields", "private"};
  json::object out;
  for (const auto key : kKeys) {
    if (const auto* v = in.if_contains(key)) out[key] = *v;
  }
  if (!out.contains("source")) out["source"] = source;
  if (!out.contains("external_id")) out["external_id"] = fallback_id;
  return out;
}

std::optional<Action> label_of(const json::object& line) {
  const json::value* label = line.if_contains("label");
  if (label == nullptr) {
    if (const auto* labels = line.if_contains("labels"); labels != nullptr && labels->is_object()) {
      label = labels->get_object().if_contains("expected_action");
    }
  }
  if (label == nullptr || !label->is_string()) return std::nullopt;
  return parse_action(label->get_string());
}

}  // namespace

Expected<std::vector<InputPost>> read_posts(const std::string& file, const std::string& source) {
  std::string input;
  try {
    input = read_input(file);
  } catch (const std::exception& e) {
    return Error{"input", e.what(), ""};
  }
  const std::string name = file == "-" ? "<stdin>" : file;
  std::vector<InputPost> out;
  std::istringstream lines(input);
  std::string text;
  for (std::size_t n = 1; std::getline(lines, text); ++n) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string at = name + ":" + std::to_string(n) + ": ";
    boost::system::error_code ec;
    auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) return Error{"input", at + "not a JSON object", ""};
    const auto& line = doc.get_object();
    InputPost p;
    p.line = n;
    if (const auto* id = line.if_contains("id"); id != nullptr && id->is_string()) p.id = id->get_string();
    auto post =
        check_post(json::serialize(post_object(line, source, p.id.empty() ? std::to_string(n) : p.id)), at);
    if (!post) return post.error();
    p.post = std::move(*post);
    p.label = label_of(line);
    if (const auto* labels = line.if_contains("labels"); labels != nullptr && labels->is_object()) {
      if (const auto* flags = labels->get_object().if_contains("flags");
          flags != nullptr && flags->is_array()) {
        for (const auto& f : flags->get_array()) {
          if (f.is_string()) p.flags.emplace_back(f.get_string());
        }
      }
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) return Error{"input", name + ": no post in the input", ""};
  return out;
}

}  // namespace relais::ctl
