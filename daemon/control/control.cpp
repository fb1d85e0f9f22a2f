#include "control/control.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "ingest/ingest.hpp"
#include "log.hpp"
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
  if (sp.verdict) {
    json::array findings;
    for (const auto& f : sp.findings) {
      json::object fo{{"stage", f.stage},
                      {"symbol", f.finding.symbol},
                      {"score", f.finding.score},
                      {"description", f.finding.description}};
      if (f.finding.forced) fo["forced"] = to_string(*f.finding.forced);
      findings.push_back(std::move(fo));
    }
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
  std::shared_ptr<spdlog::logger> log = component_logger("control");
  std::unique_ptr<Store> store;
  std::thread thread;
  const std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

  Impl(zmq::context_t& ctx, const LiveConfig& cfg, const LivePlugins& p, Counters& c)
      : context(ctx), config(cfg), plugins(p), counters(c) {}

  Expected<json::value> answer(const protocol::Query& q) {
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
    for (std::size_t i = 0; i <= static_cast<std::size_t>(protocol::Code::unavailable); ++i) {
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
          const auto code = result.error().code == "not_found" ? protocol::Code::invalid_value
                                                               : protocol::Code::unavailable;
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
                 Counters& counters)
    : impl_(std::make_unique<Impl>(context, config, plugins, counters)) {}

Control::~Control() { stop(); }

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
