// bench/plugins: what the text plugins of the shipped config cost per post
// (moderate_rules with config/rules, moderate_pii, triage_lexicon with
// config/triage and the demo network's gazetteer), loaded through relaisd's
// own plugin loader, over the texts of a JSON Lines file of posts read at
// run time. Each plugin is measured alone, in an order that rotates from
// run to run so that noise on this machine hits them alike; the median of
// the runs is reported. `--dump` prints every finding and triage instead,
// so that two builds can be diffed for identical decisions. See README.md.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "scratch.hpp"
#include "stats.hpp"

#ifndef RELAIS_SOURCE_CONFIG_DIR
#define RELAIS_SOURCE_CONFIG_DIR ""
#endif

namespace {

using relais::bench::median;
using relais::bench::thousands;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string posts;       // JSON Lines: "text", and "subject", "sender", "channel" when present
  std::string config_dir;  // where relais.toml's rules/, triage/ and demo-network.toml are
  std::string plugin_dir;  // empty: the build's lib/relais/plugins
  int runs = 9;
  double min_ms = 300;  // each measurement runs over the posts for at least this long
  bool dump = false;
};

struct Sample {
  std::string id;
  relais::Post post;
};

std::vector<Sample> read_posts(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file);
  std::vector<Sample> out;
  std::string line;
  const auto string_of = [](const boost::json::object& o, const char* key) -> std::optional<std::string> {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string(v->as_string());
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto value = boost::json::parse(line);
    const auto& object = value.as_object();
    Sample s;
    s.id = string_of(object, "id").value_or(std::to_string(out.size() + 1));
    s.post.text = string_of(object, "text").value_or("");
    s.post.subject = string_of(object, "subject");
    s.post.sender = string_of(object, "sender").value_or("");
    s.post.channel = string_of(object, "channel").value_or("");
    s.post.received_at = string_of(object, "received_at").value_or("");
    out.push_back(std::move(s));
  }
  if (out.empty()) throw std::runtime_error(file + " holds no post");
  return out;
}

// The [[moderate]] and [[triage]] entries of config/relais.toml for these
// three plugins, read relative to `config_dir` as relaisd reads them.
std::shared_ptr<const relais::daemon::PluginSet> load(const fs::path& config_dir,
                                                      const fs::path& plugin_dir) {
  const std::string toml =
      "[[moderate]]\nplugin = \"moderate_rules\"\nrules = [\"rules/*.toml\"]\n\n"
      "[[moderate]]\nplugin = \"moderate_pii\"\n\n"
      "[[triage]]\nplugin = \"triage_lexicon\"\nlexicons = [\"triage/*.toml\"]\n"
      "gazetteer = \"demo-network.toml\"\ndefault_language = \"fr\"\n";
  auto config = relais::daemon::parse_config(toml, config_dir / "relais.toml",
                                             {.state_dir = {}, .plugin_dir = plugin_dir, .verbose = false});
  if (!config) throw std::runtime_error(config.error().message);
  auto set = relais::daemon::build_plugin_set(*config);
  if (!set) throw std::runtime_error(set.error().message);
  return *set;
}

struct Measured {
  std::string name;
  std::function<std::size_t(const relais::Post&)> call;  // returns something of the result
  std::vector<double> us_per_post;                       // one per run
};

double measure(Measured& m, const std::vector<Sample>& posts, double min_ms) {
  std::size_t calls = 0;
  std::size_t sink = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (const auto& s : posts) sink += m.call(s.post);
    calls += posts.size();
    elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  } while (elapsed < min_ms * 1e3);
  // Using the results keeps the compiler from dropping the calls.
  if (sink == static_cast<std::size_t>(-1)) std::cerr << "";
  return elapsed / static_cast<double>(calls);
}

// Everything the plugins decide about each post, one line per finding or
// triage, in a form that diffs.
// Each post is also dumped in capitals and with private contact data (the
// sender as name and e-mail), which take other paths through the plugins.
void dump(const relais::daemon::PluginSet& set, const std::vector<Sample>& originals) {
  std::vector<Sample> posts;
  for (const auto& o : originals) {
    posts.push_back(o);
    Sample upper = o;
    upper.id += "/upper";
    const auto capitals = [](std::string& t) {
      for (char& c : t) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    };
    capitals(upper.post.text);
    if (upper.post.subject) capitals(*upper.post.subject);
    posts.push_back(std::move(upper));
    Sample contact = o;
    contact.id += "/private";
    contact.post.private_data["name"] = o.post.sender;
    contact.post.private_data["email"] = o.post.sender;
    posts.push_back(std::move(contact));
  }
  for (const auto& s : posts) {
    for (const auto& m : set.moderators) {
      std::vector<relais::Finding> findings;
      m.object->moderate(s.post, findings);
      for (const auto& f : findings) {
        std::printf("%s %s %s score=%.17g forced=%s related=%lld \"%s\"", s.id.c_str(), m.plugin.c_str(),
                    f.symbol.c_str(), f.score,
                    f.forced ? std::string(relais::to_string(*f.forced)).c_str() : "-",
                    static_cast<long long>(f.related_post), f.description.c_str());
        for (const auto& r : f.redactions) {
          std::printf(" [%s %zu+%zu \"%s\"]", r.field.c_str(), r.offset, r.length, r.replacement.c_str());
        }
        std::printf("\n");
      }
    }
    for (const auto& t : set.triagers) {
      relais::Triage triage;
      t.object->triage(s.post, triage);
      std::string categories;
      for (const auto& c : triage.categories) categories += (categories.empty() ? "" : ",") + c;
      std::printf("%s %s kind=%s categories=%s urgency=%s area=%s lang=%s\n", s.id.c_str(), t.plugin.c_str(),
                  std::string(relais::to_string(triage.kind)).c_str(), categories.c_str(),
                  std::string(relais::to_string(triage.urgency)).c_str(), triage.area.c_str(),
                  triage.lang.c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.config_dir = RELAIS_SOURCE_CONFIG_DIR;
  CLI::App app{"plugins: the text plugins' cost per post on the shipped config (bench/README.md)"};
  app.add_option("--posts", o.posts, "JSON Lines posts (\"text\", \"subject\", \"sender\", \"channel\")")
      ->required();
  app.add_option("--config-dir", o.config_dir, "the config directory (rules/, triage/, demo-network.toml)")
      ->capture_default_str();
  app.add_option("--plugin-dir", o.plugin_dir, "where the plugins are (default: the build's)");
  app.add_option("--runs", o.runs, "runs; each measures every plugin once, medians are reported")
      ->capture_default_str();
  app.add_option("--min-ms", o.min_ms, "each measurement lasts at least this long")->capture_default_str();
  app.add_flag("--dump", o.dump, "print every finding and triage instead of measuring");
  CLI11_PARSE(app, argc, argv);

  try {
    if (o.config_dir.empty()) throw std::runtime_error("--config-dir is required");
    const fs::path plugin_dir =
        o.plugin_dir.empty() ? relais::bench::build_plugin_dir() : fs::path(o.plugin_dir);
    const auto posts = read_posts(o.posts);
    const auto set = load(o.config_dir, plugin_dir);
    if (o.dump) {
      dump(*set, posts);
      return 0;
    }

    std::vector<relais::Finding> findings;
    std::vector<Measured> plugins;
    for (const auto& m : set->moderators) {
      relais::Moderator* moderator = m.object.get();
      plugins.push_back({m.plugin,
                         [moderator, &findings](const relais::Post& post) {
                           findings.clear();
                           moderator->moderate(post, findings);
                           return findings.size();
                         },
                         {}});
    }
    for (const auto& t : set->triagers) {
      relais::Triager* triager = t.object.get();
      plugins.push_back({t.plugin,
                         [triager](const relais::Post& post) {
                           relais::Triage triage;
                           triager->triage(post, triage);
                           return triage.categories.size();
                         },
                         {}});
    }

    std::size_t bytes = 0;
    for (const auto& s : posts) bytes += s.post.text.size() + (s.post.subject ? s.post.subject->size() : 0);
    for (auto& m : plugins) measure(m, posts, o.min_ms / 3);  // warm-up: caches, the word cache
    for (int run = 0; run < o.runs; ++run) {
      for (std::size_t k = 0; k < plugins.size(); ++k) {
        auto& m = plugins[(k + static_cast<std::size_t>(run)) % plugins.size()];
        m.us_per_post.push_back(measure(m, posts, o.min_ms));
      }
      std::cerr << "run " << run + 1 << "/" << o.runs << " done\n";
    }

    std::printf("posts: %s, %zu posts, %.0f bytes of text and subject per post on average\n", o.posts.c_str(),
                posts.size(), static_cast<double>(bytes) / static_cast<double>(posts.size()));
    std::printf("median of %d runs, each calling the plugin over the posts for at least %.0f ms\n\n", o.runs,
                o.min_ms);
    std::printf("| plugin | µs/post (median) | min | max |\n| --- | ---: | ---: | ---: |\n");
    std::vector<double> totals(static_cast<std::size_t>(o.runs), 0.0);
    for (const auto& m : plugins) {
      std::printf("| %s | %.1f | %.1f | %.1f |\n", m.name.c_str(), median(m.us_per_post),
                  *std::min_element(m.us_per_post.begin(), m.us_per_post.end()),
                  *std::max_element(m.us_per_post.begin(), m.us_per_post.end()));
      for (std::size_t r = 0; r < totals.size(); ++r) totals[r] += m.us_per_post[r];
    }
    std::printf("| all three | %.1f | %.1f | %.1f |\n", median(totals),
                *std::min_element(totals.begin(), totals.end()),
                *std::max_element(totals.begin(), totals.end()));
  } catch (const std::exception& e) {
    std::cerr << "plugins: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
