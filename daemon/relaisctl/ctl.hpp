// What the relaisctl commands share: options, talking to relaisd, printing,
// and reading posts from JSON Lines.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol.hpp"
#include "relais/expected.hpp"
#include "relais/post.hpp"

namespace relais::ctl {

struct Options {
  std::string state_dir = "/var/lib/relais";
  bool state_dir_given = false;
  std::string endpoint;
  int timeout_ms = 5000;
  bool as_json = false;

  std::string ep() const { return endpoint.empty() ? "ipc://" + state_dir + "/ingest.sock" : endpoint; }
};

int fail(const std::string& reason);

// Sends one query and returns its result, or a one-line reason.
Expected<boost::json::value> query(const Options& o, const protocol::Query& q);

// What every command does first with a query's answer: a failure is
// reported (1); with --json the answer is printed as it came (0). Nothing:
// the command prints it its own way.
std::optional<int> reported(const Options& o, const Expected<boost::json::value>& answer);

// One post in the envelope format (a JSON object's text), checked with the
// daemon's own rules; an error starts with `at` ("file:line: ").
Expected<Post> check_post(const std::string& envelope, const std::string& at);

// A JSON value as one short line: strings bare, null as "-".
std::string str(const boost::json::value& v);

// A file's bytes, or standard input's for "-"; throws with the file's name.
std::string read_input(const std::string& file);

// One post of a JSON Lines file, and the label it carries, if any.
struct InputPost {
  std::size_t line = 0;
  Post post;
  std::optional<Action> label;     // "label", or labels.expected_action of the labelled files
  std::string id;                  // the file's own id, when it has one
  std::vector<std::string> flags;  // labels.flags of the labelled files
};

// Reads posts in the envelope format (sdk/PROTOCOL.md) or the labelled
// evaluation format (`id`, `channel`, `sender`, `subject`, `text`,
// `received_at`, `labels`), one JSON object per line; keys of neither are
// ignored. A post without `source` or `external_id` gets `source` and its
// id or line number. Each post is checked with the daemon's own rules: the
// error names file:line and the field.
Expected<std::vector<InputPost>> read_posts(const std::string& file, const std::string& source);

// review.cpp: the review queue and the moderators' decisions.
int cmd_queue(const Options& o, int limit);
int cmd_decide(const Options& o, bool approve, std::int64_t id, const std::string& by,
               const std::string& text);
int cmd_learn(const Options& o, const std::string& file, const std::string& by);

// routing.cpp: needs and deliveries, the unrouted queue, a moderator's
// assignment and redrive, and a destination's acts with its token (read
// from a file, so that it never shows in the process list).
int cmd_needs(const Options& o, const std::string& state, const std::string& destination, int limit);
int cmd_unrouted(const Options& o, int limit);
int cmd_need(const Options& o, std::int64_t id);
int cmd_deliveries(const Options& o, const std::string& state, std::int64_t post, int limit);
int cmd_redrive(const Options& o, std::int64_t id, const std::string& by);
int cmd_assign(const Options& o, std::int64_t id, const std::string& destination, const std::string& by);
// act: claim, decline or resolve.
int cmd_act(const Options& o, const std::string& act, std::int64_t id, const std::string& destination,
            const std::string& token_file, const std::string& note);
// For `show`: the post's need (its destinations) and its deliveries, printed
// or, with --json, added to `answer`; nothing when the post has none.
void show_routing(const Options& o, std::int64_t id, boost::json::object& answer);

// rules.cpp: what moderation would do, computed here with shadow instances
// of the configured moderators, never by the running daemon.
struct RulesOptions {
  std::string config = "/etc/relais/relais.toml";
  std::string plugin_dir;          // empty: the config's
  std::vector<std::string> rules;  // candidate rule files for moderate_rules
  std::string since;               // replay: 90m, 24h, 7d; empty: every post
  int limit = 10000;               // replay: the newest this many posts
};
int cmd_rules_test(const Options& o, const RulesOptions& r, const std::string& file);
int cmd_rules_replay(const Options& o, const RulesOptions& r);

}  // namespace relais::ctl
