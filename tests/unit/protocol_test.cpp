// The protocol codec (sdk/PROTOCOL.md): every way a request can be refused,
// the round trip of a valid post, and the reply parser the client uses.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "protocol.hpp"

namespace json = boost::json;
using relais::Post;
using relais::protocol::Code;
using relais::protocol::Limits;
using relais::protocol::Rejection;

namespace {

// A submit frame whose `post` object holds `members`.
std::string submit_with(const std::string& members, const std::string& seq = "7") {
  return R"({"v":1,"type":"submit","seq":)" + seq + R"(,"post":{)" + members + "}}";
}

// The required members of a valid post; cases add to them.
const std::string kBase = R"("source":"webform","external_id":"f-1","text":"bonjour")";

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

Limits small_limits() {
  Limits limits;
  limits.max_message_bytes = 1024;
  limits.max_text_bytes = 16;
  return limits;
}

// ---------------------------------------------------------------------------
// The table of bad envelopes.

struct BadCase {
  std::string name;
  std::string frame;
  Code code = Code::bad_json;
  std::string field;                 // the dotted path in the Rejection
  std::optional<std::uint64_t> seq;  // echoed when it was readable
  Limits limits;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string shortened(const std::string& frame) {
  return frame.size() > 200 ? frame.substr(0, 200) + "... (" + std::to_string(frame.size()) + " bytes)"
                            : frame;
}

BadCase bad(std::string name, std::string frame, Code code, std::string field,
            std::optional<std::uint64_t> seq, Limits limits = {}) {
  return BadCase{std::move(name), std::move(frame), code, std::move(field), seq, limits};
}

// A submit with seq 7 refused at `field`.
BadCase bad_post(std::string name, const std::string& members, Code code, std::string field) {
  return bad(std::move(name), submit_with(members), code, std::move(field), 7);
}

std::string many_fields(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += (i == 0 ? "" : ",") + quoted("k" + std::to_string(i)) + ":\"v\"";
  }
  return "{" + out + "}";
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::vector<BadCase> bad_cases() {
  const std::optional<std::uint64_t> none;
  std::vector<BadCase> t;

  // Not a JSON object: the seq cannot be read, so it is not echoed.
  t.push_back(bad("empty_frame", "", Code::bad_json, "", none));
  t.push_back(bad("truncated_json", R"({"v":1,"type":"ping","seq":1)", Code::bad_json, "", none));
  t.push_back(bad("trailing_garbage", R"({"v":1,"type":"ping","seq":1} x)", Code::bad_json, "", none));
  t.push_back(bad("single_quotes", R"({'v':1,'type':'ping','seq':1})", Code::bad_json, "", none));
  t.push_back(bad("json_array", R"([{"v":1,"type":"ping","seq":1}])", Code::bad_json, "", none));
  t.push_back(bad("json_string", R"("ping")", Code::bad_json, "", none));
  t.push_back(bad("json_number", "42", Code::bad_json, "", none));
  t.push_back(bad("json_null", "null", Code::bad_json, "", none));
  t.push_back(bad("nesting_over_16", submit_with(kBase + R"(,"fields":{"k":)" + nested_arrays(20) + "}"),
                  Code::bad_json, "", none));
  t.push_back(bad("escaped_lone_high_surrogate",
                  submit_with(R"("source":"s","external_id":"e","text":"\ud800")"), Code::bad_json, "",
                  none));
  t.push_back(bad("escaped_lone_low_surrogate",
                  submit_with(R"("source":"s","external_id":"e","text":"\udc00x")"), Code::bad_json, "",
                  none));

  // Invalid UTF-8 anywhere in the frame.
  auto utf8 = [&](std::string name, const std::string& bytes) {
    t.push_back(bad(std::move(name),
                    submit_with(R"("source":"s","external_id":"e","text":"a)" + bytes + "b\""),
                    Code::bad_utf8, "", none));
  };
  utf8("utf8_lone_continuation", "\x80");
  utf8("utf8_lone_continuation_bf", "\xBF");
  utf8("utf8_overlong_2_bytes_slash", "\xC0\xAF");
  utf8("utf8_overlong_2_bytes_c1", "\xC1\xBF");
  utf8("utf8_overlong_3_bytes", "\xE0\x80\xAF");
  utf8("utf8_overlong_4_bytes", "\xF0\x80\x80\xAF");
  utf8("utf8_surrogate_d800", "\xED\xA0\x80");
  utf8("utf8_surrogate_dfff", "\xED\xBF\xBF");
  utf8("utf8_truncated_2_of_3", "\xE2\x82");
  utf8("utf8_truncated_3_of_4", "\xF0\x9F\x98");
  utf8("utf8_truncated_lead_only", "\xC3");
  utf8("utf8_above_10ffff", "\xF4\x90\x80\x80");
  utf8("utf8_lead_f5", "\xF5\x80\x80\x80");
  utf8("utf8_five_byte_form", "\xF8\x88\x80\x80\x80");
  utf8("utf8_byte_ff", "\xFF");
  t.push_back(bad("utf8_truncated_at_end_of_frame", "{\"v\":1}\xE2\x82", Code::bad_utf8, "", none));
  t.push_back(
      bad("utf8_in_a_key", "{\"v\":1,\"type\":\"ping\",\"seq\":1,\"\xC0\xAF\":1}", Code::bad_utf8, "", none));

  // Sizes: the whole frame, then fields (small limits keep the frames short).
  t.push_back(bad("frame_over_max_message_bytes",
                  submit_with(kBase + R"(,"sender":")" + std::string(1100, 's') + "\""), Code::too_large, "",
                  none, small_limits()));
  t.push_back(bad("text_over_max_text_bytes",
                  submit_with(R"("source":"s","external_id":"e","text":")" + std::string(17, 't') + "\""),
                  Code::too_large, "post.text", 7, small_limits()));
  t.push_back(
      bad("text_over_default_max_text_bytes",
          submit_with(R"("source":"s","external_id":"e","text":")" + std::string(64 * 1024 + 1, 't') + "\""),
          Code::too_large, "post.text", 7));
  t.push_back(bad_post("source_over_64_bytes",
                       R"("source":")" + std::string(65, 's') + R"(","external_id":"e","text":"x")",
                       Code::too_large, "post.source"));
  t.push_back(bad_post("external_id_over_256_bytes",
                       R"("source":"s","external_id":")" + std::string(257, 'e') + R"(","text":"x")",
                       Code::too_large, "post.external_id"));
  t.push_back(bad_post("subject_over_1024_bytes", kBase + R"(,"subject":")" + std::string(1025, 'u') + "\"",
                       Code::too_large, "post.subject"));
  t.push_back(bad_post("channel_over_256_bytes", kBase + R"(,"channel":")" + std::string(257, 'c') + "\"",
                       Code::too_large, "post.channel"));
  t.push_back(bad_post("sender_over_256_bytes", kBase + R"(,"sender":")" + std::string(257, 'c') + "\"",
                       Code::too_large, "post.sender"));
  t.push_back(bad_post("lang_over_256_bytes", kBase + R"(,"lang":")" + std::string(257, 'l') + "\"",
                       Code::too_large, "post.lang"));
  t.push_back(bad("type_over_32_bytes", R"({"v":1,"type":")" + std::string(33, 'p') + R"(","seq":7})",
                  Code::too_large, "type", 7));

  // v
  t.push_back(bad("missing_v", R"({"type":"ping","seq":7})", Code::missing_field, "v", 7));
  t.push_back(bad("v_as_string", R"({"v":"1","type":"ping","seq":7})", Code::wrong_type, "v", 7));
  t.push_back(bad("v_as_float", R"({"v":1.0,"type":"ping","seq":7})", Code::wrong_type, "v", 7));
  t.push_back(bad("v_as_null", R"({"v":null,"type":"ping","seq":7})", Code::wrong_type, "v", 7));
  t.push_back(bad("v_2", R"({"v":2,"type":"ping","seq":7})", Code::unsupported_version, "v", 7));
  t.push_back(bad("v_0", R"({"v":0,"type":"ping","seq":7})", Code::unsupported_version, "v", 7));
  t.push_back(bad("v_negative", R"({"v":-1,"type":"ping","seq":7})", Code::unsupported_version, "v", 7));
  t.push_back(bad("v_huge", R"({"v":18446744073709551615,"type":"ping","seq":7})", Code::unsupported_version,
                  "v", 7));
  t.push_back(bad("v_2_without_seq", R"({"v":2,"type":"ping"})", Code::unsupported_version, "v", none));

  // type
  t.push_back(bad("missing_type", R"({"v":1,"seq":7})", Code::missing_field, "type", 7));
  t.push_back(bad("type_as_number", R"({"v":1,"type":1,"seq":7})", Code::wrong_type, "type", 7));
  t.push_back(bad("unknown_type", R"({"v":1,"type":"submitt","seq":7})", Code::unknown_type, "type", 7));
  t.push_back(bad("reply_type_as_request", R"({"v":1,"type":"ack","seq":7})", Code::unknown_type, "type", 7));

  // seq: never echoed when it is not a non-negative integer
  t.push_back(bad("missing_seq", R"({"v":1,"type":"ping"})", Code::missing_field, "seq", none));
  t.push_back(bad("negative_seq", R"({"v":1,"type":"ping","seq":-1})", Code::invalid_value, "seq", none));
  t.push_back(bad("fractional_seq", R"({"v":1,"type":"ping","seq":1.5})", Code::invalid_value, "seq", none));
  t.push_back(bad("seq_over_uint64", R"({"v":1,"type":"ping","seq":18446744073709551616})",
                  Code::invalid_value, "seq", none));
  t.push_back(bad("seq_as_string", R"({"v":1,"type":"ping","seq":"7"})", Code::wrong_type, "seq", none));
  t.push_back(bad("seq_as_null", R"({"v":1,"type":"ping","seq":null})", Code::wrong_type, "seq", none));

  // unknown fields, at every level
  t.push_back(bad("unknown_top_level_field_submit",
                  R"({"v":1,"type":"submit","seq":7,"priority":1,"post":{)" + kBase + "}}",
                  Code::unknown_field, "priority", 7));
  t.push_back(bad("unknown_top_level_field_ping", R"({"v":1,"type":"ping","seq":7,"pong":true})",
                  Code::unknown_field, "pong", 7));
  t.push_back(bad("unknown_top_level_field_query", R"({"v":1,"type":"query","seq":7,"query":"stats","x":1})",
                  Code::unknown_field, "x", 7));
  t.push_back(bad("post_field_on_ping", R"({"v":1,"type":"ping","seq":7,"post":{}})", Code::unknown_field,
                  "post", 7));
  t.push_back(
      bad_post("unknown_post_field", kBase + R"(,"titel":"typo")", Code::unknown_field, "post.titel"));
  t.push_back(
      bad_post("post_id_is_not_a_request_field", kBase + R"(,"id":3)", Code::unknown_field, "post.id"));
  t.push_back(bad_post("unknown_private_key", kBase + R"(,"private":{"name":"M.","ssn":"1 23"})",
                       Code::unknown_field, "post.private.ssn"));

  // post
  t.push_back(bad("missing_post", R"({"v":1,"type":"submit","seq":7})", Code::missing_field, "post", 7));
  t.push_back(bad("post_as_string", R"({"v":1,"type":"submit","seq":7,"post":"hello"})", Code::wrong_type,
                  "post", 7));
  t.push_back(
      bad("post_as_array", R"({"v":1,"type":"submit","seq":7,"post":[]})", Code::wrong_type, "post", 7));
  t.push_back(
      bad("post_as_null", R"({"v":1,"type":"submit","seq":7,"post":null})", Code::wrong_type, "post", 7));
  t.push_back(bad_post("missing_source", R"("external_id":"f-1","text":"bonjour")", Code::missing_field,
                       "post.source"));
  t.push_back(bad_post("missing_external_id", R"("source":"webform","text":"bonjour")", Code::missing_field,
                       "post.external_id"));
  t.push_back(bad_post("missing_text", R"("source":"webform","external_id":"f-1","subject":"s")",
                       Code::missing_field, "post.text"));
  t.push_back(bad_post("empty_post", "", Code::missing_field, "post.source"));

  // wrong JSON types, one per field
  t.push_back(bad_post("source_as_number", R"("source":5,"external_id":"f-1","text":"x")", Code::wrong_type,
                       "post.source"));
  t.push_back(bad_post("external_id_as_number", R"("source":"s","external_id":42,"text":"x")",
                       Code::wrong_type, "post.external_id"));
  t.push_back(bad_post("text_as_null", R"("source":"s","external_id":"e","text":null)", Code::wrong_type,
                       "post.text"));
  t.push_back(bad_post("text_as_array", R"("source":"s","external_id":"e","text":["x"])", Code::wrong_type,
                       "post.text"));
  t.push_back(bad_post("subject_as_number", kBase + R"(,"subject":1)", Code::wrong_type, "post.subject"));
  t.push_back(bad_post("channel_as_bool", kBase + R"(,"channel":true)", Code::wrong_type, "post.channel"));
  t.push_back(bad_post("channel_as_null", kBase + R"(,"channel":null)", Code::wrong_type, "post.channel"));
  t.push_back(bad_post("sender_as_object", kBase + R"(,"sender":{})", Code::wrong_type, "post.sender"));
  t.push_back(bad_post("lang_as_number", kBase + R"(,"lang":33)", Code::wrong_type, "post.lang"));
  t.push_back(bad_post("received_at_as_number", kBase + R"(,"received_at":1585721520)", Code::wrong_type,
                       "post.received_at"));
  t.push_back(
      bad_post("fields_as_string", kBase + R"(,"fields":"kind=request")", Code::wrong_type, "post.fields"));
  t.push_back(
      bad_post("fields_as_array", kBase + R"(,"fields":["request"])", Code::wrong_type, "post.fields"));
  t.push_back(bad_post("private_as_string", kBase + R"(,"private":"M.")", Code::wrong_type, "post.private"));

  // values outside their rules
  t.push_back(bad_post("source_with_space", R"("source":"web form","external_id":"e","text":"x")",
                       Code::invalid_value, "post.source"));
  t.push_back(bad_post("source_with_slash", R"("source":"mail/inbox","external_id":"e","text":"x")",
                       Code::invalid_value, "post.source"));
  t.push_back(bad_post("source_with_accent", R"("source":"caf\u00e9","external_id":"e","text":"x")",
                       Code::invalid_value, "post.source"));
  t.push_back(bad_post("source_empty", R"("source":"","external_id":"e","text":"x")", Code::invalid_value,
                       "post.source"));
  t.push_back(bad_post("external_id_empty", R"("source":"s","external_id":"","text":"x")",
                       Code::invalid_value, "post.external_id"));
  for (const char* ts :
       {"yesterday", "", "2020-04-01", "2020-04-01T08:12:00", "2020-04-01T08:12Z", "2020-13-01T08:12:00Z",
        "2020-00-10T08:12:00Z", "2020-04-32T08:12:00Z", "2020-04-01T24:00:00Z", "2020-04-01T08:60:00Z",
        "2020-04-01T08:12:61Z", "2020-04-01T08:12:00+2:00", "2020-04-01T08:12:00+0200",
        "2020-04-01T08:12:00.Z", "2020-04-01T08:12:00+24:00", "2020-04-01T08:12:00Z ", "01/04/2020 08:12"}) {
    std::string name = "received_at_";
    for (char c : std::string(ts)) name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
    if (std::string(ts).empty()) name += "empty";
    t.push_back(
        bad_post(name, kBase + R"(,"received_at":")" + ts + "\"", Code::invalid_value, "post.received_at"));
  }
  t.push_back(bad_post("fields_too_many_entries", kBase + R"(,"fields":)" + many_fields(33), Code::too_large,
                       "post.fields"));
  t.push_back(bad_post("fields_non_string_value", kBase + R"(,"fields":{"kind":"request","urgency":3})",
                       Code::wrong_type, "post.fields.urgency"));
  t.push_back(bad_post("fields_null_value", kBase + R"(,"fields":{"area":null})", Code::wrong_type,
                       "post.fields.area"));
  t.push_back(bad_post("fields_nested_object", kBase + R"(,"fields":{"area":{"x":"y"}})", Code::wrong_type,
                       "post.fields.area"));
  t.push_back(
      bad_post("fields_empty_key", kBase + R"(,"fields":{"":"v"})", Code::invalid_value, "post.fields."));
  t.push_back(bad_post("fields_key_over_64_bytes",
                       kBase + R"(,"fields":{")" + std::string(65, 'k') + R"(":"v"})", Code::invalid_value,
                       "post.fields." + std::string(65, 'k')));
  t.push_back(bad_post("fields_value_over_1024_bytes",
                       kBase + R"(,"fields":{"category":")" + std::string(1025, 'v') + "\"}", Code::too_large,
                       "post.fields.category"));
  t.push_back(bad_post("private_non_string_value", kBase + R"(,"private":{"phone":123})", Code::wrong_type,
                       "post.private.phone"));
  t.push_back(bad_post("private_value_over_1024_bytes",
                       kBase + R"(,"private":{"note":")" + std::string(1025, 'n') + "\"}", Code::too_large,
                       "post.private.note"));
  t.push_back(bad_post("empty_text_no_subject", R"("source":"s","external_id":"e","text":"")",
                       Code::invalid_value, "post.text"));
  t.push_back(bad_post("empty_text_null_subject",
                       R"("source":"s","external_id":"e","text":"","subject":null)", Code::invalid_value,
                       "post.text"));
  t.push_back(bad_post("blank_text_blank_subject",
                       R"("source":"s","external_id":"e","text":" \n\t","subject":"  ")", Code::invalid_value,
                       "post.text"));

  // query
  auto query = [&](std::string name, const std::string& members, Code code, std::string field) {
    t.push_back(
        bad(std::move(name), R"({"v":1,"type":"query","seq":7,)" + members + "}", code, std::move(field), 7));
  };
  query("query_missing_what", R"("limit":5)", Code::missing_field, "query");
  query("query_what_as_number", R"("query":1)", Code::wrong_type, "query");
  query("query_unknown_what", R"("query":"everything")", Code::invalid_value, "query");
  query("query_limit_zero", R"("query":"posts","limit":0)", Code::invalid_value, "limit");
  query("query_limit_negative", R"("query":"posts","limit":-5)", Code::invalid_value, "limit");
  query("query_limit_over_10000", R"("query":"posts","limit":10001)", Code::invalid_value, "limit");
  query("query_limit_over_int64", R"("query":"posts","limit":18446744073709551615)", Code::invalid_value,
        "limit");
  query("query_limit_fractional", R"("query":"posts","limit":2.5)", Code::invalid_value, "limit");
  query("query_limit_as_string", R"("query":"posts","limit":"20")", Code::wrong_type, "limit");
  query("query_post_without_id", R"("query":"post")", Code::missing_field, "id");
  query("query_post_id_zero", R"("query":"post","id":0)", Code::missing_field, "id");
  query("query_post_id_as_string", R"("query":"post","id":"3")", Code::wrong_type, "id");
  query("query_state_as_number", R"("query":"posts","state":3)", Code::wrong_type, "state");
  // PROTOCOL.md lists the states a posts query takes; a typo must not be
  // answered with an empty list as if no post were in that state.
  query("query_unknown_state", R"("query":"posts","state":"helld")", Code::invalid_value, "state");
  // The moderators' decisions name who decides; a rejection says why.
  query("approve_without_id", R"("query":"approve","by":"alice")", Code::missing_field, "id");
  query("approve_without_by", R"("query":"approve","id":3)", Code::missing_field, "by");
  query("approve_by_blank", R"("query":"approve","id":3,"by":" ")", Code::missing_field, "by");
  query("reject_without_reason", R"("query":"reject","id":3,"by":"alice")", Code::missing_field, "reason");
  query("reject_reason_blank", R"("query":"reject","id":3,"by":"a","reason":"  ")", Code::missing_field,
        "reason");
  query("learn_without_examples", R"("query":"learn","by":"a")", Code::missing_field, "examples");
  query("learn_examples_empty", R"("query":"learn","by":"a","examples":[])", Code::invalid_value, "examples");
  query("learn_examples_not_array", R"("query":"learn","by":"a","examples":{})", Code::wrong_type,
        "examples");
  query(
      "learn_example_label_hold",
      R"("query":"learn","by":"a","examples":[{"label":"hold","post":{"source":"s","external_id":"1","text":"x"}}])",
      Code::invalid_value, "examples[0].label");
  query(
      "learn_example_bad_post",
      R"("query":"learn","by":"a","examples":[{"label":"accept","post":{"source":"s","external_id":"1","text":"x"}},)"
      R"({"label":"reject","post":{"source":"s","external_id":"2","text":5}}])",
      Code::wrong_type, "examples[1].post.text");
  query(
      "learn_example_unknown_key",
      R"("query":"learn","by":"a","examples":[{"label":"accept","x":1,"post":{"source":"s","external_id":"1","text":"x"}}])",
      Code::unknown_field, "examples[0].x");
  return t;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : "<absent or not a string>";
}

class BadEnvelope : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadEnvelope, IsRefusedWithItsCodeAndField) {
  const BadCase& c = GetParam();
  SCOPED_TRACE("frame: " + shortened(c.frame));
  const auto request = relais::protocol::parse_request(c.frame, c.limits);
  const auto* rejection = std::get_if<Rejection>(&request);
  ASSERT_NE(rejection, nullptr) << "accepted, as alternative " << request.index();
  EXPECT_EQ(relais::protocol::code_name(rejection->code), relais::protocol::code_name(c.code))
      << rejection->field << ": " << rejection->message;
  EXPECT_EQ(rejection->field, c.field) << rejection->message;
  EXPECT_EQ(rejection->seq, c.seq);
  EXPECT_FALSE(rejection->message.empty());

  // The nack carries all of it, as valid JSON.
  const std::string nack = relais::protocol::encode_nack(*rejection);
  boost::system::error_code ec;
  const json::value doc = json::parse(nack, ec);
  ASSERT_FALSE(ec) << nack;
  ASSERT_TRUE(doc.is_object()) << nack;
  const auto& o = doc.get_object();
  EXPECT_EQ(o.at("v"), 1) << nack;
  EXPECT_EQ(o.at("type"), "nack") << nack;
  EXPECT_EQ(string_at(o, "code"), relais::protocol::code_name(c.code)) << nack;
  EXPECT_EQ(o.at("retryable"), false) << nack;
  ASSERT_TRUE(o.at("message").is_string()) << nack;
  EXPECT_FALSE(o.at("message").get_string().empty()) << nack;
  if (c.field.empty()) {
    EXPECT_FALSE(o.contains("field")) << nack;
  } else {
    EXPECT_EQ(string_at(o, "field"), c.field) << nack;
    // The message for people names the field too.
    EXPECT_EQ(std::string(o.at("message").get_string()).rfind(c.field + ": ", 0), 0u) << nack;
  }
  if (c.seq) {
    EXPECT_EQ(o.at("seq").to_number<std::uint64_t>(), *c.seq) << nack;
  } else {
    EXPECT_FALSE(o.contains("seq")) << nack;
  }
}

INSTANTIATE_TEST_SUITE_P(protocol, BadEnvelope, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& param) { return param.param.name; });

// ---------------------------------------------------------------------------
// Valid requests.

Post full_post() {
  Post p;
  p.source = "xmpp:room-1.fr_X";
  p.external_id = "f-2020-04-01-0042";
  p.channel = "chat";
  p.sender = "mireille.pal";
  p.subject = "Courses";
  p.text =
      "Bonjour, j'habite quai Jules-Guesde, j'ai 78 ans \xE2\x82\xAC \xF0\x9D\x84\x9E \"quoted\"\n\\ end";
  p.received_at = "2020-04-01T08:12:00+02:00";
  p.lang = "fr";
  p.fields = {{"category", "groceries"}, {"area", "vitry_port_a_langlais"}, {"kind", "request"}};
  p.private_data = {{"name", "Mireille P."},
                    {"phone", "01 99 00 12 34"},
                    {"email", "m@example.org"},
                    {"address", "1 quai"},
                    {"note", "sonner fort"}};
  return p;
}

void expect_same_post(const Post& a, const Post& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.external_id, b.external_id);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.received_at, b.received_at);
  EXPECT_EQ(a.lang, b.lang);
  EXPECT_EQ(a.fields, b.fields);
  EXPECT_EQ(a.private_data, b.private_data);
}

relais::protocol::Submit parse_submit(const std::string& frame, const Limits& limits = {}) {
  auto request = relais::protocol::parse_request(frame, limits);
  if (const auto* r = std::get_if<Rejection>(&request)) {
    ADD_FAILURE() << "refused: " << relais::protocol::encode_nack(*r) << "\nframe: " << frame;
    return {};
  }
  const auto* s = std::get_if<relais::protocol::Submit>(&request);
  if (s == nullptr) {
    ADD_FAILURE() << "not a submit: alternative " << request.index();
    return {};
  }
  return *s;
}

TEST(protocol_submit, FullPostRoundTrips) {
  const Post post = full_post();
  const auto submit = parse_submit(relais::protocol::encode_submit(17, post));
  EXPECT_EQ(submit.seq, 17u);
  expect_same_post(submit.post, post);
}

TEST(protocol_submit, PostWithoutSubjectRoundTrips) {
  Post post = full_post();
  post.subject.reset();
  post.fields.clear();
  post.private_data.clear();
  const auto submit = parse_submit(relais::protocol::encode_submit(0, post));
  EXPECT_EQ(submit.seq, 0u);
  expect_same_post(submit.post, post);
}

TEST(protocol_submit, LargestSeqRoundTrips) {
  const auto submit = parse_submit(relais::protocol::encode_submit(UINT64_MAX, full_post()));
  EXPECT_EQ(submit.seq, UINT64_MAX);
}

TEST(protocol_submit, DefaultsChannelToSourceAndFillsReceivedAt) {
  const auto submit = parse_submit(submit_with(kBase));
  EXPECT_EQ(submit.seq, 7u);
  EXPECT_EQ(submit.post.source, "webform");
  EXPECT_EQ(submit.post.external_id, "f-1");
  EXPECT_EQ(submit.post.text, "bonjour");
  EXPECT_EQ(submit.post.channel, "webform");
  EXPECT_TRUE(relais::protocol::valid_timestamp(submit.post.received_at)) << submit.post.received_at;
  EXPECT_FALSE(submit.post.subject.has_value());
  EXPECT_TRUE(submit.post.sender.empty());
  EXPECT_TRUE(submit.post.lang.empty());
  EXPECT_TRUE(submit.post.fields.empty());
  EXPECT_TRUE(submit.post.private_data.empty());
  EXPECT_EQ(submit.post.id, 0);
}

TEST(protocol_submit, NullSubjectAndEmptyMapsAreAccepted) {
  const auto submit = parse_submit(submit_with(kBase + R"(,"subject":null,"fields":{},"private":{})"));
  EXPECT_FALSE(submit.post.subject.has_value());
  EXPECT_TRUE(submit.post.fields.empty());
}

TEST(protocol_submit, EmptyTextIsAcceptedWithASubject) {
  const auto submit =
      parse_submit(submit_with(R"("source":"mail","external_id":"<a@b>","text":"","subject":"Aide")"));
  EXPECT_EQ(submit.post.text, "");
  EXPECT_EQ(submit.post.subject, "Aide");
}

TEST(protocol_submit, LimitsAreInclusive) {
  Limits limits = small_limits();
  const auto at_text_limit = parse_submit(
      submit_with(R"("source":"s","external_id":"e","text":")" + std::string(16, 't') + "\""), limits);
  EXPECT_EQ(at_text_limit.post.text.size(), 16u);

  // A frame of exactly max_message_bytes.
  limits.max_text_bytes = 1024;
  const std::string frame0 = submit_with(R"("source":"s","external_id":"e","text":"")");
  const std::size_t pad = 1024 - frame0.size();
  const std::string frame =
      submit_with(R"("source":"s","external_id":"e","text":")" + std::string(pad, 't') + "\"");
  ASSERT_EQ(frame.size(), 1024u);
  EXPECT_EQ(parse_submit(frame, limits).post.text.size(), pad);

  const auto at_field_limits = parse_submit(
      submit_with(R"("source":")" + std::string(64, 's') + R"(","external_id":")" + std::string(256, 'e') +
                  R"(","text":"x","subject":")" + std::string(1024, 'u') + R"(","channel":")" +
                  std::string(256, 'c') + R"(","fields":)" + many_fields(32)));
  EXPECT_EQ(at_field_limits.post.fields.size(), 32u);
  EXPECT_EQ(at_field_limits.post.source.size(), 64u);
}

TEST(protocol_submit, SourceAllowsItsWholeAlphabet) {
  const auto submit = parse_submit(submit_with(R"("source":"AZaz09_-.:","external_id":"e","text":"x")"));
  EXPECT_EQ(submit.post.source, "AZaz09_-.:");
  EXPECT_EQ(submit.post.channel, "AZaz09_-.:");
}

TEST(protocol_submit, EscapedSurrogatePairIsDecoded) {
  const auto submit = parse_submit(submit_with(R"("source":"s","external_id":"e","text":"\ud834\udd1e")"));
  EXPECT_EQ(submit.post.text, "\xF0\x9D\x84\x9E");
}

TEST(protocol_request, PingRoundTrips) {
  const auto request = relais::protocol::parse_request(relais::protocol::encode_ping(3), {});
  const auto* ping = std::get_if<relais::protocol::Ping>(&request);
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->seq, 3u);
}

TEST(protocol_request, QueryRoundTrips) {
  relais::protocol::Query posts;
  posts.what = "posts";
  posts.state = "held";
  posts.limit = 20;
  const auto request = relais::protocol::parse_request(relais::protocol::encode_query(4, posts), {});
  const auto* q = std::get_if<relais::protocol::QueryRequest>(&request);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->seq, 4u);
  EXPECT_EQ(q->query.what, "posts");
  EXPECT_EQ(q->query.state, "held");
  EXPECT_EQ(q->query.limit, 20);

  relais::protocol::Query one;
  one.what = "post";
  one.id = 1042;
  const auto request2 = relais::protocol::parse_request(relais::protocol::encode_query(5, one), {});
  const auto* q2 = std::get_if<relais::protocol::QueryRequest>(&request2);
  ASSERT_NE(q2, nullptr);
  EXPECT_EQ(q2->query.what, "post");
  EXPECT_EQ(q2->query.id, 1042);
}

TEST(protocol_request, DecisionsAndExamplesRoundTrip) {
  relais::protocol::Query reject;
  reject.what = "reject";
  reject.id = 12;
  reject.by = "alice";
  reject.reason = "advertising";
  const auto r1 = relais::protocol::parse_request(relais::protocol::encode_query(6, reject), {});
  const auto* q1 = std::get_if<relais::protocol::QueryRequest>(&r1);
  ASSERT_NE(q1, nullptr);
  EXPECT_EQ(q1->query.what, "reject");
  EXPECT_EQ(q1->query.id, 12);
  EXPECT_EQ(q1->query.by, "alice");
  EXPECT_EQ(q1->query.reason, "advertising");

  relais::protocol::Query learn;
  learn.what = "learn";
  learn.by = "bob";
  relais::Post wanted;
  wanted.source = "learn";
  wanted.external_id = "d-1";
  wanted.text = "je cherche quelqu'un pour mes courses";
  relais::Post unwanted = wanted;
  unwanted.external_id = "d-2";
  unwanted.subject = "Gagnez";
  unwanted.text = "gagnez 500 euros par jour";
  learn.examples = {{wanted, relais::Action::accept}, {unwanted, relais::Action::reject}};
  const auto r2 = relais::protocol::parse_request(relais::protocol::encode_query(7, learn), {});
  const auto* q2 = std::get_if<relais::protocol::QueryRequest>(&r2);
  ASSERT_NE(q2, nullptr);
  ASSERT_EQ(q2->query.examples.size(), 2u);
  EXPECT_EQ(q2->query.examples[0].label, relais::Action::accept);
  EXPECT_EQ(q2->query.examples[0].post.text, wanted.text);
  EXPECT_EQ(q2->query.examples[1].label, relais::Action::reject);
  EXPECT_EQ(q2->query.examples[1].post.subject, unwanted.subject);
}

TEST(protocol_request, QueryLimitDefaultsTo50AndTakesItsBounds) {
  for (const auto& [members, limit] :
       std::vector<std::pair<std::string, std::int64_t>>{{R"("query":"stats")", 50},
                                                         {R"("query":"posts","limit":1)", 1},
                                                         {R"("query":"posts","limit":10000)", 10000}}) {
    SCOPED_TRACE(members);
    const auto request =
        relais::protocol::parse_request(R"({"v":1,"type":"query","seq":1,)" + members + "}", {});
    const auto* q = std::get_if<relais::protocol::QueryRequest>(&request);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->query.limit, limit);
  }
}

TEST(protocol_request, EveryStateOfTheProtocolIsAValidQueryState) {
  for (const char* state : {"received", "held", "rejected", "accepted", "routed", "unrouted"}) {
    SCOPED_TRACE(state);
    const auto request = relais::protocol::parse_request(
        std::string(R"({"v":1,"type":"query","seq":1,"query":"posts","state":")") + state + "\"}", {});
    const auto* q = std::get_if<relais::protocol::QueryRequest>(&request);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->query.state, state);
  }
}

// ---------------------------------------------------------------------------
// Codes and nacks.

TEST(protocol_codes, NamesAndRetryability) {
  const std::vector<std::pair<Code, std::string>> all = {
      {Code::bad_json, "bad_json"},           {Code::bad_utf8, "bad_utf8"},
      {Code::too_large, "too_large"},         {Code::unsupported_version, "unsupported_version"},
      {Code::unknown_type, "unknown_type"},   {Code::missing_field, "missing_field"},
      {Code::wrong_type, "wrong_type"},       {Code::invalid_value, "invalid_value"},
      {Code::unknown_field, "unknown_field"}, {Code::unavailable, "unavailable"}};
  for (const auto& [code, name] : all) {
    EXPECT_EQ(relais::protocol::code_name(code), name);
    EXPECT_EQ(relais::protocol::is_retryable(name), code == Code::unavailable) << name;
  }
  EXPECT_FALSE(relais::protocol::is_retryable("something_else"));
}

TEST(protocol_codes, UnavailableNackIsRetryable) {
  const Rejection r{17, Code::unavailable, "", "storage error"};
  const json::value doc = json::parse(relais::protocol::encode_nack(r));
  EXPECT_EQ(doc.at("retryable"), true);
  EXPECT_EQ(doc.at("code"), "unavailable");
  EXPECT_EQ(doc.at("seq"), 17);
  EXPECT_EQ(doc.at("message"), "storage error");
  EXPECT_FALSE(doc.as_object().contains("field"));
}

TEST(protocol_codes, NackEscapesItsMessage) {
  const Rejection r{std::nullopt, Code::invalid_value, "post.fields.\"x\"", "bad \"value\"\n\\"};
  const std::string nack = relais::protocol::encode_nack(r);
  boost::system::error_code ec;
  const json::value doc = json::parse(nack, ec);
  ASSERT_FALSE(ec) << nack;
  EXPECT_EQ(doc.at("field"), "post.fields.\"x\"");
  EXPECT_EQ(doc.at("message"), "post.fields.\"x\": bad \"value\"\n\\");
}

// ---------------------------------------------------------------------------
// valid_utf8 and valid_timestamp.

TEST(protocol_valid_utf8, AcceptsEveryBoundaryOfEachLength) {
  for (const std::string& s :
       {std::string(), std::string("plain ascii"), std::string("a\0b", 3), std::string("\x7F"),
        std::string("\xC2\x80"), std::string("\xDF\xBF"), std::string("\xE0\xA0\x80"),
        std::string("\xED\x9F\xBF"), std::string("\xEE\x80\x80"), std::string("\xEF\xBF\xBF"),
        std::string("\xF0\x90\x80\x80"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")}) {
    EXPECT_TRUE(relais::protocol::valid_utf8(s)) << ::testing::PrintToString(s);
  }
}

TEST(protocol_valid_utf8, RefusesMalformedSequences) {
  for (const std::string& s : {
           std::string("\x80"),              // lone continuation byte
           std::string("a\xBF"),             // lone continuation byte after ASCII
           std::string("\xC0\x80"),          // overlong NUL
           std::string("\xC1\xBF"),          // overlong 2 bytes
           std::string("\xE0\x9F\xBF"),      // overlong 3 bytes
           std::string("\xF0\x8F\xBF\xBF"),  // overlong 4 bytes
           std::string("\xED\xA0\x80"),      // surrogate D800
           std::string("\xED\xBF\xBF"),      // surrogate DFFF
           std::string("\xF4\x90\x80\x80"),  // U+110000
           std::string("\xF5\x80\x80\x80"),  // lead byte past F4
           std::string("\xF8\x88\x80\x80\x80"), std::string("\xFE"), std::string("\xFF"),
           std::string("\xC3"),  // truncated at the end
           std::string("\xE2\x82"), std::string("\xF0\x9F\x98"),
           std::string("\xE2\x82"
                       "A"),             // truncated by an ASCII byte
           std::string("\xC3\xC3\xA9"),  // a lead byte where a continuation belongs
       }) {
    EXPECT_FALSE(relais::protocol::valid_utf8(s)) << ::testing::PrintToString(s);
  }
}

TEST(protocol_valid_timestamp, AcceptsRfc3339Forms) {
  for (const char* s : {"2020-04-01T08:12:00Z", "2020-04-01T08:12:00+02:00", "2020-04-01T08:12:00-05:30",
                        "2020-04-01t08:12:00z", "2020-04-01 08:12:00Z", "2020-04-01T08:12:00.5Z",
                        "2020-04-01T08:12:00.123456789+00:00", "2016-12-31T23:59:60Z", "2020-02-29T00:00:00Z",
                        "0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"}) {
    EXPECT_TRUE(relais::protocol::valid_timestamp(s)) << s;
  }
  EXPECT_TRUE(relais::protocol::valid_timestamp(relais::protocol::now_rfc3339()));
}

TEST(protocol_valid_timestamp, RefusesMalformedTimestamps) {
  for (const char* s : {"",
                        "2020-04-01",
                        "2020-04-01T08:12:00",
                        "2020-04-01T08:12Z",
                        "2020-04-01T08:12:00.Z",
                        "2020-04-01T08:12:00.1234567890Z",
                        "2020-00-01T08:12:00Z",
                        "2020-13-01T08:12:00Z",
                        "2020-04-00T08:12:00Z",
                        "2020-04-32T08:12:00Z",
                        "2020-04-01T24:00:00Z",
                        "2020-04-01T08:60:00Z",
                        "2020-04-01T08:12:61Z",
                        "2020-04-01T08:12:00+24:00",
                        "2020-04-01T08:12:00+02:60",
                        "2020-04-01T08:12:00+0200",
                        "2020-04-01T08:12:00+02",
                        "2020-04-01T08:12:00Z ",
                        " 2020-04-01T08:12:00Z",
                        "2020/04/01T08:12:00Z",
                        "2020-04-01X08:12:00Z",
                        "2020-04-01T08:12:00+02:00x",
                        "20-04-01T08:12:00Z",
                        "2020-4-01T08:12:00Z",
                        "2020-04-01T08:12:00ZZ",
                        "abcd-ef-ghTij:kl:mnZ"}) {
    EXPECT_FALSE(relais::protocol::valid_timestamp(s)) << s;
  }
}

// RFC 3339 section 5.7: the day must exist in its month and year.
TEST(protocol_valid_timestamp, RefusesDaysPastTheEndOfTheMonth) {
  for (const char* s :
       {"2020-02-30T00:00:00Z", "2021-02-29T00:00:00Z", "2020-04-31T00:00:00Z", "2020-06-31T00:00:00Z",
        "2020-09-31T00:00:00Z", "2020-11-31T00:00:00Z", "1900-02-29T00:00:00Z"}) {
    EXPECT_FALSE(relais::protocol::valid_timestamp(s)) << s;
  }
  EXPECT_TRUE(relais::protocol::valid_timestamp("2000-02-29T00:00:00Z"));
  EXPECT_TRUE(relais::protocol::valid_timestamp("2020-01-31T00:00:00Z"));
}

// ---------------------------------------------------------------------------
// parse_reply, as the client library uses it.

TEST(protocol_reply, Ack) {
  const auto reply = relais::protocol::parse_reply(relais::protocol::encode_ack(17, false, 1042));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, "ack");
  EXPECT_EQ(reply->seq, 17u);
  EXPECT_EQ(reply->status, "stored");
  EXPECT_EQ(reply->post_id, 1042);

  const auto dup = relais::protocol::parse_reply(relais::protocol::encode_ack(UINT64_MAX, true, 7));
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->seq, UINT64_MAX);
  EXPECT_EQ(dup->status, "duplicate");
  EXPECT_EQ(dup->post_id, 7);
}

TEST(protocol_reply, Nack) {
  const auto reply = relais::protocol::parse_reply(
      relais::protocol::encode_nack({17, Code::missing_field, "post.text", "is required"}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, "nack");
  EXPECT_EQ(reply->seq, 17u);
  EXPECT_EQ(reply->code, "missing_field");
  EXPECT_EQ(reply->field, "post.text");
  EXPECT_EQ(reply->message, "post.text: is required");
  EXPECT_FALSE(relais::protocol::is_retryable(reply->code));

  const auto no_seq = relais::protocol::parse_reply(
      relais::protocol::encode_nack({std::nullopt, Code::bad_json, "", "not JSON"}));
  ASSERT_TRUE(no_seq);
  EXPECT_FALSE(no_seq->seq.has_value());
  EXPECT_EQ(no_seq->code, "bad_json");
  EXPECT_EQ(no_seq->field, "");
}

TEST(protocol_reply, ResultAndPong) {
  const auto result = relais::protocol::parse_reply(
      relais::protocol::encode_result(4, R"({"posts":[{"id":1,"state":"held"}]})"));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->type, "result");
  EXPECT_EQ(result->seq, 4u);
  EXPECT_EQ(json::parse(result->result_json), json::parse(R"({"posts":[{"id":1,"state":"held"}]})"));

  const auto pong = relais::protocol::parse_reply(relais::protocol::encode_pong(3));
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->type, "pong");
  EXPECT_EQ(pong->seq, 3u);
}

TEST(protocol_reply, IgnoresUnknownReplyFields) {
  const auto reply = relais::protocol::parse_reply(
      R"({"v":1,"type":"ack","seq":2,"status":"stored","post_id":5,"took_ms":3,"extra":{"a":[1]}})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->post_id, 5);
}

TEST(protocol_reply, RefusesWhatIsNotAReplyOfThisVersion) {
  for (const char* frame :
       {"", "not json", "[1]", R"({"type":"ack","seq":1})", R"({"v":2,"type":"ack","seq":1})",
        R"({"v":"1","type":"ack","seq":1})", R"({"v":1,"seq":1})", R"({"v":1,"type":5})"}) {
    EXPECT_FALSE(relais::protocol::parse_reply(frame).has_value()) << frame;
  }
}

// A reply comes from the network: a malformed seq must not throw out of the
// client's receive loop; the reply is simply not matched.
TEST(protocol_reply, MalformedSeqDoesNotThrow) {
  for (const char* frame : {R"({"v":1,"type":"ack","seq":-1})", R"({"v":1,"type":"ack","seq":1.5})",
                            R"({"v":1,"type":"ack","seq":1e30})", R"({"v":1,"type":"ack","seq":"1"})"}) {
    SCOPED_TRACE(frame);
    std::optional<relais::protocol::Reply> reply;
    EXPECT_NO_THROW(reply = relais::protocol::parse_reply(frame));
    if (reply) {
      EXPECT_FALSE(reply->seq.has_value());
    }
  }
}

}  // namespace
