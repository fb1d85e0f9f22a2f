// bench/pipeline: relaisd's whole pipeline — ingest, the default moderation,
// triage, routing and the outbox, with every delivery actually sent — next
// to the floor of bench/ingest, and the time from a post's due send time to
// the moment a webhook receiver gets its delivery.
//
// relaisd runs on the default config (config/relais.toml and its network
// file, rewritten into a temporary directory: every destination and the
// moderators are reached through sink_webhook at a receiver inside this
// program, the HTTP API on any free port; moderation, triage, routing and
// outbox settings as shipped). Client threads submit generated posts
// (traffic.cpp); a relaisd run counts until every post is settled
// (moderated, triaged, routed) and every delivery created has reached the
// receiver. The floor (floor.cpp) is the store-then-ack server of
// bench/ingest; runs alternate floor, relaisd, floor, relaisd, ... and the
// medians are reported with their ratio. With --rate, posts are due at fixed
// times and latency is taken from the due time. See bench/README.md.
#include <sys/utsname.h>

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chat_receiver.hpp"
#include "harness.hpp"
#include "load.hpp"
#include "protocol.hpp"
#include "traffic.hpp"
#include "webhook_receiver.hpp"

#ifndef RELAIS_SOURCE_CONFIG_DIR
#define RELAIS_SOURCE_CONFIG_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using relais::bench::ChatReceiver;
using relais::bench::Clock;
using relais::bench::DeliveryReceiver;
using relais::bench::fixed;
using relais::bench::median;
using relais::bench::Percentiles;
using relais::bench::Probe;
using relais::bench::Server;
using relais::bench::WebhookReceiver;
using std::chrono::milliseconds;

struct Options {
  std::string relaisd;     // empty: ../daemon/relaisd from this program
  std::string plugin_dir;  // empty: the build's lib/relais/plugins
  std::string config_dir = RELAIS_SOURCE_CONFIG_DIR;
  std::size_t clients = 4;
  std::size_t posts = 20000;
  std::size_t window = 256;
  double rate = 0;  // posts/s offered in total; 0: closed loop
  std::size_t runs = 5;
  std::size_t warmup = 2000;
  std::string only = "both";
  std::size_t sources = 4096;
  std::int64_t capacity = 0;     // every destination's daily_capacity; 0: as shipped
  std::string sink = "webhook";  // how every destination is reached: webhook | chat
  std::uint64_t seed = 1;
  std::string tmpdir;
  bool keep = false;
  bool as_json = false;
  int settle_timeout_s = 900;
  int ack_timeout_ms = 10000;
  int start_timeout_ms = 60000;
  std::string dump_posts;
  // The floor server mode (internal: the bench runs itself with it).
  std::string serve_floor;
  std::string floor_db;
  std::size_t batch_max = 1024;
  std::string synchronous = "full";
  bool floor_validate = false;
};

// ---------------------------------------------------------------------------
// The config: the shipped files, rewritten for the bench.

struct Shipped {
  fs::path relais_toml;
  fs::path network;  // the network file [routing] names
  std::string network_name;
  std::vector<std::string> moderators, triagers, sinks;  // plugin names, file order
  std::size_t batch_max = 1024;
  std::string synchronous = "full";
};

toml::table parse_toml(const fs::path& file) {
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(file.string() + ": " + std::string(e.description()));
  }
}

// The table at `key`, made when missing.
toml::table& table_at(toml::table& parent, std::string_view key) {
  if (auto* t = parent[key].as_table()) return *t;
  parent.insert_or_assign(key, toml::table{});
  return *parent[key].as_table();
}

std::vector<std::string> plugins_of(const toml::table& cfg, std::string_view kind) {
  std::vector<std::string> out;
  if (const auto* entries = cfg[kind].as_array()) {
    for (const auto& e : *entries) {
      if (const auto* t = e.as_table()) out.push_back((*t)["plugin"].value_or(std::string("?")));
    }
  }
  return out;
}

Shipped read_shipped(const Options& o) {
  if (o.config_dir.empty()) throw std::runtime_error("no config directory: pass --config-dir DIR");
  Shipped s;
  s.relais_toml = fs::path(o.config_dir) / "relais.toml";
  const auto cfg = parse_toml(s.relais_toml);
  s.network_name = cfg["routing"]["network"].value_or(std::string());
  if (s.network_name.empty()) {
    throw std::runtime_error(s.relais_toml.string() +
                             ": [routing] network is empty: nothing would be routed");
  }
  s.network = fs::path(o.config_dir) / s.network_name;
  s.moderators = plugins_of(cfg, "moderate");
  s.triagers = plugins_of(cfg, "triage");
  s.sinks = plugins_of(cfg, "sink");
  s.batch_max = static_cast<std::size_t>(cfg["ingest"]["batch_max"].value_or(std::int64_t{1024}));
  s.synchronous = cfg["storage"]["synchronous"].value_or(std::string("full"));
  return s;
}

// Writes relais.toml and its network file into `dir`, with links to the
// rest of the shipped config directory (rule sets, lexicons), so that the
// shipped relative paths still hold. Returns the config file.
// Every destination, and the moderators, reached through the bench's
// receiver: its webhook (`to` a URL of it) or its chat bridge (the `chat`
// sink connected to it, `to` the destination's id as topic).
struct ReceiverAddress {
  std::string sink;  // "webhook" or "chat"
  std::string base;  // http://127.0.0.1:PORT/, or the bridge's tcp:// endpoint
};

fs::path write_config(const Options& o, const Shipped& s, const fs::path& dir, const fs::path& state_dir,
                      const fs::path& plugin_dir, const ReceiverAddress& receiver) {
  fs::create_directories(dir);
  const bool chat = receiver.sink == "chat";
  auto deliver_to = [&](const std::string& id, const std::string& secret) {
    if (chat) return toml::table{{"sink", "chat"}, {"to", id}};
    return toml::table{{"sink", "webhook"}, {"to", receiver.base + id}, {"secret", secret}};
  };

  auto cfg = parse_toml(s.relais_toml);
  // The bench is the only source: the shipped ones listen on fixed ports.
  cfg.erase("source");
  table_at(cfg, "daemon").insert_or_assign("state_dir", state_dir.string());
  table_at(cfg, "ingest").insert_or_assign("endpoints", toml::array{});
  table_at(cfg, "http").insert_or_assign("listen", "127.0.0.1:0");
  table_at(cfg, "plugins").insert_or_assign("directory", plugin_dir.string());
  table_at(cfg, "escalation")
      .insert_or_assign("moderators", toml::array{deliver_to("moderators", "bench-secret")});
  if (chat) {
    // The shipped chat sink, connected to the bench's bridge.
    if (auto* sinks = cfg["sink"].as_array()) {
      for (auto& node : *sinks) {
        auto* t = node.as_table();
        if (t != nullptr && (*t)["name"].value_or(std::string()) == "chat") {
          t->insert_or_assign("endpoint", receiver.base);
          t->insert_or_assign("mode", "connect");
        }
      }
    }
  }

  auto network = parse_toml(s.network);
  if (auto* destinations = network["destination"].as_array()) {
    for (auto& node : *destinations) {
      auto* d = node.as_table();
      if (d == nullptr) continue;
      const std::string id = (*d)["id"].value_or(std::string("destination"));
      // Keep the destination's secret when it has one, so that every
      // delivery is signed as a webhook's would be.
      std::string secret = "bench-secret-" + id;
      if (const auto* deliver = (*d)["deliver"].as_array()) {
        for (const auto& e : *deliver) {
          if (const auto* t = e.as_table(); t != nullptr && (*t)["secret"].is_string())
            secret = (*t)["secret"].value_or(secret);
        }
      }
      d->insert_or_assign("deliver", toml::array{deliver_to(id, secret)});
      if (o.capacity > 0) d->insert_or_assign("daily_capacity", o.capacity);
    }
  }

  fs::path config = dir / "relais.toml";
  const fs::path network_out = dir / s.network_name;
  fs::create_directories(network_out.parent_path());
  {
    std::ofstream out(config);
    out << "# Generated by bench/pipeline from " << s.relais_toml.filename().string() << "\n" << cfg << "\n";
    if (!out) throw std::runtime_error(config.string() + ": cannot write");
  }
  {
    std::ofstream out(network_out);
    out << "# Generated by bench/pipeline from " << s.network_name << "\n" << network << "\n";
    if (!out) throw std::runtime_error(network_out.string() + ": cannot write");
  }
  for (const auto& entry : fs::directory_iterator(o.config_dir)) {
    const auto target = dir / entry.path().filename();
    if (fs::exists(fs::symlink_status(target))) continue;
    fs::create_symlink(fs::absolute(entry.path()), target);
  }
  return config;
}

// ---------------------------------------------------------------------------
// Posts.

// One client's posts for one run, generated before the clock starts;
// received_at is set when each is sent.
class RunFeed : public relais::bench::PostFeed {
 public:
  RunFeed(relais::Post hello, std::vector<relais::Post> posts)
      : hello_(std::move(hello)), posts_(std::move(posts)) {}
  relais::Post hello() override {
    hello_.received_at = relais::protocol::now_rfc3339();
    return hello_;
  }
  relais::Post& next(std::size_t k) override {
    auto& p = posts_[k];
    p.received_at = relais::protocol::now_rfc3339();
    return p;
  }

 private:
  relais::Post hello_;
  std::vector<relais::Post> posts_;
};

// The posts of one run, client by client, as run_load shares them out.
std::vector<std::unique_ptr<RunFeed>> make_feeds(relais::bench::Traffic& traffic, std::size_t posts,
                                                 std::size_t clients) {
  std::vector<std::unique_ptr<RunFeed>> feeds;
  for (std::size_t c = 0; c < clients; ++c) {
    const std::size_t count = posts / clients + (c < posts % clients ? 1 : 0);
    relais::Post hello = traffic.next();
    std::vector<relais::Post> mine;
    mine.reserve(count);
    for (std::size_t k = 0; k < count; ++k) mine.push_back(traffic.next());
    feeds.push_back(std::make_unique<RunFeed>(std::move(hello), std::move(mine)));
  }
  return feeds;
}

json::object post_json(const relais::Post& p) {
  json::object o{{"source", p.source},   {"external_id", p.external_id},
                 {"channel", p.channel}, {"sender", p.sender},
                 {"text", p.text},       {"lang", p.lang}};
  if (p.subject) o["subject"] = *p.subject;
  if (!p.received_at.empty()) o["received_at"] = p.received_at;
  json::object fields;
  for (const auto& [k, v] : p.fields) fields[k] = v;
  if (!fields.empty()) o["fields"] = std::move(fields);
  json::object priv;
  for (const auto& [k, v] : p.private_data) priv[k] = v;
  if (!priv.empty()) o["private"] = std::move(priv);
  return o;
}

// ---------------------------------------------------------------------------
// Measurement.

struct StatsSnapshot {
  std::map<std::string, std::int64_t> by_state;
  std::int64_t delivered = 0, retried = 0, dead = 0, processed = 0;
  struct Plugin {
    std::int64_t posts = 0, findings = 0, errors = 0;
    double seconds = 0;
  };
  std::map<std::string, Plugin> plugins;
};

std::int64_t int_at(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return 0;
}

double double_at(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_double()) return v->get_double();
  return static_cast<double>(int_at(v));
}

const json::value* path_of(const json::value& root, std::initializer_list<std::string_view> keys) {
  const json::value* v = &root;
  for (auto k : keys) {
    if (!v->is_object()) return nullptr;
    v = v->get_object().if_contains(k);
    if (v == nullptr) return nullptr;
  }
  return v;
}

StatsSnapshot snapshot(Probe& probe) {
  relais::protocol::Query q;
  q.what = "stats";
  auto v = probe.query(q, milliseconds(30000));
  if (!v) throw std::runtime_error("relaisd did not answer a stats query");
  StatsSnapshot s;
  if (const auto* by_state = path_of(*v, {"store", "by_state"});
      by_state != nullptr && by_state->is_object()) {
    for (const auto& kv : by_state->get_object()) s.by_state[kv.key()] = int_at(&kv.value());
  }
  s.delivered = int_at(path_of(*v, {"outbox", "delivered"}));
  s.retried = int_at(path_of(*v, {"outbox", "retried"}));
  s.dead = int_at(path_of(*v, {"outbox", "dead_lettered"}));
  s.processed = int_at(path_of(*v, {"pipeline", "processed"}));
  if (const auto* plugins = path_of(*v, {"plugins"}); plugins != nullptr && plugins->is_object()) {
    for (const auto& kv : plugins->get_object()) {
      StatsSnapshot::Plugin p;
      p.posts = int_at(path_of(kv.value(), {"posts"}));
      p.findings = int_at(path_of(kv.value(), {"findings"}));
      p.errors = int_at(path_of(kv.value(), {"errors"}));
      p.seconds = double_at(path_of(kv.value(), {"seconds"}));
      s.plugins[kv.key()] = p;
    }
  }
  return s;
}

struct RunResult {
  std::string target;  // floor | relaisd
  std::size_t run = 0;
  std::size_t posts = 0;            // acknowledged
  double ack_posts_per_s = 0;       // acknowledged posts / (start to last ack)
  double posts_per_s = 0;           // floor: the same; relaisd: until settled and delivered
  double elapsed_s = 0;             // start to the end counted
  double settle_s = 0;              // last ack to the end counted
  Percentiles ack;                  // ack latency: from the due time (open loop), else from the send
  Percentiles delivery;             // due time to the receiver, every delivery of a post of the run
  Percentiles first_delivery;       // the same, the first delivery of each post
  std::size_t deliveries = 0;       // arrivals at the receiver during the run
  std::size_t matched = 0;          // of them, deliveries of posts of the run
  std::size_t delivered_posts = 0;  // posts of the run with at least one delivery
  std::map<std::string, std::size_t> by_purpose;
  std::map<std::string, std::int64_t> by_state;  // posts that reached each state during the run
  std::int64_t settled_posts = 0;                // their sum
  std::int64_t delivered = 0, retried = 0, dead = 0;
  double server_cpu_s = -1, client_cpu_s = 0;
  std::map<std::string, double> thread_cpu_s;
  std::map<std::string, StatsSnapshot::Plugin> plugins;  // the run's share of each instance's counters
  std::size_t resent = 0, duplicates = 0;
  std::string error;

  double share(const std::string& state) const {
    const auto it = by_state.find(state);
    return settled_posts > 0 && it != by_state.end()
               ? static_cast<double>(it->second) / static_cast<double>(settled_posts)
               : 0;
  }
  double per_post(std::size_t n) const {
    return settled_posts > 0 ? static_cast<double>(n) / static_cast<double>(settled_posts) : 0;
  }
  std::size_t purpose(const std::string& p) const {
    const auto it = by_purpose.find(p);
    return it == by_purpose.end() ? 0 : it->second;
  }
};

relais::bench::LoadOptions load_options(const Options& o, double rate) {
  relais::bench::LoadOptions lo;
  lo.clients = o.clients;
  lo.window = o.window;
  lo.rate = rate;
  lo.ack_timeout_ms = o.ack_timeout_ms;
  lo.start_timeout_ms = o.start_timeout_ms;
  return lo;
}

relais::bench::FeedFactory factory_of(std::vector<std::unique_ptr<RunFeed>>& feeds) {
  return [&feeds](std::size_t c) -> std::unique_ptr<relais::bench::PostFeed> { return std::move(feeds[c]); };
}

// Waits until relaisd has no post left in state `received` and no delivery
// pending, and nothing more arrives at the receiver for a while (an offer is
// matched with open needs after its own commit, so its deliveries come a
// little later). Returns when the posts were seen settled.
Clock::time_point settle(Probe& probe, DeliveryReceiver& receiver, const Options& o) {
  const auto until = Clock::now() + std::chrono::seconds(o.settle_timeout_s);
  auto check_time = [&] {
    if (Clock::now() > until) {
      throw std::runtime_error("relaisd had not settled after " + std::to_string(o.settle_timeout_s) + " s");
    }
  };
  Clock::time_point posts_settled;
  for (;;) {
    auto left = probe.unfinished();
    if (!left) throw std::runtime_error("relaisd did not answer a posts query");
    if (!*left) {
      posts_settled = Clock::now();
      break;
    }
    check_time();
    std::this_thread::sleep_for(milliseconds(5));
  }
  relais::protocol::Query pending;
  pending.what = "deliveries";
  pending.state = "pending";
  pending.limit = 1;
  for (;;) {
    auto v = probe.query(pending, milliseconds(30000));
    if (!v) throw std::runtime_error("relaisd did not answer a deliveries query");
    const auto* list = path_of(*v, {"deliveries"});
    const bool none = list == nullptr || !list->is_array() || list->get_array().empty();
    if (none) {
      const auto before = receiver.pending_count();
      std::this_thread::sleep_for(milliseconds(250));
      auto again = probe.query(pending, milliseconds(30000));
      const auto* list2 = again ? path_of(*again, {"deliveries"}) : nullptr;
      const bool still_none = list2 == nullptr || !list2->is_array() || list2->get_array().empty();
      if (still_none && receiver.pending_count() == before) return posts_settled;
    } else {
      std::this_thread::sleep_for(milliseconds(5));
    }
    check_time();
  }
}

RunResult measure_floor(const Options& o, Server& s, relais::bench::Traffic& traffic,
                        const std::string& prefix, std::size_t run) {
  auto feeds = make_feeds(traffic, o.posts, o.clients);
  double cpu0 = -1;
  auto l = relais::bench::run_load(load_options(o, 0), s.endpoint, prefix, o.posts, factory_of(feeds),
                                   [&] { cpu0 = s.child->cpu_seconds(); });
  RunResult r;
  r.target = s.target;
  r.run = run;
  r.error = l.error;
  r.posts = l.posts;
  r.ack_posts_per_s = l.posts_per_s;
  r.posts_per_s = l.posts_per_s;
  r.elapsed_s = l.elapsed_s;
  r.ack = l.latency;
  r.resent = l.resent;
  r.duplicates = l.duplicates;
  r.client_cpu_s = l.client_cpu_s;
  r.server_cpu_s = s.child->cpu_seconds() - cpu0;
  return r;
}

RunResult measure_relaisd(const Options& o, Server& s, DeliveryReceiver& receiver,
                          relais::bench::Traffic& traffic, const std::string& prefix, std::size_t posts,
                          double rate, std::size_t run) {
  auto feeds = make_feeds(traffic, posts, o.clients);
  Probe probe(s.endpoint);
  (void)receiver.take();  // nothing is expected: the last run settled
  StatsSnapshot before;
  double cpu0 = -1;
  std::map<std::string, double> threads0;
  auto l = relais::bench::run_load(load_options(o, rate), s.endpoint, prefix, posts, factory_of(feeds), [&] {
    before = snapshot(probe);
    cpu0 = s.child->cpu_seconds();
    threads0 = s.child->thread_cpu_seconds();
  });
  RunResult r;
  r.target = s.target;
  r.run = run;
  r.posts = l.posts;
  r.ack_posts_per_s = l.posts_per_s;
  r.ack = l.latency;
  r.resent = l.resent;
  r.duplicates = l.duplicates;
  r.client_cpu_s = l.client_cpu_s;
  if (!l.error.empty()) {
    r.error = l.error;
    return r;
  }
  const auto posts_settled = settle(probe, receiver, o);
  const auto arrivals = receiver.take();
  Clock::time_point last_arrival = l.t0;
  for (const auto& a : arrivals) last_arrival = std::max(last_arrival, a.at);
  const auto end = std::max({l.end, posts_settled, last_arrival});
  r.server_cpu_s = s.child->cpu_seconds() - cpu0;
  for (const auto& [name, secs] : s.child->thread_cpu_seconds()) {
    const auto it = threads0.find(name);
    r.thread_cpu_s[name] = secs - (it == threads0.end() ? 0 : it->second);
  }
  const auto after = snapshot(probe);
  r.elapsed_s = std::chrono::duration<double>(end - l.t0).count();
  r.settle_s = std::chrono::duration<double>(end - l.end).count();
  r.posts_per_s = r.elapsed_s > 0 ? static_cast<double>(r.posts) / r.elapsed_s : 0;
  for (const auto& [state, n] : after.by_state) {
    const auto it = before.by_state.find(state);
    const auto delta = n - (it == before.by_state.end() ? 0 : it->second);
    if (delta != 0) r.by_state[state] = delta;
    r.settled_posts += delta;
  }
  r.delivered = after.delivered - before.delivered;
  r.retried = after.retried - before.retried;
  r.dead = after.dead - before.dead;
  for (const auto& [name, p] : after.plugins) {
    StatsSnapshot::Plugin d = p;
    if (const auto it = before.plugins.find(name); it != before.plugins.end()) {
      d.posts -= it->second.posts;
      d.findings -= it->second.findings;
      d.errors -= it->second.errors;
      d.seconds -= it->second.seconds;
    }
    r.plugins[name] = d;
  }

  // Latency: from each post's due time to the arrival of its deliveries.
  std::unordered_map<std::int64_t, Clock::time_point> due;
  due.reserve(l.acked.size());
  for (const auto& a : l.acked) due.emplace(a.post_id, a.due);
  std::unordered_map<std::int64_t, Clock::time_point> first;
  std::vector<std::int64_t> every;
  every.reserve(arrivals.size());
  r.deliveries = arrivals.size();
  for (const auto& a : arrivals) {
    ++r.by_purpose[a.purpose];
    const auto it = due.find(a.post_id);
    if (it == due.end()) continue;
    ++r.matched;
    every.push_back((a.at - it->second).count());
    auto [f, inserted] = first.emplace(a.post_id, a.at);
    if (!inserted && a.at < f->second) f->second = a.at;
  }
  std::vector<std::int64_t> firsts;
  firsts.reserve(first.size());
  for (const auto& [id, at] : first) firsts.push_back((at - due[id]).count());
  r.delivered_posts = first.size();
  r.delivery = relais::bench::percentiles(every);
  r.first_delivery = relais::bench::percentiles(firsts);
  return r;
}

// ---------------------------------------------------------------------------
// Reporting.

struct Summary {
  std::size_t runs = 0;
  double posts_per_s = 0, ack_posts_per_s = 0, settle_s = 0, server_cpu_ms_per_1k = -1,
         client_cpu_ms_per_1k = 0;
  Percentiles delivery, first_delivery, ack;
  double deliveries_per_post = 0, routed = 0, unrouted = 0, accepted = 0, held = 0, rejected = 0;
  double need_deliveries_per_routed = 0, moderator_deliveries_per_unrouted = 0, offer_deliveries_per_post = 0;
  std::map<std::string, double> thread_ms_per_1k;  // relaisd's threads, CPU ms per 1,000 posts
  std::map<std::string, double> plugin_us_per_post;
};

Percentiles median_of(const std::vector<RunResult>& runs, Percentiles RunResult::*field) {
  std::vector<double> p50, p90, p99, p999, mx, mean;
  for (const auto& r : runs) {
    const auto& p = r.*field;
    p50.push_back(p.p50);
    p90.push_back(p.p90);
    p99.push_back(p.p99);
    p999.push_back(p.p999);
    mx.push_back(p.max);
    mean.push_back(p.mean);
  }
  return {median(p50), median(p90), median(p99), median(p999), median(mx), median(mean)};
}

Summary summarize(const std::vector<RunResult>& all, const std::string& target) {
  std::vector<RunResult> runs;
  for (const auto& r : all) {
    if (r.target == target && r.error.empty()) runs.push_back(r);
  }
  Summary s;
  s.runs = runs.size();
  if (runs.empty()) return s;
  auto med = [&](auto f) {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const auto& r : runs) v.push_back(f(r));
    return median(v);
  };
  s.posts_per_s = med([](const RunResult& r) { return r.posts_per_s; });
  s.ack_posts_per_s = med([](const RunResult& r) { return r.ack_posts_per_s; });
  s.settle_s = med([](const RunResult& r) { return r.settle_s; });
  s.server_cpu_ms_per_1k =
      med([](const RunResult& r) { return r.server_cpu_s * 1e6 / static_cast<double>(r.posts); });
  s.client_cpu_ms_per_1k =
      med([](const RunResult& r) { return r.client_cpu_s * 1e6 / static_cast<double>(r.posts); });
  s.ack = median_of(runs, &RunResult::ack);
  s.delivery = median_of(runs, &RunResult::delivery);
  s.first_delivery = median_of(runs, &RunResult::first_delivery);
  s.deliveries_per_post = med([](const RunResult& r) { return r.per_post(r.deliveries); });
  s.routed = med([](const RunResult& r) { return r.share("routed"); });
  s.unrouted = med([](const RunResult& r) { return r.share("unrouted"); });
  s.accepted = med([](const RunResult& r) { return r.share("accepted"); });
  s.held = med([](const RunResult& r) { return r.share("held"); });
  s.rejected = med([](const RunResult& r) { return r.share("rejected"); });
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  s.need_deliveries_per_routed = med([&](const RunResult& r) {
    return ratio(static_cast<double>(r.purpose("need") + r.purpose("urgent_copy")),
                 r.share("routed") * static_cast<double>(r.settled_posts));
  });
  s.moderator_deliveries_per_unrouted = med([&](const RunResult& r) {
    return ratio(static_cast<double>(r.purpose("unrouted")),
                 r.share("unrouted") * static_cast<double>(r.settled_posts));
  });
  s.offer_deliveries_per_post = med([](const RunResult& r) { return r.per_post(r.purpose("offer")); });
  std::map<std::string, std::vector<double>> threads, plugins;
  for (const auto& r : runs) {
    for (const auto& [name, secs] : r.thread_cpu_s)
      threads[name].push_back(secs * 1e6 / static_cast<double>(r.posts));
    for (const auto& [name, p] : r.plugins) {
      if (p.posts > 0) plugins[name].push_back(p.seconds * 1e6 / static_cast<double>(p.posts));
    }
  }
  for (auto& [name, v] : threads) s.thread_ms_per_1k[name] = median(v);
  for (auto& [name, v] : plugins) s.plugin_us_per_post[name] = median(v);
  return s;
}

std::string percent(double share) { return fixed(share * 100, 1) + "%"; }

void print_header(std::ostream& out, bool open_loop) {
  out << std::left << std::setw(8) << "run" << std::setw(9) << "target" << std::right << std::setw(10)
      << "posts/s" << std::setw(10) << "acked/s" << std::setw(10) << "settle s" << std::setw(9) << "deliv/p"
      << std::setw(9) << "routed" << std::setw(10) << "unrouted";
  if (open_loop) {
    out << std::setw(9) << "p50 ms" << std::setw(9) << "p99 ms" << std::setw(10) << "p99.9 ms" << std::setw(9)
        << "max ms";
  }
  out << std::setw(11) << "srv ms/1k"
      << "\n";
}

void print_run(std::ostream& out, const RunResult& r, bool open_loop) {
  const bool relaisd = r.target != "floor";
  out << std::left << std::setw(8) << r.run << std::setw(9) << r.target << std::right << std::setw(10)
      << fixed(r.posts_per_s, 0) << std::setw(10) << fixed(r.ack_posts_per_s, 0) << std::setw(10)
      << (relaisd ? fixed(r.settle_s, 2) : "-") << std::setw(9)
      << (relaisd ? fixed(r.per_post(r.deliveries), 2) : "-") << std::setw(9)
      << (relaisd ? percent(r.share("routed")) : "-") << std::setw(10)
      << (relaisd ? percent(r.share("unrouted")) : "-");
  if (open_loop) {
    out << std::setw(9) << fixed(r.delivery.p50, 1) << std::setw(9) << fixed(r.delivery.p99, 1)
        << std::setw(10) << fixed(r.delivery.p999, 1) << std::setw(9) << fixed(r.delivery.max, 1);
  }
  out << std::setw(11)
      << fixed(r.server_cpu_s * 1e6 / static_cast<double>(std::max<std::size_t>(r.posts, 1)), 1) << "\n";
}

json::object summary_json(const Summary& s) {
  json::object threads, plugins;
  for (const auto& [k, v] : s.thread_ms_per_1k) threads[k] = v;
  for (const auto& [k, v] : s.plugin_us_per_post) plugins[k] = v;
  return {{"runs", s.runs},
          {"posts_per_s", s.posts_per_s},
          {"acked_posts_per_s", s.ack_posts_per_s},
          {"settle_s", s.settle_s},
          {"ack_latency_ms", relais::bench::percentiles_json(s.ack)},
          {"delivery_latency_ms", relais::bench::percentiles_json(s.delivery)},
          {"first_delivery_latency_ms", relais::bench::percentiles_json(s.first_delivery)},
          {"deliveries_per_post", s.deliveries_per_post},
          {"shares", json::object{{"routed", s.routed},
                                  {"unrouted", s.unrouted},
                                  {"accepted", s.accepted},
                                  {"held", s.held},
                                  {"rejected", s.rejected}}},
          {"need_deliveries_per_routed_post", s.need_deliveries_per_routed},
          {"moderator_deliveries_per_unrouted_post", s.moderator_deliveries_per_unrouted},
          {"offer_deliveries_per_post", s.offer_deliveries_per_post},
          {"server_cpu_ms_per_1000_posts", s.server_cpu_ms_per_1k},
          {"client_cpu_ms_per_1000_posts", s.client_cpu_ms_per_1k},
          {"thread_cpu_ms_per_1000_posts", std::move(threads)},
          {"plugin_us_per_post", std::move(plugins)}};
}

json::object run_json(const RunResult& r) {
  json::object states, purposes, threads, plugins;
  for (const auto& [k, v] : r.by_state) states[k] = v;
  for (const auto& [k, v] : r.by_purpose) purposes[k] = v;
  for (const auto& [k, v] : r.thread_cpu_s) threads[k] = v;
  for (const auto& [k, p] : r.plugins) {
    plugins[k] = json::object{
        {"posts", p.posts}, {"findings", p.findings}, {"errors", p.errors}, {"seconds", p.seconds}};
  }
  return {
      {"run", r.run},
      {"target", r.target},
      {"posts", r.posts},
      {"posts_per_s", r.posts_per_s},
      {"acked_posts_per_s", r.ack_posts_per_s},
      {"elapsed_s", r.elapsed_s},
      {"settle_s", r.settle_s},
      {"ack_latency_ms", relais::bench::percentiles_json(r.ack)},
      {"delivery_latency_ms", relais::bench::percentiles_json(r.delivery)},
      {"first_delivery_latency_ms", relais::bench::percentiles_json(r.first_delivery)},
      {"deliveries", r.deliveries},
      {"deliveries_of_run_posts", r.matched},
      {"posts_with_a_delivery", r.delivered_posts},
      {"deliveries_by_purpose", std::move(purposes)},
      {"posts_by_state", std::move(states)},
      {"outbox", json::object{{"delivered", r.delivered}, {"retried", r.retried}, {"dead_lettered", r.dead}}},
      {"server_cpu_s", r.server_cpu_s},
      {"client_cpu_s", r.client_cpu_s},
      {"thread_cpu_s", std::move(threads)},
      {"plugins", std::move(plugins)},
      {"resent", r.resent},
      {"duplicates", r.duplicates}};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// The network's local time (Europe/Paris: UTC+1, UTC+2 from the last Sunday
// of March to the last Sunday of October, 01:00 UTC), which opening hours
// are read in.
std::string paris_time() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  auto last_sunday_1am = [&](int month) {  // month 0-11, as std::tm
    std::tm t{};
    t.tm_year = utc.tm_year;
    t.tm_mon = month + 1;  // the first day of the next month, then back
    t.tm_mday = 1;
    t.tm_hour = 1;
    std::time_t first_next = ::timegm(&t);
    std::tm f{};
    ::gmtime_r(&first_next, &f);
    const int back = f.tm_wday == 0 ? 7 : f.tm_wday;  // to the last Sunday before it
    return first_next - static_cast<std::time_t>(back) * 86400;
  };
  const bool summer = now >= last_sunday_1am(2) && now < last_sunday_1am(9);
  const std::time_t local = now + (summer ? 7200 : 3600);
  std::tm tm{};
  ::gmtime_r(&local, &tm);
  char buf[64];
  (void)std::strftime(buf, sizeof buf, "%a %Y-%m-%d %H:%M", &tm);
  return std::string(buf) + (summer ? " CEST" : " CET");
}

int dump_posts(const Options& o, const Shipped& shipped) {
  relais::bench::Traffic traffic(relais::bench::read_gazetteer(shipped.network), o.seed, o.sources);
  std::ofstream out(o.dump_posts);
  for (std::size_t i = 0; i < o.posts; ++i) {
    auto p = traffic.next();
    p.external_id = "dump-" + std::to_string(i);
    p.received_at = relais::protocol::now_rfc3339();
    out << json::serialize(post_json(p)) << "\n";
  }
  if (!out) {
    std::cerr << "pipeline: " << o.dump_posts << ": cannot write\n";
    return 1;
  }
  const auto& m = traffic.mix();
  std::cerr << "wrote " << m.posts << " posts: " << m.requests << " requests, " << m.offers << " offers, "
            << m.infos << " notices, " << m.thanks << " thanks, " << m.reposts << " reposts\n";
  return 0;
}

int run_bench(const Options& o) {
  if (o.clients == 0 || o.posts < o.clients || o.window == 0 || o.runs == 0 || o.rate < 0) {
    std::cerr
        << "pipeline: need --clients >= 1, --posts >= --clients, --window >= 1, --runs >= 1, --rate >= 0\n";
    return 2;
  }
  Shipped shipped;
  try {
    shipped = read_shipped(o);
  } catch (const std::exception& e) {
    std::cerr << "pipeline: " << e.what() << "\n";
    return 1;
  }
  if (!o.dump_posts.empty()) return dump_posts(o, shipped);
  const bool open_loop = o.rate > 0;
  // The floor has no pipeline and no deliveries: it is measured for the
  // throughput ratio only.
  const bool want_floor = !open_loop && o.only != "relaisd";
  const bool want_relaisd = o.only != "floor";

  std::unique_ptr<relais::bench::ScratchDir> scratch;
  try {
    scratch = std::make_unique<relais::bench::ScratchDir>("relais-pipeline-", o.tmpdir, o.keep);
  } catch (const std::exception& e) {
    std::cerr << "pipeline: " << e.what() << "\n";
    return 1;
  }
  const fs::path base = scratch->path();

  const auto nonce = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  utsname un{};
  ::uname(&un);
  const std::string cpu_model = relais::bench::read_line_starting("/proc/cpuinfo", "model name");
  const unsigned cpus = std::thread::hardware_concurrency();
  const std::string started_paris = paris_time();
  const std::string mode = open_loop ? fixed(o.rate, 0) + " posts/s offered (open loop)"
                                     : std::string("max throughput (closed loop)");

  std::vector<RunResult> results;
  std::optional<relais::bench::TrafficMix> mix;
  std::size_t unreadable = 0, repeated = 0;
  try {
    relais::bench::Traffic traffic(relais::bench::read_gazetteer(shipped.network), o.seed, o.sources);
    std::unique_ptr<DeliveryReceiver> made;
    ReceiverAddress address;
    if (o.sink == "chat") {
      auto chat = std::make_unique<ChatReceiver>();
      address = {"chat", chat->endpoint()};
      made = std::move(chat);
    } else {
      auto hook = std::make_unique<WebhookReceiver>();
      address = {"webhook", "http://127.0.0.1:" + std::to_string(hook->port()) + "/"};
      made = std::move(hook);
    }
    DeliveryReceiver& receiver = *made;
    std::cerr << "relais pipeline bench: " << mode << ", " << o.clients << " clients, window " << o.window
              << ", " << o.posts << " posts per run, " << o.runs << " runs\n"
              << "machine: " << cpus << " CPUs, " << cpu_model << ", Linux " << un.release << "; state in "
              << base << " (" << relais::bench::filesystem_of(base) << ")\n"
              << "config: " << shipped.relais_toml.string() << " with " << shipped.network_name
              << "; moderate: " << join(shipped.moderators) << "; triage: " << join(shipped.triagers)
              << "; sinks: " << join(shipped.sinks) << "\n"
              << "every destination and the moderators -> " << receiver.describe() << "; daily capacity "
              << (o.capacity > 0 ? std::to_string(o.capacity) + " for every destination"
                                 : std::string("as shipped"))
              << "; network time " << started_paris << "\n"
              << "posts spread over " << o.sources << " sources\n";

    std::vector<Server> servers;
    if (want_floor) {
      servers.push_back(relais::bench::start_floor({.batch_max = shipped.batch_max,
                                                    .synchronous = shipped.synchronous,
                                                    .validate = o.floor_validate,
                                                    .start_timeout_ms = o.start_timeout_ms},
                                                   base));
    }
    if (want_relaisd) {
      fs::path relaisd = o.relaisd;
      if (relaisd.empty())
        relaisd = relais::bench::self_exe().parent_path().parent_path() / "daemon" / "relaisd";
      fs::path plugin_dir = o.plugin_dir;
      if (plugin_dir.empty()) plugin_dir = relais::bench::build_plugin_dir();
      if (!fs::exists(relaisd)) {
        throw std::runtime_error(relaisd.string() + ": no relaisd there; build it or pass --relaisd PATH");
      }
      const fs::path state = base / "relaisd";
      fs::create_directories(state);
      const auto config = write_config(o, shipped, base / "config", state, plugin_dir, address);
      Server s;
      s.target = "relaisd";
      s.has_pipeline = true;
      s.endpoint = "ipc://" + (state / "ingest.sock").string();
      s.log = base / "relaisd.log";
      s.child = std::make_unique<relais::bench::Child>(
          "relaisd",
          std::vector<std::string>{relaisd.string(), "--config", config.string(), "--state-dir",
                                   state.string(), "--plugin-dir", plugin_dir.string()},
          s.log);
      Probe(s.endpoint).wait_ready(s.child.get(), milliseconds(o.start_timeout_ms), s.log);
      servers.push_back(std::move(s));
    }

    for (auto& s : servers) {
      if (o.warmup == 0) continue;
      std::cerr << "warming up " << s.target << " with " << o.warmup << " posts\n";
      const std::string prefix = std::to_string(nonce) + "-warmup-" + s.target;
      const std::size_t n = std::max(o.warmup, o.clients);
      if (s.has_pipeline) {
        auto r = measure_relaisd(o, s, receiver, traffic, prefix, n, 0, 0);
        if (!r.error.empty()) throw std::runtime_error("relaisd warm-up: " + r.error);
      } else {
        auto feeds = make_feeds(traffic, n, o.clients);
        auto r = relais::bench::run_load(load_options(o, 0), s.endpoint, prefix, n, factory_of(feeds));
        if (!r.error.empty()) throw std::runtime_error("floor warm-up: " + r.error);
      }
    }
    print_header(std::cerr, open_loop);
    for (std::size_t run = 1; run <= o.runs; ++run) {
      for (auto& s : servers) {
        const std::string prefix = std::to_string(nonce) + "-r" + std::to_string(run) + "-" + s.target;
        auto r = s.has_pipeline ? measure_relaisd(o, s, receiver, traffic, prefix, o.posts, o.rate, run)
                                : measure_floor(o, s, traffic, prefix, run);
        if (!r.error.empty())
          throw std::runtime_error(s.target + " run " + std::to_string(run) + ": " + r.error);
        print_run(std::cerr, r, open_loop);
        if (r.retried + r.dead > 0 || r.resent + r.duplicates > 0) {
          std::cerr << "  note: deliveries retried=" << r.retried << " dead=" << r.dead
                    << "; posts resent=" << r.resent << " duplicates=" << r.duplicates << "\n";
        }
        results.push_back(std::move(r));
      }
    }
    mix = traffic.mix();
    unreadable = receiver.unreadable();
    repeated = receiver.repeated();
    for (auto& s : servers) {
      if (!s.child->stop(std::chrono::seconds(60))) {
        std::cerr << s.target << " exited with status " << s.child->exit_code() << "\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "pipeline: " << e.what() << "\n";
    if (!o.keep) std::cerr << "(rerun with --keep to keep " << base << " and the servers' logs)\n";
    return 1;
  }

  const Summary floor = summarize(results, "floor");
  const Summary relaisd = summarize(results, "relaisd");
  const bool both = want_floor && want_relaisd;
  const double ratio = both && floor.posts_per_s > 0 ? relaisd.posts_per_s / floor.posts_per_s : 0;
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
  const bool throughput_met = ratio >= 0.50;
  const bool latency_met = relaisd.delivery.p99 <= 50.0;
  // Open loop: a relaisd that keeps up settles the posts as fast as they
  // come; acks alone may keep up while the pipeline falls behind.
  const bool acks_kept_up = open_loop && relaisd.ack_posts_per_s >= 0.98 * o.rate;
  const bool kept_up = open_loop && relaisd.posts_per_s >= 0.98 * o.rate;

  if (o.as_json) {
    json::array runs;
    for (const auto& r : results) runs.push_back(run_json(r));
    json::object traffic_json;
    if (mix) {
      traffic_json = {{"posts", mix->posts},
                      {"requests", mix->requests},
                      {"offers", mix->offers},
                      {"infos", mix->infos},
                      {"thanks", mix->thanks},
                      {"one_line_chat_posts", mix->one_liners},
                      {"reposts", mix->reposts},
                      {"english", mix->english},
                      {"with_form_fields", mix->with_fields},
                      {"own_contact", mix->own_contact},
                      {"others_contact", mix->others_contact},
                      {"no_area", mix->no_area},
                      {"sources", o.sources}};
    }
    json::object out{
        {"date", relais::bench::now_local()},
        {"network_time", started_paris},
        {"machine", json::object{{"cpus", cpus},
                                 {"cpu", cpu_model},
                                 {"kernel", un.release},
                                 {"state_filesystem", relais::bench::filesystem_of(base)}}},
        {"config",
         json::object{{"file", shipped.relais_toml.string()},
                      {"network", shipped.network_name},
                      {"moderate", json::value_from(shipped.moderators)},
                      {"triage", json::value_from(shipped.triagers)},
                      {"sinks", json::value_from(shipped.sinks)},
                      {"daily_capacity", o.capacity > 0 ? json::value(o.capacity) : json::value("shipped")},
                      {"batch_max", shipped.batch_max},
                      {"synchronous", shipped.synchronous}}},
        {"options", json::object{{"clients", o.clients},
                                 {"posts", o.posts},
                                 {"window", o.window},
                                 {"rate", o.rate},
                                 {"runs", o.runs},
                                 {"warmup", o.warmup},
                                 {"sources", o.sources},
                                 {"seed", o.seed}}},
        {"mode", open_loop ? "open_loop" : "closed_loop"},
        {"traffic", std::move(traffic_json)},
        {"receiver", json::object{{"unreadable_requests", unreadable}, {"repeated_deliveries", repeated}}},
        {"runs", std::move(runs)}};
    if (want_floor) out["floor"] = summary_json(floor);
    if (want_relaisd) out["relaisd"] = summary_json(relaisd);
    json::object targets;
    if (both) {
      json::array pr;
      for (double v : pair_ratios) pr.push_back(v);
      out["ratio"] = ratio;
      out["pair_ratios"] = std::move(pr);
      targets["pipeline_ge_0_50_of_floor"] = throughput_met;
    }
    if (want_relaisd && open_loop) {
      targets["p99_delivery_le_50ms"] = latency_met;
      targets["kept_up"] = kept_up;
      targets["acks_kept_up"] = acks_kept_up;
    }
    out["targets"] = std::move(targets);
    std::cout << json::serialize(out) << "\n";
    return 0;
  }

  std::cout << "\nmedian of " << o.runs << " runs (" << mode << "; " << o.clients << " clients, window "
            << o.window << ", " << o.posts << " posts per run)\n";
  print_header(std::cout, open_loop);
  auto median_row = [&](const Summary& s, const std::string& target) {
    RunResult r;
    r.target = target;
    r.posts = 1000;
    r.posts_per_s = s.posts_per_s;
    r.ack_posts_per_s = s.ack_posts_per_s;
    r.settle_s = s.settle_s;
    r.settled_posts = 1000000;
    r.deliveries = static_cast<std::size_t>(s.deliveries_per_post * 1e6);
    r.by_state["routed"] = static_cast<std::int64_t>(s.routed * 1e6);
    r.by_state["unrouted"] = static_cast<std::int64_t>(s.unrouted * 1e6);
    r.delivery = s.delivery;
    r.server_cpu_s = s.server_cpu_ms_per_1k / 1000;
    std::cout << std::left << std::setw(8) << "median";
    std::ostringstream row;
    print_run(row, r, open_loop);
    std::cout << row.str().substr(8);
  };
  if (want_floor) median_row(floor, "floor");
  if (want_relaisd) median_row(relaisd, "relaisd");
  std::cout
      << "posts/s: relaisd counts until every post is settled and every delivery has reached the receiver; "
         "the floor until its last ack. acked/s: until the last ack.\n";
  if (want_relaisd) {
    std::cout << "posts by state: routed " << percent(relaisd.routed) << ", unrouted (to the moderators) "
              << percent(relaisd.unrouted) << ", accepted, not routed (offers, notices) "
              << percent(relaisd.accepted) << ", held " << percent(relaisd.held) << ", rejected "
              << percent(relaisd.rejected) << "\n"
              << "deliveries per post " << fixed(relaisd.deliveries_per_post, 3) << ": per routed post "
              << fixed(relaisd.need_deliveries_per_routed, 3) << " (need and urgent copy), per unrouted post "
              << fixed(relaisd.moderator_deliveries_per_unrouted, 3)
              << " (to the moderators), offers matched " << fixed(relaisd.offer_deliveries_per_post, 3)
              << " per post\n";
    if (open_loop) {
      std::cout << "latency from the due time to the receiver, ms: every delivery p50 "
                << fixed(relaisd.delivery.p50, 2) << " p99 " << fixed(relaisd.delivery.p99, 2) << " p99.9 "
                << fixed(relaisd.delivery.p999, 2) << " max " << fixed(relaisd.delivery.max, 2)
                << "; first delivery of each post p50 " << fixed(relaisd.first_delivery.p50, 2) << " p99 "
                << fixed(relaisd.first_delivery.p99, 2) << " p99.9 " << fixed(relaisd.first_delivery.p999, 2)
                << " max " << fixed(relaisd.first_delivery.max, 2) << "; ack p99 "
                << fixed(relaisd.ack.p99, 2) << "\n";
    }
    std::cout << "relaisd CPU ms per 1000 posts by thread:";
    for (const auto& [name, ms] : relaisd.thread_ms_per_1k) {
      if (ms >= 0.05) std::cout << " " << name << " " << fixed(ms, 1);
    }
    std::cout << "\nplugin time per call, us:";
    for (const auto& [name, us] : relaisd.plugin_us_per_post) std::cout << " " << name << " " << fixed(us, 1);
    std::cout << "\n";
  }
  if (mix) {
    std::cout << "traffic: " << mix->requests << " requests, " << mix->offers << " offers, " << mix->infos
              << " notices, " << mix->thanks << " thanks (" << mix->one_liners << " one-line chat posts), "
              << mix->reposts << " reposts of a request; " << mix->english << " in English, "
              << mix->with_fields << " with form fields, " << mix->own_contact << " with the sender's phone, "
              << mix->others_contact << " with someone else's, " << mix->no_area
              << " without a known place\n";
  }
  if (unreadable + repeated > 0) {
    std::cout << "receiver: " << unreadable << " unreadable requests, " << repeated
              << " deliveries received twice\n";
  }
  if (both) {
    std::cout << "ratio relaisd pipeline / floor posts/s: " << fixed(ratio, 3) << " (per run:";
    for (double v : pair_ratios) std::cout << " " << fixed(v, 3);
    std::cout << ")\ntarget pipeline >= 50% of the floor: " << (throughput_met ? "met" : "NOT met") << "\n";
  }
  if (want_relaisd && open_loop) {
    std::cout << "relaisd kept up with the offered rate: acks " << (acks_kept_up ? "yes" : "NO") << " ("
              << fixed(relaisd.ack_posts_per_s, 0) << " posts/s), settled and delivered "
              << (kept_up ? "yes" : "NO") << " (" << fixed(relaisd.posts_per_s, 0) << " posts/s)\n"
              << "target p99 from due time to the receiver <= 50 ms at " << fixed(o.rate, 0)
              << " posts/s: " << (latency_met ? "met" : "NOT met") << " (p99 "
              << fixed(relaisd.delivery.p99, 2) << " ms)\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "pipeline: relaisd's whole pipeline, deliveries included, next to the floor (bench/README.md)"};
  Options o;
  app.add_option("--relaisd", o.relaisd,
                 "the relaisd to spawn (default: ../daemon/relaisd from this program)");
  app.add_option("--plugin-dir", o.plugin_dir, "the spawned relaisd's --plugin-dir (default: the build's)");
  app.add_option(
         "--config-dir", o.config_dir,
         "the directory of the relais.toml to start from, with its network file, rule sets and lexicons")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "client threads, each with its own relais::Client")
      ->capture_default_str();
  app.add_option("--posts", o.posts, "posts per run, over all clients")->capture_default_str();
  app.add_option("--window", o.window, "posts in flight per client")->capture_default_str();
  app.add_option(
         "--rate", o.rate,
         "posts/s offered in total, open loop: latency from each post's due time to its deliveries; 0: "
         "as fast as possible, against the floor")
      ->capture_default_str();
  app.add_option("--runs", o.runs, "runs per server; medians are reported")->capture_default_str();
  app.add_option("--warmup", o.warmup, "posts sent to each server before the runs")->capture_default_str();
  app.add_option("--only", o.only, "which servers to measure")
      ->check(CLI::IsMember({"both", "floor", "relaisd"}))
      ->capture_default_str();
  app.add_option("--sources", o.sources, "source names the posts are spread over")->capture_default_str();
  app.add_option(
         "--sink", o.sink,
         "how every destination is reached: webhook (sink_webhook to the bench's HTTP receiver) or chat "
         "(sink_zmq to the bench's SUB socket)")
      ->check(CLI::IsMember({"webhook", "chat"}))
      ->capture_default_str();
  app.add_option("--capacity", o.capacity,
                 "every destination's daily_capacity in the generated network; 0: as shipped")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the generated posts")->capture_default_str();
  app.add_option("--tmpdir", o.tmpdir, "where the temporary directory goes (default: $TMPDIR or /tmp)");
  app.add_flag("--keep", o.keep, "keep the state directories, the generated config and the logs");
  app.add_option("--settle-timeout", o.settle_timeout_s, "s to wait for relaisd to settle after a run")
      ->capture_default_str();
  app.add_option("--ack-timeout", o.ack_timeout_ms, "ms before a client resends a post")
      ->capture_default_str();
  app.add_option("--start-timeout", o.start_timeout_ms, "ms to wait for a server to answer a ping")
      ->capture_default_str();
  app.add_flag("--floor-validate", o.floor_validate, "the floor validates requests as relaisd does");
  app.add_option(
      "--dump-posts", o.dump_posts,
      "write --posts generated posts to this file as JSON Lines (for relaisctl submit or rules test) "
      "and exit");
  app.add_flag("--json", o.as_json, "print the results as one JSON object");
  app.add_option("--serve-floor", o.serve_floor, "internal: run the floor server on this endpoint")
      ->group("");
  app.add_option("--floor-db", o.floor_db, "internal: the floor server's database")->group("");
  app.add_option("--batch-max", o.batch_max, "internal: the floor's batch size")->group("");
  app.add_option("--synchronous", o.synchronous, "internal: the floor's synchronous")->group("");
  CLI11_PARSE(app, argc, argv);

  if (!o.serve_floor.empty()) {
    return relais::bench::serve_floor(o.serve_floor, o.floor_db, o.batch_max, o.synchronous,
                                      o.floor_validate);
  }
  return run_bench(o);
}
