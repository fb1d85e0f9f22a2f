#include "eval_relaisd.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "child_process.hpp"
#include "protocol.hpp"
#include "relais/client.hpp"

namespace relais::eval {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often the waits below look again; each is bounded by a deadline.
constexpr milliseconds kPollInterval{200};

std::string tail_of(const fs::path& file, std::size_t bytes = 4000) {
  std::ifstream in(file, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() > bytes) s = "[...]" + s.substr(s.size() - bytes);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.empty() ? "(nothing)" : s;
}

// relaisd as a child process, its output in a log file.
using Relaisd = relais::bench::ChildProcess;

// A DEALER for pings and operator queries, apart from the client that
// submits the posts.
class Control {
 public:
  explicit Control(const std::string& endpoint) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }

  // The reply to one request, or nullopt after `timeout`.
  std::optional<protocol::Reply> ask(const std::string& frame, std::uint64_t seq, milliseconds timeout) {
    socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
    const auto until = Clock::now() + timeout;
    for (auto now = Clock::now(); now < until; now = Clock::now()) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1));
      zmq::message_t msg;
      while (socket_.recv(msg, zmq::recv_flags::dontwait)) {
        auto reply = protocol::parse_reply(msg.to_string_view());
        // Asking again would get the same answer: better say so at once
        // than wait for the deadline.
        if (!reply)
          throw RunError(1, "relaisd sent a reply that is not a protocol reply (bad JSON or UTF-8)");
        if (reply->seq == seq) return reply;  // a late answer to an earlier request is dropped
      }
    }
    return std::nullopt;
  }

  bool ping(milliseconds timeout) {
    const auto seq = next_seq_++;
    auto reply = ask(protocol::encode_ping(seq), seq, timeout);
    return reply && reply->type == "pong";
  }

  // The query's result; nullopt when relaisd does not answer in time or
  // asks to be asked again.
  std::optional<json::value> query(const protocol::Query& q, milliseconds timeout) {
    const auto seq = next_seq_++;
    std::optional<protocol::Reply> reply;
    try {
      reply = ask(protocol::encode_query(seq, q), seq, timeout);
    } catch (const RunError& e) {
      throw RunError(e.status(), std::string(e.what()) + " to the `" + q.what + "` query");
    }
    // A storage hiccup is answered `unavailable`: the callers ask again
    // until their deadline.
    if (!reply || (reply->type == "nack" && protocol::is_retryable(reply->code))) return std::nullopt;
    if (reply->type != "result") {
      throw RunError(1, "relaisd refused the `" + q.what + "` query: " + reply->code + " " + reply->message);
    }
    boost::system::error_code ec;
    auto v = json::parse(reply->result_json, ec);
    if (ec || !v.is_object()) throw RunError(1, "relaisd answered the `" + q.what + "` query with bad JSON");
    return v;
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::dealer};
  std::uint64_t next_seq_ = 1;
};

// Keeps the steps' deadline and turns relaisd's death into a clear error.
class Watch {
 public:
  Watch(Relaisd& relaisd, Clock::time_point deadline, milliseconds budget)
      : relaisd_(relaisd), deadline_(deadline), budget_(budget) {}

  // Throws when relaisd has died or the deadline has passed, naming `doing`.
  void check(const std::string& doing) {
    if (!relaisd_.running()) {
      throw RunError(1, "relaisd died (" + relaisd_.how_it_ended() + ") while " + doing +
                            "; the end of its log:\n" + tail_of(relaisd_.log()));
    }
    if (Clock::now() >= deadline_) {
      throw RunError(1, "still " + doing + " after " + std::to_string(budget_.count() / 1000) +
                            " s (--timeout); the end of relaisd's log:\n" + tail_of(relaisd_.log()));
    }
  }

 private:
  Relaisd& relaisd_;
  Clock::time_point deadline_;
  milliseconds budget_;
};

void wait_ready(Relaisd& relaisd, Control& control, const RunOptions& o, const std::string& endpoint) {
  const auto until = Clock::now() + o.start_timeout;
  while (Clock::now() < until) {
    if (!relaisd.running()) {
      // Most often the configuration or a plugin's table, which relaisd
      // explains in its own words.
      throw RunError(2,
                     "relaisd refused to start (" + relaisd.how_it_ended() + "):\n" + tail_of(relaisd.log()));
    }
    if (control.ping(kPollInterval)) return;
  }
  throw RunError(1,
                 "relaisd did not answer a ping at " + endpoint + " within " +
                     std::to_string(o.start_timeout.count() / 1000) +
                     " s (--start-timeout); the config's ingest.endpoints must be empty so that it listens "
                     "there. The end of its log:\n" +
                     tail_of(relaisd.log()));
}

// Submits every post in file order; their store ids, in the same order.
std::vector<std::int64_t> submit_all(const RunOptions& o, const std::string& endpoint,
                                     const std::vector<LabelledPost>& posts, Watch& watch) {
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < posts.size(); ++i) index.emplace(posts[i].post.external_id, i);
  std::vector<std::int64_t> ids(posts.size(), 0);
  std::optional<std::string> refused;

  ClientOptions co;
  co.endpoint = endpoint;
  co.window = o.window;
  co.ack_timeout = milliseconds(2000);
  co.on_result = [&](const SubmitResult& r) {
    const auto it = index.find(r.external_id);
    if (it == index.end()) return;
    if (r.status == SubmitStatus::stored || r.status == SubmitStatus::duplicate) {
      ids[it->second] = r.post_id;
    } else if (!refused) {
      // read_posts checks the protocol's limits; a config may set tighter
      // ones (ingest.max_text_bytes).
      refused = o.posts_file + ":" + std::to_string(posts[it->second].line) +
                ": relaisd refused the post: " + r.code + (r.field.empty() ? "" : " " + r.field) + ": " +
                r.message;
    }
  };
  Client client(co);
  for (const auto& lp : posts) {
    for (;;) {
      auto seq = client.submit(lp.post, kPollInterval);
      if (seq) break;
      if (seq.error().code != "window_full") throw RunError(1, "submitting: " + seq.error().message);
      watch.check("submitting the posts");
    }
    if (refused) throw RunError(2, *refused);
  }
  while (!client.flush(kPollInterval)) watch.check("waiting for relaisd to acknowledge the posts");
  if (refused) throw RunError(2, *refused);
  return ids;
}

// Until no post is left in state `received`: the pipeline has decided on
// every one.
void wait_settled(Control& control, Watch& watch) {
  protocol::Query q;
  q.what = "posts";
  q.state = "received";
  q.limit = 1;
  for (;;) {
    watch.check("waiting for the pipeline to finish the posts");
    auto result = control.query(q, milliseconds(5000));
    if (!result) continue;  // the next check says whether to go on
    const auto* list = result->get_object().if_contains("posts");
    if (list != nullptr && list->is_array() && list->get_array().empty()) return;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> strings_at(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

// The `post` query's answer, reduced to what the metrics compare.
Predicted predicted_of(const json::object& post) {
  Predicted p;
  p.state = string_at(post, "state");
  if (const auto* v = post.if_contains("verdict"); v != nullptr && v->is_object()) {
    p.action = string_at(v->get_object(), "action");
    if (const auto* f = v->get_object().if_contains("findings"); f != nullptr && f->is_array()) {
      for (const auto& finding : f->get_array()) {
        if (finding.is_object()) p.symbols.push_back(string_at(finding.get_object(), "symbol"));
      }
    }
  }
  if (const auto* t = post.if_contains("triage"); t != nullptr && t->is_object()) {
    const auto& o = t->get_object();
    p.triaged = true;
    p.kind = string_at(o, "kind");
    p.categories = strings_at(o, "categories");
    p.urgency = string_at(o, "urgency");
    p.area = string_at(o, "area");
  }
  // The pipeline writes a `routed` event with the destinations it chose;
  // were a post routed again, the last decision is the one that stands.
  if (const auto* events = post.if_contains("events"); events != nullptr && events->is_array()) {
    for (const auto& e : events->get_array()) {
      if (!e.is_object() || string_at(e.get_object(), "type") != "routed") continue;
      const auto* detail = e.get_object().if_contains("detail");
      if (detail != nullptr && detail->is_object())
        p.destinations = strings_at(detail->get_object(), "destinations");
    }
  }
  return p;
}

std::vector<Predicted> read_outcomes(Control& control, const std::vector<LabelledPost>& posts,
                                     const std::vector<std::int64_t>& ids, Watch& watch) {
  std::vector<Predicted> out;
  out.reserve(posts.size());
  for (std::size_t i = 0; i < posts.size(); ++i) {
    protocol::Query q;
    q.what = "post";
    q.id = ids[i];
    std::optional<json::value> result;
    while (!result) {
      watch.check("reading the outcome of post " + posts[i].id);
      try {
        result = control.query(q, milliseconds(5000));
      } catch (const RunError& e) {
        throw RunError(e.status(), std::string(e.what()) + " (post " + posts[i].id + ")");
      }
    }
    const auto* post = result->get_object().if_contains("post");
    if (post == nullptr || !post->is_object()) {
      throw RunError(1, "relaisd's answer for post " + posts[i].id + " holds no post");
    }
    auto p = predicted_of(post->get_object());
    if (p.action.empty()) {
      throw RunError(1, "post " + posts[i].id + " has no verdict (state " + p.state + ")");
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::vector<Predicted> run_pipeline(const RunOptions& o, const std::vector<LabelledPost>& posts,
                                    std::ostream& progress) {
  const fs::path socket = o.state_dir / "ingest.sock";
  // sockaddr_un's sun_path: 108 bytes with the terminating NUL.
  if (socket.string().size() > 107) {
    throw RunError(2,
                   socket.string() + ": too long for an ipc:// socket; use a shorter TMPDIR or --keep-state");
  }
  const std::string endpoint = "ipc://" + socket.string();
  std::vector<std::string> argv{o.relaisd.string(),   "--config",     o.config.string(),    "--state-dir",
                                o.state_dir.string(), "--plugin-dir", o.plugin_dir.string()};
  Relaisd relaisd(argv, o.state_dir / "relaisd.log");
  Control control(endpoint);
  wait_ready(relaisd, control, o, endpoint);

  const auto start = Clock::now();
  Watch watch(relaisd, start + o.timeout, o.timeout);
  const auto ids = submit_all(o, endpoint, posts, watch);
  // Capacity-bound routing depends on the order posts reach the pipeline;
  // the file order is the one the labels assume.
  if (!std::is_sorted(ids.begin(), ids.end())) {
    progress << "eval: warning: relaisd stored the posts out of file order; routes may differ from a run in "
                "order\n";
  }
  wait_settled(control, watch);
  auto outcomes = read_outcomes(control, posts, ids, watch);
  const auto spent = std::chrono::duration<double>(Clock::now() - start).count();
  std::array<char, 32> seconds{};
  (void)std::snprintf(seconds.data(), seconds.size(), "%.1f", spent);
  progress << "eval: " << posts.size() << " posts through relaisd in " << seconds.data() << " s\n";
  if (!relaisd.stop(std::chrono::seconds(30))) {
    progress << "eval: warning: relaisd did not stop cleanly (" << relaisd.how_it_ended()
             << "); the figures stand, they were read before\n";
  }
  return outcomes;
}

}  // namespace relais::eval
