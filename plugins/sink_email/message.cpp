#include "message.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>

namespace relais::email {

namespace {

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext: what a dot-atom may hold besides dots.
bool atext(char c) {
  return ascii_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool plausible_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  return std::all_of(local.begin(), local.end(), [](char c) { return c == '.' || atext(c); });
}

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

void append_hex(std::string& out, unsigned char c) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  out += '=';
  out += kDigits[c >> 4U];
  out += kDigits[c & 0x0FU];
}

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U; }

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// A display name: a quoted string when it is printable ASCII, encoded words
// otherwise.
std::string display_name(std::string_view name) {
  if (!printable_ascii(name) || name.find("=?") != std::string_view::npos) {
    return encode_header_text(name, 4);
  }
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void encode_line(std::string_view line, std::string& out) {
  std::size_t column = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    std::string piece;
    const bool blank = c == ' ' || c == '\t';
    // A leading '.' or "From " is mangled by some relays and mailbox
    // formats; encoded, it travels unharmed.
    const bool fragile_start = i == 0 && (c == '.' || line.starts_with("From "));
    if ((blank && last) || (!blank && (c == '=' || c < 0x21 || c > 0x7E)) || fragile_start) {
      append_hex(piece, c);
    } else {
      piece = static_cast<char>(c);
    }
    // 76 characters a line, the '=' of a soft break included.
    if (column + piece.size() > (last ? 76U : 75U)) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  }
}

}  // namespace

bool plausible_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return ascii_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool plausible_address(std::string_view address) {
  if (address.size() > 254) return false;
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) return false;
  return plausible_local_part(address.substr(0, at)) && plausible_domain(address.substr(at + 1));
}

bool header_safe(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string_view domain_of(std::string_view address) {
  const std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

std::string message_id(std::string_view id, std::string_view domain) {
  std::string out = "<";
  for (const char c : id) {
    if (ascii_alnum(c) || c == '-' || c == '_') {
      out += c;
    } else {
      append_hex(out, static_cast<unsigned char>(c));
    }
  }
  out += '@';
  out += domain;
  out += '>';
  return out;
}

std::string rfc5322_date(std::time_t t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 40> text{};
  const int written = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                                    kDays.at(static_cast<std::size_t>(utc.tm_wday)), utc.tm_mday,
                                    kMonths.at(static_cast<std::size_t>(utc.tm_mon)), utc.tm_year + 1900,
                                    utc.tm_hour, utc.tm_min, utc.tm_sec);
  return written > 0 ? std::string(text.data()) : std::string();
}

std::string encode_header_text(std::string_view text, std::size_t name_length) {
  // "Name: " and the text on a line of 78 at most: as it is.
  if (printable_ascii(text) && text.find("=?") == std::string_view::npos &&
      name_length + 2 + text.size() <= 78) {
    return std::string(text);
  }
  // 39 bytes make 52 base64 characters, an encoded word of 64: with
  // "Subject: " before it, the line stays under 78.
  constexpr std::size_t kChunk = 39;
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + kChunk);
    while (end < text.size() && end > start + 1 && utf8_continuation(text[end])) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find_first_of("\r\n", start);
    encode_line(text.substr(start, end == std::string_view::npos ? end : end - start), out);
    if (end == std::string_view::npos) break;
    out += "\r\n";
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
  return out;
}

Expected<std::string> build_message(const MessageParts& parts) {
  const auto refuse = [](const std::string& what) { return Error{"message", what, ""}; };
  if (!plausible_address(parts.from)) return refuse("the sender's address is not a plausible e-mail address");
  if (!plausible_address(parts.to)) return refuse("the address is not a plausible e-mail address");
  if (!header_safe(parts.subject)) return refuse("the subject holds a line break");
  if (!header_safe(parts.from_name)) return refuse("the sender's name holds a line break");
  if (parts.delivery_id.empty() || !printable_ascii(parts.delivery_id)) {
    return refuse("the delivery id is not printable ASCII");
  }
  if (!plausible_domain(parts.message_id_domain)) return refuse("the Message-ID domain is not a domain");

  std::string out;
  const auto header = [&out](std::string_view name, const std::string& value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  header("Date", rfc5322_date(parts.date));
  header("From",
         parts.from_name.empty() ? parts.from : display_name(parts.from_name) + " <" + parts.from + ">");
  header("To", parts.to);
  header("Subject", encode_header_text(parts.subject, 7));
  header("Message-ID", message_id(parts.delivery_id, parts.message_id_domain));
  header("X-Relais-Delivery", parts.delivery_id);
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=UTF-8");
  header("Content-Transfer-Encoding", "quoted-printable");
  // RFC 3834: no vacation notice or auto-reply back to relais.
  header("Auto-Submitted", "auto-generated");
  out += "\r\n";
  out += quoted_printable(parts.body);
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace relais::email
