// body_text: what of a mail's body is the poster's own words. A reply
// carries the message it answers (quoted lines, an "On ... wrote:" line, an
// Outlook "Original Message" block) and a signature; posted as they are,
// they would repeat an earlier need, and a neighbour's signature would put
// their phone number in the public text.
#pragma once

#include <string>
#include <string_view>

namespace relais::mail {

// Plain text from an HTML body (UTF-8 in, UTF-8 out): block elements become
// line breaks, list items "- " lines, links keep their address beside their
// words (so that link-counting moderators still see them), scripts and
// styles go, and a <blockquote> comes out as "> " lines, as a plain-text
// reply quotes.
std::string html_to_text(std::string_view html);

// The text without what a reply quotes and without the signature:
// - everything from a signature delimiter ("-- " alone on a line, or "--"
//   as many mail programs trim it) or from an "Original Message" /
//   "Message d'origine" separator on;
// - lines quoted with ">";
// - the attribution line before a quote ("On Mon, ... wrote:", "Le lun.
//   ... a écrit :", also when wrapped over two lines);
// - a trailing "Sent from my phone" / "Envoyé de mon iPhone" line.
// Blank lines are folded to one, trailing blanks trimmed. When nothing would
// be left (a reply that only quotes), the text is returned unstripped rather
// than losing the post.
std::string strip_replies(std::string_view text);

}  // namespace relais::mail
