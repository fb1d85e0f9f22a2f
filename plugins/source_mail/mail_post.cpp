#include "mail_post.hpp"

#include <gmime/gmime.h>
#include <libxml/parser.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "body_text.hpp"

namespace relais::mail {
namespace {

struct GObjectUnref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using OwnedGChars = std::unique_ptr<char, GFree>;

constexpr std::size_t kMaxExternalId = 256;  // sdk/PROTOCOL.md's limits
constexpr std::size_t kMaxSender = 256;
constexpr std::size_t kMaxSubject = 1024;
constexpr std::size_t kMaxPrivateValue = 1024;
constexpr std::size_t kMaxLang = 35;
// Clocks of sending machines drift; a Date further ahead is not believed.
constexpr std::chrono::minutes kFutureTolerance{5};

Error not_a_message(const std::string& why) {
  return Error{"not_a_message", "not a mail message: " + why, ""};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// At most `limit` bytes, cut on a UTF-8 character boundary.
std::string truncated(std::string s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0U) == 0x80U) --end;
  s.resize(end);
  return s;
}

std::string valid_utf8(std::string_view s) {
  if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr)) return std::string(s);
  const OwnedGChars fixed(g_utf8_make_valid(s.data(), static_cast<gssize>(s.size())));
  return fixed.get();
}

// Runs of blanks and line breaks (a folded header) as one space, trimmed.
std::string one_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string unix_line_breaks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> converted(std::string_view bytes, const char* from) {
  gsize written = 0;
  const OwnedGChars out(g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8",
                                  g_mime_charset_iconv_name(from), nullptr, &written, nullptr));
  if (!out) return std::nullopt;
  return std::string(out.get(), written);
}

// A body's bytes in UTF-8. Mail programs write windows-1252 and label it
// ISO-8859-1 (the curly quotes and the euro sign, 0x80-0x9F, are control
// characters in Latin-1), and label UTF-8 as US-ASCII: the label is a hint
// tried in an order that reads what they meant, never a failure.
std::string to_utf8(std::string_view bytes, const char* declared) {
  std::string charset = declared != nullptr ? lower(g_mime_charset_canon_name(declared)) : "";
  const bool is_valid_utf8 = g_utf8_validate(bytes.data(), static_cast<gssize>(bytes.size()), nullptr);
  if (is_valid_utf8 && (charset.empty() || charset == "utf-8" || charset == "us-ascii")) {
    return std::string(bytes);
  }
  if (charset == "iso-8859-1" || charset == "us-ascii") charset = "windows-1252";
  if (!charset.empty() && charset != "utf-8") {
    if (auto text = converted(bytes, charset.c_str())) return valid_utf8(*text);
  }
  if (is_valid_utf8) return std::string(bytes);
  // windows-1252 leaves five bytes undefined, which Latin-1 always reads.
  for (const char* fallback : {"windows-1252", "iso-8859-1"}) {
    if (auto text = converted(bytes, fallback)) return valid_utf8(*text);
  }
  return valid_utf8(bytes);
}

// RFC 3676: a line ending in a space goes on with the next one.
std::string unflowed(std::string_view text, bool delete_space) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    std::string_view line = text.substr(at, end - at);
    const bool soft = !line.empty() && line.back() == ' ' && line != "-- ";
    if (soft && delete_space) line.remove_suffix(1);
    out.append(line);
    if (!soft && end < text.size()) out += '\n';
    at = end + 1;
  }
  return out;
}

std::string decoded_text(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  const GObjectPtr<GMimeStream> sink(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, sink.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
  const std::string_view raw(reinterpret_cast<const char*>(bytes->data), bytes->len);
  auto* object = GMIME_OBJECT(part);
  std::string text =
      unix_line_breaks(to_utf8(raw, g_mime_object_get_content_type_parameter(object, "charset")));
  const char* format = g_mime_object_get_content_type_parameter(object, "format");
  if (format != nullptr && g_ascii_strcasecmp(format, "flowed") == 0) {
    const char* delsp = g_mime_object_get_content_type_parameter(object, "delsp");
    text = unflowed(text, delsp != nullptr && g_ascii_strcasecmp(delsp, "yes") == 0);
  }
  return text;
}

struct Bodies {
  GMimePart* plain = nullptr;
  GMimePart* html = nullptr;
};

// The first text/plain and text/html parts that are not attachments, in
// the order the tree is read: in a multipart/alternative, both versions of
// the one body. Attached and encrypted messages are not the poster's words.
void find_bodies(GMimeObject* object, Bodies& bodies) {
  if (GMIME_IS_MULTIPART_ENCRYPTED(object)) return;
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) find_bodies(g_mime_multipart_get_part(multipart, i), bodies);
    return;
  }
  if (!GMIME_IS_PART(object) || GMIME_IS_MESSAGE_PART(object)) return;
  auto* part = GMIME_PART(object);
  if (g_mime_part_is_attachment(part)) return;
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type == nullptr) return;
  if (bodies.plain == nullptr && g_mime_content_type_is_type(type, "text", "plain")) bodies.plain = part;
  if (bodies.html == nullptr && g_mime_content_type_is_type(type, "text", "html")) bodies.html = part;
}

struct Mailbox {
  std::string address;
  std::string name;
};

std::optional<Mailbox> first_mailbox(InternetAddressList* list) {
  if (list == nullptr) return std::nullopt;
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(address)) continue;
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
    if (addr == nullptr || std::string_view(addr).find('@') == std::string_view::npos) continue;
    Mailbox mailbox{valid_utf8(addr), {}};
    if (const char* name = internet_address_get_name(address); name != nullptr) {
      mailbox.name = one_line(valid_utf8(name));
    }
    return mailbox;
  }
  return std::nullopt;
}

std::string rfc3339_utc(std::chrono::system_clock::time_point at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

std::string received_at(GMimeMessage* message, std::chrono::system_clock::time_point now) {
  GDateTime* date = g_mime_message_get_date(message);
  const auto now_seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto latest =
      now_seconds + std::chrono::duration_cast<std::chrono::seconds>(kFutureTolerance).count();
  if (date == nullptr || g_date_time_to_unix(date) > latest || g_date_time_get_year(date) < 1970) {
    return rfc3339_utc(now);
  }
  const OwnedGChars text(g_date_time_format(date, "%Y-%m-%dT%H:%M:%S%:z"));
  return text ? std::string(text.get()) : rfc3339_utc(now);
}

// "fr", "en-GB": the first tag of Content-Language, on the message (GMime
// files Content-* headers under its top MIME part) or on its text part.
std::string language(std::initializer_list<GMimeObject*> objects) {
  const char* header = nullptr;
  for (GMimeObject* object : objects) {
    if (object != nullptr && header == nullptr) header = g_mime_object_get_header(object, "Content-Language");
  }
  if (header == nullptr) return {};
  std::string_view tag(header);
  tag = tag.substr(0, tag.find(','));
  std::string out = lower(one_line(tag));
  const bool plausible =
      !out.empty() && out.size() <= kMaxLang &&
      std::all_of(out.begin(), out.end(), [](unsigned char c) { return std::isalnum(c) != 0 || c == '-'; });
  return plausible ? out : std::string{};
}

// The Message-ID as the sender wrote it, without brackets or blanks; empty
// when there is none fit to identify a post.
std::string message_id(GMimeMessage* message) {
  const char* id = g_mime_message_get_message_id(message);
  if (id == nullptr) return {};
  std::string out;
  for (const char c : std::string_view(id)) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>') continue;
    out += c;
  }
  return out.size() <= kMaxExternalId && g_utf8_validate(out.data(), static_cast<gssize>(out.size()), nullptr)
             ? out
             : std::string{};
}

// Stable over retried and repeated deliveries: only headers no relay adds
// or changes, and the body as sent.
std::string content_hash(GMimeMessage* message, std::string_view raw) {
  const std::unique_ptr<GChecksum, decltype(&g_checksum_free)> sum(g_checksum_new(G_CHECKSUM_SHA256),
                                                                   &g_checksum_free);
  for (const char* name : {"From", "To", "Cc", "Date", "Subject"}) {
    const char* value = g_mime_object_get_header(GMIME_OBJECT(message), name);
    const std::string line = std::string(name) + ": " + (value != nullptr ? one_line(value) : "") + "\n";
    g_checksum_update(sum.get(), reinterpret_cast<const guchar*>(line.data()),
                      static_cast<gssize>(line.size()));
  }
  std::size_t body = raw.find("\n\n");
  body = body == std::string_view::npos ? raw.size() : body + 2;
  if (const auto crlf = raw.find("\r\n\r\n"); crlf != std::string_view::npos && crlf + 4 < body)
    body = crlf + 4;
  const auto rest = raw.substr(body);
  g_checksum_update(sum.get(), reinterpret_cast<const guchar*>(rest.data()),
                    static_cast<gssize>(rest.size()));
  return std::string("sha256:") + g_checksum_get_string(sum.get());
}

// An mbox "From " line (from a pipe with the F flag, or a saved mailbox)
// is not a header: GMime would end the header section at it.
std::string_view without_envelope_line(std::string_view raw) {
  if (raw.substr(0, 5) != "From ") return raw;
  const auto end = raw.find('\n');
  return end == std::string_view::npos ? std::string_view{} : raw.substr(end + 1);
}

}  // namespace

void initialise() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    xmlInitParser();
  });
}

Expected<Post> post_from_message(std::string_view raw, const ParseOptions& options) {
  initialise();
  if (raw.size() > options.max_message_bytes) {
    return Error{"too_large",
                 "the message is " + std::to_string(raw.size()) + " bytes, over the limit of " +
                     std::to_string(options.max_message_bytes),
                 ""};
  }
  raw = without_envelope_line(raw);
  if (raw.find_first_not_of(" \t\r\n") == std::string_view::npos) return not_a_message("the input is empty");

  const GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  const GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  const GObjectPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return not_a_message("no header section");
  auto* as_object = GMIME_OBJECT(message.get());
  if (g_mime_header_list_get_count(g_mime_object_get_header_list(as_object)) == 0) {
    return not_a_message("no header section");
  }
  const auto from = first_mailbox(g_mime_message_get_from(message.get()));
  if (!from) return not_a_message("no From address");
  if (from->address.size() > kMaxSender) return not_a_message("the From address is too long");

  Post post;
  post.source = "mail";
  post.external_id = message_id(message.get());
  if (post.external_id.empty()) post.external_id = content_hash(message.get(), raw);
  post.channel = options.channel;
  post.sender = lower(from->address);
  post.private_data["email"] = from->address;
  // Mailing lists that rewrite From (DMARC) keep the poster in Reply-To.
  if (auto reply_to = first_mailbox(g_mime_message_get_reply_to(message.get()))) {
    if (reply_to->address.size() <= kMaxPrivateValue) post.private_data["email"] = reply_to->address;
  }
  if (!from->name.empty()) post.private_data["name"] = truncated(from->name, kMaxPrivateValue);

  if (const char* subject = g_mime_message_get_subject(message.get()); subject != nullptr) {
    auto line = truncated(one_line(valid_utf8(subject)), kMaxSubject);
    if (!line.empty()) post.subject = std::move(line);
  }

  GMimeObject* top = g_mime_message_get_mime_part(message.get());
  Bodies bodies;
  if (top != nullptr) find_bodies(top, bodies);
  std::string text;
  if (bodies.plain != nullptr) {
    text = decoded_text(bodies.plain);
  } else if (bodies.html != nullptr) {
    text = html_to_text(decoded_text(bodies.html));
  }
  post.text = strip_replies(text);
  if (post.text.size() > options.max_text_bytes) {
    return Error{"too_large",
                 "the text is " + std::to_string(post.text.size()) + " bytes, over the limit of " +
                     std::to_string(options.max_text_bytes),
                 "text"};
  }
  if (post.text.empty() && !post.subject)
    return Error{"no_text", "the message has neither a text nor a subject", ""};

  const auto now =
      options.now == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now() : options.now;
  post.received_at = received_at(message.get(), now);
  GMimeObject* body = bodies.plain != nullptr
                          ? GMIME_OBJECT(bodies.plain)
                          : (bodies.html != nullptr ? GMIME_OBJECT(bodies.html) : nullptr);
  post.lang = language({as_object, top, body});
  return post;
}

}  // namespace relais::mail
