// bench/dedup: what moderate_dedup costs per post with its window holding
// 1, 2,000 and 20,000 posts, loaded through relaisd's own plugin loader
// from a parsed config, as relaisd loads it, with its file in a state
// directory as the default config keeps it. Posts come from bench/traffic
// (the generator of bench/pipeline): varied French mutual-aid traffic with
// deliberate reposts. The sizes are measured in every run, in an order that
// rotates from run to run, so that noise on this machine hits them alike;
// the median of the runs is reported. A digest of every finding (symbol,
// link, description) tells whether two builds decide alike. See README.md.
#include <time.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "plugins/host.hpp"
#include "scratch.hpp"
#include "stats.hpp"
#include "traffic.hpp"

namespace {

using relais::bench::median;
using relais::bench::thousands;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int runs = 7;
  int posts = 500;  // measured posts per size and run
  std::vector<int> sizes{1, 2000, 20000};
  int spacing_s = 10;      // between two posts' received_at: 20,000 posts span 56 h of a 72 h window
  bool memory = false;     // database = "": no file
  std::string plugin_dir;  // empty: the build's lib/relais/plugins
  std::string network = RELAIS_SOURCE_CONFIG_DIR "/demo-network.toml";
  std::uint64_t seed = 1;
};

std::string rfc3339(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

struct Setup {
  int size = 0;
  std::shared_ptr<const relais::daemon::PluginSet> set;
  std::size_t next = 0;  // the next post of the stream
  double fill_s = 0;
  std::vector<double> us_per_post;               // one per run
  std::vector<double> cpu_us_per_post;           // the thread's CPU time: preemption excluded
  std::map<std::string, std::size_t> measured;   // findings of the measured posts, by symbol
  std::uint64_t digest = 0xcbf29ce484222325ULL;  // every finding, fill included
};

Setup load(int size, const fs::path& state, const fs::path& plugin_dir, bool memory) {
  Setup s;
  s.size = size;
  std::string toml =
      "[[moderate]]\nplugin = \"moderate_dedup\"\nmax_entries = " + std::to_string(size) + "\n";
  if (memory) toml += "database = \"\"\n";
  fs::create_directories(state);
  auto config = relais::daemon::parse_config(
      toml, "relais.toml", {.state_dir = state, .plugin_dir = plugin_dir, .verbose = false});
  if (!config) throw std::runtime_error(config.error().message);
  auto set = relais::daemon::build_plugin_set(*config);
  if (!set) throw std::runtime_error(set.error().message);
  s.set = *set;
  return s;
}

double thread_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Moderates posts [s.next, s.next + n) of the stream; the seconds spent in
// moderate() (wall clock), and in `cpu` the thread's CPU seconds over the
// whole batch.
double feed(Setup& s, const std::vector<relais::Post>& stream, std::size_t n, bool count,
            double* cpu = nullptr) {
  const double cpu_start = thread_cpu_s();
  relais::Moderator& moderator = *s.set->moderators.at(0).object;
  std::vector<relais::Finding> findings;
  double busy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& post = stream.at(s.next++);
    findings.clear();
    const auto start = Clock::now();
    moderator.moderate(post, findings);
    busy += std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto& f : findings) {
      s.digest = fnv1a(f.symbol, s.digest);
      s.digest = fnv1a(std::to_string(post.id) + "/" + std::to_string(f.related_post) + "/", s.digest);
      s.digest = fnv1a(f.description, s.digest);
      if (count) ++s.measured[f.symbol];
    }
  }
  if (cpu != nullptr) *cpu = thread_cpu_s() - cpu_start;
  return busy;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"dedup: moderate_dedup's cost per post by window size (bench/README.md)"};
  app.add_option("--runs", o.runs, "runs; each measures every size once, medians are reported")
      ->capture_default_str();
  app.add_option("--posts", o.posts, "posts measured per size and run")->capture_default_str();
  app.add_option("--sizes", o.sizes, "posts in the window (its max_entries)")->capture_default_str();
  app.add_option("--spacing", o.spacing_s, "seconds between two posts' received_at")->capture_default_str();
  app.add_flag("--memory", o.memory, "database = \"\": the window in memory only, no file");
  app.add_option("--plugin-dir", o.plugin_dir, "where moderate_dedup.so is (default: the build's)");
  app.add_option("--network", o.network, "the network file whose gazetteer the posts use")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the generated posts")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const fs::path plugin_dir =
        o.plugin_dir.empty() ? relais::bench::build_plugin_dir() : fs::path(o.plugin_dir);
    const relais::bench::ScratchDir scratch("relais-bench-dedup-");
    const fs::path& tmp = scratch.path();

    // One stream for every size: the window fills with its first `size`
    // posts, then each run moderates the next `posts`.
    const int largest = *std::max_element(o.sizes.begin(), o.sizes.end());
    const auto total = static_cast<std::size_t>(largest + o.runs * o.posts);
    relais::bench::Traffic traffic(relais::bench::read_gazetteer(o.network), o.seed, 4096);
    std::vector<relais::Post> stream;
    stream.reserve(total);
    const std::time_t base = 1585699200;  // 2020-04-01T00:00:00Z: a replay, never in the future
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < total; ++i) {
      auto p = traffic.next();
      p.id = static_cast<std::int64_t>(i + 1);
      p.received_at = rfc3339(base + static_cast<std::time_t>(i) * o.spacing_s);
      bytes += p.text.size() + (p.subject ? p.subject->size() : 0);
      stream.push_back(std::move(p));
    }

    std::vector<Setup> setups;
    for (const int size : o.sizes) {
      std::cerr << "filling a window of " << size << " posts...\n";
      Setup s = load(size, tmp / std::to_string(size), plugin_dir, o.memory);
      s.fill_s = feed(s, stream, static_cast<std::size_t>(size), false);
      setups.push_back(std::move(s));
    }
    for (int run = 0; run < o.runs; ++run) {
      for (std::size_t k = 0; k < setups.size(); ++k) {
        auto& s = setups[(k + static_cast<std::size_t>(run)) % setups.size()];
        double cpu = 0;
        const double busy = feed(s, stream, static_cast<std::size_t>(o.posts), true, &cpu);
        s.us_per_post.push_back(busy * 1e6 / o.posts);
        s.cpu_us_per_post.push_back(cpu * 1e6 / o.posts);
      }
      std::cerr << "run " << run + 1 << "/" << o.runs << " done\n";
    }

    std::printf(
        "posts: bench/traffic, seed %llu, %.0f bytes of text and subject per post on average, %d s "
        "apart; window %s\n",
        static_cast<unsigned long long>(o.seed), static_cast<double>(bytes) / static_cast<double>(total),
        o.spacing_s, o.memory ? "in memory only" : "in memory and in its file");
    std::printf("median of %d runs of %d posts per window size\n\n", o.runs, o.posts);
    std::printf(
        "| window | µs/post (median) | min | max | CPU µs/post (median) | fill s | findings measured | "
        "decisions digest |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
    for (const auto& s : setups) {
      std::string found;
      for (const auto& [symbol, n] : s.measured) {
        found += (found.empty() ? "" : ", ") + symbol + " " + thousands(n);
      }
      std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %s | %016llx |\n",
                  thousands(static_cast<std::size_t>(s.size)).c_str(), median(s.us_per_post),
                  *std::min_element(s.us_per_post.begin(), s.us_per_post.end()),
                  *std::max_element(s.us_per_post.begin(), s.us_per_post.end()), median(s.cpu_us_per_post),
                  s.fill_s, found.c_str(), static_cast<unsigned long long>(s.digest));
    }
  } catch (const std::exception& e) {
    std::cerr << "dedup: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
