// relaisctl: the operator's command line. Talks to relaisd over the same
// ZeroMQ protocol as the sources (sdk/PROTOCOL.md).
#include <CLI/CLI.hpp>
#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <zmq.hpp>

#include "ctl.hpp"
#include "protocol.hpp"
#include "relais/client.hpp"

namespace json = boost::json;

namespace {

using relais::ctl::fail;
using relais::ctl::Options;
using relais::ctl::query;
using relais::ctl::read_input;
using relais::ctl::str;

relais::protocol::Query simple_query(std::string what) {
  relais::protocol::Query q;
  q.what = std::move(what);
  return q;
}

int cmd_submit(const Options& o, const std::string& file) {
  std::string input;
  try {
    input = read_input(file);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  // One JSON document, or JSON Lines.
  std::vector<std::pair<std::size_t, std::string>> docs;
  boost::system::error_code ec;
  auto whole = json::parse(input, ec);
  if (!ec && whole.is_object()) {
    docs.emplace_back(1, input);
  } else {
    std::istringstream lines(input);
    std::string line;
    for (std::size_t n = 1; std::getline(lines, line); ++n) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) docs.emplace_back(n, line);
    }
  }
  const std::string name = file == "-" ? "<stdin>" : file;
  std::vector<relais::Post> posts;
  for (const auto& [line, doc] : docs) {
    // Validated here with the daemon's own rules, so that errors name the line.
    auto post = relais::ctl::check_post(doc, name + ":" + std::to_string(line) + ": ");
    if (!post) return fail(post.error().message);
    posts.push_back(std::move(*post));
  }
  if (posts.empty()) return fail(name + ": no post in the input");

  std::size_t stored = 0, duplicates = 0, rejected = 0;
  relais::ClientOptions copts;
  copts.endpoint = o.ep();
  copts.max_attempts = 5;
  copts.ack_timeout = std::chrono::milliseconds(o.timeout_ms / 5 + 1);
  copts.on_result = [&](const relais::SubmitResult& r) {
    switch (r.status) {
      case relais::SubmitStatus::stored:
        ++stored;
        std::cout << "stored id=" << r.post_id << " external_id=" << r.external_id << "\n";
        break;
      case relais::SubmitStatus::duplicate:
        ++duplicates;
        std::cout << "duplicate id=" << r.post_id << " external_id=" << r.external_id << "\n";
        break;
      default:
        ++rejected;
        std::cerr << "rejected external_id=" << r.external_id << " code=" << r.code << ": " << r.message
                  << "\n";
    }
  };
  relais::Client client(copts);
  for (const auto& p : posts) {
    if (auto seq = client.submit(p); !seq) return fail(seq.error().message);
  }
  if (!client.flush(std::chrono::milliseconds(o.timeout_ms * 2))) {
    return fail("relaisd did not acknowledge every post at " + o.ep() + " (is it running?)");
  }
  if (rejected > 0)
    return fail(std::to_string(rejected) + " of " + std::to_string(posts.size()) + " posts refused");
  std::cerr << "submitted " << posts.size() << ": " << stored << " stored, " << duplicates << " duplicate\n";
  return 0;
}

int cmd_posts(const Options& o, const std::string& state, int limit) {
  relais::protocol::Query q;
  q.what = "posts";
  q.state = state;
  q.limit = limit;
  auto r = query(o, q);
  if (auto done = relais::ctl::reported(o, r)) return *done;
  std::printf("%-8s %-10s %-12s %-10s %-8s %-9s %-24s %s\n", "ID", "STATE", "SOURCE", "CHANNEL", "KIND",
              "URGENCY", "AREA", "RECEIVED");
  for (const auto& p : r->at("posts").as_array()) {
    const auto& o2 = p.as_object();
    std::printf("%-8lld %-10s %-12s %-10s %-8s %-9s %-24s %s\n",
                static_cast<long long>(o2.at("id").as_int64()), str(o2.at("state")).c_str(),
                str(o2.at("source")).c_str(), str(o2.at("channel")).c_str(), str(o2.at("kind")).c_str(),
                str(o2.at("urgency")).c_str(), str(o2.at("area")).c_str(), str(o2.at("received_at")).c_str());
  }
  return 0;
}

int cmd_show(const Options& o, std::int64_t id) {
  relais::protocol::Query q;
  q.what = "post";
  q.id = id;
  auto r = query(o, q);
  if (!r) return fail(r.error().message);
  if (o.as_json) {
    // The post as relaisd answers it, with its need and deliveries beside it.
    relais::ctl::show_routing(o, id, r->as_object());
    std::cout << json::serialize(*r) << "\n";
    return 0;
  }
  const auto& p = r->at("post").as_object();
  std::cout << "post " << p.at("id").as_int64() << "  state=" << str(p.at("state")) << "\n"
            << "source: " << str(p.at("source")) << "  external_id: " << str(p.at("external_id"))
            << "  channel: " << str(p.at("channel")) << "\n"
            << "sender: " << str(p.at("sender")) << "\n"
            << "received_at: " << str(p.at("received_at")) << "  ingested_at: " << str(p.at("ingested_at"))
            << "\n"
            << "subject: " << str(p.at("subject")) << "\n"
            << "text:\n"
            << str(p.at("text")) << "\n";
  // Shown only when it differs: what the public sees with the contact
  // details hidden.
  if (const auto* pub = p.if_contains("public"); pub != nullptr && pub->at("text") != p.at("text")) {
    std::cout << "public text:\n" << str(pub->at("text")) << "\n";
  }
  if (const auto* first = p.if_contains("duplicate_of")) {
    std::cout << "duplicate of: post " << str(*first) << " (relaisctl show " << str(*first) << ")\n";
  }
  for (const auto* key : {"fields", "private"}) {
    const auto& m = p.at(key).as_object();
    if (!m.empty()) std::cout << key << ": " << json::serialize(m) << "\n";
  }
  if (const auto* v = p.if_contains("verdict")) {
    std::cout << "verdict: " << str(v->at("action")) << " score=" << str(v->at("score")) << "\n";
    for (const auto& f : v->at("findings").as_array()) {
      std::cout << "  finding " << str(f.at("symbol")) << " score=" << str(f.at("score"));
      if (const auto* forced = f.as_object().if_contains("forced")) std::cout << " forced=" << str(*forced);
      if (const auto* rs = f.as_object().if_contains("redactions")) {
        std::cout << " redactions=" << rs->as_array().size();
      }
      std::cout << " (" << str(f.at("stage")) << "): " << str(f.at("description")) << "\n";
    }
  }
  if (const auto* t = p.if_contains("triage")) std::cout << "triage: " << json::serialize(*t) << "\n";
  json::object unused;  // filled with --json only
  relais::ctl::show_routing(o, id, unused);
  std::cout << "events:\n";
  for (const auto& e : p.at("events").as_array()) {
    std::cout << "  " << str(e.at("at")) << "  " << str(e.at("type")) << "  by " << str(e.at("actor")) << "  "
              << json::serialize(e.at("detail")) << "\n";
  }
  return 0;
}

void print_tree(const json::value& v, const std::string& prefix) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      const std::string key = prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
      if (kv.value().is_object() && !kv.value().get_object().empty()) {
        print_tree(kv.value(), key);
      } else {
        std::cout << key << ": " << str(kv.value()) << "\n";
      }
    }
  }
}

int cmd_stats(const Options& o) {
  auto r = query(o, simple_query("stats"));
  if (auto done = relais::ctl::reported(o, r)) return *done;
  print_tree(*r, "");
  return 0;
}

int cmd_plugins(const Options& o) {
  auto r = query(o, simple_query("plugins"));
  if (auto done = relais::ctl::reported(o, r)) return *done;
  std::printf("%-24s %-9s %-20s %-10s %-48s %s\n", "INSTANCE", "KIND", "PLUGIN", "VERSION", "FILE", "ABI");
  for (const auto& p : r->at("plugins").as_array()) {
    const auto& i = p.as_object();
    std::printf("%-24s %-9s %-20s %-10s %-48s %s\n", str(i.at("instance")).c_str(), str(i.at("kind")).c_str(),
                str(i.at("plugin")).c_str(), str(i.at("version")).c_str(), str(i.at("file")).c_str(),
                str(i.at("abi")).c_str());
  }
  return 0;
}

// Who a decision is recorded as, unless --by says: the login name.
std::string default_moderator() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    // Read before any thread starts.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "operator";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"relaisctl: operate a running relaisd"};
  Options o;
  auto* sd = app.add_option("--state-dir", o.state_dir, "relaisd's state directory (its ingest socket)")
                 ->capture_default_str();
  app.add_option("--endpoint", o.endpoint, "relaisd's endpoint, e.g. tcp://127.0.0.1:7400")->excludes(sd);
  app.add_option("--timeout-ms", o.timeout_ms, "how long to wait for relaisd")->check(CLI::Range(10, 600000));
  app.add_flag("--json", o.as_json, "print JSON");
  app.set_version_flag("--version", std::string("relaisctl ") + RELAIS_VERSION);
  app.require_subcommand(1);
  // The global options may follow the command too: relaisctl show 3 --json.
  app.fallthrough();

  std::string file;
  auto* submit = app.add_subcommand("submit", "submit one JSON post or JSON Lines");
  submit->add_option("FILE", file, "a file, or - for standard input")->required();
  std::string state;
  int limit = 50;
  auto* posts = app.add_subcommand("posts", "list the newest posts");
  posts
      ->add_option("--state", state,
                   "received, held, rejected, accepted, routed, unrouted, claimed or resolved")
      ->check(CLI::IsMember(
          {"received", "held", "rejected", "accepted", "routed", "unrouted", "claimed", "resolved"}));
  posts->add_option("--limit", limit, "how many")->check(CLI::Range(1, 10000));
  std::int64_t id = 0;
  auto* show = app.add_subcommand("show", "one post with its need, its deliveries and its event trail");
  show->add_option("ID", id, "post id")->required()->check(CLI::PositiveNumber);
  auto* stats = app.add_subcommand("stats", "counters of the store, the daemon and each plugin instance");
  auto* plugins = app.add_subcommand("plugins", "the loaded plugins: instance, kind, version, file, ABI");

  auto* queue = app.add_subcommand("queue", "the held posts waiting for a moderator, with their findings");
  queue->add_option("--limit", limit, "how many")->check(CLI::Range(1, 10000));
  std::string by = default_moderator();
  std::string note;
  auto* approve = app.add_subcommand("approve", "send a held post on through triage and routing");
  approve->add_option("ID", id, "post id")->required()->check(CLI::PositiveNumber);
  approve->add_option("--note", note, "a note kept in the post's trail");
  approve->add_option("--by", by, "who decides (default: the login name)")->capture_default_str();
  std::string reason;
  auto* reject = app.add_subcommand("reject", "end a held post");
  reject->add_option("ID", id, "post id")->required()->check(CLI::PositiveNumber);
  reject->add_option("--reason", reason, "why, kept in the post's trail")->required();
  reject->add_option("--by", by, "who decides (default: the login name)")->capture_default_str();
  auto* learn = app.add_subcommand("learn", "teach the learning moderators from labelled JSON Lines");
  learn->add_option("FILE", file, "a file, or - for standard input")->required();
  learn->add_option("--by", by, "who labelled them (default: the login name)")->capture_default_str();

  std::string destination;
  auto* needs = app.add_subcommand("needs", "the needs relaisd routed, newest first");
  needs->add_option("--state", state, "routed, claimed, resolved or unrouted")
      ->check(CLI::IsMember({"routed", "claimed", "resolved", "unrouted"}));
  needs->add_option("--destination", destination, "only the needs given to this destination");
  needs->add_option("--limit", limit, "how many")->check(CLI::Range(1, 10000));
  auto* unrouted = app.add_subcommand("unrouted", "the needs no destination can take, with why");
  unrouted->add_option("--limit", limit, "how many")->check(CLI::Range(1, 10000));
  auto* need = app.add_subcommand("need", "one need with its destinations and deliveries");
  need->add_option("ID", id, "the need's post id")->required()->check(CLI::PositiveNumber);
  bool failed = false;
  std::int64_t post_id = 0;
  auto* deliveries = app.add_subcommand("deliveries", "the outbox: deliveries to destinations, newest first");
  auto* failed_flag = deliveries->add_flag("--failed", failed,
                                           "dead letters, and pending deliveries that failed at least once");
  deliveries->add_option("--state", state, "pending, delivered, dead or failed")
      ->check(CLI::IsMember({"pending", "delivered", "dead", "failed"}))
      ->excludes(failed_flag);
  deliveries->add_option("--post", post_id, "only the deliveries of this post")->check(CLI::PositiveNumber);
  deliveries->add_option("--limit", limit, "how many")->check(CLI::Range(1, 10000));
  auto* redrive = app.add_subcommand("redrive", "send a dead delivery again");
  redrive->add_option("ID", id, "delivery id")->required()->check(CLI::PositiveNumber);
  redrive->add_option("--by", by, "who decides (default: the login name)")->capture_default_str();
  auto* assign = app.add_subcommand("assign", "give a need to a destination, over the routing policy");
  assign->add_option("ID", id, "the need's post id")->required()->check(CLI::PositiveNumber);
  assign->add_option("DESTINATION", destination, "a destination id of the network")->required();
  assign->add_option("--by", by, "who decides (default: the login name)")->capture_default_str();
  std::string token_file;
  std::vector<CLI::App*> acts;
  for (const auto& [act, what] : {std::pair{"claim", "take a need routed to the destination"},
                                  std::pair{"decline", "give a need back, for the next candidate"},
                                  std::pair{"resolve", "say that a need was met"}}) {
    auto* cmd = app.add_subcommand(act, std::string("as a destination: ") + what);
    cmd->add_option("ID", id, "the need's post id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--destination", destination, "the destination acting")->required();
    cmd->add_option("--token-file", token_file,
                    "a file holding the destination's token, or - for standard input")
        ->required();
    cmd->add_option("--note", note, "a note kept in the need's trail");
    acts.push_back(cmd);
  }

  relais::ctl::RulesOptions ro;
  auto* rules = app.add_subcommand("rules", "try moderation rules without touching the running daemon");
  rules->require_subcommand(1);
  const auto rules_options = [&](CLI::App* cmd) {
    cmd->add_option("--config", ro.config, "relaisd's configuration")->capture_default_str();
    cmd->add_option("--plugin-dir", ro.plugin_dir, "where the plugins are (default: the config's)");
  };
  auto* rules_test = rules->add_subcommand("test", "moderate posts from JSON Lines and print each outcome");
  rules_test->add_option("FILE", file, "posts, one JSON object per line, or - for standard input")
      ->required();
  rules_test->add_option("--rules", ro.rules, "candidate rule files instead of the configured ones");
  rules_options(rules_test);
  auto* rules_replay = rules->add_subcommand(
      "replay", "run candidate rules on stored posts; list the posts whose action changes");
  rules_replay->add_option("--rules", ro.rules, "candidate rule files")->required();
  rules_replay->add_option("--since", ro.since, "only posts stored in the last DURATION (90m, 24h, 7d)");
  rules_replay->add_option("--limit", ro.limit, "at most the newest this many posts")
      ->check(CLI::Range(1, 1000000));
  rules_options(rules_replay);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (submit->parsed()) return cmd_submit(o, file);
    if (posts->parsed()) return cmd_posts(o, state, limit);
    if (show->parsed()) return cmd_show(o, id);
    if (stats->parsed()) return cmd_stats(o);
    if (plugins->parsed()) return cmd_plugins(o);
    o.state_dir_given = sd->count() > 0;
    if (queue->parsed()) return relais::ctl::cmd_queue(o, limit);
    if (approve->parsed()) return relais::ctl::cmd_decide(o, true, id, by, note);
    if (reject->parsed()) return relais::ctl::cmd_decide(o, false, id, by, reason);
    if (learn->parsed()) return relais::ctl::cmd_learn(o, file, by);
    if (needs->parsed()) return relais::ctl::cmd_needs(o, state, destination, limit);
    if (unrouted->parsed()) return relais::ctl::cmd_unrouted(o, limit);
    if (need->parsed()) return relais::ctl::cmd_need(o, id);
    if (deliveries->parsed())
      return relais::ctl::cmd_deliveries(o, failed ? "failed" : state, post_id, limit);
    if (redrive->parsed()) return relais::ctl::cmd_redrive(o, id, by);
    if (assign->parsed()) return relais::ctl::cmd_assign(o, id, destination, by);
    for (auto* act : acts) {
      if (act->parsed()) return relais::ctl::cmd_act(o, act->get_name(), id, destination, token_file, note);
    }
    if (rules_test->parsed()) return relais::ctl::cmd_rules_test(o, ro, file);
    if (rules_replay->parsed()) return relais::ctl::cmd_rules_replay(o, ro);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 1;
}
