#include "form.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "http_server.hpp"

namespace relais::webform {
namespace {

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::array<std::uint32_t, 4> kMin = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Trimmed; \r\n and \r become \n where line breaks are kept, a space
// elsewhere; other control characters go: nobody types them, and they
// would only hide text from a moderator.
std::string clean(std::string_view in, bool multiline) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\r') {
      if (i + 1 < in.size() && in[i + 1] == '\n') continue;
      out += multiline ? '\n' : ' ';
    } else if (c == '\n') {
      out += multiline ? '\n' : ' ';
    } else if (c == '\t') {
      out += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      continue;
    } else {
      out += c;
    }
  }
  const auto first = out.find_first_not_of(" \n");
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(" \n");
  return out.substr(first, last - first + 1);
}

std::string param(const std::map<std::string, std::string>& params, const std::string& name,
                  bool multiline = false) {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : clean(it->second, multiline);
}

// Loose on purpose: a phone number as people write it (+33 6 12 34 56 78,
// 01.23.45.67.89, (0)1 ...), between 6 and 15 digits as E.164 allows.
bool plausible_phone(std::string_view phone) {
  std::size_t digits = 0;
  for (const char c : phone) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != ' ' && c != '+' && c != '.' && c != '-' && c != '(' && c != ')' && c != '/') {
      return false;
    }
  }
  return digits >= 6 && digits <= 15;
}

// Something@something.something without spaces: what a person can check by
// eye. Whether the mailbox exists is the destination's business.
bool plausible_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  if (email.find_first_of(" <>,;\"") != std::string_view::npos) return false;
  const auto domain = email.substr(at + 1);
  const auto dot = domain.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 2 <= domain.size();
}

// French postcodes are five digits; other countries' are up to ten letters
// and digits, so anything of that shape is taken and triage judges it.
bool plausible_postcode(std::string_view code) {
  if (code.size() < 4) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' || c == '-';
  });
}

void check_length(std::vector<FieldError>& errors, const char* field, const std::string& value,
                  std::size_t limit) {
  if (utf8_length(value) > limit) errors.push_back({field, "too_long", limit});
}

}  // namespace

std::string_view to_string(Lang lang) noexcept { return lang == Lang::en ? "en" : "fr"; }

std::optional<Lang> parse_lang(std::string_view text) noexcept {
  if (text == "fr") return Lang::fr;
  if (text == "en") return Lang::en;
  return std::nullopt;
}

const std::vector<Choice>& default_categories() {
  static const std::vector<Choice> categories = {
      {"groceries", "Courses", "Shopping"},
      {"food_aid", "Aide alimentaire (colis, repas)", "Food aid (parcels, meals)"},
      {"medication", "Médicaments, pharmacie", "Medication, pharmacy"},
      {"health", "Santé, soins", "Health, care"},
      {"childcare", "Garde d'enfants", "Childcare"},
      {"schooling", "Devoirs, école", "Homework, school"},
      {"it_equipment", "Informatique, téléphone, internet", "Computer, phone, internet"},
      {"housing", "Logement, chauffage", "Housing, heating"},
      {"ppe", "Masques et protections", "Masks and protective equipment"},
      {"isolation", "Solitude, appels, visites", "Loneliness, calls, visits"},
      {"pets", "Animaux", "Pets"},
      {"transport", "Transport, déplacements", "Transport, lifts"},
      {"paperwork", "Démarches, papiers", "Paperwork, forms"},
      {"caregivers_support", "Soutien aux soignants et aux aidants", "Support for care staff and carers"},
      {"repairs", "Réparations, bricolage", "Repairs, tools"},
      {"other", "Autre chose", "Something else"},
  };
  return categories;
}

const Choice* find_choice(const std::vector<Choice>& choices, std::string_view id) {
  const auto it = std::find_if(choices.begin(), choices.end(), [&](const Choice& c) { return c.id == id; });
  return it == choices.end() ? nullptr : &*it;
}

std::size_t utf8_length(std::string_view text) noexcept {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Expected<std::map<std::string, std::string>> parse_urlencoded(std::string_view body) {
  auto pairs = http::parse_form(body);
  if (!pairs) return Error{"malformed", pairs.error().message, ""};
  if (pairs->size() > kMaxParameters) return Error{"malformed", "too many fields", ""};
  std::map<std::string, std::string> out;
  for (auto& [name, value] : *pairs) {
    if (!valid_utf8(name) || !valid_utf8(value)) return Error{"malformed", "the form is not UTF-8", ""};
    out.emplace(std::move(name), std::move(value));  // the first value of a name wins
  }
  return out;
}

Submission read_submission(const std::map<std::string, std::string>& params) {
  Submission s;
  s.kind = param(params, "kind");
  s.category = param(params, "category");
  s.area = param(params, "area");
  s.postcode = param(params, "postcode");
  s.urgency = param(params, "urgency");
  s.when = param(params, "when");
  s.description = param(params, "description", true);
  s.name = param(params, "name");
  s.phone = param(params, "phone");
  s.email = param(params, "email");
  s.address = param(params, "address", true);
  s.consent = param(params, "consent") == "yes";
  return s;
}

std::vector<FieldError> validate(const Submission& s, const FormRules& rules) {
  std::vector<FieldError> errors;
  if (s.kind != "request" && s.kind != "offer") errors.push_back({"kind", "required", 0});
  if (s.category.empty()) {
    errors.push_back({"category", "required", 0});
  } else if (find_choice(rules.categories, s.category) == nullptr) {
    errors.push_back({"category", "choice", 0});
  }
  if (!s.area.empty() && find_choice(rules.areas, s.area) == nullptr) {
    errors.push_back({"area", "choice", 0});
  } else if (s.area.empty() && s.postcode.empty()) {
    errors.push_back({"area", rules.areas.empty() ? "required" : "area_or_postcode", 0});
  }
  if (!s.postcode.empty()) {
    if (utf8_length(s.postcode) > kMaxPostcodeChars || !plausible_postcode(s.postcode))
      errors.push_back({"postcode", "postcode", 0});
  }
  if (!s.urgency.empty() && s.urgency != "low" && s.urgency != "normal" && s.urgency != "high")
    errors.push_back({"urgency", "choice", 0});
  check_length(errors, "when", s.when, kMaxWhenChars);
  const std::size_t length = utf8_length(s.description);
  if (s.description.empty()) {
    errors.push_back({"description", "required", 0});
  } else if (length < kMinDescriptionChars) {
    errors.push_back({"description", "too_short", kMinDescriptionChars});
  } else if (length > rules.max_description_chars) {
    errors.push_back({"description", "too_long", rules.max_description_chars});
  }
  check_length(errors, "name", s.name, kMaxNameChars);
  if (utf8_length(s.phone) > kMaxPhoneChars) {
    errors.push_back({"phone", "too_long", kMaxPhoneChars});
  } else if (!s.phone.empty() && !plausible_phone(s.phone)) {
    errors.push_back({"phone", "phone", 0});
  }
  if (utf8_length(s.email) > kMaxEmailChars) {
    errors.push_back({"email", "too_long", kMaxEmailChars});
  } else if (!s.email.empty() && !plausible_email(s.email)) {
    errors.push_back({"email", "email", 0});
  }
  check_length(errors, "address", s.address, kMaxAddressChars);
  if (s.phone.empty() && s.email.empty() && s.address.empty()) errors.push_back({"contact", "contact", 0});
  if (!s.consent) errors.push_back({"consent", "consent", 0});
  return errors;
}

Post to_post(const Submission& s, Lang lang) {
  Post post;
  post.channel = "form";
  post.text = s.description;
  post.lang = std::string(to_string(lang));
  post.fields["kind"] = s.kind;
  post.fields["category"] = s.category;
  const auto set = [](std::map<std::string, std::string>& into, const char* key, const std::string& value) {
    if (!value.empty()) into[key] = value;
  };
  set(post.fields, "area", s.area);
  set(post.fields, "postcode", s.postcode);
  set(post.fields, "urgency", s.urgency);
  set(post.fields, "when", s.when);
  set(post.private_data, "name", s.name);
  set(post.private_data, "phone", s.phone);
  set(post.private_data, "email", s.email);
  set(post.private_data, "address", s.address);
  return post;
}

}  // namespace relais::webform
