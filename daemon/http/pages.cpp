#include "http/pages.hpp"

namespace relais::daemon::pages {
namespace {

bool french(std::string_view lang) { return lang != "en"; }

std::string page(std::string_view lang, std::string_view title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"" + escape(lang) +
         "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
         "initial-scale=1\">"
         "<title>" +
         escape(title) +
         " – relais</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem "
         "auto;padding:0 "
         "1rem;line-height:1.5}button{font-size:1.1rem;padding:.6rem 1.2rem}</style></head><body><h1>" +
         escape(title) + "</h1>" + body + "</body></html>\n";
}

std::string act_title(const LinkPage& p) {
  const bool fr = french(p.lang);
  const std::string n = std::to_string(p.post_id);
  switch (p.act) {
    case NeedAct::claim:
      return fr ? "Prendre en charge le besoin n° " + n : "Take on need #" + n;
    case NeedAct::decline:
      return fr ? "Refuser le besoin n° " + n : "Decline need #" + n;
    case NeedAct::resolve:
      return fr ? "Marquer le besoin n° " + n + " comme résolu" : "Mark need #" + n + " as resolved";
  }
  return "";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string link_confirm(const LinkPage& p) {
  const bool fr = french(p.lang);
  std::string what;
  switch (p.act) {
    case NeedAct::claim:
      what =
          fr ? "En confirmant, <strong>" + escape(p.destination_name) +
                   "</strong> s'engage à répondre à ce besoin ; les autres destinataires en sont déchargés."
             : "By confirming, <strong>" + escape(p.destination_name) +
                   "</strong> takes this need on; the other recipients are released from it.";
      break;
    case NeedAct::decline:
      what = fr ? "En confirmant, <strong>" + escape(p.destination_name) +
                      "</strong> ne peut pas répondre à ce besoin ; il sera proposé à quelqu'un d'autre."
                : "By confirming, <strong>" + escape(p.destination_name) +
                      "</strong> cannot take this need; it will be offered to someone else.";
      break;
    case NeedAct::resolve:
      what = fr ? "En confirmant, vous indiquez que ce besoin a été satisfait."
                : "By confirming, you say that this need has been met.";
      break;
  }
  const std::string button = fr ? "Confirmer" : "Confirm";
  return page(p.lang, act_title(p),
              "<p>" + what + "</p><form method=\"post\" action=\"" + escape(p.path) +
                  "\"><button type=\"submit\">" + button + "</button></form>");
}

std::string link_done(const LinkPage& p, const NeedActResult& result) {
  const bool fr = french(p.lang);
  std::string body;
  switch (p.act) {
    case NeedAct::claim:
      body = fr ? "<p>C'est noté : ce besoin est pris en charge par " + escape(p.destination_name) +
                      ". Merci !</p>"
                : "<p>Noted: " + escape(p.destination_name) + " has taken this need on. Thank you!</p>";
      if (result.post) {
        std::string contact;
        for (const auto& [k, v] : result.post->private_data)
          contact += "<li>" + escape(k) + " : " + escape(v) + "</li>";
        if (!contact.empty()) {
          body += fr ? "<p>Coordonnées de la personne :</p><ul>" : "<p>The person's contact:</p><ul>";
          body += contact + "</ul>";
        }
      }
      break;
    case NeedAct::decline:
      body = fr ? "<p>C'est noté : le besoin sera proposé à quelqu'un d'autre.</p>"
                : "<p>Noted: the need will be offered to someone else.</p>";
      break;
    case NeedAct::resolve:
      body = fr ? "<p>C'est noté : le besoin est résolu. Merci !</p>"
                : "<p>Noted: the need is resolved. Thank you!</p>";
      break;
  }
  if (!result.changed) body += fr ? "<p>(C'était déjà le cas.)</p>" : "<p>(It was so already.)</p>";
  return page(p.lang, act_title(p), body);
}

std::string link_failed(const LinkPage& p, std::string_view code, std::string_view message) {
  const bool fr = french(p.lang);
  std::string body;
  if (code == need_error::conflict) {
    body = fr ? "<p>Ce n'est plus possible : " : "<p>This is no longer possible: ";
  } else if (code == need_error::forbidden || code == need_error::not_found) {
    body = fr ? "<p>Ce lien ne vous permet pas d'agir sur ce besoin : "
              : "<p>This link does not let you act on this need: ";
  } else {
    body = fr ? "<p>Un incident empêche d'enregistrer votre réponse ; réessayez dans un moment : "
              : "<p>Your answer could not be recorded; try again in a moment: ";
  }
  body += escape(message) + ".</p>";
  return page(p.lang, act_title(p), body);
}

std::string link_refused(std::string_view lang, std::string_view code) {
  const bool fr = french(lang);
  std::string title = fr ? "Lien non valable" : "Link not valid";
  std::string body;
  if (code == "expired") {
    body =
        fr ? "<p>Ce lien a expiré. Répondez depuis un message plus récent, ou contactez la coordination.</p>"
           : "<p>This link has expired. Answer from a more recent message, or contact the coordinators.</p>";
  } else if (code == "method") {
    body = fr ? "<p>Ouvrez ce lien dans un navigateur.</p>" : "<p>Open this link in a browser.</p>";
  } else {
    body = fr ? "<p>Ce lien n'est pas valable. Vérifiez qu'il a été copié en entier.</p>"
              : "<p>This link is not valid. Check that it was copied whole.</p>";
  }
  return page(lang, title, body);
}

}  // namespace relais::daemon::pages
