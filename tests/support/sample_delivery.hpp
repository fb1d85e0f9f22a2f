// The delivery the sink tests send: a need of the demo network, with the
// poster's contact and the signed links, as the outbox composes it. Each
// test sets what its sink reads from it (address, secret, language).
#pragma once

#include "relais/sink.hpp"

namespace relais::test {

inline Delivery sample_delivery() {
  Delivery d;
  d.id = "1042-epicerie_solidaire_vitry-0";
  d.purpose = DeliveryPurpose::need;
  d.destination = "epicerie_solidaire_vitry";
  d.destination_name = "Épicerie solidaire du Square (Vitry)";
  d.lang = "fr";
  d.reason = "categories food_aid in vitry_centre";
  d.post.id = 1042;
  d.post.source = "webform";
  d.post.channel = "form";
  d.post.received_at = "2024-03-05T14:00:00Z";
  d.post.subject = "Colis alimentaire";
  d.post.lang = "fr";
  d.post.private_data = {{"name", "Mme Durand"}, {"phone", "01 99 00 12 34"}};
  d.triage.kind = Kind::request;
  d.triage.categories = {"food_aid", "groceries"};
  d.triage.urgency = Urgency::high;
  d.triage.area = "vitry_centre";
  d.triage.lang = "fr";
  d.links = {{"claim", "https://relais.example/act/claim?d=1042&sig=aa"},
             {"decline", "https://relais.example/act/decline?d=1042&sig=bb"},
             {"resolve", "https://relais.example/act/resolve?d=1042&sig=cc"}};
  return d;
}

}  // namespace relais::test
