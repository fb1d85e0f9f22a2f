// bench/ingest: how many posts per second relaisd stores and acknowledges,
// and how long an acknowledgement takes, next to this machine's floor.
//
// Several client threads, each with its own relais::Client, submit posts to a
// server and record each post's ack latency. The servers are relaisd (spawned
// here with a temporary state directory, or already running at --endpoint)
// and the floor (floor.cpp: a bare ROUTER + Boost.JSON + SQLite WAL server
// that stores in batches and acks after commit, run as a child process of
// this same program). Runs alternate floor, relaisd, floor, relaisd, ... and
// the medians are reported with their ratio. See bench/README.md.
#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "load.hpp"
#include "protocol.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using relais::bench::build_plugin_dir;
using relais::bench::Child;
using relais::bench::Clock;
using relais::bench::filesystem_of;
using relais::bench::fixed;
using relais::bench::median;
using relais::bench::now_local;
using relais::bench::Percentiles;
using relais::bench::percentiles_json;
using relais::bench::Probe;
using relais::bench::read_line_starting;
using relais::bench::self_exe;
using relais::bench::Server;
using relais::bench::toml_string;
using std::chrono::milliseconds;

struct Options {
  std::string endpoint;             // a relaisd already running; empty: spawn one
  std::string relaisd;              // the relaisd to spawn
  std::string config;               // base config for the spawned relaisd; empty: generated
  std::string plugins = "default";  // generated config: the two light plugins, or none
  std::string plugin_dir;           // empty: the build's lib/relais/plugins
  // A second relaisd (an earlier build) measured in the same runs, so that a
  // change is compared on the same machine at the same moment.
  std::string baseline;
  std::string baseline_plugins = "none";
  std::size_t clients = 4;
  std::size_t posts = 100000;
  std::size_t window = 256;
  double rate = 0;  // posts/s offered in total; 0: closed loop, as fast as possible
  std::size_t runs = 3;
  std::size_t warmup = 2000;
  std::string only = "both";
  std::string synchronous = "full";
  std::size_t batch_max = 1024;
  bool floor_validate = false;
  std::string tmpdir;
  bool keep = false;
  bool settle = true;  // wait for relaisd's pipeline after each run
  bool as_json = false;
  int ack_timeout_ms = 10000;
  int start_timeout_ms = 30000;
  // The floor server mode (internal: the bench runs itself with it).
  std::string serve_floor;
  std::string floor_db;
};

// ---------------------------------------------------------------------------
// Posts: French text of 300 to 600 bytes, as a mutual-aid network gets them.

constexpr std::array kOpenings = {
    "Bonjour à tous,",
    "Bonsoir,",
    "Bonjour,",
    "Salut le quartier !",
    "Bonjour, je me permets d'écrire ici.",
    "Bonjour à l'équipe du réseau d'entraide,",
    "Bonjour à toutes et à tous,",
};

constexpr std::array kRequests = {
    "J'ai 78 ans et je ne peux plus porter mes courses depuis mon opération de la hanche.",
    "Je cherche quelqu'un qui pourrait aller à la pharmacie pour moi, l'ordonnance est prête.",
    "Nous avons besoin d'aide pour descendre des cartons du troisième étage sans ascenseur.",
    "Ma voisine est seule avec deux enfants et aurait besoin de couches et de lait infantile.",
    "Je cherche une personne pour promener mon chien le matin pendant mon hospitalisation.",
    "Quelqu'un pourrait-il m'aider à remplir un dossier de la CAF ? Le formulaire m'échappe.",
    "Mon frigo est tombé en panne et j'ai besoin de garder mon insuline au frais.",
    "Je cherche un trajet pour aller à mon rendez-vous à l'hôpital Henri-Mondor jeudi.",
    "J'aurais besoin d'un coup de main pour monter un lit pour mon petit-fils.",
    "Nous cherchons des repas pour une famille de cinq personnes hébergée au gymnase.",
};

constexpr std::array kOffers = {
    "Je propose de faire les courses des personnes âgées du quartier le mardi et le jeudi.",
    "Je peux aider en soutien scolaire, maths et français, du CP à la troisième.",
    "Disponible pour des trajets en voiture vers l'hôpital le week-end, j'ai un break.",
    "J'ai des légumes en trop au jardin partagé : courgettes, tomates et haricots à donner.",
    "Je propose des appels de courtoisie aux personnes isolées, une fois par semaine.",
};

constexpr std::array kInfos = {
    "La distribution alimentaire de samedi est déplacée à la salle des fêtes, de 10 h à 13 h.",
    "Le centre social rouvre ses permanences administratives lundi prochain.",
    "Attention, la ligne de bus 180 ne dessert plus l'arrêt Mairie jusqu'à la fin du mois.",
};

// At most 100 bytes each, so that a text lands within 300 to 600 bytes.
constexpr std::array kDetails = {
    "J'habite quai Jules-Guesde, près de l'arrêt de bus.",
    "Je suis au rez-de-chaussée, la sonnette ne marche pas, il faut frapper fort.",
    "Je suis disponible surtout en fin de journée, après 17 heures.",
    "Le plus simple est de passer par la loge de la gardienne.",
    "Je peux rembourser les courses en espèces ou par chèque.",
    "La supérette la plus proche est avenue de la République.",
    "Il faudrait que ce soit fait avant vendredi si possible.",
    "Merci de ne pas venir si vous avez de la fièvre, je suis fragile.",
    "Il y a un interphone au nom de Martin, deuxième porte à gauche.",
    "Je n'ai pas de voiture et les taxis sont trop chers pour moi.",
    "Mes enfants habitent à Lyon et ne peuvent pas venir avant l'été.",
    "Je parle un peu anglais et espagnol si ça peut servir.",
    "C'est au quatrième étage, l'ascenseur est en panne depuis lundi.",
    "Je peux aussi être joint par téléphone le matin.",
    "Ce n'est pas très urgent mais ça m'aiderait beaucoup.",
    "Les magasins ferment tôt le dimanche dans notre rue.",
};

constexpr std::array kClosings = {
    "Merci beaucoup d'avance pour votre aide.",
    "Merci à celles et ceux qui prendront le temps de répondre.",
    "Bonne journée à toutes et à tous.",
    "Prenez soin de vous.",
    "Merci, c'est vraiment gentil.",
};

constexpr std::array kSubjects = {"Courses",     "Besoin d'aide", "Pharmacie",
                                  "Proposition", "Information",   "Trajet hôpital"};
constexpr std::array kCategories = {"groceries", "pharmacy", "transport", "childcare",
                                    "paperwork", "housing",  "food",      "company"};
constexpr std::array kAreas = {"vitry_port_a_langlais", "ivry_centre", "choisy_gare", "villejuif_aragon"};
constexpr std::array kNames = {"Mireille P.", "Jean-Luc D.", "Fatima B.",
                               "Hélène R.",   "Karim S.",    "Odile M."};

class PostMaker {
 public:
  explicit PostMaker(std::uint64_t seed) : rng_(seed) {}

  template <class Array>
  const char* pick(const Array& a) {
    return a[std::uniform_int_distribution<std::size_t>(0, a.size() - 1)(rng_)];
  }
  int roll(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string text() {
    const auto target = static_cast<std::size_t>(std::uniform_int_distribution<int>(300, 500)(rng_));
    std::string t = pick(kOpenings);
    t += ' ';
    const int kind = roll(20);
    t += kind < 15 ? pick(kRequests) : kind < 19 ? pick(kOffers) : pick(kInfos);
    const std::string closing = pick(kClosings);
    std::vector<std::size_t> order(kDetails.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng_);
    for (std::size_t i = 0; t.size() + 1 + closing.size() < target; ++i) {
      t += ' ';
      t += kDetails[order[i % order.size()]];
    }
    t += ' ';
    t += closing;
    return t;
  }

  relais::Post post() {
    relais::Post p;
    p.source = "bench";
    p.channel = "webform";
    p.sender = "voisin" + std::to_string(roll(5000));
    if (roll(10) < 3) p.subject = pick(kSubjects);
    p.text = text();
    char when[64];
    (void)std::snprintf(when, sizeof when, "2020-04-%02dT%02d:%02d:%02d+02:00", 1 + roll(28), roll(24),
                        roll(60), roll(60));
    p.received_at = when;
    p.lang = "fr";
    p.fields["category"] = pick(kCategories);
    p.fields["area"] = pick(kAreas);
    if (roll(10) < 6) {
      p.private_data["name"] = pick(kNames);
      char phone[64];
      (void)std::snprintf(phone, sizeof phone, "01 99 %02d %02d %02d", roll(100), roll(100), roll(100));
      p.private_data["phone"] = phone;
    }
    return p;
  }

 private:
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------------------
// Measurement.

struct RunResult {
  std::string target;  // floor | relaisd
  std::size_t run = 0;
  std::size_t posts = 0;
  double elapsed_s = 0;    // first send (or intended start) to last ack
  double posts_per_s = 0;  // acknowledged posts / elapsed_s
  Percentiles latency;     // the reported latency (see latency_from)
  Percentiles sdk;         // SubmitResult::latency: first send to ack
  std::size_t stored = 0, duplicates = 0, rejected = 0, gave_up = 0, resent = 0;
  double settle_s = 0;  // relaisd: after the last ack, until no post is left `received`
  double settled_posts_per_s = 0;
  double server_cpu_s = -1;    // CPU of the server process during the run (-1: unknown)
  double server_written = -1;  // bytes the server wrote during the run (-1: unknown)
  double client_cpu_s = 0;     // CPU of this process (the clients) during the run
  std::string error;
};

// The posts of one client: 256 generated posts, sent round and round (each
// time with a new external_id).
class IngestFeed : public relais::bench::PostFeed {
 public:
  explicit IngestFeed(std::size_t c) {
    PostMaker maker(0x5eed0000ULL + c);
    pool_.reserve(256);
    for (int i = 0; i < 256; ++i) pool_.push_back(maker.post());
  }
  relais::Post hello() override { return pool_.front(); }
  relais::Post& next(std::size_t k) override { return pool_[k % pool_.size()]; }

 private:
  std::vector<relais::Post> pool_;
};

// Submits `posts` posts with o.clients clients; latency and throughput.
RunResult load(const Options& o, const std::string& endpoint, const std::string& prefix, std::size_t posts,
               Child* server) {
  relais::bench::LoadOptions lo;
  lo.clients = o.clients;
  lo.window = o.window;
  lo.rate = o.rate;
  lo.ack_timeout_ms = o.ack_timeout_ms;
  lo.start_timeout_ms = o.start_timeout_ms;
  double server_cpu0 = -1;
  double server_written0 = -1;
  auto l = relais::bench::run_load(
      lo, endpoint, prefix, posts, [](std::size_t c) { return std::make_unique<IngestFeed>(c); },
      [&] {
        server_cpu0 = server != nullptr ? server->cpu_seconds() : -1;
        server_written0 = server != nullptr ? server->written_bytes() : -1;
      });
  RunResult res;
  res.posts = l.posts;
  res.elapsed_s = l.elapsed_s;
  res.posts_per_s = l.posts_per_s;
  res.latency = l.latency;
  res.sdk = l.sdk;
  res.stored = l.stored;
  res.duplicates = l.duplicates;
  res.rejected = l.rejected;
  res.gave_up = l.gave_up;
  res.resent = l.resent;
  res.client_cpu_s = l.client_cpu_s;
  res.error = std::move(l.error);
  if (server != nullptr) {
    res.server_cpu_s = server->cpu_seconds() - server_cpu0;
    if (server_written0 >= 0) res.server_written = server->written_bytes() - server_written0;
  }
  res.settled_posts_per_s = res.posts_per_s;
  return res;
}

// ---------------------------------------------------------------------------
// Servers.

// `target` names the server and its state directory: relaisd, or baseline
// (--baseline, with --baseline-plugins).
Server start_relaisd(Options o, const fs::path& base, const std::string& target = "relaisd") {
  if (target == "baseline") {
    o.relaisd = o.baseline;
    o.plugins = o.baseline_plugins;
    o.config.clear();
    o.endpoint.clear();
  }
  Server s;
  s.target = target;
  s.has_pipeline = true;
  if (!o.endpoint.empty()) {
    s.endpoint = o.endpoint;
    Probe(s.endpoint).wait_ready(nullptr, milliseconds(o.start_timeout_ms), s.log);
    return s;
  }
  fs::path relaisd = o.relaisd;
  if (relaisd.empty()) relaisd = self_exe().parent_path().parent_path() / "daemon" / "relaisd";
  if (!fs::exists(relaisd)) {
    throw std::runtime_error(relaisd.string() + ": no relaisd there; build it or pass --relaisd PATH");
  }
  const fs::path dir = base / target;
  fs::create_directories(dir);
  fs::path config = o.config;
  if (config.empty()) {
    // The defaults of config/relais.toml, with the bench's batch size and
    // durability; the state directory comes from --state-dir.
    config = base / (target + ".toml");
    std::ofstream out(config);
    out << "[daemon]\nstate_dir = " << toml_string(dir.string()) << "\n\n"
        << "[log]\nlevel = \"info\"\n\n"
        << "[ingest]\nendpoints = []\nmax_message_bytes = 262144\nmax_text_bytes = 65536\n"
        << "batch_max = " << o.batch_max << "\n\n"
        << "[storage]\nbackend = \"sqlite\"\npath = \"relais.db\"\nsynchronous = "
        << toml_string(o.synchronous) << "\n\n"
        << "[moderation]\nhold_score = 5.0\nreject_score = 10.0\n";
    // The plugin entries of config/relais.toml.
    if (o.plugins == "default") {
      out << "\n[[moderate]]\nplugin = \"moderate_basic\"\n\n[[triage]]\nplugin = \"triage_basic\"\n";
    }
    if (!out) throw std::runtime_error(config.string() + ": cannot write");
  }
  s.endpoint = "ipc://" + (dir / "ingest.sock").string();
  s.log = base / (target + ".log");
  std::vector<std::string> argv{relaisd.string(), "--config", config.string(), "--state-dir", dir.string()};
  if (o.plugins != "none") {
    fs::path plugin_dir = o.plugin_dir;
    if (plugin_dir.empty()) plugin_dir = build_plugin_dir();
    argv.insert(argv.end(), {"--plugin-dir", plugin_dir.string()});
  }
  s.child = std::make_unique<Child>("relaisd", argv, s.log);
  Probe(s.endpoint).wait_ready(s.child.get(), milliseconds(o.start_timeout_ms), s.log);
  return s;
}

// relaisd acks a post once stored; its pipeline then moderates, triages and
// routes it, and commits that later. Waits until nothing is left to do, so
// that a run does not leave work for the next one; the seconds it took.
double settle(Server& s) {
  if (!s.has_pipeline) return 0;
  const auto start = Clock::now();
  Probe probe(s.endpoint);
  const auto until = start + std::chrono::minutes(10);
  while (Clock::now() < until) {
    auto left = probe.unfinished();
    if (!left) throw std::runtime_error("relaisd did not answer a posts query");
    if (!*left) return std::chrono::duration<double>(Clock::now() - start).count();
    std::this_thread::sleep_for(milliseconds(5));
  }
  throw std::runtime_error("relaisd still has posts in state `received` after 10 minutes");
}

RunResult measure(const Options& o, Server& s, const std::string& prefix, std::size_t posts,
                  std::size_t run) {
  RunResult r = load(o, s.endpoint, prefix, posts, s.child.get());
  r.target = s.target;
  r.run = run;
  if (!r.error.empty()) return r;
  const double cpu0 = s.child ? s.child->cpu_seconds() : -1;
  const double written0 = s.child ? s.child->written_bytes() : -1;
  r.settle_s = o.settle ? settle(s) : 0;
  if (s.child && r.server_cpu_s >= 0) r.server_cpu_s += s.child->cpu_seconds() - cpu0;
  if (s.child && r.server_written >= 0 && written0 >= 0)
    r.server_written += s.child->written_bytes() - written0;
  r.settled_posts_per_s = static_cast<double>(r.posts) / (r.elapsed_s + r.settle_s);
  return r;
}

// ---------------------------------------------------------------------------
// Reporting.

struct Summary {
  std::size_t runs = 0;
  double posts_per_s = 0, settled_posts_per_s = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double sdk_p50 = 0, sdk_p99 = 0, settle_s = 0, server_cpu_ms_per_1k = -1, client_cpu_ms_per_1k = 0;
  double server_written_per_post = -1;
};

Summary summarize(const std::vector<RunResult>& results, const std::string& target) {
  Summary s;
  std::vector<double> pps, settled, p50, p90, p99, p999, mx, sp50, sp99, settle_s, scpu, ccpu, written;
  for (const auto& r : results) {
    if (r.target != target || !r.error.empty()) continue;
    ++s.runs;
    pps.push_back(r.posts_per_s);
    settled.push_back(r.settled_posts_per_s);
    p50.push_back(r.latency.p50);
    p90.push_back(r.latency.p90);
    p99.push_back(r.latency.p99);
    p999.push_back(r.latency.p999);
    mx.push_back(r.latency.max);
    sp50.push_back(r.sdk.p50);
    sp99.push_back(r.sdk.p99);
    settle_s.push_back(r.settle_s);
    if (r.server_cpu_s >= 0) scpu.push_back(r.server_cpu_s * 1e6 / static_cast<double>(r.posts));
    ccpu.push_back(r.client_cpu_s * 1e6 / static_cast<double>(r.posts));
    if (r.server_written >= 0) written.push_back(r.server_written / static_cast<double>(r.posts));
  }
  s.posts_per_s = median(pps);
  s.settled_posts_per_s = median(settled);
  s.p50 = median(p50);
  s.p90 = median(p90);
  s.p99 = median(p99);
  s.p999 = median(p999);
  s.max = median(mx);
  s.sdk_p50 = median(sp50);
  s.sdk_p99 = median(sp99);
  s.settle_s = median(settle_s);
  if (!scpu.empty()) s.server_cpu_ms_per_1k = median(scpu);
  s.client_cpu_ms_per_1k = median(ccpu);
  if (!written.empty()) s.server_written_per_post = median(written);
  return s;
}

json::object summary_json(const Summary& s) {
  return {{"runs", s.runs},
          {"posts_per_s", s.posts_per_s},
          {"settled_posts_per_s", s.settled_posts_per_s},
          {"latency_ms",
           json::object{{"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"p999", s.p999}, {"max", s.max}}},
          {"sdk_latency_ms", json::object{{"p50", s.sdk_p50}, {"p99", s.sdk_p99}}},
          {"settle_s", s.settle_s},
          {"server_cpu_ms_per_1000_posts", s.server_cpu_ms_per_1k},
          {"client_cpu_ms_per_1000_posts", s.client_cpu_ms_per_1k},
          {"server_written_bytes_per_post", s.server_written_per_post}};
}

void print_row(std::ostream& out, const std::string& label, const std::string& target, double pps, double p50,
               double p99, double p999, double max, double settle_s, double settled, double cpu_per_1k) {
  out << std::left << std::setw(8) << label << std::setw(9) << target << std::right << std::setw(9)
      << fixed(pps, 0) << std::setw(9) << fixed(p50, 2) << std::setw(9) << fixed(p99, 2) << std::setw(10)
      << fixed(p999, 2) << std::setw(9) << fixed(max, 2) << std::setw(10) << fixed(settle_s, 2)
      << std::setw(10) << fixed(settled, 0) << std::setw(11)
      << (cpu_per_1k >= 0 ? fixed(cpu_per_1k, 1) : std::string("-")) << "\n";
}

void print_header(std::ostream& out) {
  out << std::left << std::setw(8) << "run" << std::setw(9) << "target" << std::right << std::setw(9)
      << "posts/s" << std::setw(9) << "p50 ms" << std::setw(9) << "p99 ms" << std::setw(10) << "p99.9 ms"
      << std::setw(9) << "max ms" << std::setw(10) << "settle s" << std::setw(10) << "settled/s"
      << std::setw(11) << "srv ms/1k"
      << "\n";
}

int run_bench(const Options& o) {
  if (o.clients == 0 || o.posts < o.clients || o.window == 0 || o.runs == 0 || o.rate < 0) {
    std::cerr
        << "ingest: need --clients >= 1, --posts >= --clients, --window >= 1, --runs >= 1, --rate >= 0\n";
    return 2;
  }
  const bool want_floor = o.only != "relaisd";
  const bool want_relaisd = o.only != "floor";

  std::unique_ptr<relais::bench::ScratchDir> scratch;
  try {
    scratch = std::make_unique<relais::bench::ScratchDir>("relais-bench-", o.tmpdir, o.keep);
  } catch (const std::exception& e) {
    std::cerr << "ingest: " << e.what() << "\n";
    return 1;
  }
  const fs::path base = scratch->path();

  // Ids no earlier bench gave (a relaisd at --endpoint keeps its store).
  const auto nonce = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string mode = o.rate > 0 ? "rate " + fixed(o.rate, 0) + " posts/s offered (open loop)"
                                      : std::string("max throughput (closed loop)");
  const std::string latency_from = o.rate > 0
                                       ? "intended send time (open loop; includes any wait for the window)"
                                       : "first send of the post (SubmitResult::latency)";
  utsname un{};
  ::uname(&un);
  const std::string cpu_model = read_line_starting("/proc/cpuinfo", "model name");
  const unsigned cpus = std::thread::hardware_concurrency();

  std::cerr << "relais ingest bench: " << mode << ", " << o.clients << " clients, window " << o.window << ", "
            << o.posts << " posts per run, " << o.runs << " runs, synchronous=" << o.synchronous
            << ", batch_max=" << o.batch_max << "\n"
            << "machine: " << cpus << " CPUs, " << cpu_model << ", Linux " << un.release << "; state in "
            << base << " (" << filesystem_of(base) << ")\n"
            << "latency measured from the " << latency_from << "\n";

  std::vector<RunResult> results;
  std::vector<Server> servers;
  try {
    if (want_floor) {
      servers.push_back(relais::bench::start_floor({.batch_max = o.batch_max,
                                                    .synchronous = o.synchronous,
                                                    .validate = o.floor_validate,
                                                    .start_timeout_ms = o.start_timeout_ms},
                                                   base));
    }
    if (want_relaisd) servers.push_back(start_relaisd(o, base));
    if (want_relaisd && !o.baseline.empty()) servers.push_back(start_relaisd(o, base, "baseline"));
    for (auto& s : servers) {
      if (o.warmup == 0) continue;
      std::cerr << "warming up " << s.target << " with " << o.warmup << " posts\n";
      Options w = o;
      w.rate = 0;
      auto r = measure(w, s, std::to_string(nonce) + "-warmup-" + s.target, std::max(o.warmup, o.clients), 0);
      if (!r.error.empty()) throw std::runtime_error(s.target + " warm-up: " + r.error);
    }
    print_header(std::cerr);
    for (std::size_t run = 1; run <= o.runs; ++run) {
      // relaisd and the baseline swap places every run: neither always
      // follows the floor (whose writes the kernel may still be flushing).
      if (run > 1 && servers.size() == 3) std::swap(servers[1], servers[2]);
      for (auto& s : servers) {
        const std::string prefix = std::to_string(nonce) + "-r" + std::to_string(run) + "-" + s.target;
        auto r = measure(o, s, prefix, o.posts, run);
        if (!r.error.empty())
          throw std::runtime_error(s.target + " run " + std::to_string(run) + ": " + r.error);
        print_row(std::cerr, std::to_string(run), r.target, r.posts_per_s, r.latency.p50, r.latency.p99,
                  r.latency.p999, r.latency.max, r.settle_s, r.settled_posts_per_s,
                  r.server_cpu_s >= 0 ? r.server_cpu_s * 1e6 / static_cast<double>(r.posts) : -1);
        if (r.duplicates + r.resent + r.rejected + r.gave_up > 0) {
          std::cerr << "  note: duplicates=" << r.duplicates << " resent=" << r.resent
                    << " rejected=" << r.rejected << " gave_up=" << r.gave_up << "\n";
        }
        results.push_back(std::move(r));
      }
    }
    for (auto& s : servers) {
      if (!s.child) continue;
      if (!s.child->stop(std::chrono::seconds(60))) {
        std::cerr << s.target << " exited with status " << s.child->exit_code() << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "ingest: " << e.what() << "\n";
    if (!o.keep) std::cerr << "(rerun with --keep to keep " << base << " and the servers' logs)\n";
    return 1;
  }

  const Summary floor = summarize(results, "floor");
  const Summary relaisd = summarize(results, "relaisd");
  const Summary baseline = summarize(results, "baseline");
  const bool with_baseline = want_relaisd && !o.baseline.empty();
  // relaisd against the baseline, run by run: both ran within seconds.
  std::vector<double> baseline_ratios;
  std::vector<double> baseline_cpu_ratios;
  if (with_baseline) {
    for (std::size_t run = 1; run <= o.runs; ++run) {
      const RunResult* d = nullptr;
      const RunResult* b = nullptr;
      for (const auto& r : results) {
        if (r.run != run) continue;
        if (r.target == "relaisd") d = &r;
        if (r.target == "baseline") b = &r;
      }
      if (d == nullptr || b == nullptr || b->posts_per_s <= 0) continue;
      baseline_ratios.push_back(d->posts_per_s / b->posts_per_s);
      if (d->server_cpu_s > 0 && b->server_cpu_s > 0) {
        baseline_cpu_ratios.push_back((d->server_cpu_s / static_cast<double>(d->posts)) /
                                      (b->server_cpu_s / static_cast<double>(b->posts)));
      }
    }
  }
  const bool both = want_floor && want_relaisd;
  const double ratio = both && floor.posts_per_s > 0 ? relaisd.posts_per_s / floor.posts_per_s : 0;
  const double settled_ratio =
      both && floor.settled_posts_per_s > 0 ? relaisd.settled_posts_per_s / floor.settled_posts_per_s : 0;
  std::vector<double> pair_ratios;
  if (both) {
    for (std::size_t run = 1; run <= o.runs; ++run) {
      double f = 0, d = 0;
      for (const auto& r : results) {
        if (r.run != run) continue;
        if (r.target == "floor") f = r.posts_per_s;
        if (r.target == "relaisd") d = r.posts_per_s;
      }
      if (f > 0) pair_ratios.push_back(d / f);
    }
  }
  const bool throughput_met = ratio >= 0.70;
  const bool latency_met = relaisd.p99 <= 5.0;

  if (o.as_json) {
    json::array runs;
    for (const auto& r : results) {
      runs.push_back(json::object{{"run", r.run},
                                  {"target", r.target},
                                  {"posts", r.posts},
                                  {"elapsed_s", r.elapsed_s},
                                  {"posts_per_s", r.posts_per_s},
                                  {"latency_ms", percentiles_json(r.latency)},
                                  {"sdk_latency_ms", percentiles_json(r.sdk)},
                                  {"stored", r.stored},
                                  {"duplicates", r.duplicates},
                                  {"resent", r.resent},
                                  {"settle_s", r.settle_s},
                                  {"settled_posts_per_s", r.settled_posts_per_s},
                                  {"server_cpu_s", r.server_cpu_s},
                                  {"server_written_bytes", r.server_written},
                                  {"client_cpu_s", r.client_cpu_s}});
    }
    json::object out{{"date", now_local()},
                     {"machine", json::object{{"cpus", cpus},
                                              {"cpu", cpu_model},
                                              {"kernel", un.release},
                                              {"state_filesystem", filesystem_of(base)}}},
                     {"options", json::object{{"clients", o.clients},
                                              {"posts", o.posts},
                                              {"window", o.window},
                                              {"rate", o.rate},
                                              {"runs", o.runs},
                                              {"warmup", o.warmup},
                                              {"synchronous", o.synchronous},
                                              {"batch_max", o.batch_max},
                                              {"floor_validate", o.floor_validate},
                                              {"endpoint", o.endpoint}}},
                     {"mode", o.rate > 0 ? "open_loop" : "closed_loop"},
                     {"latency_from", o.rate > 0 ? "intended_send_time" : "first_send"},
                     {"runs", std::move(runs)}};
    if (want_floor) out["floor"] = summary_json(floor);
    if (want_relaisd) out["relaisd"] = summary_json(relaisd);
    if (with_baseline) {
      out["baseline"] = summary_json(baseline);
      json::array br;
      for (double v : baseline_ratios) br.push_back(v);
      json::array bc;
      for (double v : baseline_cpu_ratios) bc.push_back(v);
      out["relaisd_over_baseline"] = json::object{{"posts_per_s", median(baseline_ratios)},
                                                  {"pair_ratios", std::move(br)},
                                                  {"cpu_per_post", median(baseline_cpu_ratios)},
                                                  {"cpu_pair_ratios", std::move(bc)}};
    }
    if (both && o.rate <= 0) {
      json::array pr;
      for (double v : pair_ratios) pr.push_back(v);
      out["ratio"] = ratio;
      out["settled_ratio"] = settled_ratio;
      out["pair_ratios"] = std::move(pr);
    }
    json::object targets;
    if (both && o.rate <= 0) targets["throughput_ratio_ge_0_70"] = throughput_met;
    if (want_relaisd && o.rate > 0) targets["p99_le_5ms"] = latency_met;
    out["targets"] = std::move(targets);
    std::cout << json::serialize(out) << "\n";
    return 0;
  }

  std::cout << "\nmedian of " << o.runs << " runs (" << mode << "; " << o.clients << " clients, window "
            << o.window << ", " << o.posts << " posts per run)\n";
  print_header(std::cout);
  if (want_floor) {
    print_row(std::cout, "median", "floor", floor.posts_per_s, floor.p50, floor.p99, floor.p999, floor.max,
              floor.settle_s, floor.settled_posts_per_s, floor.server_cpu_ms_per_1k);
  }
  if (want_relaisd) {
    print_row(std::cout, "median", "relaisd", relaisd.posts_per_s, relaisd.p50, relaisd.p99, relaisd.p999,
              relaisd.max, relaisd.settle_s, relaisd.settled_posts_per_s, relaisd.server_cpu_ms_per_1k);
  }
  if (with_baseline) {
    print_row(std::cout, "median", "baseline", baseline.posts_per_s, baseline.p50, baseline.p99,
              baseline.p999, baseline.max, baseline.settle_s, baseline.settled_posts_per_s,
              baseline.server_cpu_ms_per_1k);
  }
  std::cout << "latency: ack latency in ms, from the " << latency_from << "\n"
            << "settle: after the last ack, until relaisd's pipeline has finished every post; "
               "srv ms/1k: server CPU ms per 1000 posts\n";
  for (const auto* s : {&floor, &relaisd}) {
    if (s->runs == 0 || s->server_written_per_post < 0) continue;
    std::cout << (s == &floor ? "floor" : "relaisd") << " wrote " << fixed(s->server_written_per_post, 0)
              << " bytes per post (write calls: database and WAL)\n";
  }
  if (both && o.rate <= 0) {
    std::cout << "ratio relaisd/floor posts/s: " << fixed(ratio, 3) << " (per run:";
    for (double v : pair_ratios) std::cout << " " << fixed(v, 3);
    std::cout << "; counting the pipeline's settle time: " << fixed(settled_ratio, 3) << ")\n"
              << "target relaisd >= 70% of the floor: " << (throughput_met ? "met" : "NOT met") << "\n";
  }
  if (with_baseline) {
    std::cout << "relaisd/baseline posts/s: " << fixed(median(baseline_ratios), 3) << " (per run:";
    for (double v : baseline_ratios) std::cout << " " << fixed(v, 3);
    std::cout << ")\nrelaisd/baseline server CPU per post: " << fixed(median(baseline_cpu_ratios), 3)
              << " (per run:";
    for (double v : baseline_cpu_ratios) std::cout << " " << fixed(v, 3);
    std::cout << ")\n";
  }
  if (o.rate > 0) {
    // Open loop: both should run at the offered rate; less means it fell behind.
    for (const auto* s : {&floor, &relaisd}) {
      if ((s == &floor && !want_floor) || (s == &relaisd && !want_relaisd)) continue;
      std::cout << (s == &floor ? "floor" : "relaisd")
                << " kept up with the offered rate: " << (s->posts_per_s >= 0.98 * o.rate ? "yes" : "NO")
                << " (" << fixed(s->posts_per_s, 0) << " posts/s)\n";
    }
  }
  if (want_relaisd && o.rate > 0) {
    std::cout << "target p99 ack latency <= 5 ms at " << fixed(o.rate, 0)
              << " posts/s offered: " << (latency_met ? "met" : "NOT met") << " (relaisd p99 "
              << fixed(relaisd.p99, 2) << " ms)\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ingest: posts/s and ack latency of relaisd, next to this machine's floor (bench/README.md)"};
  Options o;
  app.add_option("--endpoint", o.endpoint, "a relaisd already running (default: spawn one)");
  app.add_option("--relaisd", o.relaisd,
                 "the relaisd to spawn (default: ../daemon/relaisd from this program)");
  app.add_option("--config", o.config,
                 "config file for the spawned relaisd (default: generated; ingest.endpoints must be empty)");
  app.add_option(
         "--plugins", o.plugins,
         "the generated config's plugins: default (moderate_basic and triage_basic: ingest's own cost; "
         "bench/pipeline runs the shipped set) or none; none "
         "also passes no --plugin-dir, for a relaisd from before plugins")
      ->check(CLI::IsMember({"default", "none"}))
      ->capture_default_str();
  app.add_option("--plugin-dir", o.plugin_dir, "the spawned relaisd's --plugin-dir (default: the build's)");
  app.add_option("--baseline", o.baseline,
                 "another relaisd (an earlier build) to measure in the same runs, after relaisd");
  app.add_option("--baseline-plugins", o.baseline_plugins, "--plugins for the baseline")
      ->check(CLI::IsMember({"default", "none"}))
      ->capture_default_str();
  app.add_option("--clients", o.clients, "client threads, each with its own relais::Client")
      ->capture_default_str();
  app.add_option("--posts", o.posts, "posts per run, over all clients")->capture_default_str();
  app.add_option("--window", o.window, "posts in flight per client")->capture_default_str();
  app.add_option("--rate", o.rate, "posts/s offered in total, open loop (0: as fast as possible)")
      ->capture_default_str();
  app.add_option("--runs", o.runs, "runs per server; medians are reported")->capture_default_str();
  app.add_option("--warmup", o.warmup, "posts sent to each server before the runs")->capture_default_str();
  app.add_option("--only", o.only, "which servers to measure")
      ->check(CLI::IsMember({"both", "floor", "relaisd"}))
      ->capture_default_str();
  app.add_option("--synchronous", o.synchronous, "storage.synchronous of both servers")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  app.add_option("--batch-max", o.batch_max, "most posts per transaction, both servers")
      ->capture_default_str();
  app.add_flag("--floor-validate", o.floor_validate, "the floor validates requests as relaisd does");
  app.add_option("--tmpdir", o.tmpdir, "where the temporary state directories go (default: $TMPDIR or /tmp)");
  app.add_flag("--keep", o.keep, "keep the state directories and logs");
  app.add_flag("--settle,!--no-settle", o.settle,
               "after each relaisd run, wait until its pipeline has finished every post (default: yes)");
  app.add_option("--ack-timeout", o.ack_timeout_ms, "ms before a client resends a post")
      ->capture_default_str();
  app.add_option("--start-timeout", o.start_timeout_ms, "ms to wait for a server to answer a ping")
      ->capture_default_str();
  app.add_flag("--json", o.as_json, "print the results as one JSON object");
  app.add_option("--serve-floor", o.serve_floor, "internal: run the floor server on this endpoint")
      ->group("");
  app.add_option("--floor-db", o.floor_db, "internal: the floor server's database")->group("");
  CLI11_PARSE(app, argc, argv);

  if (!o.serve_floor.empty()) {
    return relais::bench::serve_floor(o.serve_floor, o.floor_db, o.batch_max, o.synchronous,
                                      o.floor_validate);
  }
  return run_bench(o);
}
