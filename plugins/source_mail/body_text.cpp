#include "body_text.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <strings.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace relais::mail {
namespace {

// --- HTML ---------------------------------------------------------------

bool named(const xmlNode* node, std::initializer_list<const char*> names) {
  const auto* name = reinterpret_cast<const char*>(node->name);
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return ::strcasecmp(name, n) == 0; });
}

std::string attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

class Renderer {
 public:
  std::string take() && {
    trim_trailing_spaces();
    return std::move(out_);
  }

  void children(const xmlNode* node) {
    for (const xmlNode* child = node; child != nullptr; child = child->next) render(child);
  }

 private:
  void render(const xmlNode* node) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      text(reinterpret_cast<const char*>(node->content));
      return;
    }
    if (node->type != XML_ELEMENT_NODE) return;
    if (named(node, {"script", "style", "head", "title", "noscript", "template", "svg"})) return;
    if (named(node, {"br"})) {
      line_break();
    } else if (named(node, {"blockquote"})) {
      quote(node);
    } else if (named(node, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre", "hr"})) {
      paragraph_break();
      if (named(node, {"pre"})) ++preformatted_;
      children(node->children);
      if (named(node, {"pre"})) --preformatted_;
      paragraph_break();
    } else if (named(node, {"li"})) {
      line_break();
      out_ += "- ";
      children(node->children);
      line_break();
    } else if (named(node, {"div", "tr", "section", "article", "header", "footer", "address", "center", "dl",
                            "dt", "dd", "form", "fieldset", "figure", "main", "nav"})) {
      line_break();
      children(node->children);
      line_break();
    } else if (named(node, {"td", "th"})) {
      pending_space_ = true;
      children(node->children);
      pending_space_ = true;
    } else if (named(node, {"a"})) {
      link(node);
    } else if (named(node, {"img"})) {
      text(attribute(node, "alt"));
    } else {
      children(node->children);
    }
  }

  // The address stays beside the words: a link hidden behind "click here"
  // is exactly what a spam moderator must still see.
  void link(const xmlNode* node) {
    const auto start = out_.size();
    children(node->children);
    const std::string href = attribute(node, "href");
    const bool web = href.rfind("http://", 0) == 0 || href.rfind("https://", 0) == 0;
    if (web && out_.find(href, start) == std::string::npos) text(" (" + href + ")");
  }

  void quote(const xmlNode* node) {
    Renderer inner;
    inner.children(node->children);
    std::string quoted = std::move(inner).take();
    while (!quoted.empty() && quoted.back() == '\n') quoted.pop_back();
    paragraph_break();
    std::size_t at = quoted.find_first_not_of('\n');
    while (at != std::string::npos && at < quoted.size()) {
      const auto end = std::min(quoted.find('\n', at), quoted.size());
      out_ += end > at ? "> " : ">";
      out_.append(quoted, at, end - at);
      out_ += '\n';
      at = end + 1;
    }
    paragraph_break();
  }

  void text(std::string_view s) {
    if (preformatted_ > 0) {
      out_.append(s);
      pending_space_ = false;
      return;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      // A no-break space (U+00A0, C2 A0) is layout in HTML mail, not content.
      const bool nbsp = c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0';
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || nbsp) {
        pending_space_ = true;
        if (nbsp) ++i;
        continue;
      }
      if (pending_space_ && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') out_ += ' ';
      pending_space_ = false;
      out_ += c;
    }
  }

  void trim_trailing_spaces() {
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
  }

  void line_break() {
    trim_trailing_spaces();
    if (!out_.empty() && out_.back() != '\n') out_ += '\n';
    pending_space_ = false;
  }

  void paragraph_break() {
    line_break();
    if (!out_.empty() && (out_.size() < 2 || out_[out_.size() - 2] != '\n')) out_ += '\n';
  }

  std::string out_;
  bool pending_space_ = false;
  int preformatted_ = 0;
};

// --- Replies and signatures ----------------------------------------------

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_right(s);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }
bool is_quoted(std::string_view line) { return starts_with(trim(line), ">"); }

bool is_signature_delimiter(std::string_view line) {
  line = trim_right(line);
  return line == "--" || (line == "-- ");
}

// Outlook and its kin quote the whole message under a separator instead of
// with ">": everything from it on is the message answered.
bool is_original_message_separator(std::string_view line, std::string_view next) {
  line = trim(line);
  if (starts_with(line, "-----")) {
    for (std::string_view marker : {"Original Message", "Message d'origine", "Message d’origine",
                                    "Ursprüngliche Nachricht", "Mensaje original", "Messaggio originale"}) {
      if (line.find(marker) != std::string_view::npos) return true;
    }
  }
  if (line.size() >= 20 && line.find_first_not_of('_') == std::string_view::npos) {
    next = trim(next);
    for (std::string_view header : {"From:", "De :", "De:", "Von:", "Da:", "Envoyé :", "Sent:"}) {
      if (starts_with(next, header)) return true;
    }
  }
  return false;
}

bool opens_attribution(std::string_view line) {
  line = trim(line);
  for (std::string_view opening : {"On ", "Le ", "Am ", "El ", "Il ", "Op "}) {
    if (starts_with(line, opening)) return true;
  }
  return false;
}

bool closes_attribution(std::string_view line) {
  line = trim_right(line);
  for (std::string_view closing : {"wrote:", "a écrit :", "a écrit:",
                                   "a écrit\xC2\xA0:",      // no-break space
                                   "a écrit\xE2\x80\xAF:",  // narrow no-break space (Apple Mail)
                                   "schrieb:", "escribió:", "ha scritto:", "schreef:"}) {
    if (ends_with(line, closing)) return true;
  }
  return false;
}

bool is_device_signature(std::string_view line) {
  line = trim(line);
  for (std::string_view prefix : {"Sent from my ", "Envoyé de mon ", "Envoyé depuis ", "Get Outlook for ",
                                  "Obtenir Outlook pour ", "Télécharger Outlook pour "}) {
    if (starts_with(line, prefix)) return true;
  }
  return false;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// Lines joined with trailing blanks trimmed, runs of blank lines folded to
// one, no blank line first or last.
std::string join_folded(const std::vector<std::string_view>& lines) {
  std::string out;
  bool blank_pending = false;
  for (auto line : lines) {
    line = trim_right(line);
    if (line.empty()) {
      blank_pending = !out.empty();
      continue;
    }
    if (blank_pending) out += '\n';
    blank_pending = false;
    out.append(line);
    out += '\n';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  if (html.empty()) return {};
  // The text was converted to UTF-8 already: a <meta charset> naming the
  // original charset must not make libxml2 convert it a second time.
  const std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr, "UTF-8",
                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET),
      &xmlFreeDoc);
  if (!doc) return {};
  Renderer renderer;
  renderer.children(xmlDocGetRootElement(doc.get()));
  const std::string rendered = std::move(renderer).take();
  return join_folded(split_lines(rendered));
}

std::string strip_replies(std::string_view text) {
  const auto lines = split_lines(text);
  std::size_t end = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view next = i + 1 < lines.size() ? lines[i + 1] : std::string_view{};
    if (is_signature_delimiter(lines[i]) || is_original_message_separator(lines[i], next)) {
      end = i;
      break;
    }
  }

  // Whether a quote (or nothing) follows line i: only then is an "... wrote:"
  // line an attribution and not the poster's own sentence.
  const auto quote_follows = [&](std::size_t i) {
    for (std::size_t j = i + 1; j < end; ++j) {
      if (!is_blank(lines[j])) return is_quoted(lines[j]);
    }
    return true;
  };

  std::vector<bool> drop(end, false);
  for (std::size_t i = 0; i < end; ++i) {
    if (is_quoted(lines[i])) {
      drop[i] = true;
      continue;
    }
    if (!closes_attribution(lines[i]) || !quote_follows(i)) continue;
    if (opens_attribution(lines[i])) {
      drop[i] = true;
    } else if (i > 0 && !is_blank(lines[i - 1]) && opens_attribution(lines[i - 1])) {
      drop[i] = drop[i - 1] = true;  // wrapped over two lines
    }
  }

  std::vector<std::string_view> kept;
  for (std::size_t i = 0; i < end; ++i) {
    if (!drop[i]) kept.push_back(lines[i]);
  }
  while (!kept.empty() && is_blank(kept.back())) kept.pop_back();
  if (!kept.empty() && is_device_signature(kept.back())) kept.pop_back();

  std::string stripped = join_folded(kept);
  if (stripped.empty()) return join_folded(lines);
  return stripped;
}

}  // namespace relais::mail
