#include "daemon.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <optional>
#include <zmq.hpp>

#include "config/live_config.hpp"
#include "control/control.hpp"
#include "counters.hpp"
#include "http/links.hpp"
#include "http/server.hpp"
#include "ingest/ingest.hpp"
#include "log.hpp"
#include "outbox/outbox.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/host.hpp"
#include "plugins/sources.hpp"
#include "router/needs.hpp"
#include "router/router.hpp"
#include "storage/writer.hpp"

namespace relais::daemon {

struct Daemon::Impl {
  ConfigOverrides overrides;
  LiveConfig config;
  LivePlugins plugins;
  Counters counters;
  std::shared_ptr<spdlog::logger> log = component_logger("relaisd");
  int lock_fd = -1;
  // Declaration order is destruction order in reverse: the context outlives
  // every socket, the store outlives the threads that use it.
  zmq::context_t context{1};
  Router router;
  std::optional<LinkSigner> links;
  std::unique_ptr<Store> store;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<Writer> writer;
  std::unique_ptr<NeedTracker> needs;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<Control> control;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<SourceRunner> sources;
  bool running = false;

  Impl(Config c, ConfigOverrides o) : overrides(std::move(o)), config(std::move(c)) {}

  void start_sources(const Config& cfg) const {
    sources->start(plugins.get(), {cfg.source_restart_min, cfg.source_restart_max});
  }

  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  Status lock_state_dir(const std::filesystem::path& dir) {
    const auto path = dir / "relaisd.lock";
    lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0)
      return Error{
          "state_dir",
          path.string() + ": cannot open: " + std::error_code(errno, std::generic_category()).message(), ""};
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      return Error{"state_dir", dir.string() + ": another relaisd is already using this state directory", ""};
    }
    return Done{};
  }
};

Daemon::Daemon(Config config, ConfigOverrides overrides)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(overrides))) {}

Daemon::~Daemon() { stop(); }

void* Daemon::zmq_context() noexcept { return &impl_->context; }

Status Daemon::start() {
  auto& d = *impl_;
  const auto cfg = d.config.get();
  set_log_level(cfg->log_level);
  std::error_code ec;
  std::filesystem::create_directories(cfg->state_dir, ec);
  if (ec) return Error{"state_dir", cfg->state_dir.string() + ": cannot create: " + ec.message(), ""};
  if (auto locked = d.lock_state_dir(cfg->state_dir); !locked) return locked.error();

  // Every plugin is loaded, checked and configured before anything runs.
  auto plugins = build_plugin_set(*cfg);
  if (!plugins) return plugins.error();
  d.plugins.set(std::move(*plugins));

  auto store = open_sqlite_store(cfg->database(), {.read_only = false, .synchronous = cfg->synchronous});
  if (!store) return store.error();
  d.store = std::move(*store);

  // Posts stored before a stop or a crash whose outcome was never committed.
  std::vector<Post> unfinished;
  for (std::int64_t after = 0;;) {
    auto chunk = d.store->unfinished(after, 10000);
    if (!chunk) return chunk.error();
    if (chunk->empty()) break;
    after = chunk->back().id;
    for (auto& p : *chunk) unfinished.push_back(std::move(p));
  }

  // The capacity each destination has used, by day, before this start.
  auto uses = d.store->capacity_uses();
  if (!uses) return uses.error();
  std::vector<CapacityLedger::Use> ledger;
  for (auto& u : *uses) ledger.push_back({std::move(u.destination), std::move(u.day), u.count});
  d.router.ledger().load(ledger);
  auto signer = LinkSigner::open(cfg->state_dir / "link.key");
  if (!signer) return signer.error();
  d.links.emplace(*signer);

  d.pipeline = std::make_unique<Pipeline>(
      d.config, d.plugins,
      [&d](std::vector<StageRecord> records) {
        d.counters.processed += records.size();
        d.writer->record(std::move(records));
      },
      d.router);
  d.pipeline->on_decision([&d](StageRecord record, Pipeline::DecisionDone done) {
    d.writer->decide(std::move(record), std::string(state::held), std::move(done));
  });
  auto replies = std::make_shared<ReplyQueue>();
  d.writer =
      std::make_unique<Writer>(*d.store, d.config, d.counters, Ingest::reply_sink(d.context, replies),
                               [&d](std::vector<Post> posts) { d.pipeline->enqueue(std::move(posts)); });
  d.needs = std::make_unique<NeedTracker>(d.config, d.router, *d.writer, system_now);
  d.outbox = std::make_unique<Outbox>(d.config, d.plugins, *d.writer, d.counters, system_now);
  d.writer->listen({[&d] { d.outbox->wake(); }, [&d] { d.needs->wake(); },
                    [&d](std::vector<std::int64_t> offers) { d.needs->match_offers(std::move(offers)); }});
  d.writer->start();
  if (auto started = d.needs->start(cfg->database()); !started) {
    stop();
    return started.error();
  }
  // The HTTP endpoint before the outbox: the links in messages need its
  // address, which a port 0 only gives once bound.
  std::string base_url = cfg->public_url;
  if (!cfg->http_listen.empty()) {
    d.http = std::make_unique<HttpServer>(d.config, *d.needs, *d.links, d.counters, d.plugins, system_now);
    if (auto started = d.http->start(cfg->http_listen, cfg->database()); !started) {
      stop();
      return started.error();
    }
    if (base_url.empty()) base_url = "http://" + d.http->address();
  }
  d.outbox->set_links(&*d.links, base_url);
  if (auto started = d.outbox->start(cfg->database()); !started) {
    stop();
    return started.error();
  }
  d.pipeline->start();
  if (!unfinished.empty()) {
    d.log->info("resuming posts={} reason=unfinished_at_last_stop", unfinished.size());
    d.pipeline->enqueue(std::move(unfinished));
  }
  try {
    d.control = std::make_unique<Control>(d.context, d.config, d.plugins, d.counters, *d.pipeline, *d.needs,
                                          *d.writer);
    if (d.http) d.control->set_http_address(d.http->address());
    d.control->start();
    d.ingest = std::make_unique<Ingest>(d.context, d.config, *d.writer, d.counters, replies);
  } catch (const std::exception& e) {
    stop();
    return Error{"start", e.what(), ""};
  }
  d.ingest->start();
  // Sources last: their posts have somewhere to go from the first one.
  d.sources = std::make_unique<SourceRunner>(&d.context, Ingest::kSourceEndpoint);
  d.start_sources(*cfg);
  d.running = true;
  const auto set = d.plugins.get();
  d.log->info(
      "started version={} state_dir={} schema={} sources={} moderators={} triagers={} sinks={} "
      "destinations={} "
      "http={}",
      RELAIS_VERSION, cfg->state_dir.string(), sqlite_schema_version(), set->sources.size(),
      set->moderators.size(), set->triagers.size(), set->sinks.size(), cfg->network->destinations.size(),
      d.http ? d.http->address() : std::string("off"));
  return Done{};
}

void Daemon::stop() {
  auto& d = *impl_;
  // Sources first: they finish what they have in flight, and ingest still
  // answers it. Then no new posts, but every post taken is answered.
  if (d.sources) d.sources->stop();
  if (d.ingest) d.ingest->stop();
  // No query reaches control any more; a decision it waits for is still
  // carried out by the pipeline and the writer.
  if (d.control) d.control->stop();
  if (d.http) d.http->stop();
  // In-flight posts finish their stages, and their outcomes are committed
  // before the need tracker stops: it still matches the offers among them.
  if (d.pipeline) d.pipeline->stop();
  if (d.writer) d.writer->flush();
  if (d.needs) d.needs->stop();
  // Attempts under way end and their outcomes are committed; rows not
  // attempted stay pending for the next start.
  if (d.outbox) d.outbox->stop();
  if (d.writer) d.writer->stop();
  d.sources.reset();
  d.ingest.reset();
  d.control.reset();
  d.http.reset();
  d.writer.reset();
  d.outbox.reset();
  d.needs.reset();
  d.pipeline.reset();
  d.store.reset();
  if (d.running) d.log->info("stopped");
  d.running = false;
}

Status Daemon::reload() {
  auto& d = *impl_;
  const auto running = d.config.get();
  auto loaded = load_config(running->file, d.overrides);
  if (!loaded) {
    ++d.counters.reload_failures;
    d.counters.set_reload_error(loaded.error().message);
    d.log->error("reload_refused error=\"{}\" keeping=running_config", loaded.error().message);
    return loaded.error();
  }
  Config next = std::move(*loaded);
  // The new plugin set is built beside the running one, which keeps serving
  // until the new one is whole; a plugin refusing its new table keeps both.
  // Its instances keep their files where the running ones do: the state
  // directory changes only with a restart.
  auto plugins = build_plugin_set(
      next, {.shadow = false, .moderators_only = false, .state_directory = running->state_dir});
  if (!plugins) {
    ++d.counters.reload_failures;
    d.counters.set_reload_error(plugins.error().message);
    d.log->error("reload_refused error=\"{}\" keeping=running_config,running_plugins",
                 plugins.error().message);
    return plugins.error();
  }
  for (const auto& key : restart_only_changes(*running, next)) {
    d.log->warn("reload_partial key={} reason=needs_restart keeping=running_value", key);
  }
  // Keys that only a restart can change keep their running values.
  next.state_dir = running->state_dir;
  next.endpoints = running->endpoints;
  next.backend = running->backend;
  next.db_path = running->db_path;
  next.synchronous = running->synchronous;
  set_log_level(next.log_level);
  const RestartBackoff backoff{next.source_restart_min, next.source_restart_max};
  d.config.set(std::make_shared<const Config>(std::move(next)));
  // The pipeline takes the new set with its next batch; the sources of the
  // old set finish what they have in flight, then the new ones start.
  if (d.sources) d.sources->stop();
  d.plugins.set(std::move(*plugins));
  if (d.sources) d.sources->start(d.plugins.get(), backoff);
  ++d.counters.config_generation;
  d.counters.set_reload_error("");
  d.log->info("reloaded generation={}", d.counters.config_generation.load());
  return Done{};
}

}  // namespace relais::daemon
