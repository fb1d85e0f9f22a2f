#include "pages.hpp"

#include <algorithm>
#include <tuple>

#include "http_server.hpp"

namespace relais::webform::pages {
namespace {

// Colours keep a contrast of at least 7:1 on white (text, errors, buttons);
// touch targets are at least 44 px high; the focus ring is never removed.
constexpr std::string_view kStylesheet =
    "*{box-sizing:border-box}"
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;font-size:1.05rem;"
    "line-height:1.5;color:#1b1b1b;background:#fff}"
    "header{background:#0b3d66;color:#fff;padding:.75rem 1rem;display:flex;flex-wrap:wrap;"
    "justify-content:space-between;align-items:center;gap:.5rem}"
    "header a{color:#fff;display:inline-block;padding:.5rem 0;min-height:2.75rem}"
    ".site{font-weight:700}"
    "main{padding:1rem;max-width:40rem;margin:0 auto}"
    "h1{font-size:1.6rem;line-height:1.2;margin:.5rem 0 1rem}"
    "h2{font-size:1.2rem}"
    "a{color:#0b4f8a}"
    "label,legend{display:block;font-weight:600;margin:.25rem 0}"
    ".hint{color:#3d3d3d;margin:.1rem 0 .4rem;font-weight:400}"
    "input[type=text],input[type=tel],input[type=email],select,textarea{display:block;width:100%;font:"
    "inherit;"
    "padding:.6rem;min-height:2.75rem;border:2px solid "
    "#1b1b1b;border-radius:4px;background:#fff;color:#1b1b1b}"
    "textarea{min-height:8rem;resize:vertical}"
    ".field{margin:0 0 1.5rem}"
    "fieldset{border:0;padding:0;margin:0 0 1.5rem;min-width:0}"
    "legend{font-size:1.15rem;padding:0}"
    ".choice{display:flex;align-items:center;gap:.75rem;min-height:2.75rem}"
    ".choice input{width:1.6rem;height:1.6rem;margin:0;flex:none;accent-color:#0b5394}"
    ".choice label{font-weight:400;margin:0}"
    ".button,button{display:block;width:100%;font:inherit;font-weight:700;font-size:1.15rem;padding:.8rem "
    "1rem;"
    "min-height:3rem;border:0;border-radius:4px;background:#0b5394;color:#fff;text-align:center;"
    "text-decoration:none;cursor:pointer;margin:.75rem 0}"
    ".button.offer{background:#1a5e30}"
    ":focus-visible{outline:3px solid #c25e00;outline-offset:3px}"
    ".error{color:#a4001d;font-weight:700;margin:.2rem 0}"
    ".invalid{border-left:5px solid #a4001d;padding-left:.75rem}"
    ".invalid input[type=text],.invalid input[type=tel],.invalid input[type=email],.invalid select,"
    ".invalid textarea{border:3px solid #a4001d}"
    ".summary{border:4px solid #a4001d;padding:0 1rem;margin:0 0 1.5rem}"
    ".summary a{color:#a4001d;font-weight:700}"
    ".notice{border-left:6px solid #0b5394;background:#eef4fa;padding:.75rem 1rem;margin:0 0 1.5rem}"
    ".private{background:#f3f3f3;padding:1rem;border-radius:4px}"
    ".ref{font-size:1.8rem;font-weight:700;letter-spacing:.05em;font-family:ui-monospace,monospace}"
    ".hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}"
    "@media (min-width:40rem){main{padding:2rem 1rem}.button,button{display:inline-block;width:auto;"
    "min-width:16rem}}";

bool en(Lang lang) { return lang == Lang::en; }
const char* tr(Lang lang, const char* fr, const char* english) { return en(lang) ? english : fr; }

std::string lang_query(Lang lang) { return "lang=" + std::string(to_string(lang)); }

// The page around a body: header with the site's name and a link to the
// other language, one main landmark.
std::string page(const Site& site, Lang lang, std::string_view title, const std::string& body,
                 std::string_view other_lang_href) {
  const Lang other = en(lang) ? Lang::fr : Lang::en;
  std::string out = "<!doctype html>\n<html lang=\"" + std::string(to_string(lang)) +
                    "\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<meta name=\"referrer\" content=\"no-referrer\"><link rel=\"icon\" href=\"favicon.svg\" "
                    "type=\"image/svg+xml\"><title>" +
                    escape(title) + " – " + escape(site.title) + "</title><style>" +
                    std::string(kStylesheet) + "</style></head><body><header><a class=\"site\" href=\"./?" +
                    lang_query(lang) + "\">" + escape(site.title) + "</a>";
  if (!other_lang_href.empty()) {
    out += "<a href=\"" + escape(other_lang_href) + "\" lang=\"" + std::string(to_string(other)) +
           "\" hreflang=\"" + std::string(to_string(other)) + "\">" + (en(other) ? "English" : "Français") +
           "</a>";
  }
  out += "</header><main id=\"main\">" + body + "</main></body></html>\n";
  return out;
}

std::string kind_title(Lang lang, std::string_view kind) {
  return kind == "offer" ? tr(lang, "Je propose mon aide", "I can help")
                         : tr(lang, "J'ai besoin d'aide", "I need help");
}

std::string error_text(Lang lang, const FieldError& e) {
  const std::string limit = std::to_string(e.limit);
  if (e.code == "too_long")
    return en(lang) ? "Too long: at most " + limit + " characters."
                    : "Trop long : " + limit + " caractères au plus.";
  if (e.code == "too_short")
    return en(lang) ? "Too short: write at least " + limit + " characters."
                    : "Trop court : écrivez au moins " + limit + " caractères.";
  if (e.field == "kind")
    return tr(lang, "Dites si vous demandez ou proposez de l'aide.", "Say whether you need or offer help.");
  if (e.field == "category")
    return e.code == "choice"
               ? tr(lang, "Choisissez un sujet de la liste.", "Choose a subject from the list.")
               : tr(lang, "Choisissez de quoi il s'agit.", "Choose what it is about.");
  if (e.field == "area") {
    if (e.code == "choice")
      return tr(lang, "Choisissez un quartier de la liste.", "Choose an area from the list.");
    if (e.code == "area_or_postcode")
      return tr(lang, "Choisissez le quartier, ou indiquez le code postal.",
                "Choose the area, or give the postcode.");
    return tr(lang, "Indiquez le code postal.", "Give the postcode.");
  }
  if (e.code == "postcode")
    return tr(lang, "Ce code postal n'a pas l'air valable (5 chiffres, par exemple 94400).",
              "This postcode does not look right (5 digits, for example 94400).");
  if (e.field == "urgency") return tr(lang, "Choisissez dans la liste.", "Choose from the list.");
  if (e.field == "description")
    return tr(lang, "Décrivez en quelques mots ce qu'il faut.", "Say in a few words what is needed.");
  if (e.code == "phone")
    return tr(lang, "Ce numéro n'a pas l'air valable : des chiffres, par exemple 06 12 34 56 78.",
              "This number does not look right: digits, for example +33 6 12 34 56 78.");
  if (e.code == "email")
    return tr(lang, "Cette adresse e-mail n'a pas l'air valable, par exemple nom@exemple.fr.",
              "This e-mail address does not look right, for example name@example.org.");
  if (e.code == "contact")
    return tr(lang, "Donnez au moins un moyen de vous joindre : téléphone, e-mail ou adresse.",
              "Give at least one way to reach you: phone, e-mail or address.");
  if (e.code == "consent")
    return tr(lang, "Cochez la case pour que vos coordonnées puissent être transmises.",
              "Tick the box so that your contact details can be passed on.");
  return tr(lang, "Vérifiez ce champ.", "Check this field.");
}

// Where the error summary's link for a field goes: the first control of a
// group.
std::string anchor_of(const std::string& field) {
  if (field == "kind") return "kind-request";
  if (field == "contact") return "phone";
  return field;
}

class FormWriter {
 public:
  FormWriter(const Site& site, const FormView& view) : site_(site), v_(view), lang_(view.lang) {}

  std::string write() {
    const std::string kind = v_.values.kind == "offer" ? "offer" : "request";
    std::string body = "<h1>" + escape(kind_title(lang_, kind)) + "</h1>";
    body += notice();
    body += summary();
    body += "<p>";
    body += tr(
        lang_,
        "Les champs marqués « obligatoire » doivent être remplis. Vos coordonnées ne sont jamais publiées.",
        "Fields marked “required” must be filled in. Your contact details are never made public.");
    body += "</p><form method=\"post\" action=\"form\" novalidate accept-charset=\"utf-8\">";
    body += "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(v_.csrf) + "\">";
    body += "<input type=\"hidden\" name=\"lang\" value=\"" + std::string(to_string(lang_)) + "\">";
    body += kind_group(kind);
    body += category();
    body += where();
    body += when();
    body += description(kind);
    body += contact(kind);
    body += consent();
    body += honeypot();
    body += "<button type=\"submit\">" + std::string(tr(lang_, "Envoyer", "Send")) + "</button></form>";
    return body;
  }

 private:
  const FieldError* error_of(std::string_view field) const {
    const auto it =
        std::find_if(v_.errors.begin(), v_.errors.end(), [&](const auto& e) { return e.field == field; });
    return it == v_.errors.end() ? nullptr : &*it;
  }

  std::string required() const { return std::string(" ") + tr(lang_, "(obligatoire)", "(required)"); }

  std::string notice() const {
    const char* text = nullptr;
    switch (v_.notice) {
      case Notice::none:
        return "";
      case Notice::expired:
        text = tr(lang_,
                  "Ce formulaire était ouvert depuis trop longtemps. Vérifiez vos réponses et envoyez-le à "
                  "nouveau.",
                  "This form was open for too long. Check your answers and send it again.");
        break;
      case Notice::unavailable:
        text = tr(
            lang_,
            "Votre demande n'a pas pu être enregistrée pour le moment : rien n'est perdu, vos réponses sont "
            "ci-dessous. Réessayez dans une minute en appuyant de nouveau sur « Envoyer ».",
            "Your message could not be recorded just now: nothing is lost, your answers are below. Try "
            "again in a minute by pressing “Send” again.");
        break;
      case Notice::refused:
        return "<div class=\"summary\" role=\"alert\" tabindex=\"-1\" autofocus><h2>" +
               std::string(tr(lang_, "Votre message n'a pas été accepté", "Your message was not accepted")) +
               "</h2><p>" + escape(v_.refused_message) + "</p></div>";
    }
    return "<div class=\"notice\" role=\"status\"><p>" + std::string(text) + "</p></div>";
  }

  std::string summary() const {
    if (v_.errors.empty()) return "";
    std::string out =
        "<div class=\"summary\" role=\"alert\" aria-labelledby=\"summary-title\" tabindex=\"-1\" "
        "autofocus><h2 id=\"summary-title\">" +
        std::string(tr(lang_, "Il y a un problème", "There is a problem")) + "</h2><ul>";
    for (const auto& e : v_.errors)
      out += "<li><a href=\"#" + anchor_of(e.field) + "\">" + escape(error_text(lang_, e)) + "</a></li>";
    return out + "</ul></div>";
  }

  // The error paragraph of a field, and the attributes its control takes.
  std::string error_paragraph(std::string_view field) const {
    const auto* e = error_of(field);
    if (e == nullptr) return "";
    return "<p class=\"error\" id=\"" + std::string(field) + "-error\"><span class=\"hp\">" +
           tr(lang_, "Erreur :", "Error:") + " </span>" + escape(error_text(lang_, *e)) + "</p>";
  }
  std::string described(std::string_view field, bool has_hint) const {
    std::string ids;
    if (has_hint) ids = std::string(field) + "-hint";
    if (error_of(field) != nullptr) ids += (ids.empty() ? "" : " ") + std::string(field) + "-error";
    std::string out;
    if (!ids.empty()) out += " aria-describedby=\"" + ids + "\"";
    if (error_of(field) != nullptr) out += " aria-invalid=\"true\"";
    return out;
  }
  std::string field_class(std::string_view field) const {
    return error_of(field) != nullptr ? "field invalid" : "field";
  }
  std::string hint(std::string_view field, const char* text) const {
    return "<p class=\"hint\" id=\"" + std::string(field) + "-hint\">" + text + "</p>";
  }

  std::string text_input(const char* name, const char* type, const std::string& label, const char* hint_text,
                         const std::string& value, const char* attributes) const {
    std::string out =
        "<div class=\"" + field_class(name) + "\"><label for=\"" + name + "\">" + label + "</label>";
    if (hint_text != nullptr) out += hint(name, hint_text);
    out += error_paragraph(name);
    out += "<input type=\"" + std::string(type) + "\" id=\"" + name + "\" name=\"" + name + "\" value=\"" +
           escape(value) + "\"" + attributes + described(name, hint_text != nullptr) + "></div>";
    return out;
  }

  std::string kind_group(const std::string& kind) const {
    std::string out = "<fieldset class=\"" + field_class("kind") + "\"" + described("kind", false) +
                      "><legend>" + tr(lang_, "Vous…", "You…") + required() + "</legend>" +
                      error_paragraph("kind");
    for (const auto& [id, fr, english] : {std::tuple{"request", "avez besoin d'aide", "need help"},
                                          std::tuple{"offer", "proposez votre aide", "can help"}}) {
      out += "<div class=\"choice\"><input type=\"radio\" id=\"kind-" + std::string(id) +
             "\" name=\"kind\" value=\"" + id + "\"" + (kind == id ? " checked" : "") +
             "><label for=\"kind-" + id + "\">" + tr(lang_, fr, english) + "</label></div>";
    }
    return out + "</fieldset>";
  }

  std::string select(const char* name, const std::vector<Choice>& choices, const std::string& value,
                     const char* empty_label) const {
    std::string out = "<select id=\"" + std::string(name) + "\" name=\"" + name + "\"";
    out += described(name, std::string_view(name) == "area" || std::string_view(name) == "urgency") + ">";
    out += "<option value=\"\">" + std::string(empty_label) + "</option>";
    // Consecutive choices of one group go under one <optgroup>.
    const std::string* group = nullptr;
    for (const auto& c : choices) {
      if (group == nullptr || *group != c.group) {
        if (group != nullptr && !group->empty()) out += "</optgroup>";
        if (!c.group.empty()) out += "<optgroup label=\"" + escape(c.group) + "\">";
        group = &c.group;
      }
      out += "<option value=\"" + escape(c.id) + "\"" + (c.id == value ? " selected" : "") + ">" +
             escape(c.label(lang_)) + "</option>";
    }
    if (group != nullptr && !group->empty()) out += "</optgroup>";
    return out + "</select>";
  }

  std::string category() const {
    return "<div class=\"" + field_class("category") + "\"><label for=\"category\">" +
           tr(lang_, "De quoi s'agit-il ?", "What is it about?") + required() + "</label>" +
           error_paragraph("category") +
           select("category", site_.rules.categories, v_.values.category,
                  tr(lang_, "— Choisissez —", "— Choose —")) +
           "</div>";
  }

  std::string where() const {
    std::string out =
        "<fieldset><legend>" + std::string(tr(lang_, "Où ?", "Where?")) + required() + "</legend>";
    if (!site_.rules.areas.empty()) {
      out += "<div class=\"" + field_class("area") + "\"><label for=\"area\">" +
             tr(lang_, "Quartier", "Area") + "</label>" +
             hint("area",
                  tr(lang_,
                     "Là où l'aide est nécessaire, pas forcément chez vous. Pas dans la liste ? Indiquez "
                     "le code postal.",
                     "Where the help is needed, not necessarily where you live. Not in the list? Give the "
                     "postcode.")) +
             error_paragraph("area") +
             select("area", site_.rules.areas, v_.values.area, tr(lang_, "— Choisissez —", "— Choose —")) +
             "</div>";
    } else {
      out += error_paragraph("area");
    }
    out += text_input("postcode", "text", tr(lang_, "Code postal", "Postcode"), nullptr, v_.values.postcode,
                      " inputmode=\"numeric\" autocomplete=\"postal-code\" maxlength=\"10\"");
    return out + "</fieldset>";
  }

  std::string when() const {
    std::string out = text_input("when", "text", tr(lang_, "Quand ?", "When?"),
                                 tr(lang_, "Par exemple : demain matin, samedi après-midi, avant le 12.",
                                    "For example: tomorrow morning, Saturday afternoon, before the 12th."),
                                 v_.values.when, " maxlength=\"200\"");
    const std::vector<Choice> urgencies = {
        {"low", "Pas pressé", "No hurry"},
        {"normal", "Dans les jours qui viennent", "In the coming days"},
        {"high", "Aujourd'hui ou demain", "Today or tomorrow"},
    };
    out += "<div class=\"" + field_class("urgency") + "\"><label for=\"urgency\">" +
           tr(lang_, "C'est pressé ?", "How urgent is it?") + "</label>" +
           hint("urgency",
                tr(lang_,
                   "En cas d'urgence médicale ou de danger, appelez le 15 ou le 112 : ce formulaire "
                   "n'est pas lu en permanence.",
                   "In a medical emergency or in danger, call 15 or 112: this form is not read at all "
                   "hours.")) +
           error_paragraph("urgency") +
           select("urgency", urgencies, v_.values.urgency, tr(lang_, "Je ne sais pas", "I don't know")) +
           "</div>";
    return out;
  }

  std::string description(const std::string& kind) const {
    const std::string max = std::to_string(site_.rules.max_description_chars);
    const std::string label = kind == "offer" ? tr(lang_, "Ce que vous proposez", "What you offer")
                                              : tr(lang_, "Ce dont vous avez besoin", "What you need");
    const std::string hint_text =
        en(lang_)
            ? "Volunteers and moderators read this text. Do not put your phone number or address here: "
              "give them below. At most " +
                  max + " characters."
            : "Ce texte est lu par les bénévoles et les modérateurs. N'y mettez ni votre téléphone ni votre "
              "adresse : indiquez-les plus bas. " +
                  max + " caractères au plus.";
    return "<div class=\"" + field_class("description") + "\"><label for=\"description\">" + label +
           required() + "</label>" + hint("description", hint_text.c_str()) + error_paragraph("description") +
           "<textarea id=\"description\" name=\"description\" rows=\"6\" maxlength=\"" + max + "\"" +
           described("description", true) + ">" + escape(v_.values.description) + "</textarea></div>";
  }

  std::string contact(const std::string& kind) const {
    const bool offer = kind == "offer";
    const std::string who = escape(site_.controller);
    const std::string hint_text =
        en(lang_)
            ? std::string("Never made public: only the association or volunteer who takes ") +
                  (offer ? "your offer" : "your request") + " on, and the moderators of " + who +
                  ", will see them. Give at least one way to reach you."
            : std::string("Jamais publiées : seuls l'association ou la personne bénévole qui prendra ") +
                  (offer ? "votre proposition" : "votre demande") + " en charge, et les modérateurs de " +
                  who + ", les verront. Indiquez au moins un moyen de vous joindre.";
    std::string out = "<fieldset id=\"contact\" class=\"private " + field_class("contact") + "\"" +
                      described("contact", true) + "><legend>" +
                      tr(lang_, "Vos coordonnées (privées)", "Your contact details (private)") + "</legend>" +
                      hint("contact", hint_text.c_str()) + error_paragraph("contact");
    out += text_input("name", "text", tr(lang_, "Nom ou prénom", "Name"), nullptr, v_.values.name,
                      " autocomplete=\"name\" maxlength=\"100\"");
    out += text_input("phone", "tel", tr(lang_, "Téléphone", "Phone"), nullptr, v_.values.phone,
                      " autocomplete=\"tel\" inputmode=\"tel\" maxlength=\"40\"");
    out += text_input("email", "email", tr(lang_, "E-mail", "E-mail"), nullptr, v_.values.email,
                      " autocomplete=\"email\" maxlength=\"254\" spellcheck=\"false\"");
    out += "<div class=\"" + field_class("address") + "\"><label for=\"address\">" +
           tr(lang_, "Adresse", "Address") + "</label>" +
           hint("address", tr(lang_, "Rue, numéro, étage, code d'entrée si besoin.",
                              "Street, number, floor, door code if needed.")) +
           error_paragraph("address") +
           "<textarea id=\"address\" name=\"address\" rows=\"2\" maxlength=\"300\" "
           "autocomplete=\"street-address\"" +
           described("address", true) + ">" + escape(v_.values.address) + "</textarea></div>";
    return out + "</fieldset>";
  }

  std::string consent() const {
    const std::string who = escape(site_.controller);
    std::string text =
        en(lang_)
            ? "I agree that my contact details are passed on to the association or volunteer who takes this "
              "on, and seen by the moderators of " +
                  who + ", only to answer it."
            : "J'accepte que mes coordonnées soient transmises à l'association ou à la personne bénévole qui "
              "s'en chargera, et vues par les modérateurs de " +
                  who + ", uniquement pour y répondre.";
    std::string more =
        en(lang_)
            ? "They are deleted once the matter is closed. To see, correct or delete them, contact the "
              "coordinators quoting the reference you will be given."
            : "Elles sont effacées une fois la demande close. Pour les consulter, les corriger ou les faire "
              "effacer, contactez la coordination en citant la référence qui vous sera donnée.";
    if (!site_.privacy_url.empty()) {
      more += " <a href=\"" + escape(site_.privacy_url) + "\">" +
              tr(lang_, "En savoir plus sur vos données", "More about your data") + "</a>";
    }
    return "<div class=\"" + field_class("consent") + "\">" + error_paragraph("consent") +
           "<div class=\"choice\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\"" +
           (v_.values.consent ? " checked" : "") + described("consent", true) + "><label for=\"consent\">" +
           text + required() + "</label></div><p class=\"hint\" id=\"consent-hint\">" + more + "</p></div>";
  }

  // Hidden from people (off-screen, out of the tab order, from assistive
  // technology) but not from a bot that fills every field.
  std::string honeypot() const {
    return std::string("<div class=\"hp\" aria-hidden=\"true\"><label for=\"website\">") +
           tr(lang_, "Ne remplissez pas ce champ", "Leave this field empty") +
           "</label><input type=\"text\" id=\"website\" name=\"website\" value=\"\" tabindex=\"-1\" "
           "autocomplete=\"off\"></div>";
  }

  const Site& site_;
  const FormView& v_;
  Lang lang_;
};

}  // namespace

std::string escape(std::string_view text) { return relais::http::html_escape(text); }

std::string_view stylesheet() { return kStylesheet; }

std::string_view icon() {
  // Two hands' worth of a heart, in the header's blue: small enough to
  // inline, and a browser asks for an icon whatever the page says.
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" "
         "rx=\"6\" fill=\"#0b3d66\"/><path d=\"M16 26s-9-5.5-9-12a5 5 0 0 1 9-3 5 5 0 0 1 9 3c0 6.5-9 12-9 "
         "12z\" "
         "fill=\"#fff\"/></svg>\n";
}

std::string home(const Site& site, Lang lang) {
  const std::string q = lang_query(lang);
  std::string body =
      "<h1>" + escape(site.title) + "</h1><p>" +
      tr(lang,
         "Un réseau d'entraide entre voisins. Dites-nous ce qu'il vous faut, ou ce que vous pouvez "
         "faire : votre message est transmis à une association ou à des bénévoles près de chez vous.",
         "A mutual-aid network of neighbours. Tell us what you need, or what you can do: your "
         "message goes to an association or to volunteers near you.") +
      "</p>";
  body += "<p><a class=\"button\" href=\"form?kind=request&amp;" + q + "\">" + kind_title(lang, "request") +
          "</a>";
  body += "<a class=\"button offer\" href=\"form?kind=offer&amp;" + q + "\">" + kind_title(lang, "offer") +
          "</a></p>";
  body += "<p>" +
          std::string(tr(lang, "En cas d'urgence médicale ou de danger, appelez le 15 ou le 112.",
                         "In a medical emergency or in danger, call 15 or 112.")) +
          "</p>";
  return page(site, lang, tr(lang, "Accueil", "Home"), body, en(lang) ? "./?lang=fr" : "./?lang=en");
}

std::string form(const Site& site, const FormView& view) {
  const std::string kind = view.values.kind == "offer" ? "offer" : "request";
  std::string title = kind_title(view.lang, kind);
  if (!view.errors.empty()) title = std::string(tr(view.lang, "Erreur : ", "Error: ")) + title;
  const std::string other = std::string("form?kind=") + kind + (en(view.lang) ? "&lang=fr" : "&lang=en");
  return page(site, view.lang, title, FormWriter(site, view).write(), other);
}

std::string thanks(const Site& site, Lang lang, std::string_view kind, std::string_view reference) {
  const bool offer = kind == "offer";
  std::string body =
      "<h1>" +
      std::string(offer ? tr(lang, "Merci pour votre proposition !", "Thank you for your offer!")
                        : tr(lang, "Votre demande est bien reçue", "Your request has been received")) +
      "</h1>";
  body += "<div class=\"notice\" role=\"status\"><p>" +
          std::string(tr(lang, "Votre référence :", "Your reference:")) + "</p><p class=\"ref\">" +
          escape(reference) + "</p></div>";
  body += "<p>" +
          std::string(
              tr(lang,
                 "Notez-la. Citez-la pour suivre votre message, le compléter ou le retirer, ou pour faire "
                 "effacer vos coordonnées.",
                 "Write it down. Quote it to follow your message, add to it or withdraw it, or to have "
                 "your contact details deleted.")) +
          "</p>";
  if (!site.follow_up.empty()) {
    body += "<p>" +
            std::string(
                tr(lang, "Pour cela, contactez la coordination : ", "For this, contact the coordinators: ")) +
            escape(site.follow_up) + "</p>";
  }
  body +=
      "<h2>" + std::string(tr(lang, "Et maintenant ?", "What happens now?")) + "</h2><p>" +
      (offer
           ? tr(lang,
                "Votre proposition est relue, puis transmise aux personnes qui ont besoin de ce que vous "
                "proposez près de chez vous. On vous contactera avec les coordonnées que vous avez données.",
                "Your offer is checked, then matched with people near you who need what you offer. You will "
                "be contacted with the details you gave.")
           : tr(lang,
                "Votre demande est relue, puis transmise à l'association ou aux bénévoles qui peuvent y "
                "répondre près de chez vous. Ils vous contacteront avec les coordonnées que vous avez "
                "données.",
                "Your request is checked, then passed on to the association or volunteers who can answer it "
                "near you. They will contact you with the details you gave.")) +
      "</p>";
  body += "<p><a href=\"./?" + lang_query(lang) + "\">" +
          tr(lang, "Retour à l'accueil", "Back to the start") + "</a></p>";
  return page(
      site, lang,
      offer ? tr(lang, "Proposition reçue", "Offer received") : tr(lang, "Demande reçue", "Request received"),
      body, "");
}

std::string problem(const Site& site, Lang lang, Problem which) {
  const char* title = "";
  const char* text = "";
  switch (which) {
    case Problem::not_found:
      title = tr(lang, "Page introuvable", "Page not found");
      text = tr(lang, "Cette page n'existe pas.", "This page does not exist.");
      break;
    case Problem::method:
      title = tr(lang, "Action impossible", "Not allowed");
      text = tr(lang, "Cette page ne s'utilise pas ainsi.", "This page cannot be used that way.");
      break;
    case Problem::forbidden:
      title = tr(lang, "Formulaire non valable", "Form not valid");
      text =
          tr(lang,
             "Ce formulaire n'a pas été envoyé depuis notre page, ou les cookies sont bloqués pour ce site "
             "(un cookie de sécurité est nécessaire). Rien n'a été enregistré : reprenez depuis l'accueil.",
             "This form was not sent from our page, or cookies are blocked for this site (a security cookie "
             "is needed). Nothing was recorded: start again from the first page.");
      break;
    case Problem::too_large:
      title = tr(lang, "Message trop long", "Message too long");
      text = tr(lang,
                "Ce que vous avez envoyé est trop long. Rien n'a été enregistré : raccourcissez votre texte.",
                "What you sent is too long. Nothing was recorded: shorten your text.");
      break;
    case Problem::too_many:
      title = tr(lang, "Trop d'envois", "Too many messages");
      text =
          tr(lang,
             "Beaucoup de messages sont partis de votre connexion en peu de temps. Rien n'a été enregistré : "
             "réessayez dans quelques minutes.",
             "Many messages came from your connection in a short time. Nothing was recorded: try again in a "
             "few minutes.");
      break;
    case Problem::malformed:
      title = tr(lang, "Formulaire illisible", "Form unreadable");
      text = tr(
          lang,
          "Ce que vous avez envoyé n'a pas pu être lu. Rien n'a été enregistré : reprenez depuis l'accueil.",
          "What you sent could not be read. Nothing was recorded: start again from the first page.");
      break;
  }
  const std::string body = "<h1>" + std::string(title) + "</h1><p>" + text + "</p><p><a href=\"./?" +
                           lang_query(lang) + "\">" + tr(lang, "Retour à l'accueil", "Back to the start") +
                           "</a></p>";
  return page(site, lang, title, body, "");
}

}  // namespace relais::webform::pages
