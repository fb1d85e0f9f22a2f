#include "traffic.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace relais::bench {
namespace {

// ---------------------------------------------------------------------------
// Words. A template picks one of {a|b|c} (alternatives nest) and fills each
// $SLOT (Traffic::slot), so that two posts of one template share little
// more than its grammar, as two neighbours' posts do.

constexpr std::array kFirstNames = {
    "Mireille", "Jean-Luc", "Fatima",  "Hélène",  "Karim",     "Odile",   "Moussa",  "Claire",    "Yasmina",
    "Bernard",  "Sabrina",  "Thierry", "Nadia",   "Paulette",  "Rachid",  "Sophie",  "Mamadou",   "Josiane",
    "Kevin",    "Amina",    "Gérard",  "Lucie",   "Samir",     "Monique", "Aïcha",   "Patrick",   "Chantal",
    "Ibrahim",  "Nathalie", "Jacques", "Leïla",   "Dominique", "Farid",   "Céline",  "Ousmane",   "Colette",
    "Mehdi",    "Isabelle", "René",    "Khadija", "Julien",    "Simone",  "Aminata", "Christian", "Malika",
    "Pierre",   "Inès",     "Gilbert", "Zohra",   "Marc",      "Yvette",  "Hamid",   "Camille",   "Denise",
    "Tarek",    "Émilie",   "Lucien",  "Soraya",  "Antoine",   "Germaine"};
constexpr std::array kSurnames = {"Martin",    "Bernard",  "Diallo", "Benali",   "Lefèvre", "Moreau",
                                  "Traoré",    "Petit",    "Haddad", "Roux",     "Nguyen",  "Fontaine",
                                  "Mercier",   "Keita",    "Garcia", "Bouaziz",  "Lambert", "Durand",
                                  "Chevalier", "Cissé",    "Perrin", "Rousseau", "Blanc",   "Mendy",
                                  "Gauthier",  "Ferreira", "Dubois", "Boyer",    "Lopez",   "Sow"};
constexpr std::array kItems = {"du lait demi-écrémé",
                               "un pack d'eau",
                               "du pain de mie",
                               "des pâtes",
                               "du riz basmati",
                               "une douzaine d'œufs",
                               "du café moulu",
                               "du thé vert",
                               "des bananes",
                               "des pommes",
                               "des yaourts nature",
                               "du fromage râpé",
                               "du jambon blanc",
                               "des compotes",
                               "de la farine",
                               "du beurre doux",
                               "de l'huile d'olive",
                               "du sucre en morceaux",
                               "des biscottes",
                               "de la soupe en brique",
                               "des haricots verts",
                               "des sardines",
                               "du papier toilette",
                               "de la lessive",
                               "du liquide vaisselle",
                               "des couches taille 4",
                               "des petits pots",
                               "des mouchoirs",
                               "du savon de Marseille",
                               "des légumes de saison",
                               "des carottes",
                               "des pommes de terre",
                               "des tomates",
                               "une salade",
                               "des oranges",
                               "du poisson pané",
                               "des steaks hachés",
                               "un poulet rôti",
                               "de la confiture",
                               "une tablette de chocolat",
                               "des céréales",
                               "du jus d'orange",
                               "de l'eau gazeuse",
                               "des clémentines",
                               "du dentifrice",
                               "des piles AA",
                               "des sacs poubelle",
                               "du vinaigre blanc",
                               "une baguette",
                               "des lentilles",
                               "de la crème fraîche",
                               "des endives",
                               "du miel",
                               "des flocons d'avoine",
                               "du pain complet",
                               "des courgettes",
                               "du lait d'amande",
                               "des poireaux",
                               "du shampoing",
                               "de la semoule"};
constexpr std::array kShops = {
    "au Franprix",     "au Carrefour City", "au Monoprix",    "au Lidl",
    "à l'Intermarché", "au marché",         "à la supérette", "chez l'épicier du coin",
    "au Leader Price", "à l'Auchan",        "au G20",         "à la Biocoop"};
constexpr std::array kMeds = {"mon insuline",
                              "du Doliprane",
                              "ma Ventoline",
                              "mes anticoagulants",
                              "mes comprimés pour la tension",
                              "le traitement pour le diabète",
                              "un collyre",
                              "des pansements",
                              "des bas de contention",
                              "un sirop pour la toux",
                              "mes patchs",
                              "des antibiotiques",
                              "du Levothyrox",
                              "une crème cicatrisante"};
constexpr std::array kHospitals = {
    "l'hôpital Henri-Mondor", "la Pitié-Salpêtrière",      "l'hôpital Bicêtre",
    "l'hôpital Tenon",        "l'Institut Gustave-Roussy", "l'hôpital Saint-Antoine",
    "l'hôpital Cochin",       "la clinique de Choisy",     "l'hôpital Robert-Debré",
    "l'hôpital Charles-Foix", "la clinique des Noriets",   "l'hôpital Paul-Brousse"};
constexpr std::array kDays = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"};
constexpr std::array kMonths = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
constexpr std::array kCities = {"à Lyon",     "à Marseille", "à Nantes",   "à Toulouse", "à Lille",
                                "à Bordeaux", "en Bretagne", "à Grenoble", "à Rennes",   "à Strasbourg"};
constexpr std::array kBreeds = {"labrador",      "petit caniche", "berger allemand",  "bichon",
                                "beagle",        "jack russell",  "golden retriever", "teckel",
                                "border collie", "yorkshire"};

// What a request is for, the field a web form gives, and its sentences.
// `~` is a filler word or nothing, as people write.
struct Need {
  const char* category;
  std::vector<const char*> sentences;
  bool first_person = false;  // written by the person in need only
};

const std::vector<Need>& needs() {
  static const std::vector<Need> all = {
      {"groceries",
       {"{Je cherche|Nous cherchons|Je recherche|Je suis à la recherche d'} {quelqu'un|une personne|un "
        "voisin ou "
        "une voisine|un ou une bénévole|une âme charitable} {pour faire|qui pourrait ~ faire|qui accepterait "
        "de "
        "~ faire|qui aurait le temps de faire} $POSS courses {$WHEN |}{$SHOP |}: $ITEMS.",
        "{Quelqu'un pourrait-il|Qui pourrait|Est-ce que quelqu'un pourrait|Y aurait-il quelqu'un pour} ~ "
        "{faire quelques courses|aller faire des courses|passer $SHOP|faire un petit plein} $FORWHO {$WHEN|} "
        "? "
        "{Il faudrait|Ce serait|Il s'agit de|Il me faut|J'ai noté} $ITEMS.",
        "{J'aurais besoin|Besoin|Nous aurions besoin|J'ai ~ besoin} de {quelques courses|deux ou trois "
        "choses|produits de base|trois fois rien} {$WHEN|}: $ITEMS{, rien de plus|, c'est tout|, et si "
        "possible $ITEM|}.",
        "{Ma liste|La liste|Voici la liste|Sur ma liste} {est courte|n'est pas longue|tient sur un ticket|}: "
        "$ITEMS. {Qui pourrait|Quelqu'un pour|Une personne pourrait-elle} ~ {s'en charger|les apporter|les "
        "déposer devant la porte|passer les prendre $SHOP} {$WHEN|} ?",
        "{Le frigo se vide|Les placards se vident|Il ne reste plus grand-chose} et {je ne peux pas "
        "sortir|personne ne peut y aller|le magasin est trop loin}: {il faudrait|il me faudrait|ce serait} "
        "$ITEMS, {$SHOP|où vous voulez|peu importe le magasin}."}},
      {"medication",
       {"{Quelqu'un pourrait|Qui pourrait|Serait-il possible de|Une personne pourrait-elle} ~ {aller "
        "chercher|récupérer|passer prendre|retirer} {$POSS médicaments|$POSS2 ordonnance|$POSS2 traitement} "
        "à la pharmacie {$PHARMA|} {$WHEN|} ?",
        "{L'ordonnance est prête|Le renouvellement est à la pharmacie|La pharmacie a tout préparé|Le médecin "
        "a "
        "faxé l'ordonnance} : $MEDS. Il ne $RESTE que {deux|trois|quatre|cinq} {jours|jours et demi|prises} "
        "de "
        "traitement.",
        "{J'ai besoin|Besoin|Il faudrait quelqu'un} {de|pour} {récupérer|chercher|aller prendre} $MEDS à la "
        "pharmacie {$PHARMA|} {$WHEN|}, {la carte vitale est prête|il n'y a rien à avancer|je rembourse à la "
        "livraison|le tiers payant est fait}.",
        "{La pharmacienne|Le pharmacien|La préparatrice} {de la pharmacie $PHARMA|du quartier|} {a mis de "
        "côté|garde|a commandé} $MEDS {au nom de $SURNAME|pour $WHOOBJ|}; qui pourrait ~ {passer|aller} "
        "{les prendre|les chercher} {$WHEN|} ?"}},
      {"pets",
       {"{Je cherche|Qui pourrait|Quelqu'un pour|Y a-t-il quelqu'un pour} {promener|sortir} {$PETPOSS "
        "chien|$PETPOSS chienne} $PETNAME{, un $BREED de $KID ans,|} {le matin|le soir|matin et soir|deux "
        "fois "
        "par jour|à midi|vers $HOUR} {pendant $NJ jours|jusqu'à $DAY|cette semaine|} ?",
        "{Plus de croquettes|Il n'y a plus de litière|Il manque des croquettes|Il faut des sachets} pour "
        "{$PETPOSS "
        "chat|$PETPOSS deux chats|$PETPOSS chatte} $PETNAME : qui pourrait ~ {en acheter|passer à "
        "l'animalerie|en rapporter} {$WHEN|} ?",
        "$PETNAME, {$PETPOSS chien|$PETPOSS vieux chien|$PETPOSS chienne}, {a besoin de sortir|tourne en "
        "rond|n'est pas sorti depuis $SINCE}: {quelqu'un du quartier|un amoureux des chiens|un ou une "
        "voisine} "
        "pourrait-il {le promener|faire un tour avec lui} {$WHEN|} ?"}},
      {"transport",
       {"{J'ai besoin d'un|Je cherche un|Besoin d'un|Je voudrais trouver un} {trajet|transport|chauffeur} "
        "{en "
        "voiture |}pour {aller à|me rendre à|un rendez-vous à|une consultation à} $HOSP {$WHEN|} {vers "
        "$HOUR|à "
        "$HOUR|pour $HOUR|}.",
        "Qui pourrait ~ $TAKEWHO à $HOSP {$WHEN|} pour {une séance de dialyse|une consultation|une prise de "
        "sang|une radio|une séance de kiné|un scanner|une IRM|un contrôle} ?",
        "{Le rendez-vous|La consultation|L'examen} à $HOSP est {$WHEN|le $DATE} à $HOUR et {le VSL ne vient "
        "pas|je n'ai pas de voiture|le taxi coûte trop cher|les transports sont compliqués}: quelqu'un ~ "
        "pourrait-il {$TAKEWHO|faire le trajet} ?"}},
      {"paperwork",
       {"{Quelqu'un pourrait|Qui pourrait|Je cherche quelqu'un pour|Une personne patiente pourrait} $HELPME "
        "à {remplir|faire|comprendre|envoyer} {$POSS2 dossier|le formulaire|$POSS3 déclaration|$POSS3 "
        "demande} {CAF|CPAM|de retraite|d'impôts|APL|RSA|de mutuelle|de logement social|de la préfecture} ?",
        "{Tout se fait en ligne|Le site ne marche pas|Les courriers sont incompréhensibles|Le dossier est "
        "bloqué|Il manque une pièce} et {$NOCOMPUTER|la date limite est $DAY|personne ne répond au "
        "téléphone}. Qui pourrait ~ $HELPME {avec les papiers|pour ce dossier|à faire la démarche|à "
        "scanner les documents} ?",
        "{J'ai reçu|Nous avons reçu|Il a reçu|Elle a reçu} {un courrier|une lettre|un avis} {de la "
        "mutuelle|du bailleur|de la caisse de retraite|des impôts} {et je ne comprends pas ce qu'on me "
        "demande|qu'il faut renvoyer avant le $DATE|avec un formulaire à remplir}: {quelqu'un|une personne} "
        "pourrait-il ~ {m'expliquer|regarder avec moi|m'aider à répondre} ?"}},
      {"it_equipment",
       {"{Mes enfants n'ont pas|Ma fille n'a pas|Mon fils n'a pas|Les enfants n'ont pas} d'ordinateur pour "
        "{l'école à distance|les devoirs|suivre les cours en ligne|le travail de $KIDNAME}. "
        "{Auriez-vous|Quelqu'un "
        "aurait-il|Une famille aurait-elle} {un vieux portable|une tablette|un ordinateur|une imprimante} {à "
        "prêter|à donner|dont il ne se sert plus} ?",
        "{Notre|Mon|L'} {ordinateur|imprimante|tablette} {a lâché|ne démarre plus|est tombé en panne} et "
        "{$KIDNAME|ma fille|mon fils} {doit rendre un devoir|a cours en visio|doit imprimer ses fiches} "
        "{$WHEN|}: "
        "{quelqu'un aurait-il|auriez-vous} {un appareil à prêter|une solution|de quoi dépanner} ?"},
       true},
      {"childcare",
       {"{Je cherche quelqu'un pour|Qui pourrait|Quelqu'un pourrait-il|Une maman ou un papa pourrait} "
        "{garder "
        "mes enfants|garder ma fille de $KID ans|garder mon fils de $KID ans|récupérer mes enfants à la "
        "sortie "
        "d'école|garder mon bébé|garder $KIDNAME} {$WHEN |}{de $HOUR à $HOUR2|pendant ma garde|le temps d'un "
        "rendez-vous|} ?",
        "{Je travaille|Je suis d'astreinte|Je suis de garde} {$WHEN|le $DATE} {de $HOUR à $HOUR2|toute la "
        "journée|en horaires décalés} et {la crèche est fermée|l'école ne prend pas $KIDNAME|la nounou est "
        "malade}: qui pourrait ~ {garder|s'occuper de} {mes enfants|ma fille|mon fils|$KIDNAME} ?"},
       true},
      {"isolation",
       {"$ISOLATED {depuis $SINCE|}. {Quelqu'un pourrait|Qui pourrait|Une personne pourrait} ~ "
        "{$CALLWHO|passer "
        "$SEEWHO|prendre de $HISNEWS nouvelles} {de temps en temps|une fois par semaine|le week-end|le "
        "$DAY|} ?",
        "{Depuis $SINCE|Avec le confinement|Depuis que $ROLE est parti}, $ISOLATEDLONG. {Un coup de fil|Une "
        "visite|Un petit appel} {de temps en temps|le $DAY|le soir} {ferait du bien|changerait "
        "tout|remonterait le moral}."}},
      {"repairs",
       {"{Mon|Le} {chauffe-eau|robinet de la cuisine|radiateur|frigo|volet roulant|lave-linge|ballon d'eau "
        "chaude|évier} {est en panne|fuit|ne marche plus|fait un bruit bizarre} {depuis $SINCE|}: "
        "{quelqu'un de bricoleur|un bricoleur|un voisin bricoleur|une personne qui s'y connaît} pourrait-il "
        "~ "
        "{passer|jeter un œil|regarder} {$WHEN|} ?",
        "{La porte|La fenêtre|La serrure|L'étagère} {de la chambre|de la cuisine|de l'entrée|du salon} {est "
        "cassée|ne ferme plus|s'est décrochée} {depuis $SINCE|}; {qui aurait|quelqu'un aurait-il} {des "
        "outils|une perceuse|un peu de temps} pour {réparer|arranger|fixer} ça {$WHEN|} ?"}},
      {"food_aid",
       {"{Nous n'avons plus rien à manger|Il ne nous reste presque rien à manger|Je n'ai plus d'argent pour "
        "manger|Le frigo est vide} {depuis $SINCE|}: {où trouver|existe-t-il} {un colis alimentaire|une "
        "distribution alimentaire|l'épicerie solidaire|une aide alimentaire} {dans le quartier|près de chez "
        "nous|} ?",
        "{Avec le chômage partiel|Depuis que j'ai perdu mon travail|Avec $NKIDS enfants à la maison}, {les "
        "fins de "
        "mois sont dures|on n'y arrive plus|il ne reste rien après le loyer}: {qui connaît|où "
        "trouver|quelqu'un "
        "connaît-il} {une distribution de repas|les Restos du cœur du coin|un colis alimentaire} ?"}},
  };
  return all;
}
// Requests by need, in tenths of a percent: groceries first, as in 2020.
constexpr std::array kNeedWeights = {350, 150, 60, 90, 90, 50, 50, 70, 60, 30};

constexpr std::array kSelfSituations = {
    "J'ai $AGE ans et {je ne peux plus|j'ai du mal à|je n'arrive plus à} {porter mes courses|descendre les "
    "escaliers|marcher longtemps|sortir {seule|seul}} {depuis $SINCE|avec ma hanche|avec mon genou|en ce "
    "moment}.",
    "{Je suis|Nous sommes} {en quarantaine|à l'isolement|cas contact|confinés} {depuis $SINCE|jusqu'à "
    "$DAY|pour encore $NJ jours}{, ~ sans pouvoir sortir|}.",
    "Je {sors|rentre} de l'hôpital {depuis $SINCE|depuis peu|cette semaine} et {je ne dois pas porter de "
    "charges|je dois rester au repos|je marche avec des béquilles|j'ai un plâtre jusqu'en $MONTH}.",
    "{Je travaille|Je bosse} {de nuit|en horaires décalés|en caisse|comme livreur|comme agent "
    "d'entretien|à l'entrepôt} et {je n'ai plus le temps de rien|je rentre trop tard|les magasins sont "
    "fermés "
    "quand je sors}.",
    "Je suis {seule|seul} avec {mes deux enfants|mon bébé de $MONTHS mois|mes trois petits|ma fille de $KID "
    "ans} {depuis $SINCE|cette semaine|en ce moment}.",
    "{Je suis enceinte de $MONTHS mois|J'attends un bébé pour $MONTH} et {on m'a demandé de rester "
    "allongée|je suis très fatiguée}.",
    "{Je suis diabétique|Je suis asthmatique|J'ai une maladie chronique|Je suis sous chimio} et {mon "
    "médecin|l'hôpital} m'a dit de ne pas sortir {pendant $NJ semaines|jusqu'à nouvel ordre|pour le moment}.",
    "{Je m'appelle|Moi c'est} $FIRST, j'ai $AGE ans et {j'habite ici depuis $YEARS ans|je suis nouvelle dans "
    "le "
    "quartier|je ne connais pas encore grand monde ici}.",
    "{Mon mari|Ma femme|Mon compagnon|Ma compagne} {est hospitalisé|est en déplacement|travaille à "
    "l'hôpital|est {malade|alité}} {depuis $SINCE|jusqu'à $DAY} et {je me retrouve seule|je dois tout "
    "gérer|je n'ai pas de voiture}.",
};
constexpr std::array kOtherSituations = {
    "$WHOCAP, $AGE ans, {vit $SEUL|habite $SEUL} et {ne peut plus sortir|ne sort plus depuis $SINCE|a peur "
    "de sortir avec le virus}.",
    "J'habite $CITY et je ne peux pas {venir|me déplacer} pour {m'occuper de|aider} $WHOOBJ, $AGE ans.",
    "$WHOCAP {sort de l'hôpital|se remet d'une opération|a le covid|est très {fatiguée|fatigué}} {depuis "
    "$SINCE|cette semaine|}.",
    "$WHOCAP {ne lit pas bien le français|n'a pas internet|n'a pas de téléphone portable} et {ne sait pas à "
    "qui s'adresser|n'ose pas demander}.",
    "Je {vous écris|poste ici|me permets d'écrire} pour $WHOOBJ{, $AGE ans,|} qui {ne sait pas se servir "
    "d'internet|n'a pas de famille ici|est trop fier pour demander|m'a demandé de le faire}.",
    "{Les enfants|Sa fille|Son fils} de $WHOOBJ {habite|vit|travaille} $CITY et {ne peut pas venir avant "
    "$MONTH|appelle tous les soirs mais ne peut rien faire}.",
};

// Details: each a small grammar of independent choices, so that two posts
// rarely say the same thing in the same words.
constexpr std::array kDetails = {
    // Who usually helps, and why not now.
    "{Mon fils|Ma fille|Mon voisin|La gardienne|Ma sœur|Mon mari|Ma belle-fille|Mon neveu|Ma nièce|Une "
    "amie|Mon frère|Ma cousine} {ne peut pas passer|est parti en province|travaille tard|n'est pas "
    "joignable|passe seulement le dimanche|est lui-même malade|habite trop loin|est bloqué $CITY|a la "
    "grippe|a repris le travail|garde ses petits-enfants|est à l'hôpital} {cette semaine|jusqu'au "
    "$DATE|depuis $SINCE|en ce moment|pour quelques jours|jusqu'en $MONTH|ces temps-ci|ce mois-ci|pour un "
    "moment|depuis $NJ jours}.",
    // Paying.
    "{Je peux|Je vais|Je compte|Je préfère} {payer|rembourser|régler|vous rendre l'argent} {par chèque|en "
    "liquide|par virement|par carte|avec Lydia|en espèces|par PayPal|en tickets-restaurant} {à la "
    "livraison|en avance|sans problème|le jour même|dès votre passage|quand vous voulez|au centime "
    "près|avec un petit plus pour le café}{, ~ environ $EUROS euros|}.",
    // Getting in.
    "{L'interphone|La sonnette|La boîte aux lettres|Le nom sur la porte} {est au nom de|indique|porte le "
    "nom} $SURNAME{, {deuxième|troisième|première|dernière} porte {à gauche|à droite|au fond|après le "
    "local vélos}|, {bâtiment|entrée} {côté rue|côté parking|côté jardin}|}.",
    // When I am in.
    "{Je suis|On est|Je serai|Quelqu'un est} {disponible|là|à la maison|chez moi} {surtout|plutôt|~} {le "
    "matin|l'après-midi|après $HOUR|avant $HOUR|toute la journée|sauf le $DAY|entre $HOUR et $HOUR2|le "
    "$DAY et le $DAY2}.",
    // Getting around.
    "{Je n'ai pas de voiture|Je ne conduis plus|Les bus passent rarement|Le bus $BUS ne passe plus|Je n'ai "
    "plus de permis|Mon vélo est cassé|Le métro me fait peur en ce moment|Je marche très lentement} "
    "{et|alors|donc|du "
    "coup} {les taxis coûtent trop cher|je n'ai personne pour m'emmener|je dépends des autres|tout devient "
    "compliqué|je ne sors presque plus|chaque course est une expédition}.",
    // Doctor's orders.
    "{Mon médecin|L'infirmière|La pharmacienne|Le kiné|Le docteur $SURNAME|Le cardiologue|L'hôpital} {m'a "
    "conseillé|m'a dit|m'a recommandé|m'a demandé} de {ne pas sortir|rester chez moi|éviter les "
    "magasins|limiter les contacts|me reposer|ne rien porter} {pendant $NJ semaines|jusqu'à $DAY|pour "
    "l'instant|jusqu'au $DATE|le temps de la convalescence|encore un moment}.",
    // How long.
    "{Ça fait|Cela fait|Voilà|Il y a} $NJ {jours|semaines} que {je n'ai vu personne|je ne suis pas "
    "sortie|je ne suis pas sorti|j'attends une réponse|je me débrouille {seule|seul}|je tourne en rond|je "
    "demande autour de moi|je repousse ces courses}.",
    // Calls that failed.
    "{J'ai appelé|J'ai essayé|J'ai écrit à|J'ai demandé à} {la mairie|le CCAS|mes voisins|le numéro vert|la "
    "Croix-Rouge|l'assistante sociale|le centre social|mon bailleur} {mais|et} {personne ne répond|c'est "
    "toujours occupé|ils ne peuvent rien faire avant $DAY|on m'a dit d'écrire ici|j'attends encore|il "
    "faut patienter $NJ semaines}.",
    // Where to leave things.
    "{Vous pouvez|Il suffit de|Le mieux est de|N'hésitez pas à} {laisser|déposer|poser} {les sacs|le "
    "tout|les courses|le paquet|les affaires} {devant la porte|chez la gardienne|sur le palier|dans le "
    "hall|au pied de l'escalier|à la loge}{, je {rembourse|règle} {tout de suite|le jour même|par "
    "virement}|, je descendrai|}.",
    // It's fine if not.
    "{Pas de souci|Aucun souci|Pas de problème|Ce n'est pas grave} si {ce n'est pas possible|personne "
    "n'est dispo|ça prend du temps|c'est seulement $DAY|vous ne pouvez faire qu'une partie}, {je "
    "comprends|je me débrouillerai|merci quand même|on verra|je ferai autrement}.",
    // Languages.
    "{Je parle|Je comprends|On parle|Je me débrouille en} {un peu|bien|couramment|~} "
    "{anglais|espagnol|arabe|portugais|wolof|turc|tamoul|roumain|polonais|vietnamien|lingala|kabyle} si ça "
    "peut aider.",
    // Who I'd prefer.
    "{Je préfère|J'aimerais mieux|Ce serait bien|L'idéal serait} {quelqu'un du quartier|une personne "
    "vaccinée|quelqu'un de patient|une femme si possible|un jeune qui a le temps|quelqu'un avec une "
    "voiture|une personne qui parle arabe|quelqu'un de régulier}.",
    // Budget.
    "{J'ai|Nous avons|On a} {un petit budget|peu de moyens|juste le minimum vieillesse|un budget "
    "serré} {ce mois-ci|en ce moment|depuis $SINCE|}, {des produits simples suffisent|le moins cher ira très "
    "bien|les marques du magasin conviennent|pas de bio s'il vous plaît|les promos c'est parfait}.",
    // The building.
    "{Il y a|On a|Chez nous il y a|L'immeuble a} {un ascenseur|des escaliers étroits|une cour intérieure|un "
    "code à l'entrée|un chien qui aboie|un portail lourd}{ qui tombe souvent en panne|, je vous "
    "expliquerai|, ne vous inquiétez pas|, c'est facile à trouver|}.",
    // The pet at home.
    "{Mon chat|Mon chien|Mon perroquet|Ma chienne|Mon lapin} $PETNAME {vous fera la fête|aboie un peu mais "
    "il "
    "est gentil|risque de vouloir sortir|adore les visites|est très timide}, {ne vous inquiétez pas|il ne "
    "mord pas|fermez bien la porte|il ne bougera pas}.",
    // Shops closing.
    "{Les magasins|Le marché|La supérette|La pharmacie|Le boulanger} {ferment|ferme} {tôt|à $HOUR2|le "
    "$DAY|à midi le $DAY} {dans notre rue|par ici|dans le coin|en ce moment}, {c'est pour ça|voilà "
    "pourquoi|donc} je {demande|poste|vous écris} {maintenant|aujourd'hui|ici|déjà}.",
    // Already asked elsewhere.
    "{J'ai déjà demandé|J'ai posté|J'ai mis une affiche} {dans le groupe de l'immeuble|sur le groupe du "
    "quartier|à la boulangerie|chez le pharmacien|à l'épicerie} mais {sans réponse|personne n'était "
    "disponible|je n'ai pas eu de retour|c'était trop tard}.",
    // Giving back.
    "{Je rends volontiers service|Je peux rendre la pareille|En échange je peux|Je saurai vous remercier} "
    "{en "
    "tricotant|en cuisinant|en gardant un animal|en faisant de la couture|en donnant des cours de "
    "guitare|avec un gâteau|en arrosant vos plantes} {si quelqu'un veut|à l'occasion|un jour|plus tard}.",
    // The floor.
    "{Je suis au|J'habite au|C'est au|On est au} $FLOORWORD {étage|} {sans ascenseur|avec un ascenseur "
    "capricieux|au fond de la cour|dans le bâtiment du fond|côté rue}.",
    // Apologies for the phone.
    "{Mes petits-enfants|Mes enfants|Ma voisine|Un jeune du quartier} {m'ont installé|m'ont montré|m'a "
    "installé} {WhatsApp|le groupe|Facebook|cette application} mais {je ne suis pas très douée|je m'y perds "
    "un peu|j'écris lentement|les touches sont petites}, {excusez les fautes|soyez indulgents|merci de "
    "votre patience|pardon si c'est mal écrit}.",
    // Diet.
    "{Attention|Petite précision|Important}: {je mange sans sel|je suis diabétique, donc pas de sucre|je "
    "mange "
    "halal|je suis végétarienne|je suis allergique aux arachides|pas de gluten pour moi|mon mari ne digère "
    "pas le lait} {, merci de vérifier les étiquettes|, désolée pour la complication|, c'est important|}.",
    // Bread.
    "{Pour le pain|Côté boulangerie|Si vous passez à la boulangerie}, {une baguette pas trop cuite|un pain "
    "de "
    "campagne|deux croissants|une tradition bien cuite|un pain aux céréales} {me ferait plaisir|serait "
    "parfait|suffira}{, chez {Paul|le boulanger de la place|Maison Kayser|la boulangerie du marché}|}.",
    // Keys.
    "{Je laisserai|Je peux laisser|On laissera} {la clé|les clés|un double} {chez la voisine du "
    "$FLOORWORD|dans la boîte aux lettres|sous le paillasson|à la pharmacie d'en bas|chez le gardien} "
    "{si je dors|si je ne réponds pas|au cas où|pendant ma sieste}.",
    // Glasses, hearing aid.
    "{Mes lunettes sont cassées|Mon appareil auditif n'a plus de piles|Ma canne s'est cassée|Mon "
    "déambulateur grince} {depuis $SINCE|depuis peu|}, {alors|donc|du coup} {je vois mal|j'entends mal la "
    "sonnette|je sors encore moins}{, sonnez longtemps|, frappez fort|}.",
    // Bank.
    "{Ma carte bancaire est bloquée|Le distributeur est loin|La banque est fermée le $DAY|Je n'ai plus de "
    "chéquier} {depuis $SINCE|en ce moment|cette semaine}, {je paierai en liquide|je rembourse par "
    "virement|ma fille fera un virement}{ dès que possible| sans faute|}.",
    // Weather.
    "{Avec la pluie|Avec ce froid|Avec la chaleur|Avec le vent} {de ces jours-ci|de cette semaine|qu'il "
    "fait}, "
    "{je n'ose plus sortir|mes jambes me font souffrir|le trajet est trop dur|je glisse sur les trottoirs}.",
    // Mail.
    "{Le facteur|Le livreur|La Poste} {a laissé un avis de passage|n'arrive pas à me trouver|dépose mes "
    "colis au relais} {à $SHOPNAME|au bureau de poste|chez le buraliste}{, si quelqu'un passe par là|, c'est "
    "à $KM kilomètres|}.",
    // Laundry.
    "{Ma machine à laver|Le sèche-linge|La laverie} {est en panne|est trop loin|ferme à $HOUR2}, {alors le "
    "linge s'entasse|et je n'ai plus de draps propres|et je ne peux pas porter le panier}.",
    // Rubbish.
    "{Les poubelles|Les cartons|Le verre} {s'accumulent|débordent|attendent} {dans l'entrée|sur le "
    "balcon|depuis $SINCE}: {si quelqu'un peut les descendre en passant|ce serait gentil de les "
    "emporter|je n'arrive pas à les descendre}.",
    // Grandchildren news.
    "{Mon petit-fils|Ma petite-fille|Mon arrière-petit-fils} $KIDNAME {passe son bac|vient de naître|est en "
    "Erasmus à {Madrid|Berlin|Lisbonne|Cracovie}|fait son service civique} {cette année|en ce moment|depuis "
    "$MONTH}, {c'est ma fierté|je ne le vois plus|on s'appelle en visio}.",
    // Past job.
    "{J'ai été|J'ai travaillé comme|J'étais} {couturière|cheminot|institutrice|ouvrier chez "
    "Renault|secrétaire médicale|boulanger|infirmière de nuit|facteur} {pendant $YEARS ans|toute ma "
    "vie|jusqu'en $RETIRE}{, alors demander de l'aide ne m'est pas facile|, je n'ai jamais rien demandé|}.",
    // Hobbies.
    "{Si vous avez le temps|Pour le plaisir|Si ça vous dit}, {on pourra parler|je vous montrerai} {de "
    "jardinage|de mes mots croisés|de football|de ma collection de timbres|de cuisine antillaise|de mes "
    "voyages au {Maroc|Portugal|Sénégal|Vietnam}}.",
    // TV and radio.
    "{Ma télé|Ma radio|Ma box internet|Mon téléphone fixe} {ne capte plus|fait des siennes|est en "
    "panne} {depuis $SINCE|depuis l'orage|}, {alors les journées sont longues|je n'ai plus de nouvelles du "
    "monde|c'est ma seule compagnie}.",
    // Ramadan, holidays.
    "{Avec le ramadan|Pour les fêtes|Avec l'Aïd qui approche|Avant Noël|Pour la Pâque}, {je "
    "voudrais|j'aurais "
    "aimé|il faudrait} {un peu plus|de quoi recevoir|de quoi faire un bon repas} {pour les enfants|pour ma "
    "mère|pour la famille}.",
    // The caretaker.
    "{La gardienne|Le gardien|Le concierge|L'agent d'entretien} {$FIRST |}{est au courant|a les "
    "clés|peut vous ouvrir|connaît ma situation} {du lundi au vendredi|le matin|jusqu'à $HOUR2}.",
    // The market.
    "{Le marché|Le primeur|Le maraîcher} {du $DAY|de la place|de l'avenue} a {de bonnes tomates|des fruits "
    "mûrs|de beaux légumes} {si jamais|au cas où|pour info}{, demandez $FIRST de ma part|}.",
    // Brand.
    "{Pas de marque particulière|N'importe quelle marque|Les premiers prix}, {sauf pour|mais je tiens à|à "
    "part} "
    "{le café, du Carte Noire|la lessive, de l'Ariel|le thé, du Lipton|les yaourts, des Danone|le lait, du "
    "Lactel}{ si possible| svp|}.",
    // Noise, neighbours.
    "{Les travaux|Le chantier|Les voisins du dessus} {de l'immeuble|d'en face|} {font un bruit "
    "terrible|commencent à $HOUR|ont coupé l'eau $DAY}, {excusez le bazar|ne faites pas attention|c'est "
    "l'enfer en ce moment}.",
    // Plants.
    "{Mes plantes|Mes tomates sur le balcon|Mes géraniums} {auraient besoin d'eau|vont mourir|me manquent} "
    "{pendant mon absence|si je reste couchée|cette semaine}{, si quelqu'un a la main verte|}.",
    // The doctor visit.
    "{Le médecin passe|L'infirmière vient|Le kiné vient} {le $DAY|tous les matins|un jour sur deux} {à "
    "$HOUR|vers $HOUR|}, {évitez ce moment-là|c'est le seul moment où je ne suis pas libre|venez plutôt "
    "après}.",
    // Children at home.
    "{Les enfants|Mes deux garçons|Ma fille et son frère} {sont à la maison|font l'école à la maison|ont "
    "la varicelle} {depuis $SINCE|cette semaine|}, {je ne peux pas les laisser|impossible de sortir avec "
    "eux|ils me prennent tout mon temps}.",
    // Stairs.
    "{Les escaliers|Les marches de l'entrée|La pente de la rue} {sont glissants|me font peur|sont trop "
    "raides} {depuis ma chute|avec mon genou|en hiver}, {surtout avec des sacs|même sans rien porter|c'est "
    "un vrai problème}.",
    // Heating.
    "{Le chauffage|La chaudière|Le radiateur du salon} {marche mal|est coupé|fait des siennes} {depuis "
    "$SINCE|cette semaine|}, {le bailleur ne répond pas|j'ai froid le soir|je dors avec deux couvertures}.",
    // Neighbour help before.
    "{Le monsieur du $FLOORWORD|La dame d'à côté|Un jeune de l'immeuble} {m'a aidée|m'a dépanné|est venu} "
    "{la semaine dernière|le mois dernier|plusieurs fois} mais {je n'ose plus lui demander|il est en "
    "vacances|elle travaille beaucoup}.",
    // Medication schedule.
    "{Je prends|On me donne} {mes cachets|mes gouttes|mon traitement} {matin, midi et soir|à $HOUR pile|au "
    "moment des repas}, {d'où l'urgence|c'est pour ça que je m'organise|je ne dois pas en manquer}.",
    // Thanks for reading.
    "{Merci de m'avoir lue|Merci d'avoir lu jusqu'ici|Désolée pour ce long message|Pardon pour le roman}, "
    "{ça fait du bien de pouvoir demander|je sais que vous êtes nombreux à demander|vous faites un travail "
    "formidable}.",
    // What else.
    "{Si possible|Si ce n'est pas trop demander|Tant qu'à faire|Au passage}, {un journal|le "
    "Parisien|des timbres|un carnet de tickets|une carte téléphonique|des graines pour les oiseaux} "
    "{me ferait plaisir|serait bienvenu|m'arrangerait bien}.",
};

// Sentences dense in particulars: times, dates, prices, stops, quantities.
constexpr std::array kSpecifics = {
    "{Le ticket|La facture|L'addition|Le total} {devrait faire|fera|tournera autour de|ne dépassera pas} "
    "{environ|à peu près|pas plus de|} $EUROS,$CENTS euros.",
    "{Je pars|Ma fille arrive|Le taxi vient|L'infirmière passe|Le livreur doit venir} {le $DATE à $HOUR|vers "
    "$HOUR le $DAY|le $DAY entre $HOUR et $HOUR2}.",
    "{L'arrêt le plus proche|Le bus le plus pratique|Le repère le plus simple} c'est {$STOP|le $BUS arrêt "
    "$STOP|$LANDMARK}.",
    "{J'ai|Il me reste|On a encore} {$NJ|$EUROS} {tickets|euros|jours|boîtes|sachets} {pour finir le "
    "mois|jusqu'au $DATE|d'avance|de côté}.",
    "{Ma carte de bus|Mon passe Navigo|Ma carte vitale|Mon ordonnance} {expire|arrive à échéance|est "
    "valable} "
    "{le $DATE|fin $MONTH|jusqu'au $DATE}.",
    "{Le créneau|L'horaire|Le moment} {idéal|qui m'arrange|le plus simple} : {$DAY $HOUR|le $DATE vers "
    "$HOUR|$DAY après $HOUR}.",
};

constexpr std::array kSkills = {"porter des courses",       "faire du repassage",
                                "monter des meubles",       "changer une ampoule",
                                "réparer une chasse d'eau", "coudre un ourlet",
                                "lire le courrier",         "faire la lecture",
                                "jouer aux cartes",         "faire des mots croisés",
                                "installer WhatsApp",       "régler une box internet",
                                "imprimer des documents",   "scanner des papiers",
                                "remplir une déclaration",  "faire une lettre de motivation",
                                "cuisiner un couscous",     "faire des gâteaux",
                                "préparer des soupes",      "promener un chien",
                                "nourrir un chat",          "arroser des plantes",
                                "tondre une pelouse",       "aider aux maths",
                                "faire réviser l'anglais",  "faire de la guitare",
                                "tricoter des écharpes",    "conduire jusqu'à Orly",
                                "aller à la poste",         "déposer un colis",
                                "attendre un livreur",      "accompagner chez le médecin",
                                "traduire en arabe",        "traduire en portugais",
                                "peindre un mur",           "déboucher un évier",
                                "réparer un vélo",          "changer une roue",
                                "vider une cave",           "garder un enfant le mercredi"};
constexpr std::array kGoods = {"des fruits et légumes",
                               "des conserves",
                               "des pâtes et du riz",
                               "du lait pour bébé",
                               "des couches",
                               "des produits d'hygiène",
                               "des serviettes hygiéniques",
                               "du savon",
                               "des vêtements d'hiver",
                               "des chaussures enfant",
                               "des manteaux",
                               "des jouets",
                               "des livres",
                               "des fournitures scolaires",
                               "des masques lavables",
                               "du gel",
                               "des plats cuisinés",
                               "du pain de la veille",
                               "des yaourts",
                               "des œufs",
                               "du café",
                               "des biscuits",
                               "des couvertures",
                               "des duvets",
                               "des brosses à dents",
                               "du dentifrice",
                               "des cahiers",
                               "des cartables",
                               "des jeux de société",
                               "des légumes du jardin partagé"};
constexpr std::array kAboutMe = {
    "{J'ai|Moi j'ai} $AGE2 ans, {deux enfants|un chien|un jardin ouvrier|pas mal de temps libre|une "
    "voiture de société} et {beaucoup d'énergie|l'envie de bouger|un emploi du temps souple}.",
    "{Dans la vie|Au quotidien|D'habitude} je suis {graphiste|agent RATP|prof de sport|pâtissier|aide à "
    "domicile|étudiante|ingénieur|caissière|comptable} {mais|et} {mon activité est à l'arrêt|je suis en "
    "chômage partiel|j'ai mes après-midi}.",
    "{J'habite le quartier|Je vis ici|Je suis arrivée dans le quartier} {depuis $YEARS ans|depuis "
    "$MONTH|depuis peu} et {je connais bien les rues|je voudrais rencontrer les voisins|j'aime ce "
    "quartier}.",
    "{Je fais partie|Je suis membre} {de l'amicale des locataires|du club de foot|de la chorale|de "
    "l'association des parents d'élèves|du jardin partagé} {, on peut aussi s'organiser à plusieurs|, "
    "d'autres membres sont partants|}.",
};

constexpr std::array kOffers = {
    "{faire les courses|faire des courses au drive|porter des courses lourdes|faire un plein de courses}",
    "{conduire des personnes à l'hôpital|faire des trajets en voiture|emmener des gens à leurs rendez-vous}",
    "{promener les chiens|sortir les chiens|nourrir les chats} des personnes {malades|hospitalisées|âgées}",
    "{aider aux devoirs|donner du soutien scolaire|faire réviser le brevet|faire lire les petits}",
    "{coudre des masques en tissu|fabriquer des masques|coudre des surblouses}",
    "{appeler les personnes isolées|téléphoner aux personnes seules|tenir compagnie au téléphone}",
    "{faire des petites réparations|réparer ce qui fuit|bricoler un peu|monter des meubles}",
    "{aider à remplir des dossiers|faire les démarches administratives|expliquer les courriers}",
    "{prêter une tablette|donner un vieil ordinateur|installer une connexion internet|réparer les ordis}",
    "{cuisiner des repas|préparer des plats|faire de la soupe|cuisiner en grande quantité}",
    "{garder des enfants|récupérer des enfants à l'école|faire du baby-sitting}",
};
constexpr std::array kOfferCategories = {"groceries",    "transport", "pets",     "schooling",
                                         "ppe",          "isolation", "repairs",  "paperwork",
                                         "it_equipment", "food_aid",  "childcare"};
constexpr std::array kOfferIntros = {
    "{Je m'appelle|Moi c'est} $FIRST, {$AGE2 ans|étudiante en $STUDY|étudiant en $STUDY|retraitée de "
    "l'enseignement|ancien chauffeur de bus|infirmière à la retraite|intermittent du spectacle}.",
    "{Je suis|Nous sommes} {en télétravail|au chômage partiel|en arrêt mais en forme|retraités|deux "
    "colocataires} "
    "et {j'ai du temps|on a du temps|je tourne en rond|j'ai envie d'être utile}.",
    "{J'ai|Nous avons} {une voiture|un vélo cargo|un utilitaire|une remorque|une grande cuisine} et {du "
    "temps "
    "libre|des créneaux libres|quelques heures par semaine}{ en ce moment| jusqu'en $MONTH|}.",
    "{Habitant|Habitante} du quartier depuis $YEARS ans, {je voudrais|j'aimerais|je souhaite} {aider|donner "
    "un coup de main|me rendre utile}.",
    "",
};
constexpr std::array kOfferDetails = {
    "{Gratuitement|Bénévolement|Sans contrepartie|Évidemment sans rien demander} {bien sûr|~}{, je respecte "
    "les "
    "gestes barrières|, avec masque et gel|, en gardant les distances|, c'est le principe du réseau|}.",
    "Je {peux|pourrai|saurai} {passer|venir|me déplacer} {à pied|à vélo|en voiture|en trottinette|en "
    "scooter} {dans tout le quartier|jusqu'à $ALIAS|dans un rayon de $KM kilomètres|jusqu'au bout de "
    "$STREET|plusieurs fois par semaine|quand vous voulez en soirée}.",
    "{Je parle|Je me débrouille en|Je comprends} "
    "{anglais|espagnol|arabe|portugais|italien|roumain|russe|tamoul} "
    "si besoin de traduire{ pour les démarches| au téléphone|}.",
    "{J'ai été vaccinée|Je suis testé régulièrement|Je fais très attention|Je vis seule et sors peu} {, pas "
    "de "
    "risque|, rassurez-vous|, promis|}.",
    "{Pas besoin de|Inutile de|Surtout ne pensez pas à} {me rembourser l'essence|me payer|me remercier|me "
    "donner quoi que ce soit}, {ça me fait plaisir|c'est normal|on est voisins|ça m'occupe}.",
    "{J'ai déjà aidé|J'aide déjà|J'accompagne déjà} {deux voisines|la dame du $FLOORWORD|une famille de la "
    "rue|un monsieur de $AGE ans} {depuis $SINCE|cette semaine|depuis le début} et {il me reste du temps|je "
    "peux en faire plus|ça se passe très bien}.",
    "{J'ai l'habitude|J'ai de l'expérience|Ce n'est pas nouveau pour moi|Je connais bien ça}: {j'ai "
    "été|j'étais} {aide-soignante|animateur|prof de maths|chauffeur|couturière|bricoleur du "
    "dimanche|baby-sitter|cuisinier|informaticien} {pendant $YEARS ans|autrefois|l'an dernier|toute ma vie}.",
    "{Par contre|En revanche|Attention|Petite précision}, {pas le $DAY|pas avant $HOUR|seulement $NJ heures "
    "par "
    "semaine|pas de charges lourdes|pas d'animaux, je suis allergique|pas de trajets de nuit}.",
    "{Mes horaires|Mes disponibilités|Mon planning}: {le $DAY après $HOUR|du lundi au vendredi après "
    "$HOUR|le week-end toute la journée|les soirs sauf le $DAY|le $DAY et le $DAY2 matin}{, ça peut bouger|, "
    "à confirmer|}.",
    "{J'ai un grand coffre|Ma voiture est une {Clio|Kangoo|Berlingo|Zoé|Twingo}|J'ai un siège enfant|J'ai "
    "des sacs isothermes} {donc|alors|et} {les gros achats ne me font pas peur|je peux transporter un "
    "fauteuil|les surgelés voyagent bien}.",
    "{Mon quartier|Ma rue|Mon secteur} c'est {plutôt|surtout} {$ALIAS|autour de $LANDMARK|le bas de "
    "$STREET} mais {je peux aller plus loin|je bouge facilement|les quartiers voisins aussi}.",
    "{Je suis formée|J'ai le PSC1|J'ai fait une formation} {aux premiers secours|à l'accompagnement des "
    "personnes âgées|au soutien scolaire} {l'an dernier|en $RETIRE|avec la Croix-Rouge}.",
    "{Mes enfants|Mon conjoint|Ma colocataire|Mon voisin $FIRST} {peut|veut|aimerait} {aussi|bien} "
    "{donner un coup de main|participer|se joindre à moi}{ le week-end|, on fera équipe|}.",
    "{Je ne suis pas très|Je suis assez|Je suis} {matinale|couche-tard|flexible|disponible} {alors|donc} "
    "{n'hésitez pas pour les créneaux tôt|le soir m'arrange|on s'arrangera}.",
    "{Je peux aussi|Je sais aussi|En plus je peux} {prêter des outils|faire un peu de "
    "traduction|imprimer des documents|garder un chat|réparer un vélo|cuisiner pour deux} {si ça "
    "aide|au besoin|à l'occasion}.",
};

constexpr std::array kInfoEvents = {"La distribution alimentaire",
                                    "La permanence du CCAS",
                                    "La collecte de vêtements",
                                    "La distribution de masques",
                                    "Le marché solidaire",
                                    "La permanence juridique",
                                    "La collecte de jouets",
                                    "L'atelier couture du samedi",
                                    "La permanence de l'écrivain public",
                                    "La bourse aux livres",
                                    "La collecte de produits d'hygiène",
                                    "Le repas partagé"};
constexpr std::array kVenues = {"au gymnase Joliot-Curie",
                                "à la salle Robespierre",
                                "au centre social",
                                "à l'école Montesquieu",
                                "au local de l'amicale des locataires",
                                "sous la halle du marché",
                                "à la maison de quartier",
                                "au foyer Ambroise-Croizat",
                                "à la MJC",
                                "à la bourse du travail",
                                "dans la cour de l'école Jean-Moulin",
                                "sur le parvis de l'église",
                                "à la médiathèque",
                                "au square derrière la poste"};
constexpr std::array kInfoMore = {
    "{Les bénévoles|L'équipe|Les organisateurs|L'asso|Le collectif|Les voisins de l'amicale} {cherchent "
    "encore|ont besoin de|manquent de|appellent} {deux ou trois|quelques|$NJ|une poignée de} "
    "{bras|personnes|volontaires|paires "
    "de mains} pour {l'installation|le rangement|la distribution|l'accueil|le tri|porter les cartons} {à "
    "partir "
    "de $HOUR|le matin|en fin de journée|dès $HOUR|}.",
    "{Ouvert à tous|Pour toutes les familles du quartier|Sans inscription|Pour les habitants de $ALIAS|Accès "
    "libre}, {pas besoin de justificatif|même sans papiers|gratuit|venez nombreux|les enfants sont les "
    "bienvenus|les chiens en laisse acceptés}.",
    "{Les dons|Les denrées|Les vêtements|Les jouets|Les produits d'hygiène} {sont à déposer|peuvent être "
    "déposés|se déposent} {la veille|le $DAY|jusqu'au $DATE} {au local|chez $FIRST|à l'accueil|à la "
    "loge|$VENUE} {avant $HOUR|entre $HOUR et $HOUR2|}.",
    "{En cas de pluie|S'il pleut|Si la salle est prise|S'il y a trop de monde}, {tout se passe|ça se "
    "passe|on "
    "se retrouve|on bascule} {sous le préau|dans la salle du bas|au local de l'amicale|$VENUE}.",
    "{Le bus $BUS|La ligne $BUS|Le tram|Le RER} {s'arrête juste devant|passe à deux pas|est dévié ce "
    "jour-là|ne circule pas après $HOUR2}{, descendre à l'arrêt $STOP|}.",
    "{L'an dernier|La dernière fois|Le mois dernier} {plus de $PEOPLE personnes|$PEOPLE familles|près de "
    "$PEOPLE "
    "foyers} {sont venues|ont été servies|sont passées}, {merci à tous|prévoyez un peu d'attente|venez "
    "tôt}.",
    "{Cette fois|Cette semaine|Exceptionnellement} {il y aura aussi|on distribue aussi|on trouvera aussi} "
    "{des fruits|des produits frais|des couches|des livres pour enfants|des masques lavables} {grâce "
    "à|offerts "
    "par|avec l'aide de} {la Biocoop|l'épicerie solidaire|des commerçants du marché|l'école $VENUE}.",
    "{Les personnes|Ceux et celles} {qui ne peuvent pas se déplacer|à mobilité réduite|en quarantaine} "
    "{peuvent appeler|doivent prévenir|se signalent auprès de} {$FIRST|l'accueil|la permanence} {avant le "
    "$DATE|la veille|avant $HOUR}{ pour une livraison| pour qu'on passe|}.",
    "{Nous remercions|Un grand bravo à|Merci encore à} {les $PEOPLE bénévoles|tous ceux|les commerçants} "
    "{de la dernière fois|qui ont aidé le $DATE|du quartier}, {quelle mobilisation|c'était un succès|on "
    "compte sur vous}.",
    "{Rappel|Pour mémoire|À savoir}: {le masque est obligatoire|l'entrée se fait par la petite porte|le "
    "parking est fermé|les poussettes passent par la rampe} {à l'intérieur|côté $STREET|ce jour-là}.",
    "{Contact|Renseignements|Pour toute question|Infos} : {$FIRST à l'accueil|le CCAS|la mairie "
    "annexe|l'amicale des locataires}{, ~ le $DAY matin|, aux heures de permanence|}.",
};

constexpr std::array kEnglishRequests = {
    "{I'm looking for|We need|Could someone help with|Is anyone able to help with|Looking for} {someone to "
    "do my "
    "shopping|a lift to the hospital|help picking up a prescription at the pharmacy|someone to walk my "
    "dog|help with a form from the council|someone to fix a leaking tap} {this week|on $DAYEN|tomorrow "
    "morning|before the weekend|on $DAYEN afternoon|any day after $HOUREN}. I live {on $STREET|near "
    "$LANDMARK|in $ALIAS|just off $STREET}. {I can pay cash|I can pay back by bank transfer|Many thanks in "
    "advance|I'm on my own since $SINCEEN|I broke my {wrist|ankle|hip} in $MONTHEN|My French is not very "
    "good, "
    "sorry}.",
    "My {mum|dad|grandmother|neighbour|aunt|father-in-law} is $AGE and {can't go out|lives alone|just came "
    "back "
    "from hospital|is shielding|has dementia}. {Could someone|Would anyone be able to|Is there a volunteer "
    "who could} {bring some groceries|pick up medication|give a call now and then|check on {her|him} on "
    "$DAYEN} {on $DAYEN|this week|}? {She|He} lives {on $STREET|near $LANDMARK|in $ALIAS}. {I'm stuck in "
    "{London|Manchester|Dublin|Berlin} until $MONTHEN|I live too far away to help|We only speak English at "
    "home}.",
};
constexpr std::array kEnglishOffers = {
    "I {can|am happy to|would like to|have time to} {do shopping for older neighbours|drive people to "
    "hospital "
    "appointments|help kids with homework in English|walk dogs|fix bikes|cook extra meals|make phone calls "
    "to "
    "people on their own} {on weekends|in the evenings|any weekday|on $DAYEN and $DAYEN2|until $MONTHEN}. I "
    "live {near $LANDMARK|in $ALIAS|on $STREET}. {I'm a student|I work from home|I'm retired|I'm a nurse on "
    "nights|I've got a car} and {have some spare time|would like to help|can do $NJEN trips a week}. "
    "{Message me|Send me a DM|Feel free to get in touch|Reply here}{ anytime| please|}.",
};
constexpr std::array kFillers = {"vraiment",   "un peu",     "en fait",       "du coup",     "franchement",
                                 "encore",     "peut-être",  "de préférence", "si possible", "éventuellement",
                                 "justement",  "d'ailleurs", "bien sûr",      "au passage",  "honnêtement",
                                 "par hasard", "gentiment",  "rapidement",    "sans faute",  "volontiers"};
constexpr std::array kPetNames = {"Filou",  "Caramel", "Rex",   "Mistigri", "Nala",    "Oscar", "Praline",
                                  "Tigrou", "Plume",   "Lucky", "Moka",     "Ficelle", "Pepsi", "Biscotte"};
constexpr std::array kKidNames = {"Théo",   "Inaya", "Lucas", "Jade",  "Adam",  "Lina", "Nolan",
                                  "Maëlys", "Ilyes", "Chloé", "Sacha", "Yanis", "Rose", "Wassim"};
constexpr std::array kStudies = {"droit",        "médecine",          "histoire",         "informatique",
                                 "BTS",          "sociologie",        "soins infirmiers", "langues",
                                 "architecture", "master de biologie"};
constexpr std::array kFloorWords = {"premier", "deuxième", "troisième", "quatrième", "cinquième",
                                    "sixième", "septième", "huitième",  "dixième",   "onzième"};

}  // namespace

// Who a request is for: the sender, or someone the sender writes for.
struct Traffic::Person {
  bool self;
  bool female;
  const char* who;  // "ma mère"
};

namespace {
const std::array<Traffic::Person, 13>& people() {
  static const std::array<Traffic::Person, 13> all = {{
      {true, true, ""},
      {true, false, ""},
      {false, true, "ma mère"},
      {false, false, "mon père"},
      {false, true, "ma grand-mère"},
      {false, false, "mon grand-père"},
      {false, true, "ma tante"},
      {false, false, "mon oncle"},
      {false, true, "ma voisine de palier"},
      {false, false, "un monsieur de mon immeuble"},
      {false, true, "une dame de ma rue"},
      {false, true, "ma belle-mère"},
      {false, false, "mon beau-père"},
  }};
  return all;
}
}  // namespace

std::vector<Area> read_gazetteer(const std::filesystem::path& network_file) {
  toml::table root;
  try {
    root = toml::parse_file(network_file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(network_file.string() + ": " + std::string(e.description()));
  }
  std::vector<Area> areas;
  const auto* list = root["area"].as_array();
  if (list == nullptr) throw std::runtime_error(network_file.string() + ": no [[area]] table");
  auto strings = [](const toml::table& t, std::string_view key) {
    std::vector<std::string> out;
    if (const auto* a = t[key].as_array()) {
      for (const auto& v : *a) {
        if (auto s = v.value<std::string>()) out.push_back(*s);
      }
    }
    return out;
  };
  for (const auto& node : *list) {
    const auto* t = node.as_table();
    if (t == nullptr) continue;
    Area a;
    a.id = (*t)["id"].value_or(std::string());
    a.name = (*t)["name"].value_or(std::string());
    a.city = (*t)["city"].value_or(std::string());
    a.postcode = (*t)["postcode"].value_or(std::string());
    a.aliases = strings(*t, "aliases");
    a.streets = strings(*t, "streets");
    a.landmarks = strings(*t, "landmarks");
    if (a.aliases.empty()) a.aliases.push_back(a.name);
    if (a.streets.empty()) a.streets.push_back(a.name);
    if (a.landmarks.empty()) a.landmarks.push_back(a.aliases.front());
    areas.push_back(std::move(a));
  }
  if (areas.empty()) throw std::runtime_error(network_file.string() + ": no [[area]] table");
  return areas;
}

Traffic::Traffic(std::vector<Area> areas, std::uint64_t seed, std::size_t sources)
    : areas_(std::move(areas)), rng_(seed), sources_(std::max<std::size_t>(sources, 1)) {}

namespace {
// What an empty alternative leaves: double spaces, a space before a full
// stop or a comma; and a capital after a comma.
void tidy(std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    if ((c == '.' || c == ',') && !out.empty() && out.back() == ' ') out.pop_back();
    if (c >= 'A' && c <= 'Z' && out.size() >= 2 && out.back() == ' ' && out[out.size() - 2] == ',') {
      out += static_cast<char>(c - 'A' + 'a');
      continue;
    }
    out += c;
  }
  text.swap(out);
}
}  // namespace

// Words after which people add an adverb ("je peux aussi", "c'est
// vraiment"); fillers go there too, now and then.
constexpr std::array<std::string_view, 24> kVerbs = {
    "peux",   "pourrait", "suis",    "est",    "ai",       "cherche", "faut",     "serait",
    "aurais", "voudrais", "propose", "habite", "vis",      "passe",   "aimerais", "pourriez",
    "sont",   "avons",    "demande", "reste",  "faudrait", "sais",    "dois",     "préfère"};
constexpr std::array kAdverbs = {"aussi",   "vraiment",   "bien",        "déjà",         "encore",
                                 "juste",   "toujours",   "en fait",     "franchement",  "surtout",
                                 "plutôt",  "quand même", "sûrement",    "enfin",        "d'ailleurs",
                                 "parfois", "justement",  "honnêtement", "en ce moment", "tout simplement"};

void add_adverbs(std::string& text, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  out.reserve(text.size() + 64);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    const std::string_view word(text.data() + i, j - i);
    out.append(word);
    if (j < text.size() && std::find(kVerbs.begin(), kVerbs.end(), word) != kVerbs.end() && u(rng) < 0.45) {
      out += ' ';
      out += kAdverbs[std::uniform_int_distribution<std::size_t>(0, kAdverbs.size() - 1)(rng)];
    }
    if (j < text.size()) out += ' ';
    i = j + 1;
  }
  text.swap(out);
}

// One-line chat posts: a need or an offer in a handful of words.
constexpr std::array kOneLiners = {
    "{Qqn|Quelqu'un} pour {mes courses|la pharmacie|promener mon chien} {demain|ce soir|$DAY} ? $WHERE",
    "Besoin {pharmacie|courses|trajet hôpital|d'un bricoleur} {demain|$DAY|ce soir} $WHERE",
    "Qui {peut|pourrait} {passer|aider} {demain|$DAY} ? $WHERE",
    "Cherche {bénévole|voisin|chauffeur} {pour|} {$DAY|demain} $WHERE",
};
constexpr std::array kOneLinerOffers = {
    "Dispo {courses|trajets|bricolage|devoirs} {ce week-end|$DAY|le soir} $WHERE",
    "{Je peux|Peux} {aider|conduire|dépanner} {$DAY|demain|ce soir} $WHERE",
};
constexpr std::array<std::string_view, 9> kGreetingWords = {"bonjour", "bonsoir", "salut", "coucou", "merci",
                                                            "svp",     "stp",     "hello", "avance"};

// Words as moderate_dedup counts them (letters and digits, bytes of
// accented letters included), greetings left out.
std::size_t word_count(std::string_view text) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !(std::isalnum(static_cast<unsigned char>(text[i])) ||
                                static_cast<unsigned char>(text[i]) >= 0x80)) {
      ++i;
    }
    std::size_t j = i;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                               static_cast<unsigned char>(text[j]) >= 0x80)) {
      ++j;
    }
    if (j > i) {
      std::string w(text.substr(i, j - i));
      for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (std::find(kGreetingWords.begin(), kGreetingWords.end(), w) == kGreetingWords.end()) ++n;
    }
    i = j;
  }
  return n;
}

// Chat spelling: the abbreviations of text messages, word by word.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kSms = {{
    {"quelqu'un", "qqn"},   {"pour", "pr"},         {"beaucoup", "bcp"},
    {"aujourd'hui", "auj"}, {"rendez-vous", "rdv"}, {"s'il vous plaît", "svp"},
    {"vous", "vs"},         {"avec", "avc"},        {"quand", "qd"},
    {"parce que", "pcq"},   {"toujours", "tjrs"},   {"donc", "dc"},
    {"tout", "tt"},         {"même", "mm"},         {"je suis", "jsuis"},
    {"c'est", "c"},         {"il y a", "y a"},      {"est-ce que", "est ce que"},
    {"Bonjour", "bjr"},     {"merci", "mrc"},       {"d'accord", "dac"},
    {"demain", "dem1"},
}};

// Replaces whole words (ASCII boundaries) of `text`.
void sms_style(std::string& text, std::mt19937_64& rng) {
  for (const auto& [from, to] : kSms) {
    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) continue;  // not every habit
    std::size_t at = 0;
    while ((at = text.find(from, at)) != std::string::npos) {
      const bool start = at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]));
      const std::size_t end = at + from.size();
      const bool stop = end >= text.size() || !std::isalnum(static_cast<unsigned char>(text[end]));
      if (start && stop) {
        text.replace(at, from.size(), to);
        at += to.size();
      } else {
        at = end;
      }
    }
  }
}

// Typing slips in ASCII letters: one dropped, doubled or swapped now and
// then.
void typos(std::string& text, double rate, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool letter = (c >= 'a' && c <= 'z');
    const double r = letter ? u(rng) : 1.0;
    if (r < rate / 3) continue;
    out += c;
    if (r < 2 * rate / 3) {
      out += c;
    } else if (r < rate && i + 1 < text.size() && text[i + 1] >= 'a' && text[i + 1] <= 'z') {
      out.back() = text[i + 1];
      out += c;
      ++i;
    }
  }
  text.swap(out);
}

std::size_t Traffic::roll(std::size_t n) {
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
}

bool Traffic::chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

std::string Traffic::expand(std::string_view tpl) {
  std::string out;
  out.reserve(tpl.size() + 64);
  std::size_t i = 0;
  while (i < tpl.size()) {
    const char c = tpl[i];
    if (c == '{') {
      // The alternatives up to the matching brace; pick one, expand it.
      std::vector<std::string_view> alternatives;
      int depth = 0;
      std::size_t start = i + 1;
      std::size_t j = i + 1;
      for (; j < tpl.size(); ++j) {
        if (tpl[j] == '{') {
          ++depth;
        } else if (tpl[j] == '}') {
          if (depth == 0) break;
          --depth;
        } else if (tpl[j] == '|' && depth == 0) {
          alternatives.push_back(tpl.substr(start, j - start));
          start = j + 1;
        }
      }
      alternatives.push_back(tpl.substr(start, j - start));
      out += expand(alternatives[roll(alternatives.size())]);
      i = j + 1;
    } else if (c == '~') {
      // A filler word, or nothing.
      if (chance(0.4)) out += kFillers[roll(kFillers.size())];
      ++i;
    } else if (c == '$') {
      std::size_t j = i + 1;
      while (j < tpl.size() && ((tpl[j] >= 'A' && tpl[j] <= 'Z') || (tpl[j] >= '0' && tpl[j] <= '9'))) ++j;
      out += slot(tpl.substr(i + 1, j - i - 1));
      i = j;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::string Traffic::slot(std::string_view name) {
  const bool self = person_ == nullptr || person_->self;
  const bool female = person_ != nullptr && person_->female;
  auto number = [&](int lo, int hi) { return std::to_string(lo + static_cast<int>(roll(hi - lo + 1))); };
  if (name == "AGE") return number(62, 96);
  if (name == "KID") return number(2, 12);
  if (name == "MONTHS") return number(2, 8);
  if (name == "NJ") return one(std::array{"deux", "trois", "quatre", "cinq", "six", "dix", "quinze"});
  if (name == "DAY") return one(kDays);
  if (name == "DAYEN")
    return one(std::array{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"});
  if (name == "MONTH") return one(kMonths);
  if (name == "MONTHEN")
    return one(std::array{"January", "February", "March", "April", "May", "June", "July", "August",
                          "September", "October", "November", "December"});
  if (name == "DAYEN2")
    return one(std::array{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"});
  if (name == "HOUREN") return number(1, 6) + " pm";
  if (name == "NJEN") return one(std::array{"two", "three", "four", "a few"});
  if (name == "SINCEEN") return expand("{last week|March|my operation|the lockdown started|$NJEN weeks}");
  if (name == "CITY") return one(kCities);
  if (name == "BREED") return one(kBreeds);
  if (name == "SHOP") return one(kShops);
  if (name == "HOSP") return one(kHospitals);
  if (name == "MEDS") {
    std::string a = one(kMeds);
    std::string b = one(kMeds);
    return a == b || chance(0.5) ? a : a + " et " + b;
  }
  if (name == "PHARMA")
    return expand("{de la place|de l'avenue|du centre commercial|d'à côté|du marché|de garde|$PLACE}");
  if (name == "HOUR" || name == "HOUR2") {
    const int h = name == "HOUR" ? 8 + static_cast<int>(roll(8)) : 15 + static_cast<int>(roll(5));
    const std::size_t m = roll(12) * 5;
    return std::to_string(h) + " h" + (m == 0 ? std::string() : (m < 10 ? " 0" : " ") + std::to_string(m));
  }
  if (name == "SINCE") {
    return expand(
        "{lundi|hier|la semaine dernière|le début du confinement|$NJ jours|dimanche dernier|deux semaines|"
        "mon opération|la fin du mois dernier|le $DATE}");
  }
  if (name == "DATE") return number(1, 28) + " " + one(kMonths);
  if (name == "WHEN") {
    return expand(
        "{{ce |}$DAY{ matin| après-midi| soir|}|demain{ matin| après-midi| dans la journée|}|cette semaine|"
        "avant $DAY|dès que possible|d'ici $DAY|le $DATE|quand vous pouvez|ce week-end|dans la semaine|"
        "aujourd'hui si possible|la semaine prochaine|sans urgence}");
  }
  if (name == "ITEMS") {
    std::vector<std::size_t> picked;
    const std::size_t n = 3 + roll(5);
    while (picked.size() < n) {
      const std::size_t k = roll(kItems.size());
      if (std::find(picked.begin(), picked.end(), k) == picked.end()) picked.push_back(k);
    }
    std::string s;
    for (std::size_t i = 0; i < picked.size(); ++i) {
      if (i > 0) s += i + 1 == picked.size() ? " et " : ", ";
      std::string_view item = kItems[picked[i]];
      if (chance(0.3)) {
        // A quantity instead of the article: "un kilo de pommes".
        for (std::string_view article : {"du ", "de la ", "de l'", "des ", "une ", "un "}) {
          if (item.substr(0, article.size()) == article) {
            item.remove_prefix(article.size());
            break;
          }
        }
        std::string unit = expand(
            "{un paquet de|une boîte de|un sachet de|un kilo de|une bouteille de|un filet de|deux paquets "
            "de|un "
            "pack de|un grand pot de|une barquette de}");
        const bool vowel =
            !item.empty() && std::string_view("aeiouhéœ").find(item[0]) != std::string_view::npos;
        if (vowel) unit.back() = '\'';
        s += unit;
        if (!vowel) s += ' ';
      }
      s += item;
    }
    return s;
  }
  if (name == "FIRST") return one(kFirstNames);
  if (name == "ITEM") return one(kItems);
  if (name == "SKILLS" || name == "GOODS") {
    const bool skills = name == "SKILLS";
    const std::size_t size = skills ? kSkills.size() : kGoods.size();
    std::vector<std::size_t> picked;
    const std::size_t n = 2 + roll(3);
    while (picked.size() < n) {
      const std::size_t k = roll(size);
      if (std::find(picked.begin(), picked.end(), k) == picked.end()) picked.push_back(k);
    }
    std::string out;
    for (std::size_t i = 0; i < picked.size(); ++i) {
      if (i > 0) out += i + 1 == picked.size() ? " et " : ", ";
      out += skills ? kSkills[picked[i]] : kGoods[picked[i]];
    }
    return out;
  }
  if (name == "PETNAME") return one(kPetNames);
  if (name == "KIDNAME") return one(kKidNames);
  if (name == "STUDY") return one(kStudies);
  if (name == "FLOORWORD") return one(kFloorWords);
  if (name == "YEARS") return number(2, 40);
  if (name == "AGE2") return number(19, 75);
  if (name == "NKIDS") return one(std::array{"deux", "trois", "quatre", "cinq"});
  if (name == "DAY2") return one(kDays);
  if (name == "BUS") return number(103, 396);
  if (name == "EUROS") return number(8, 95);
  if (name == "KM") return number(1, 6);
  if (name == "RETIRE") return number(1995, 2019);
  if (name == "SHOPNAME")
    return expand(
        "{la librairie|l'épicerie de nuit|la boutique de téléphone|la station-service|la laverie|la "
        "supérette}");
  if (name == "PEOPLE") return number(40, 400);
  if (name == "CENTS") return number(10, 99);
  if (name == "VENUE") return one(kVenues);
  if (name == "STOP")
    return expand(
        "{Mairie|Église|Marché|Lycée|Piscine|Gare|Cimetière|Stade|Poste|Hôpital|Centre commercial}");
  if (name == "REPAIRED") return expand("{mon robinet|ma serrure|le volet|mon vélo|la chasse d'eau}");
  if (name == "ROLE") return expand("{mon mari|ma femme|ma fille|mon fils|mon colocataire|ma sœur}");
  if (name == "SURNAME") return one(kSurnames);
  if (name == "POSS") return self ? "mes" : "ses";
  if (name == "POSS2") return self ? "mon" : "son";
  if (name == "POSS3") return self ? "ma" : "sa";
  if (name == "PETPOSS") return self ? "mon" : "son";
  if (name == "RESTE") return self ? "me reste" : "lui reste";
  if (name == "HELPME") return self ? "m'aider" : "l'aider";
  if (name == "FORWHO") return self ? "pour moi" : (female ? "pour elle" : "pour lui");
  if (name == "SEUL") return female ? "seule" : "seul";
  if (name == "WHOOBJ") return self ? "moi" : person_->who;
  if (name == "TAKEWHO") {
    return self ? expand("me {conduire|emmener|accompagner}")
                : expand("{conduire|emmener|accompagner} ") + person_->who;
  }
  if (name == "CALLWHO") return self ? "m'appeler" : "l'appeler";
  if (name == "HISNEWS") return self ? "mes" : "ses";
  if (name == "ISOLATEDLONG") {
    return self ? expand(
                      "{je ne vois plus personne|les journées sont très longues|je parle à mon chat toute la "
                      "journée|je n'ai plus de nouvelles de personne}")
                : expand(
                      "{$WHOOBJ ne voit plus personne|les journées sont longues pour $WHOOBJ|$WHOOBJ se "
                      "sent très {seule|seul}}");
  }
  if (name == "ISOLATED") {
    return self ? expand(
                      "{Je trouve les journées très longues|Je n'ai personne à qui parler|Je déprime un peu}")
                : expand(
                      "{$WHOCAP trouve les journées très longues|$WHOCAP n'a personne à qui parler|$WHOCAP "
                      "déprime un peu}");
  }
  if (name == "SEEWHO") return self ? "me voir" : (female ? "la voir" : "le voir");
  if (name == "NOCOMPUTER") return self ? "je n'ai pas d'ordinateur" : "il n'y a pas d'ordinateur chez eux";
  if (name == "WHOCAP") {
    if (self) return "Je";
    std::string who = person_->who;
    who[0] = static_cast<char>(who[0] - 'a' + 'A');
    return who;
  }
  if (area_ == nullptr) return "Vitry";
  if (name == "PLACE") return place_phrase(*area_);
  if (name == "WHERE")
    return chance(0.5) ? area_->aliases[roll(area_->aliases.size())]
                       : area_->streets[roll(area_->streets.size())];
  if (name == "STREET") return area_->streets[roll(area_->streets.size())];
  if (name == "LANDMARK") return area_->landmarks[roll(area_->landmarks.size())];
  if (name == "ALIAS") return area_->aliases[roll(area_->aliases.size())];
  return std::string(name);
}

std::string Traffic::place_phrase(const Area& area) {
  const std::size_t k = roll(10);
  if (k < 5) return area.streets[roll(area.streets.size())];
  if (k < 7) return "près de " + area.landmarks[roll(area.landmarks.size())];
  if (k < 9)
    return expand("{dans le quartier|quartier|secteur|du côté de} ") +
           area.aliases[roll(area.aliases.size())];
  return area.streets[roll(area.streets.size())] + ", " + expand("{quartier|secteur} ") +
         area.aliases[roll(area.aliases.size())];
}

std::string Traffic::pick_source(std::string_view channel) {
  return std::string(channel) + "-" + std::to_string(roll(sources_));
}

std::string Traffic::request_text(const Area* area, std::string& category, std::string& subject,
                                  bool english) {
  area_ = area;
  if (english) {
    category = "groceries";
    return expand(kEnglishRequests[roll(kEnglishRequests.size())]);
  }
  const auto& all = people();
  person_ = chance(0.55) ? &all[roll(2)] : &all[2 + roll(all.size() - 2)];
  std::size_t w = roll(1000);
  std::size_t need = 0;
  while (need + 1 < kNeedWeights.size() && w >= static_cast<std::size_t>(kNeedWeights[need])) {
    w -= static_cast<std::size_t>(kNeedWeights[need]);
    ++need;
  }
  const Need& n = needs()[need];
  if (n.first_person) person_ = &all[roll(2)];
  category = n.category;
  std::vector<std::string> parts;
  if (chance(0.55)) {
    parts.push_back(person_->self ? expand(kSelfSituations[roll(kSelfSituations.size())])
                                  : expand(kOtherSituations[roll(kOtherSituations.size())]));
  }
  parts.push_back(expand(n.sentences[roll(n.sentences.size())]));
  if (area != nullptr) {
    std::string where = person_->self ? expand("{J'habite|Je suis|Je vis|C'est} ")
                                      : expand(person_->female ? "{Elle habite|Elle vit|C'est} "
                                                               : "{Il habite|Il vit|C'est} ");
    where += place_phrase(*area) + ".";
    parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(roll(parts.size() + 1)), std::move(where));
  } else if (chance(0.5)) {
    parts.push_back(expand("{J'habite|Je suis|C'est} {à Vitry|sur Vitry|à Vitry-sur-Seine}."));
  }
  const std::size_t details = 1 + roll(channel_email_ ? 4 : 3);
  for (std::size_t i = 0; i < details; ++i) parts.push_back(expand(kDetails[roll(kDetails.size())]));
  if (chance(0.7)) parts.push_back(expand(kSpecifics[roll(kSpecifics.size())]));
  std::string text;
  for (const auto& p : parts) text += (text.empty() ? "" : " ") + p;
  subject = expand(
      "{Demande d'aide|Besoin d'aide|Aide {pour ma mère|pour mon père|pour un voisin|svp}|Question|Petit "
      "service|Coup de main}");
  return text;
}

std::string Traffic::offer_text(const Area* area, std::string& category, bool english) {
  area_ = area;
  person_ = nullptr;
  if (english) {
    category = "groceries";
    return expand(kEnglishOffers[roll(kEnglishOffers.size())]);
  }
  const std::size_t k = roll(kOffers.size());
  category = kOfferCategories[k];
  std::string text = chance(0.6) ? expand(kOfferIntros[roll(kOfferIntros.size())]) : std::string();
  text += expand(
      " {Je propose de|Je peux ~|Je suis disponible pour|Dispo pour|Je me propose pour|Si besoin, je peux "
      "~|Je "
      "voudrais ~|Avec plaisir je peux} " +
      std::string(kOffers[k]) +
      " {pour les personnes âgées du quartier|pour les voisins|pour celles et ceux qui en ont besoin|pour "
      "les "
      "familles|pour les soignants|pour les personnes seules|pour qui veut|} {le $DAY|les week-ends|en "
      "semaine|après $HOUR|le matin|le soir|le $DAY et le $DAY2|jusqu'en $MONTH|}.");
  if (area != nullptr)
    text += expand(" {J'habite|Je suis|Je vis|Je loge|On est} ") + place_phrase(*area) + ".";
  if (chance(0.6)) {
    text += expand(
        " {Concrètement|Par exemple|En gros|Je sais aussi|Je peux aussi|Dans mes cordes|Ce que je sais "
        "faire}: $SKILLS.");
  }
  if (chance(0.6)) text += " " + expand(kAboutMe[roll(kAboutMe.size())]);
  const std::size_t extra = 1 + roll(2);
  for (std::size_t i = 0; i < extra; ++i) text += " " + expand(kOfferDetails[roll(kOfferDetails.size())]);
  text += expand(
      " {Écrivez-moi en MP|Contactez-moi en message privé|N'hésitez pas à me contacter|Faites signe|Répondez "
      "ici ou en MP|Un message et j'arrive}{ !|.| 🙂}");
  return text;
}

std::string Traffic::info_text(const Area* area) {
  area_ = area;
  person_ = nullptr;
  std::string text =
      one(kInfoEvents) +
      expand(
          " {de $DAY|du $DATE|de ce week-end|de la semaine prochaine|de $DAY prochain|prévue le "
          "$DATE} {est déplacée|aura lieu|reprend|est avancée|se tiendra|est maintenue|change de "
          "lieu et se fera} ");
  text += area != nullptr && chance(0.6) ? "près de " + area->landmarks[roll(area->landmarks.size())]
                                         : std::string(one(kVenues));
  text += expand(" {de $HOUR à $HOUR2|à partir de $HOUR|dès $HOUR|jusqu'à $HOUR2|}.");
  if (chance(0.4)) {
    text += expand(
        " {On trouvera|Au programme|Il y aura|Sur place|On distribuera|Vous trouverez|Il reste}: $GOODS.");
  }
  const std::size_t more = 1 + roll(3);
  for (std::size_t i = 0; i < more; ++i) text += " " + expand(kInfoMore[roll(kInfoMore.size())]);
  if (chance(0.6)) {
    text += expand(
        " {Pensez à|N'oubliez pas|Venez avec|Prévoyez} {vos sacs|votre attestation|un masque|un justificatif "
        "de "
        "domicile|de la monnaie|un cabas|une pièce d'identité|vos propres boîtes}.");
  }
  text += expand(
      " {Merci de relayer|À relayer|Dites-le aux voisins|Parlez-en à vos voisins|Prévenez les "
      "voisins|Pensez aux voisins sans internet}{ !|.| 🙏}");
  return text;
}

std::string Traffic::thanks_text() {
  area_ = nullptr;
  person_ = nullptr;
  return expand(
      "{Un grand merci à|Merci à|Merci beaucoup à|Mille mercis à|Je tenais à remercier} {$FIRST|la voisine "
      "d'en "
      "face|au monsieur de la rue d'à côté|aux bénévoles du réseau|toute l'équipe|$FIRST et $FIRST} {qui m'a "
      "fait les courses|qui a promené mon chien $PETNAME|pour les masques|pour le trajet à $HOSP|pour le "
      "colis|pour les appels|qui a réparé $REPAIRED} {hier|samedi|ce matin|cette semaine|$DAY dernier}. "
      "{C'est réglé pour moi|Problème réglé|Plus besoin d'aide pour moi|Tout est arrangé|Ma demande peut "
      "être "
      "close}, {grâce à vous|vous êtes formidables|quel quartier|ça fait chaud au cœur}. {{Elle|Il} est "
      "{venue|venu|passé|passée} {en moins d'une heure|le jour même|malgré la pluie|à $HOUR pile|avec son "
      "fils} "
      "et {a tout rangé|m'a même apporté des fleurs|est resté discuter|a refusé que je paie|a promis de "
      "repasser $DAY}.|On a même pris un café {sur le palier|à la fenêtre|en gardant les distances}.|} "
      "{Bonne "
      "journée à "
      "tous|Prenez soin de vous|Bon courage à tous|À bientôt}{ !|.}");
}

Post Traffic::next() {
  Post p;
  ++mix_.posts;
  p.lang = "fr";
  const std::size_t ch = roll(100);
  p.channel = ch < 40 ? "chat" : ch < 75 ? "webform" : "email";
  channel_email_ = p.channel == "email";
  p.source = pick_source(p.channel);
  const std::string first = one(kFirstNames);
  const std::string surname = one(kSurnames);
  const std::string id = std::to_string(roll(10000000));
  if (p.channel == "chat") {
    p.sender = std::string(expand("{voisin|voisine|habitant|quartier}")) + id;
  } else if (p.channel == "webform") {
    p.sender = "form" + id;
  } else {
    p.sender = "resident" + id + "@mail.example";
  }

  // A request again, on another channel: it must not be routed twice.
  if (!recent_.empty() && chance(0.03)) {
    ++mix_.reposts;
    const std::string& earlier = recent_[roll(recent_.size())];
    p.text =
        chance(0.5) ? earlier : expand("{Je relance|Je repose ma demande|Toujours d'actualité} : ") + earlier;
    return p;
  }

  const std::size_t kind = roll(100);
  const bool english = chance(0.03);
  if (english) {
    ++mix_.english;
    p.lang = "en";
  }
  const Area* area = nullptr;
  if (chance(0.9)) {
    area = &areas_[roll(areas_.size())];
  } else {
    ++mix_.no_area;
  }
  std::string category;
  std::string subject;
  std::string kind_name;
  // A quarter of chat posts are one line: under moderate_dedup's eight
  // words, so never compared, as real one-liners.
  if (p.channel == "chat" && !english && area != nullptr && kind < 87 && chance(0.25)) {
    area_ = area;
    person_ = nullptr;
    const bool offer = kind >= 67;
    for (int attempt = 0; attempt < 4; ++attempt) {
      p.text = offer ? expand(kOneLinerOffers[roll(kOneLinerOffers.size())])
                     : expand(kOneLiners[roll(kOneLiners.size())]);
      if (word_count(p.text) < 8) break;
    }
    if (word_count(p.text) < 8) {
      ++mix_.one_liners;
      if (offer) {
        ++mix_.offers;
      } else {
        ++mix_.requests;
      }
      tidy(p.text);
      return p;
    }
  }
  if (kind < 67) {
    ++mix_.requests;
    kind_name = "request";
    p.text = request_text(area, category, subject, english);
    if (recent_.size() >= 500) recent_.pop_front();
    recent_.push_back(p.text);
  } else if (kind < 87) {
    ++mix_.offers;
    kind_name = "offer";
    p.text = offer_text(area, category, english);
    subject = expand("{Proposition d'aide|Je peux aider|Dispo}");
  } else if (kind < 97) {
    ++mix_.infos;
    kind_name = "info";
    p.text = info_text(area);
    subject = "Info";
  } else {
    ++mix_.thanks;
    kind_name = "other";
    p.text = thanks_text();
    subject = "Merci";
  }
  if (!english) {
    if (chance(0.6)) {
      p.text = expand("{Bonjour|Bonjour à tous|Bonsoir|Salut|Coucou les voisins|Bonjour le groupe}") +
               (p.channel == "email" ? ",\n\n" : expand("{ !|.|,} ")) + p.text;
    }
    if (chance(0.6)) {
      p.text += expand(" {Merci d'avance|Merci beaucoup|Merci pour votre aide|Un grand merci}{ !|.| 🙏}");
    }
  }
  // Contact details in the text: most are the sender's own, some someone
  // else's (the post is then held for a person).
  if (kind_name == "request" && !english) {
    char digits[16];
    (void)std::snprintf(digits, sizeof digits, "%02zu %02zu", roll(100), roll(100));
    if (chance(0.10)) {
      ++mix_.own_contact;
      p.text +=
          expand(" {Vous pouvez m'appeler au|Mon numéro :|Me joindre au|Mon tel :} 06 39 98 ") + digits + ".";
    } else if (chance(0.02)) {
      ++mix_.others_contact;
      p.text += expand(" {Son numéro|Le numéro de ma voisine|Appelez-la au} : 01 99 00 ") + digits + ".";
    }
  }
  if (p.channel == "chat" && chance(0.3)) p.text += " " + first;
  if (p.channel == "email") {
    p.subject = subject;
    p.text += "\n\n" + first + " " + surname;
  }
  if (p.channel == "webform" && chance(0.5) && area != nullptr) {
    ++mix_.with_fields;
    p.fields["kind"] = kind_name;
    p.fields["category"] = category;
    p.fields["area"] = area->id;
  }
  if (p.channel != "chat" || chance(0.3)) {
    char phone[32];
    (void)std::snprintf(phone, sizeof phone, "06 39 98 %02zu %02zu", roll(100), roll(100));
    p.private_data["name"] = first + " " + surname;
    p.private_data["phone"] = phone;
  }
  if (!english) add_adverbs(p.text, rng_);
  tidy(p.text);
  if (p.channel == "chat" && !english) {
    if (chance(0.5)) sms_style(p.text, rng_);
    if (chance(0.6)) typos(p.text, 0.015, rng_);
  } else if (p.channel == "webform" && chance(0.3)) {
    typos(p.text, 0.008, rng_);
  }
  return p;
}

}  // namespace relais::bench
