// templates: the wording of sink_email's messages, one template per purpose
// and language. A template is a subject line and a body:
//
//   Subject: [relais] Demande d'aide n°{{post_id}}
//
//   Bonjour,
//   {{#area}}
//   Secteur : {{area}}
//   {{/area}}
//
// `{{name}}` is replaced by a value; `{{#name}}...{{/name}}` is kept only
// when the value is not empty, `{{^name}}...{{/name}}` only when it is. A
// line holding nothing but a section tag disappears whole, so that sections
// can sit on lines of their own. Nothing is escaped: the message is plain
// text. The names are listed in plugins/sink_email/README.md; any other is
// refused when the template is read.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relais/expected.hpp"
#include "relais/sink.hpp"

namespace relais::email {

using Values = std::map<std::string, std::string, std::less<>>;

// The names a template may use.
const std::vector<std::string_view>& placeholder_names();

class Template {
 public:
  // `origin` names the text in errors ("need.fr.txt"): "origin:line: why".
  static Expected<Template> parse(std::string_view text, std::string_view origin);

  std::string subject(const Values& values) const;  // on one line, blanks collapsed
  std::string body(const Values& values) const;     // '\n' line breaks

 private:
  struct Node;
  // Parses `text`, which starts on line `first_line` of `origin`.
  static Expected<std::vector<Node>> parse_nodes(std::string_view text, std::string_view origin,
                                                 std::size_t first_line);
  static void render(const std::vector<Node>& nodes, const Values& values, std::string& out);

  std::shared_ptr<const std::vector<Node>> subject_;
  std::shared_ptr<const std::vector<Node>> body_;
};

// The template of each purpose in each language: the built-in French and
// English ones, overridden or completed by the files of a directory.
class Templates {
 public:
  // The built-in templates only.
  Templates();

  // Reads `<purpose>.<lang>.txt` from `directory` over the built-in ones
  // (`lang` of two or three lowercase letters). Any other *.txt file there
  // is refused, so that a misspelt name never goes unnoticed; other files
  // are ignored.
  Status load_directory(const std::filesystem::path& directory);

  // The language a message for `purpose` is written in: `lang` when there
  // is a template for it, else `fallback_lang` when there is one, else "en".
  std::string language_for(DeliveryPurpose purpose, std::string_view lang,
                           std::string_view fallback_lang) const;

  // The template for `purpose` in a language language_for() gave.
  const Template& at(DeliveryPurpose purpose, const std::string& lang) const;

  // Whether every purpose has a template in `lang`.
  bool complete(std::string_view lang) const;

 private:
  std::map<std::pair<DeliveryPurpose, std::string>, Template> templates_;
};

// The values of a delivery, worded in `lang` where wording matters (the
// urgency, the kind, the contact's labels; English for a language without
// its own words).
Values values_of(const Delivery& delivery, std::string_view lang);

}  // namespace relais::email
