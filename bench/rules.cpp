// bench/rules: what moderate_rules costs per post with 10, 1,000 and 10,000
// keyword rules, loaded through relaisd's own plugin loader from a parsed
// config, as relaisd loads it. The three sizes are measured in every run,
// in an order that rotates from run to run, so that noise on this machine
// hits them alike; the median of the runs is reported. See README.md.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "scratch.hpp"
#include "stats.hpp"
#include "text.hpp"

namespace {

using relais::bench::median;
using relais::bench::thousands;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int runs = 9;
  int posts = 2000;        // generated posts
  std::string corpus;      // JSON Lines with "text" (and "subject"): measure over these instead
  std::string plugin_dir;  // empty: the build's lib/relais/plugins
  std::string rules_dir;   // also measure the *.toml of this directory
  double min_ms = 300;     // each measurement moderates the corpus for at least this long
  std::vector<int> sizes{10, 1000, 10000};
  unsigned seed = 7;
};

// ---------------------------------------------------------------- rules

// Pseudo-words of three or four syllables, French-looking: long enough that
// they are not words of the corpus, like the names, slang and brand names
// that real rule sets are full of.
class Words {
 public:
  explicit Words(unsigned seed) : rng_(seed) {}
  std::string next() {
    static const std::vector<std::string> kSyllables = {
        "ba",  "bre", "ca",  "cli", "da",   "dor", "fa",  "flo", "ga",  "gre", "ja",  "ka",  "la",
        "lan", "ma",  "mor", "na",  "nu",   "pa",  "pla", "pro", "qua", "ra",  "ri",  "sa",  "sto",
        "ta",  "tin", "tra", "va",  "vel",  "xo",  "za",  "zar", "bou", "cho", "gui", "pei", "rou",
        "teu", "vin", "zen", "bra", "cro",  "dri", "fru", "glo", "kri", "mul", "nor", "pli", "sku",
        "tro", "vax", "wel", "yon", "quen", "zil", "ssa", "ppo", "lla", "tte", "nne", "rro"};
    for (;;) {
      std::uniform_int_distribution<std::size_t> pick(0, kSyllables.size() - 1);
      const int n = std::uniform_int_distribution<int>(3, 4)(rng_);
      std::string w;
      for (int i = 0; i < n; ++i) w += kSyllables[pick(rng_)];
      if (w.size() >= 7 && seen_.insert(w).second) return w;
    }
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  std::set<std::string> seen_;
};

struct GeneratedRule {
  std::vector<std::string> literals;
};

// Rule i is the same in every size, so the 10 rules are the first 10 of the
// 1,000, and every size finds the same posts.
std::vector<GeneratedRule> make_rules(int count, unsigned seed) {
  Words words(seed);
  std::vector<GeneratedRule> out;
  for (int i = 0; i < count; ++i) {
    GeneratedRule r;
    const int n = std::uniform_int_distribution<int>(1, 3)(words.rng());
    for (int k = 0; k < n; ++k) {
      // One literal in five is two words, one in ten a prefix ("word*").
      const int shape = std::uniform_int_distribution<int>(0, 9)(words.rng());
      std::string literal = words.next();
      if (shape < 2) literal += " " + words.next();
      if (shape == 2) literal += "*";
      r.literals.push_back(literal);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void write_rules(const fs::path& file, const std::vector<GeneratedRule>& rules, int count) {
  std::ofstream out(file);
  for (int i = 0; i < count; ++i) {
    out << "[[rule]]\nid = \"BENCH_" << i << "\"\ndescription = \"generated keyword rule " << i
        << "\"\nliterals = [";
    for (std::size_t k = 0; k < rules[static_cast<std::size_t>(i)].literals.size(); ++k) {
      out << (k == 0 ? "" : ", ") << '"' << rules[static_cast<std::size_t>(i)].literals[k] << '"';
    }
    out << "]\nscore = " << (i % 7) + 1 << "\n";
    if (i % 10 == 0) out << "action = \"hold\"\n";
    out << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// ---------------------------------------------------------------- corpus

// French and English mutual-aid posts of about 300 bytes, built from
// sentences of the kinds these networks receive, with accents, typographic
// apostrophes, capitals and the odd emoji.
std::vector<relais::Post> make_corpus(int count, const std::vector<GeneratedRule>& rules, std::mt19937& rng) {
  const std::vector<std::string> fr = {
      "Bonjour à tous, j’ai 82 ans et je ne peux plus descendre les escaliers depuis ma chute.",
      "Quelqu’un pourrait-il faire mes courses cette semaine ? Du pain, du lait, des œufs et des pommes.",
      "Je peux vous rembourser par virement ou en liquide, comme vous préférez.",
      "Ma pharmacie a préparé mon traitement, il faudrait juste aller le chercher avant samedi.",
      "Infirmière à l’hôpital, je cherche une garde pour mes deux enfants le mercredi après-midi.",
      "J’ai une voiture le samedi et je peux emmener quelqu’un à un rendez-vous médical.",
      "Le centre social distribue des colis alimentaires jeudi matin, pensez à apporter un sac.",
      "Mon ordinateur est en panne et mon fils doit suivre l’école à distance, auriez-vous un portable ?",
      "Je couds des masques en tissu pour les soignants, il me manque de l’élastique et du fil.",
      "Merci beaucoup à Karima qui m’a apporté mes médicaments hier soir, c’est réglé 🙏",
      "Rien d’urgent, mais si quelqu’un a une perceuse à prêter, je la rends dans la journée.",
      "Mon chien a besoin d’être promené deux fois par jour pendant que je suis à l’hôpital.",
      "Je me sens un peu seule depuis le confinement, un coup de fil de temps en temps me ferait plaisir.",
      "Besoin d’aide pour remplir un dossier CAF et imprimer une attestation, je n’ai pas d’imprimante.",
  };
  const std::vector<std::string> en = {
      "Hello, I am 79 and self-isolating, could a neighbour do my grocery shopping this week?",
      "I need milk, bread, some fruit and cat food, and I can pay you back by bank transfer.",
      "Could someone pick up my prescription from the pharmacy on the high street before Friday?",
      "I'm a nurse working nights and need someone to look after my kids after school on Tuesdays.",
      "I have a van on Sundays and can help move furniture for anyone who needs it, free of course.",
      "Our food bank is open tomorrow from 10 to 12 at the community centre, please bring a bag.",
      "Thank you so much to everyone who helped my mum last week, she is doing much better now 😊",
      "My laptop broke and my daughter has online classes, does anyone have an old one to lend?",
  };
  std::vector<relais::Post> out;
  std::uniform_int_distribution<int> coin(0, 99);
  for (int i = 0; i < count; ++i) {
    const bool french = coin(rng) < 80;
    const auto& pool = french ? fr : en;
    std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
    relais::Post post;
    while (post.text.size() < 260) post.text += (post.text.empty() ? "" : " ") + pool[pick(rng)];
    // One post in eight holds the keyword of one of the first ten rules,
    // which every size has.
    if (coin(rng) < 12) {
      const auto& literal = rules[static_cast<std::size_t>(i % 10)].literals.front();
      std::string word = literal.back() == '*' ? literal.substr(0, literal.size() - 1) + "s" : literal;
      if (coin(rng) < 50) word[0] = static_cast<char>(word[0] - 'a' + 'A');
      post.text += " " + word + " !";
    }
    if (coin(rng) < 30) post.subject = french ? "Demande d’aide" : "Request for help";
    post.sender = "voisin" + std::to_string(i);
    out.push_back(std::move(post));
  }
  return out;
}

std::vector<relais::Post> read_corpus(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file);
  std::vector<relais::Post> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto value = boost::json::parse(line);
    const auto& object = value.as_object();
    relais::Post post;
    post.text = std::string(object.at("text").as_string());
    if (const auto* subject = object.if_contains("subject"); subject != nullptr && subject->is_string()) {
      post.subject = std::string(subject->as_string());
    }
    if (const auto* sender = object.if_contains("sender"); sender != nullptr && sender->is_string()) {
      post.sender = std::string(sender->as_string());
    }
    out.push_back(std::move(post));
  }
  return out;
}

// ---------------------------------------------------------------- measuring

struct Setup {
  std::string name;
  std::size_t rules = 0;
  std::size_t literals = 0;
  double load_ms = 0;  // parse relais.toml, load the plugin, read and compile the rules
  std::shared_ptr<const relais::daemon::PluginSet> set;
  std::vector<double> ns_per_post;  // one per run
  std::size_t findings = 0;         // per pass over the corpus
};

Setup load(const std::string& name, const std::string& rules_glob, const fs::path& plugin_dir) {
  Setup s;
  s.name = name;
  const std::string toml = "[[moderate]]\nplugin = \"moderate_rules\"\nrules = ['" + rules_glob + "']\n";
  const auto start = Clock::now();
  auto config = relais::daemon::parse_config(toml, "relais.toml",
                                             {.state_dir = {}, .plugin_dir = plugin_dir, .verbose = false});
  if (!config) throw std::runtime_error(config.error().message);
  auto set = relais::daemon::build_plugin_set(*config);
  if (!set) throw std::runtime_error(set.error().message);
  s.load_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  s.set = *set;
  return s;
}

// Moderates the whole corpus, over and over for at least `min_ms`; the
// cost per post in ns.
double measure(Setup& s, const std::vector<relais::Post>& corpus, double min_ms) {
  relais::Moderator& moderator = *s.set->moderators.at(0).object;
  std::vector<relais::Finding> findings;
  std::size_t posts = 0;
  std::size_t found = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    found = 0;
    for (const auto& post : corpus) {
      findings.clear();
      moderator.moderate(post, findings);
      found += findings.size();
    }
    posts += corpus.size();
    elapsed = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  } while (elapsed < min_ms * 1e6);
  s.findings = found;
  return elapsed / static_cast<double>(posts);
}

// What normalising the text and subject costs alone: the floor of any
// moderator that matches on normalised text.
double measure_normalisation(const std::vector<relais::Post>& corpus, double min_ms) {
  std::size_t posts = 0;
  std::size_t bytes = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (const auto& post : corpus) {
      bytes += relais::text::normalize(post.text).text.size();
      if (post.subject) bytes += relais::text::normalize(*post.subject).text.size();
    }
    posts += corpus.size();
    elapsed = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  } while (elapsed < min_ms * 1e6);
  // Using the result keeps the compiler from dropping the loop.
  if (bytes == 0) throw std::runtime_error("the corpus normalises to nothing");
  return elapsed / static_cast<double>(posts);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"rules: moderate_rules' cost per post by rule count (bench/README.md)"};
  app.add_option("--runs", o.runs, "runs; each measures every rule set once, medians are reported")
      ->capture_default_str();
  app.add_option("--posts", o.posts, "generated posts in the corpus")->capture_default_str();
  app.add_option("--corpus", o.corpus, "JSON Lines posts (\"text\", \"subject\") to measure over instead");
  app.add_option("--sizes", o.sizes, "rule counts")->capture_default_str();
  app.add_option("--min-ms", o.min_ms, "each measurement lasts at least this long")->capture_default_str();
  app.add_option("--rules-dir", o.rules_dir, "also measure the *.toml rule files of this directory");
  app.add_option("--plugin-dir", o.plugin_dir, "where moderate_rules.so is (default: the build's)");
  app.add_option("--seed", o.seed, "seed of the generated rules and posts")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const fs::path plugin_dir =
        o.plugin_dir.empty() ? relais::bench::build_plugin_dir() : fs::path(o.plugin_dir);
    const relais::bench::ScratchDir scratch("relais-bench-rules-");
    const fs::path& tmp = scratch.path();

    const int largest = *std::max_element(o.sizes.begin(), o.sizes.end());
    const auto rules = make_rules(largest, o.seed);
    std::mt19937 rng(o.seed + 1);
    const auto corpus = o.corpus.empty() ? make_corpus(o.posts, rules, rng) : read_corpus(o.corpus);
    std::size_t bytes = 0;
    for (const auto& p : corpus) bytes += p.text.size() + (p.subject ? p.subject->size() : 0);

    std::vector<Setup> setups;
    for (const int size : o.sizes) {
      const fs::path file = tmp / ("rules-" + std::to_string(size) + ".toml");
      write_rules(file, rules, size);
      std::cerr << "loading " << size << " rules...\n";
      Setup s = load(thousands(static_cast<std::size_t>(size)), file.string(), plugin_dir);
      s.rules = static_cast<std::size_t>(size);
      for (int i = 0; i < size; ++i) s.literals += rules[static_cast<std::size_t>(i)].literals.size();
      setups.push_back(std::move(s));
    }
    if (!o.rules_dir.empty()) {
      std::cerr << "loading " << o.rules_dir << "...\n";
      setups.push_back(load(o.rules_dir, (fs::path(o.rules_dir) / "*.toml").string(), plugin_dir));
    }

    for (auto& s : setups) measure(s, corpus, o.min_ms / 3);  // warm-up
    std::vector<double> normalisation;
    for (int run = 0; run < o.runs; ++run) {
      for (std::size_t k = 0; k < setups.size(); ++k) {
        auto& s = setups[(k + static_cast<std::size_t>(run)) % setups.size()];
        s.ns_per_post.push_back(measure(s, corpus, o.min_ms));
      }
      normalisation.push_back(measure_normalisation(corpus, o.min_ms));
      std::cerr << "run " << run + 1 << "/" << o.runs << " done\n";
    }

    std::printf("corpus: %s, %s posts, %.0f bytes of text and subject per post on average\n",
                o.corpus.empty() ? "generated" : o.corpus.c_str(), thousands(corpus.size()).c_str(),
                static_cast<double>(bytes) / static_cast<double>(corpus.size()));
    std::printf("median of %d runs, each moderating the corpus for at least %.0f ms per rule set\n\n", o.runs,
                o.min_ms);
    std::printf(
        "| rules | literals | load + compile ms | ns/post (median) | min | max | findings per pass |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& s : setups) {
      std::printf("| %s | %s | %.0f | %.0f | %.0f | %.0f | %s |\n", s.name.c_str(),
                  s.literals != 0 ? thousands(s.literals).c_str() : "", s.load_ms, median(s.ns_per_post),
                  *std::min_element(s.ns_per_post.begin(), s.ns_per_post.end()),
                  *std::max_element(s.ns_per_post.begin(), s.ns_per_post.end()),
                  thousands(s.findings).c_str());
    }
    std::printf("| normalisation alone | | | %.0f | %.0f | %.0f | |\n", median(normalisation),
                *std::min_element(normalisation.begin(), normalisation.end()),
                *std::max_element(normalisation.begin(), normalisation.end()));
    const auto smallest = std::min_element(o.sizes.begin(), o.sizes.end()) - o.sizes.begin();
    const auto biggest = std::max_element(o.sizes.begin(), o.sizes.end()) - o.sizes.begin();
    const auto& lo = setups[static_cast<std::size_t>(smallest)];
    const auto& hi = setups[static_cast<std::size_t>(biggest)];
    std::vector<double> ratios;
    for (std::size_t r = 0; r < lo.ns_per_post.size(); ++r)
      ratios.push_back(hi.ns_per_post[r] / lo.ns_per_post[r]);
    std::printf("\nratio %s rules / %s rules: %.2f (median of the runs' ratios %.2f; target <= 2)\n",
                hi.name.c_str(), lo.name.c_str(), median(hi.ns_per_post) / median(lo.ns_per_post),
                median(ratios));
  } catch (const std::exception& e) {
    std::cerr << "rules: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
