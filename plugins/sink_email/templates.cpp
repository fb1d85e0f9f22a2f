#include "templates.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace relais::email {

namespace fs = std::filesystem;

struct Template::Node {
  enum class Type : std::uint8_t { text, value, section, inverted };
  Type type = Type::text;
  std::string text;  // the text, or the value's name
  std::vector<Node> children;
};

namespace {

constexpr std::array<DeliveryPurpose, 6> kPurposes = {
    DeliveryPurpose::need,    DeliveryPurpose::urgent_copy, DeliveryPurpose::escalation,
    DeliveryPurpose::reroute, DeliveryPurpose::offer,       DeliveryPurpose::unrouted};

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

Error template_error(std::string_view origin, std::size_t line, const std::string& why) {
  return Error{"template", std::string(origin) + ":" + std::to_string(line) + ": " + why, ""};
}

// The built-in wording. Each purpose has its subject and its opening; the
// rest of the body is the same for all.
struct Wording {
  const char* subject;
  const char* opening;
};

Wording french(DeliveryPurpose purpose) {
  switch (purpose) {
    case DeliveryPurpose::need:
      return {"[relais] Demande d'aide n°{{post_id}} : {{categories}}",
              "Une demande d'aide vous est adressée."};
    case DeliveryPurpose::urgent_copy:
      return {
          "[relais] URGENT – copie de la demande n°{{post_id}} : {{categories}}",
          "Copie d'une demande urgente, adressée d'abord à une autre structure : si vous pouvez agir plus "
          "vite, prenez-la."};
    case DeliveryPurpose::escalation:
      return {"[relais] Toujours sans réponse : demande n°{{post_id}} : {{categories}}",
              "Personne n'a pu prendre cette demande à temps : pouvez-vous vous en occuper ?"};
    case DeliveryPurpose::reroute:
      return {"[relais] Demande n°{{post_id}} transmise : {{categories}}",
              "Une autre structure n'a pas pu prendre cette demande : elle vous est transmise."};
    case DeliveryPurpose::offer:
      return {"[relais] Proposition d'aide n°{{post_id}} : {{categories}}",
              "Une proposition d'aide{{#related_post}}, qui répond à votre demande "
              "n°{{related_post}}{{/related_post}}."};
    case DeliveryPurpose::unrouted:
      return {"[relais] Sans destination : demande n°{{post_id}} : {{categories}}",
              "Aucune destination ne peut prendre cette demande : elle attend une décision des "
              "modérateurs."};
  }
  return {"", ""};
}

Wording english(DeliveryPurpose purpose) {
  switch (purpose) {
    case DeliveryPurpose::need:
      return {"[relais] Request for help #{{post_id}}: {{categories}}",
              "A request for help has been routed to you."};
    case DeliveryPurpose::urgent_copy:
      return {"[relais] URGENT – copy of request #{{post_id}}: {{categories}}",
              "A copy of an urgent request, sent first to another organisation: if you can act sooner, "
              "take it."};
    case DeliveryPurpose::escalation:
      return {"[relais] Still unanswered: request #{{post_id}}: {{categories}}",
              "Nobody could take this request in time: can you?"};
    case DeliveryPurpose::reroute:
      return {"[relais] Request #{{post_id}} passed on: {{categories}}",
              "Another organisation could not take this request: it is passed on to you."};
    case DeliveryPurpose::offer:
      return {
          "[relais] Offer of help #{{post_id}}: {{categories}}",
          "An offer of help{{#related_post}}, answering your request #{{related_post}}{{/related_post}}."};
    case DeliveryPurpose::unrouted:
      return {"[relais] No destination: request #{{post_id}}: {{categories}}",
              "No destination can take this request: it waits for the moderators' decision."};
  }
  return {"", ""};
}

constexpr const char* kFrenchBody = R"(Bonjour{{#destination_name}} {{destination_name}}{{/destination_name}},

{{opening}}

{{#subject}}
Objet : {{subject}}
{{/subject}}
Catégories : {{categories}}
Urgence : {{urgency}}
{{#area}}
Secteur : {{area}}
{{/area}}

Le message :

{{text}}

{{#contact}}
Pour joindre la personne :
{{contact}}

{{/contact}}
Pourquoi vous : {{reason}}

{{#claim_link}}
Je m'en occupe : {{claim_link}}
{{/claim_link}}
{{#decline_link}}
Nous ne pouvons pas : {{decline_link}}
{{/decline_link}}
{{#resolve_link}}
C'est fait : {{resolve_link}}
{{/resolve_link}}

-- 
relais · demande n°{{post_id}} · envoi {{delivery_id}}
)";

constexpr const char* kEnglishBody = R"(Hello{{#destination_name}} {{destination_name}}{{/destination_name}},

{{opening}}

{{#subject}}
Subject: {{subject}}
{{/subject}}
Categories: {{categories}}
Urgency: {{urgency}}
{{#area}}
Area: {{area}}
{{/area}}

The message:

{{text}}

{{#contact}}
To reach the person:
{{contact}}

{{/contact}}
Why you: {{reason}}

{{#claim_link}}
I'll take it: {{claim_link}}
{{/claim_link}}
{{#decline_link}}
We can't: {{decline_link}}
{{/decline_link}}
{{#resolve_link}}
It's done: {{resolve_link}}
{{/resolve_link}}

-- 
relais · request #{{post_id}} · delivery {{delivery_id}}
)";

// The opening goes into the body before parsing: `{{opening}}` is a slot of
// the built-in templates, not a placeholder.
std::string builtin_text(DeliveryPurpose purpose, bool in_french) {
  const Wording wording = in_french ? french(purpose) : english(purpose);
  std::string body = in_french ? kFrenchBody : kEnglishBody;
  const std::string slot = "{{opening}}";
  body.replace(body.find(slot), slot.size(), wording.opening);
  return std::string("Subject: ") + wording.subject + "\n\n" + body;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

struct Words {
  std::array<const char*, 4> urgency;  // low, normal, high, critical
  std::array<const char*, 4> kind;     // request, offer, info, other
  std::vector<std::pair<const char*, const char*>> contact_labels;
  const char* label_separator;
};

const Words& words_for(std::string_view lang) {
  static const Words kFrench{
      {"faible", "normale", "haute", "critique"},
      {"demande", "offre", "information", "autre"},
      {{"name", "Nom"}, {"phone", "Téléphone"}, {"email", "E-mail"}, {"address", "Adresse"}},
      " : "};
  static const Words kEnglish{
      {"low", "normal", "high", "critical"},
      {"request", "offer", "information", "other"},
      {{"name", "Name"}, {"phone", "Phone"}, {"email", "E-mail"}, {"address", "Address"}},
      ": "};
  return lang == "fr" ? kFrench : kEnglish;
}

// The poster's contact, one "  label: value" line each, the usual keys
// first; a value on several lines (an address) is indented under its label.
std::string contact_block(const std::map<std::string, std::string>& contact, const Words& words) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [key, label] : words.contact_labels) {
    if (auto found = contact.find(key); found != contact.end() && !found->second.empty()) {
      lines.emplace_back(label, found->second);
    }
  }
  for (const auto& [key, value] : contact) {
    const bool known = std::any_of(words.contact_labels.begin(), words.contact_labels.end(),
                                   [&key = key](const auto& entry) { return key == entry.first; });
    if (!known && !value.empty()) lines.emplace_back(key, value);
  }
  std::string out;
  for (const auto& [label, value] : lines) {
    if (!out.empty()) out += '\n';
    out += "  " + label + words.label_separator;
    for (const char c : value) {
      out += c;
      if (c == '\n') out += "    ";
    }
  }
  return out;
}

}  // namespace

const std::vector<std::string_view>& placeholder_names() {
  static const std::vector<std::string_view> kNames = {
      "delivery_id", "purpose", "destination", "destination_name", "reason",
      "attempt",     "post_id", "source",      "channel",          "received_at",
      "subject",     "text",    "kind",        "categories",       "urgency",
      "area",        "contact", "claim_link",  "decline_link",     "resolve_link",
      "related_post"};
  return kNames;
}

namespace {

bool known_name(std::string_view name) {
  const auto& names = placeholder_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

Expected<std::vector<Template::Node>> Template::parse_nodes(std::string_view text, std::string_view origin,
                                                            std::size_t first_line) {
  using Type = Template::Node::Type;
  struct Open {
    std::string name;
    Type type;
    std::size_t line;
    std::vector<Template::Node> children;
  };
  std::vector<Open> stack;
  stack.push_back({"", Type::text, first_line, {}});
  const auto line_of = [&](std::size_t offset) {
    return first_line + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
  };
  const auto add_text = [&](std::string_view piece) {
    if (piece.empty()) return;
    auto& children = stack.back().children;
    if (!children.empty() && children.back().type == Type::text) {
      children.back().text += piece;
    } else {
      children.push_back({Type::text, std::string(piece), {}});
    }
  };

  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      add_text(text.substr(pos));
      break;
    }
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return template_error(origin, line_of(open), "\"{{\" is never closed");
    }
    std::string_view tag = trimmed(text.substr(open + 2, close - open - 2));
    const std::size_t after = close + 2;
    Type type = Type::value;
    bool closing = false;
    if (!tag.empty() && (tag.front() == '#' || tag.front() == '^' || tag.front() == '/')) {
      type = tag.front() == '#' ? Type::section : Type::inverted;
      closing = tag.front() == '/';
      tag = trimmed(tag.substr(1));
    }
    const std::string name(tag);
    if (name.empty()) return template_error(origin, line_of(open), "an empty \"{{}}\"");
    if (!known_name(name)) {
      return template_error(origin, line_of(open),
                            "unknown placeholder \"" + name + "\" (the README lists the names)");
    }

    // A section tag alone on its line takes the line with it.
    std::size_t next = after;
    std::string_view before = text.substr(pos, open - pos);
    if (type != Type::value) {
      const std::size_t line_start =
          text.rfind('\n', open) == std::string_view::npos ? 0 : text.rfind('\n', open) + 1;
      const std::size_t line_end = std::min(text.find('\n', after), text.size());
      if (line_start >= pos && blank(text.substr(line_start, open - line_start)) &&
          blank(text.substr(after, line_end - after))) {
        before = text.substr(pos, line_start - pos);
        next = line_end == text.size() ? line_end : line_end + 1;
      }
    }
    add_text(before);
    pos = next;

    if (type == Type::value) {
      stack.back().children.push_back({Type::value, name, {}});
    } else if (!closing) {
      stack.push_back({name, type, line_of(open), {}});
    } else {
      if (stack.size() < 2) {
        return template_error(origin, line_of(open), "\"{{/" + name + "}}\" closes no section");
      }
      if (stack.back().name != name) {
        return template_error(origin, line_of(open),
                              "\"{{/" + name + "}}\" closes \"{{#" + stack.back().name + "}}\"");
      }
      Open done = std::move(stack.back());
      stack.pop_back();
      stack.back().children.push_back({done.type, done.name, std::move(done.children)});
    }
  }
  if (stack.size() > 1) {
    return template_error(origin, stack.back().line, "\"{{#" + stack.back().name + "}}\" is never closed");
  }
  return std::move(stack.back().children);
}

void Template::render(const std::vector<Node>& nodes, const Values& values, std::string& out) {
  using Type = Template::Node::Type;
  for (const auto& node : nodes) {
    const auto value = [&]() -> std::string_view {
      const auto found = values.find(node.text);
      return found == values.end() ? std::string_view() : std::string_view(found->second);
    };
    switch (node.type) {
      case Type::text:
        out += node.text;
        break;
      case Type::value:
        out += value();
        break;
      case Type::section:
        if (!value().empty()) render(node.children, values, out);
        break;
      case Type::inverted:
        if (value().empty()) render(node.children, values, out);
        break;
    }
  }
}

Expected<Template> Template::parse(std::string_view text, std::string_view origin) {
  constexpr std::string_view kSubject = "Subject:";
  const std::size_t first_end = text.find('\n');
  const std::string_view first_line = text.substr(0, first_end);
  if (!first_line.starts_with(kSubject)) {
    return template_error(origin, 1, "expected a first line \"Subject: ...\"");
  }
  if (first_end == std::string_view::npos) {
    return template_error(origin, 2, "expected an empty line, then the body");
  }
  const std::size_t second_end = text.find('\n', first_end + 1);
  const std::string_view second_line = text.substr(
      first_end + 1, second_end == std::string_view::npos ? second_end : second_end - first_end - 1);
  if (!blank(second_line)) return template_error(origin, 2, "expected an empty line after the subject");
  const std::string_view body =
      second_end == std::string_view::npos ? std::string_view() : text.substr(second_end + 1);

  auto subject = parse_nodes(trimmed(first_line.substr(kSubject.size())), origin, 1);
  if (!subject) return subject.error();
  auto body_nodes = parse_nodes(body, origin, 3);
  if (!body_nodes) return body_nodes.error();
  Template out;
  out.subject_ = std::make_shared<const std::vector<Node>>(std::move(*subject));
  out.body_ = std::make_shared<const std::vector<Node>>(std::move(*body_nodes));
  return out;
}

std::string Template::subject(const Values& values) const {
  std::string rendered;
  render(*subject_, values, rendered);
  // One line: any run of blanks or line breaks a value brought is a space.
  std::string out;
  bool space = false;
  for (const char c : rendered) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Template::body(const Values& values) const {
  std::string out;
  render(*body_, values, out);
  return out;
}

Templates::Templates() {
  for (const auto purpose : kPurposes) {
    for (const bool in_french : {true, false}) {
      const std::string origin =
          std::string(to_string(purpose)) + (in_french ? ".fr" : ".en") + " (built in)";
      auto parsed = Template::parse(builtin_text(purpose, in_french), origin);
      // The built-in templates are tested: a failure here is a bug.
      if (!parsed) throw std::logic_error(parsed.error().message);
      templates_.insert_or_assign({purpose, in_french ? "fr" : "en"}, std::move(*parsed));
    }
  }
}

Status Templates::load_directory(const fs::path& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return Error{"template", directory.string() + ": not a directory", ""};
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".txt") files.push_back(it->path());
  }
  if (ec) return Error{"template", directory.string() + ": " + ec.message(), ""};
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    // <purpose>.<lang>.txt
    const std::string stem = file.stem().string();
    const std::size_t dot = stem.rfind('.');
    const std::string lang = dot == std::string::npos ? "" : stem.substr(dot + 1);
    const auto purpose =
        dot == std::string::npos ? std::nullopt : parse_delivery_purpose(stem.substr(0, dot));
    const bool lang_ok = (lang.size() == 2 || lang.size() == 3) &&
                         std::all_of(lang.begin(), lang.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    if (!purpose || !lang_ok) {
      return Error{
          "template",
          file.string() +
              ": expected a name <purpose>.<lang>.txt, purpose one of need, urgent_copy, escalation, "
              "reroute, offer, unrouted, and lang two or three lowercase letters",
          ""};
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Error{"template", file.string() + ": cannot read the file", ""};
    auto parsed = Template::parse(text.str(), file.string());
    if (!parsed) return parsed.error();
    templates_.insert_or_assign({*purpose, lang}, std::move(*parsed));
  }
  return Done{};
}

std::string Templates::language_for(DeliveryPurpose purpose, std::string_view lang,
                                    std::string_view fallback_lang) const {
  for (const std::string_view candidate : {lang, fallback_lang}) {
    if (templates_.contains({purpose, std::string(candidate)})) return std::string(candidate);
  }
  return "en";
}

const Template& Templates::at(DeliveryPurpose purpose, const std::string& lang) const {
  return templates_.at({purpose, lang});
}

bool Templates::complete(std::string_view lang) const {
  return std::all_of(kPurposes.begin(), kPurposes.end(), [&](DeliveryPurpose purpose) {
    return templates_.contains({purpose, std::string(lang)});
  });
}

Values values_of(const Delivery& delivery, std::string_view lang) {
  const Words& words = words_for(lang);
  const Post& post = delivery.post;
  const Triage& triage = delivery.triage;
  const auto link = [&](const char* action) {
    const auto found = delivery.links.find(action);
    return found == delivery.links.end() ? std::string() : found->second;
  };
  Values values;
  values["delivery_id"] = delivery.id;
  values["purpose"] = to_string(delivery.purpose);
  values["destination"] = delivery.destination;
  values["destination_name"] = delivery.destination_name;
  values["reason"] = delivery.reason;
  values["attempt"] = std::to_string(delivery.attempt);
  values["post_id"] = std::to_string(post.id);
  values["source"] = post.source;
  values["channel"] = post.channel;
  values["received_at"] = post.received_at;
  values["subject"] = post.subject.value_or("");
  values["text"] = post.text;
  values["kind"] = words.kind.at(static_cast<std::size_t>(triage.kind));
  values["categories"] = join(triage.categories, ", ");
  values["urgency"] = words.urgency.at(static_cast<std::size_t>(triage.urgency));
  values["area"] = triage.area;
  values["contact"] = contact_block(post.private_data, words);
  values["claim_link"] = link("claim");
  values["decline_link"] = link("decline");
  values["resolve_link"] = link("resolve");
  values["related_post"] = delivery.related_post != 0 ? std::to_string(delivery.related_post) : std::string();
  return values;
}

}  // namespace relais::email
