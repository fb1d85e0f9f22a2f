// message: an RFC 5322 message of one text/plain UTF-8 part, as sink_email
// sends it. Every header value is checked for line breaks before it is
// written, so that no value (an address, a subject, a delivery id) can
// write a header of its own.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "relais/expected.hpp"

namespace relais::email {

// An address as a destination's `to` or the `from` key writes it:
// local@domain, ASCII, one '@', a dot-atom local part, a domain of labels
// of letters, digits and hyphens. Nothing that could end a header or open
// a comment or a route.
bool plausible_address(std::string_view address);

// A domain name: labels of ASCII letters, digits and hyphens.
bool plausible_domain(std::string_view domain);

// No CR, LF or NUL: the value stays on its header's line.
bool header_safe(std::string_view value);

// The domain of an address (after its '@').
std::string_view domain_of(std::string_view address);

// "<id@domain>": `id` with every character other than letters, digits,
// '-' and '_' written "=XX", so that any delivery id makes a valid msg-id
// and two ids never make the same one.
std::string message_id(std::string_view id, std::string_view domain);

// RFC 5322 date-time in UTC: "Tue, 05 Mar 2024 14:00:00 +0000".
std::string rfc5322_date(std::time_t t);

// Header text (unstructured, or a display name's phrase) as written after
// "Name: ": as it is when it is printable ASCII and the line stays short;
// otherwise RFC 2047 encoded words (UTF-8, base64) of at most 75
// characters each, folded onto continuation lines, never splitting a
// UTF-8 character.
std::string encode_header_text(std::string_view text, std::size_t name_length);

// Quoted-printable (RFC 2045) with CRLF line breaks: lines of at most 76
// characters, soft breaks where a line is longer; trailing spaces, '=',
// control characters, 8-bit bytes, a leading '.' and a leading "From " are
// encoded. Any of LF, CRLF or CR in `text` is a line break.
std::string quoted_printable(std::string_view text);

struct MessageParts {
  std::string from;       // address
  std::string from_name;  // display name; may be empty
  std::string to;         // address
  std::string subject;    // one line, UTF-8
  std::string delivery_id;
  std::string message_id_domain;
  std::time_t date = 0;
  std::string body;  // UTF-8, '\n' line breaks
};

// The whole message, CRLF line breaks; an error when a value would break a
// header (an address that is not plausible, a line break in a header).
Expected<std::string> build_message(const MessageParts& parts);

}  // namespace relais::email
