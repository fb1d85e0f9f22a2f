// bench/eval: runs labelled posts through the real pipeline (relaisd with a
// given config and a throw-away state directory) and reports how its
// moderation, triage and routing compare with the labels. See bench/EVAL.md.
//
// The pieces: eval_dataset (the labelled file), eval_relaisd (relaisd, the
// submission and the outcome of each post), eval_metrics (each metric, the
// JSON and the text report).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "eval_dataset.hpp"
#include "eval_metrics.hpp"
#include "eval_relaisd.hpp"

namespace {

namespace fs = std::filesystem;
using relais::eval::RunError;

struct Options {
  std::string config;
  std::string posts;
  std::string json_out;
  std::string relaisd;     // empty: ../daemon/relaisd from this program, as bench/ingest
  std::string plugin_dir;  // empty: the build's lib/relais/plugins
  std::string keep_state;  // empty: a temporary directory, removed at the end
  std::vector<std::string> flags;
  int timeout_s = 300;
  int start_timeout_s = 30;
  bool triage_from_labels = false;
};

fs::path build_dir() {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw RunError(2, "cannot read /proc/self/exe: " + ec.message());
  return self.parent_path().parent_path();
}

// The state directory and whether to remove it at the end.
class StateDir {
 public:
  explicit StateDir(const std::string& keep) : keep_(!keep.empty()) {
    if (keep_) {
      path_ = fs::absolute(keep);
      std::error_code ec;
      fs::create_directories(path_, ec);
      if (ec) throw RunError(2, keep + ": " + ec.message());
      // An earlier run's store would answer every post as a duplicate and
      // keep its old outcomes.
      if (!fs::is_empty(path_, ec)) throw RunError(2, keep + ": --keep-state needs a new or empty directory");
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "relais-eval-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw RunError(1, "cannot create a directory in " + tmpl);
    path_ = tmpl;
  }
  ~StateDir() {
    std::error_code ec;
    if (!keep_) fs::remove_all(path_, ec);
  }
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  bool keep_;
  fs::path path_;
};

void require_file(const fs::path& p, const std::string& what, const std::string& option) {
  if (!fs::exists(p)) throw RunError(2, p.string() + ": no " + what + " there (" + option + ")");
}

int run(const Options& o) {
  auto flag_map = relais::eval::FlagMap::defaults();
  for (const auto& spec : o.flags) {
    if (auto added = flag_map.add(spec); !added) throw RunError(2, added.error().message);
  }
  auto posts = relais::eval::read_posts(o.posts);
  if (!posts) throw RunError(2, posts.error().message);
  if (o.triage_from_labels) {
    // The labels as form fields, which triage takes over the text: what is
    // left to measure is moderation and routing alone.
    for (auto& lp : *posts) {
      std::string categories;
      for (const auto& c : lp.labels.categories) categories += (categories.empty() ? "" : ",") + c;
      lp.post.fields["kind"] = lp.labels.kind;
      lp.post.fields["category"] = categories;
      lp.post.fields["urgency"] = lp.labels.urgency;
      if (!lp.labels.area.empty()) lp.post.fields["area"] = lp.labels.area;
    }
  }
  require_file(o.config, "config file", "--config");

  relais::eval::RunOptions ro;
  ro.config = o.config;
  ro.relaisd = o.relaisd.empty() ? build_dir() / "daemon" / "relaisd" : fs::path(o.relaisd);
  ro.plugin_dir = o.plugin_dir.empty() ? build_dir() / "lib" / "relais" / "plugins" : fs::path(o.plugin_dir);
  require_file(ro.relaisd, "relaisd", "--relaisd");
  require_file(ro.plugin_dir, "plugin directory", "--plugin-dir");
  ro.posts_file = o.posts;
  ro.timeout = std::chrono::seconds(o.timeout_s);
  ro.start_timeout = std::chrono::seconds(o.start_timeout_s);

  StateDir state(o.keep_state);
  ro.state_dir = state.path();
  const auto predicted = relais::eval::run_pipeline(ro, *posts, std::cerr);

  std::vector<relais::eval::Case> cases;
  cases.reserve(posts->size());
  for (std::size_t i = 0; i < posts->size(); ++i) {
    auto& lp = (*posts)[i];
    cases.push_back({std::move(lp.id), std::move(lp.labels), predicted[i]});
  }
  const auto report = relais::eval::evaluate(cases, flag_map);
  std::cout << relais::eval::report_text(report);
  if (!o.json_out.empty()) {
    std::ofstream out(o.json_out, std::ios::binary | std::ios::trunc);
    out << relais::eval::report_json(report);
    out.close();
    if (!out) throw RunError(1, o.json_out + ": cannot write");
  }
  if (!o.keep_state.empty()) std::cerr << "eval: relaisd's state and log kept in " << o.keep_state << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "eval: runs labelled posts through relaisd and compares its decisions with the labels "
      "(bench/EVAL.md)"};
  Options o;
  app.add_option("--config", o.config, "relais.toml for relaisd (its ingest.endpoints must be empty)")
      ->required();
  app.add_option("--posts", o.posts, "labelled posts, JSON Lines in the dev set's format")->required();
  app.add_option("--json", o.json_out, "also write the figures as JSON to this file");
  app.add_option("--relaisd", o.relaisd, "the relaisd to run (default: ../daemon/relaisd from this program)");
  app.add_option("--plugin-dir", o.plugin_dir,
                 "relaisd's --plugin-dir (default: the build's lib/relais/plugins)");
  app.add_option("--keep-state", o.keep_state,
                 "use this new or empty directory as relaisd's state directory and keep it (database, log)");
  app.add_option("--flag", o.flags,
                 "PREFIX=flag: findings whose symbol starts with PREFIX give that flag; adds to the default "
                 "mapping (repeatable)");
  app.add_flag("--triage-from-labels", o.triage_from_labels,
               "submit each post's labelled kind, categories, urgency and area as form fields, so that the "
               "route is measured on the labels' triage");
  app.add_option("--timeout", o.timeout_s, "seconds for submitting the posts and the pipeline to finish them")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--start-timeout", o.start_timeout_s, "seconds for relaisd to answer a ping")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const RunError& e) {
    std::cerr << "eval: " << e.what() << "\n";
    return e.status();
  } catch (const std::exception& e) {
    std::cerr << "eval: " << e.what() << "\n";
    return 1;
  }
}
