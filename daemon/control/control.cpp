#include "control/control.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <future>
#include <thread>
#include <zmq.hpp>

#include "control/routing_queries.hpp"
#include "ingest/ingest.hpp"
#include "log.hpp"
#include "pipeline/pipeline.hpp"
#include "privacy.hpp"
#include "protocol.hpp"
#include "storage/store.hpp"

namespace relais::daemon {
namespace json = boost::json;

namespace {

json::object map_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json::object summary_json(const PostSummary& p) {
  return {{"id", p.id},           {"source", p.source},   {"external_id", p.external_id},
          {"channel", p.channel}, {"state", p.state},     {"received_at", p.received_at},
          {"kind", p.kind},       {"urgency", p.urgency}, {"area", p.area},
          {"action", p.action}};
}

json::value parse_or_string(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(text) : v;
}

std::int64_t duplicate_of(const StoredPost& sp) {
  for (const auto& f : sp.findings) {
    if (f.finding.related_post > 0) return f.finding.related_post;
  }
  return 0;
}

json::object finding_json(const StoredFinding& f) {
  json::object fo{{"stage", f.stage},
                  {"symbol", f.finding.symbol},
                  {"score", f.finding.score},
                  {"description", f.finding.description}};
  if (f.finding.forced) fo["forced"] = to_string(*f.finding.forced);
  if (f.finding.related_post > 0) fo["related_post"] = f.finding.related_post;
  if (!f.finding.redactions.empty()) {
    json::array rs;
    for (const auto& r : f.finding.redactions) {
      rs.push_back(json::object{{"field", r.field},
                                {"offset", static_cast<std::uint64_t>(r.offset)},
                                {"length", static_cast<std::uint64_t>(r.length)},
                                {"replacement", r.replacement}});
    }
    fo["redactions"] = std::move(rs);
  }
  return fo;
}

json::object post_json(const StoredPost& sp) {
  const auto& p = sp.post;
  json::object o{{"id", p.id},
                 {"source", p.source},
                 {"external_id", p.external_id},
                 {"channel", p.channel},
                 {"sender", p.sender},
                 {"text", p.text},
                 {"received_at", p.received_at},
                 {"ingested_at", sp.ingested_at},
                 {"lang", p.lang},
                 {"state", sp.state},
                 {"fields", map_json(p.fields)},
                 {"private", map_json(p.private_data)}};
  o["subject"] = p.subject ? json::value(*p.subject) : json::value(nullptr);
  // What may be shown publicly: the contact details moderation found are
  // hidden there; the fields above keep the original for the destinations.
  o["public"] = json::object{{"text", redacted(p.text, sp.findings, "text")},
                             {"subject", p.subject ? json::value(redacted(*p.subject, sp.findings, "subject"))
                                                   : json::value(nullptr)}};
  if (const auto first = duplicate_of(sp); first > 0) o["duplicate_of"] = first;
  if (sp.verdict) {
    json::array findings;
    for (const auto& f : sp.findings) findings.push_back(finding_json(f));
    o["verdict"] = json::object{{"action", to_string(sp.verdict->action)},
                                {"score", sp.verdict->score},
                                {"findings", std::move(findings)}};
  }
  if (sp.triage) {
    json::array cats;
    for (const auto& c : sp.triage->categories) cats.emplace_back(c);
    o["triage"] = json::object{{"kind", to_string(sp.triage->kind)},
                               {"categories", std::move(cats)},
                               {"urgency", to_string(sp.triage->urgency)},
                               {"area", sp.triage->area},
                               {"lang", sp.triage->lang}};
  }
  json::array events;
  for (const auto& e : sp.events) {
    events.push_back(json::object{{"id", e.id},
                                  {"at", e.at},
                                  {"type", e.type},
                                  {"actor", e.actor},
                                  {"detail", parse_or_string(e.detail_json)}});
  }
  o["events"] = std::move(events);
  return o;
}

// Every instance of the set, in pipeline order within each kind.
template <class Visit>
void for_each_instance(const PluginSet& set, Visit&& visit) {
  for (const auto& i : set.sources) visit(i, PluginKind::source);
  for (const auto& i : set.moderators) visit(i, PluginKind::moderator);
  for (const auto& i : set.triagers) visit(i, PluginKind::triager);
  for (const auto& i : set.sinks) visit(i, PluginKind::sink);
}

json::object plugins_json(const PluginSet& set) {
  json::array list;
  for_each_instance(set, [&](const auto& i, PluginKind kind) {
    list.push_back(json::object{{"instance", i.instance},
                                {"plugin", i.plugin},
                                {"kind", to_string(kind)},
                                {"version", i.version},
                                {"file", i.file},
                                {"abi", i.abi}});
  });
  return {{"plugins", std::move(list)}};
}

json::object plugin_counters_json(const PluginSet& set) {
  json::object out;
  for_each_instance(set, [&](const auto& i, PluginKind kind) {
    const auto& c = *i.counters;
    json::object o{{"errors", c.errors.load()}};
    if (kind == PluginKind::source) {
      o["restarts"] = c.restarts.load();
    } else {
      o["posts"] = c.posts.load();
      if (kind == PluginKind::moderator) o["findings"] = c.findings.load();
      o["seconds"] = static_cast<double>(c.nanoseconds.load()) / 1e9;
    }
    out[i.instance] = std::move(o);
  });
  return out;
}

}  // namespace

struct Control::Impl {
  zmq::context_t& context;
  const LiveConfig& config;
  const LivePlugins& plugins;
  Counters& counters;
  Pipeline& pipeline;
  NeedTracker& needs;
  Writer& writer;
  std::shared_ptr<spdlog::logger> log = component_logger("control");
  std::unique_ptr<Store> store;
  std::thread thread;
  std::string http_address;  // empty: no HTTP endpoint
  const std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

  Impl(zmq::context_t& ctx, const LiveConfig& cfg, const LivePlugins& p, Counters& c, Pipeline& pl,
       NeedTracker& n, Writer& w)
      : context(ctx), config(cfg), plugins(p), counters(c), pipeline(pl), needs(n), writer(w) {}

  // How long a decision may take to be carried out and committed.
  static constexpr std::chrono::seconds kDecisionTimeout{30};

  Expected<json::value> queue(const protocol::Query& q) {
    auto held = store->list_posts(state::held, static_cast<std::size_t>(q.limit));
    if (!held) return held.error();
    json::array posts;
    for (const auto& summary : *held) {
      auto post = store->get_post(summary.id);
      if (!post) return post.error();
      if (!*post) continue;
      const auto& sp = **post;
      json::array findings;
      for (const auto& f : sp.findings) findings.push_back(finding_json(f));
      json::object o = summary_json(summary);
      o["score"] = sp.verdict ? sp.verdict->score : 0.0;
      o["findings"] = std::move(findings);
      o["public_text"] = redacted(sp.post.text, sp.findings, "text");
      if (sp.triage && !sp.triage->categories.empty()) o["category"] = sp.triage->categories.front();
      posts.push_back(std::move(o));
    }
    return json::value(json::object{{"posts", std::move(posts)}});
  }

  Expected<json::value> decide(const protocol::Query& q) {
    auto found = store->get_post(q.id);
    if (!found) return found.error();
    if (!*found) return Error{"not_found", "no post with id " + std::to_string(q.id), "id"};
    auto& sp = **found;
    if (sp.state != state::held) {
      return Error{"not_held", "post " + std::to_string(q.id) + " is " + sp.state + ", not held", "id"};
    }
    Decision d;
    d.post = std::move(sp.post);
    d.verdict = sp.verdict.value_or(Verdict{});
    d.triage = sp.triage;
    d.action = q.what == "approve" ? Action::accept : Action::reject;
    d.by = q.by;
    d.note = q.what == "approve" ? q.note : q.reason;
    auto promise = std::make_shared<std::promise<Expected<bool>>>();
    auto future = promise->get_future();
    pipeline.decide(std::move(d), [promise](Expected<bool> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(kDecisionTimeout) != std::future_status::ready) {
      return Error{"unavailable",
                   "the decision was not committed within 30 s; check the post before deciding again", ""};
    }
    auto committed = future.get();
    if (!committed) return committed.error();
    if (!*committed) {
      return Error{"not_held", "post " + std::to_string(q.id) + " was decided by someone else meanwhile",
                   "id"};
    }
    log->info("decided post={} decision={} by={}", q.id, q.what, q.by);
    auto after = store->get_post(q.id);
    if (!after) return after.error();
    const std::string now_state = *after ? (**after).state : std::string();
    return json::value(json::object{{"id", q.id}, {"decision", q.what}, {"state", now_state}});
  }

  Expected<json::value> learn(const protocol::Query& q) {
    std::vector<std::pair<Post, Action>> examples;
    examples.reserve(q.examples.size());
    for (const auto& e : q.examples) examples.emplace_back(e.post, e.label);
    auto promise = std::make_shared<std::promise<std::size_t>>();
    auto future = promise->get_future();
    pipeline.learn(std::move(examples), [promise](std::size_t n) { promise->set_value(n); });
    if (future.wait_for(kDecisionTimeout) != std::future_status::ready) {
      return Error{"unavailable", "the examples were not learned within 30 s", ""};
    }
    const auto learned = future.get();
    log->info("learned examples={} by={}", learned, q.by);
    return json::value(json::object{{"learned", learned}});
  }

  Expected<json::value> answer(const protocol::Query& q) {
    if (RoutingQueries::handles(q.what)) return RoutingQueries{*store, needs, writer}.answer(q);
    if (q.what == "queue") return queue(q);
    if (q.what == "approve" || q.what == "reject") return decide(q);
    if (q.what == "learn") return learn(q);
    if (q.what == "posts") {
      auto posts = store->list_posts(q.state, static_cast<std::size_t>(q.limit));
      if (!posts) return posts.error();
      json::array a;
      for (const auto& p : *posts) a.push_back(summary_json(p));
      return json::value(json::object{{"posts", std::move(a)}});
    }
    if (q.what == "post") {
      auto post = store->get_post(q.id);
      if (!post) return post.error();
      if (!*post) return Error{"not_found", "no post with id " + std::to_string(q.id), "id"};
      return json::value(json::object{{"post", post_json(**post)}});
    }
    if (q.what == "plugins") return json::value(plugins_json(*plugins.get()));
    auto st = store->stats();
    if (!st) return st.error();
    json::object by_state;
    for (const auto& [k, v] : st->by_state) by_state[k] = v;
    json::object by_source;
    for (const auto& [k, v] : st->by_source) by_source[k] = v;
    json::object rejected;
    for (std::size_t i = 0; i <= static_cast<std::size_t>(protocol::Code::conflict); ++i) {
      if (auto n = counters.rejected_by_code[i].load(); n > 0) {
        rejected[protocol::code_name(static_cast<protocol::Code>(i))] = n;
      }
    }
    const auto cfg = config.get();
    const auto uptime =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started).count();
    return json::value(json::object{
        {"version", RELAIS_VERSION},
        {"uptime_seconds", uptime},
        {"store",
         {{"schema_version", st->schema_version},
          {"posts", st->posts},
          {"events", st->events},
          {"by_state", std::move(by_state)},
          {"by_source", std::move(by_source)}}},
        {"ingest",
         {{"messages", counters.messages.load()},
          {"stored", counters.stored.load()},
          {"duplicates", counters.duplicates.load()},
          {"rejected", counters.rejected.load()},
          {"rejected_by_code", std::move(rejected)},
          {"queries", counters.queries.load()}}},
        {"storage",
         {{"commits", counters.commits.load()}, {"commit_failures", counters.commit_failures.load()}}},
        {"pipeline", {{"processed", counters.processed.load()}}},
        {"http", {{"address", http_address}}},
        {"outbox",
         {{"delivered", counters.deliveries_delivered.load()},
          {"retried", counters.deliveries_retried.load()},
          {"dead_lettered", counters.deliveries_dead.load()}}},
        {"plugins", plugin_counters_json(*plugins.get())},
        {"config",
         {{"file", cfg->file.string()},
          {"generation", counters.config_generation.load()},
          {"reload_failures", counters.reload_failures.load()},
          {"last_reload_error", counters.reload_error()},
          {"max_text_bytes", cfg->max_text_bytes}}}});
  }

  zmq::socket_t in{context, zmq::socket_type::pull};
  zmq::socket_t out{context, zmq::socket_type::push};

  void run() {
    for (;;) {
      // [identity][delimiter marker][query], as ingest forwards them.
      zmq::message_t identity;
      zmq::message_t marker;
      zmq::message_t frame;
      if (!in.recv(identity, zmq::recv_flags::none)) continue;
      (void)in.recv(marker, zmq::recv_flags::none);
      (void)in.recv(frame, zmq::recv_flags::none);
      if (identity.size() == 0) return;  // stop
      auto request = protocol::parse_request(frame.to_string_view(), protocol::Limits{});
      const auto* q = std::get_if<protocol::QueryRequest>(&request);
      if (q == nullptr) continue;  // ingest forwards only valid queries
      std::string reply;
      try {
        auto result = answer(q->query);
        if (result) {
          reply = protocol::encode_result(q->seq, json::serialize(*result));
        } else {
          const auto& c = result.error().code;
          auto code = protocol::Code::unavailable;
          if (c == "not_found") code = protocol::Code::not_found;
          if (c == "not_held" || c == "invalid_value") code = protocol::Code::invalid_value;
          if (c == "forbidden") code = protocol::Code::forbidden;
          if (c == "conflict") code = protocol::Code::conflict;
          reply = protocol::encode_nack({q->seq, code, result.error().field, result.error().message});
        }
      } catch (const std::exception& e) {
        log->error("query_failed query={} error=\"{}\"", q->query.what, e.what());
        reply = protocol::encode_nack({q->seq, protocol::Code::unavailable, "", "the query failed"});
      }
      out.send(identity, zmq::send_flags::sndmore);
      out.send(marker, zmq::send_flags::sndmore);
      out.send(zmq::buffer(reply), zmq::send_flags::none);
    }
  }
};

Control::Control(zmq::context_t& context, const LiveConfig& config, const LivePlugins& plugins,
                 Counters& counters, Pipeline& pipeline, NeedTracker& needs, Writer& writer)
    : impl_(std::make_unique<Impl>(context, config, plugins, counters, pipeline, needs, writer)) {}

Control::~Control() { stop(); }

void Control::set_http_address(std::string address) { impl_->http_address = std::move(address); }

void Control::start() {
  const auto cfg = impl_->config.get();
  auto store = open_sqlite_store(cfg->database(), {.read_only = true});
  if (!store) throw std::runtime_error(store.error().message);
  impl_->store = std::move(*store);
  impl_->in.bind(Ingest::kQueryEndpoint);
  impl_->out.set(zmq::sockopt::linger, 0);
  impl_->out.connect(Ingest::kReplyEndpoint);
  impl_->thread = std::thread([this] {
    name_this_thread("control");
    impl_->run();
  });
}

void Control::stop() {
  if (!impl_->thread.joinable()) return;
  {
    // The stop command travels the same road as the queries.
    zmq::socket_t stop(impl_->context, zmq::socket_type::push);
    stop.connect(Ingest::kQueryEndpoint);
    stop.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    stop.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    stop.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
  impl_->thread.join();
}

}  // namespace relais::daemon
