// source_xmpp: joins XMPP multi-user chat rooms with libstrophe and submits
// what people say there as posts. See README.md.
//
// Everything runs on the thread relaisd gives the source: libstrophe's loop
// is turned a few tens of milliseconds at a time, between which the client
// library's acknowledgements and resends are handled and the stop token is
// checked. Nothing is held back from the room's history but what relaisd
// acknowledged, so a crash or a reconnect costs duplicates (dropped by the
// store), never a message.
#include <strophe.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "catchup.hpp"
#include "config.hpp"
#include "message.hpp"
#include "relais/client.hpp"
#include "relais/plugin.hpp"

namespace relais::xmpp {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kMucNs = "http://jabber.org/protocol/muc";
constexpr const char* kMucUserNs = "http://jabber.org/protocol/muc#user";
constexpr const char* kMucOwnerNs = "http://jabber.org/protocol/muc#owner";
constexpr const char* kPingNs = "urn:xmpp:ping";
constexpr const char* kStanzasNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr milliseconds kTurn{50};  // one turn of libstrophe's loop
constexpr milliseconds kShortTurn{5};
constexpr milliseconds kJoinTimeout{30000};
constexpr milliseconds kSaveEvery{1000};
constexpr milliseconds kGoodbye{2000};  // leaving the rooms when asked to stop
constexpr milliseconds kFlush{5000};    // acknowledgements awaited when asked to stop
constexpr auto kSteadySession = std::chrono::seconds(10);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string attribute(xmpp_stanza_t* element, const char* name) {
  const char* v = element == nullptr ? nullptr : xmpp_stanza_get_attribute(element, name);
  return v == nullptr ? std::string() : std::string(v);
}

// A new element `name` in `ns` under `parent`; the parent owns it.
xmpp_stanza_t* add_child(xmpp_ctx_t* ctx, xmpp_stanza_t* parent, const char* name, const char* ns = nullptr) {
  xmpp_stanza_t* child = xmpp_stanza_new(ctx);
  xmpp_stanza_set_name(child, name);
  if (ns != nullptr) xmpp_stanza_set_ns(child, ns);
  xmpp_stanza_add_child(parent, child);
  xmpp_stanza_release(child);
  return child;
}

void add_text(xmpp_ctx_t* ctx, xmpp_stanza_t* parent, const std::string& text) {
  xmpp_stanza_t* node = xmpp_stanza_new(ctx);
  xmpp_stanza_set_text(node, text.c_str());
  xmpp_stanza_add_child(parent, node);
  xmpp_stanza_release(node);
}

// The name of the condition in a stanza's <error/>: "conflict", "forbidden".
std::string error_condition(xmpp_stanza_t* stanza) {
  xmpp_stanza_t* error = xmpp_stanza_get_child_by_name(stanza, "error");
  for (xmpp_stanza_t* c = error != nullptr ? xmpp_stanza_get_children(error) : nullptr; c != nullptr;
       c = xmpp_stanza_get_next(c)) {
    const char* ns = xmpp_stanza_get_ns(c);
    const char* name = xmpp_stanza_get_name(c);
    if (name != nullptr && ns != nullptr && std::string_view(ns) == kStanzasNs) return name;
  }
  return "undefined-condition";
}

const char* stream_error_name(xmpp_error_type_t type) {
  switch (type) {
    case XMPP_SE_CONFLICT:
      return "conflict (another session with the same resource)";
    case XMPP_SE_CONN_TIMEOUT:
      return "connection-timeout";
    case XMPP_SE_HOST_UNKNOWN:
      return "host-unknown";
    case XMPP_SE_NOT_AUTHORIZED:
      return "not-authorized";
    case XMPP_SE_POLICY_VIOLATION:
      return "policy-violation";
    case XMPP_SE_RESOURCE_CONSTRAINT:
      return "resource-constraint";
    case XMPP_SE_SYSTEM_SHUTDOWN:
      return "system-shutdown";
    case XMPP_SE_SEE_OTHER_HOST:
      return "see-other-host";
    default:
      return "stream error";
  }
}

// One libstrophe context, for one run.
class StropheContext {
 public:
  explicit StropheContext(const xmpp_log_t* log) {
    // Once per process, and never undone: xmpp_initialize() is not counted,
    // so one instance's xmpp_shutdown() would pull TLS from under another's.
    static std::once_flag initialized;
    std::call_once(initialized, [] { xmpp_initialize(); });
    ctx_ = xmpp_ctx_new(nullptr, log);
    if (ctx_ == nullptr) throw std::runtime_error("libstrophe: cannot create a context");
  }
  ~StropheContext() { xmpp_ctx_free(ctx_); }
  StropheContext(const StropheContext&) = delete;
  StropheContext& operator=(const StropheContext&) = delete;
  xmpp_ctx_t* get() const { return ctx_; }

 private:
  xmpp_ctx_t* ctx_;
};

struct RoomRuntime {
  enum class State : std::uint8_t { out, joining, joined };
  RoomView view;
  State state = State::out;
  Clock::time_point next_join{};  // when out: not before
  Clock::time_point join_sent{};
  milliseconds backoff{0};
  int nick_tries = 0;  // nick taken: try with a "_" more, a few times
};

struct Queued {
  std::size_t room;
  std::uint64_t token;
  Post post;
};

class XmppSource final : public Source {
 public:
  XmppSource(std::shared_ptr<const Config> config, const PluginContext& context)
      : config_(std::move(config)), log_(*context.log), rng_(std::random_device{}()) {
    if (!context.state_directory.empty()) {
      // Named after the account, not the entry's position, so that moving
      // entries in relais.toml keeps each one's memory.
      std::string name = "source_xmpp-";
      for (const char c : config_->bare_jid) {
        const bool plain =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '@';
        name += plain ? c : '_';
      }
      state_file_ = std::filesystem::path(context.state_directory) / (name + ".state");
    }
    for (const auto& room : config_->rooms) {
      RoomRuntime r;
      r.view.room = &room;
      rooms_.push_back(std::move(r));
    }
  }

  void run(const SourceEnvironment& env) override {
    if (!state_file_.empty()) {
      if (auto loaded = marks_.load(state_file_); !loaded) log(LogLevel::warn, loaded.error().message);
    }
    // A run after a failed one starts with a new client: what the old one
    // had in flight comes back with the history.
    queue_.clear();
    in_flight_.clear();
    marks_.forget_open();
    ClientOptions options;
    options.endpoint = env.endpoint;
    options.zmq_context = env.zmq_context;
    options.on_result = [this](const SubmitResult& r) { on_result(r); };
    Client client(options);

    xmpp_log_t strophe_log{&XmppSource::on_strophe_log, this};
    const StropheContext context(&strophe_log);
    ctx_ = context.get();
    milliseconds backoff = config_->reconnect_min;
    while (!env.stop.stop_requested()) {
      const auto online_for = session(client, env.stop);
      if (env.stop.stop_requested()) break;
      if (online_for >= kSteadySession) backoff = config_->reconnect_min;
      // Jitter: bridges of several relaisd, all cut off by one server restart,
      // do not all come back in the same instant.
      std::uniform_int_distribution<std::int64_t> spread(backoff.count() / 2, backoff.count());
      const milliseconds pause(spread(rng_));
      log(LogLevel::info, "disconnected from " + server_name() + ": " + last_reason_ + "; reconnecting in " +
                              std::to_string(pause.count()) + " ms");
      const auto until = Clock::now() + pause;
      while (!env.stop.stop_requested() && Clock::now() < until) {
        pump(client);
        const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
        client.poll(std::clamp(left, milliseconds(0), kTurn));
        save_state(false);
      }
      backoff = std::min(backoff * 2, config_->reconnect_max);
    }
    // Asked to stop: what was received gets a little time to be
    // acknowledged; what is not comes back with the history next time.
    pump(client);
    client.flush(kFlush);
    save_state(true);
    ctx_ = nullptr;
  }

 private:
  // One connection, from connecting to its end; returns how long it was online.
  Clock::duration session(Client& client, const std::stop_token& stop) {
    const std::unique_ptr<xmpp_conn_t, int (*)(xmpp_conn_t*)> owned(xmpp_conn_new(ctx_), &xmpp_conn_release);
    if (!owned) throw std::runtime_error("libstrophe: cannot create a connection");
    xmpp_conn_t* conn = owned.get();
    conn_ = conn;
    long flags = XMPP_CONN_FLAG_DISABLE_SM;  // every session joins the rooms afresh
    switch (config_->tls) {
      case Tls::required:
        flags |= XMPP_CONN_FLAG_MANDATORY_TLS;
        break;
      case Tls::direct:
        flags |= XMPP_CONN_FLAG_LEGACY_SSL;
        break;
      case Tls::off:
        flags |= XMPP_CONN_FLAG_DISABLE_TLS;
        break;
      case Tls::optional:
        break;
    }
    xmpp_conn_set_flags(conn, flags);
    xmpp_conn_set_jid(conn, config_->jid.c_str());
    xmpp_conn_set_pass(conn, config_->password.c_str());
    if (!config_->ca_file.empty()) xmpp_conn_set_cafile(conn, config_->ca_file.c_str());
    xmpp_conn_set_sockopt_callback(conn, xmpp_sockopt_cb_keepalive);
    xmpp_handler_add(conn, &XmppSource::on_message, nullptr, "message", nullptr, this);
    xmpp_handler_add(conn, &XmppSource::on_presence, nullptr, "presence", nullptr, this);
    xmpp_handler_add(conn, &XmppSource::on_iq, nullptr, "iq", nullptr, this);

    link_ = Link::connecting;
    leaving_ = false;
    last_reason_ = "connection failed";
    Clock::time_point online_at{};
    const char* server = config_->server.empty() ? nullptr : config_->server.c_str();
    if (xmpp_connect_client(conn, server, config_->port, &XmppSource::on_conn, this) != XMPP_EOK) {
      link_ = Link::closed;
      last_reason_ = "cannot start connecting";
    }
    bool leaving = false;
    Clock::time_point leave_until{};
    while (link_ != Link::closed) {
      if (stop.stop_requested() && !leaving) {
        leaving = leaving_ = true;
        leave_until = Clock::now() + kGoodbye;
        if (link_ == Link::online) say_goodbye();
        xmpp_disconnect(conn);
      }
      if (leaving && Clock::now() >= leave_until) break;
      if (link_ == Link::online && online_at == Clock::time_point{}) online_at = Clock::now();
      // A full queue stops reading from the server: backpressure reaches
      // the room's server instead of our memory.
      if (queue_.size() >= config_->max_pending) {
        client.poll(kTurn);
      } else if (in_flight_.empty()) {
        xmpp_run_once(ctx_, kTurn.count());
      } else {
        // Acknowledgements are awaited: turn both loops, in short steps.
        xmpp_run_once(ctx_, 1);
        client.poll(kShortTurn);
      }
      pump(client);
      client.poll(milliseconds(0));
      if (link_ == Link::online && !leaving_) tend_rooms();
      save_state(false);
    }
    for (auto& room : rooms_) forget(room);
    conn_ = nullptr;
    return online_at == Clock::time_point{} ? Clock::duration::zero() : Clock::now() - online_at;
  }

  std::string server_name() const {
    return (config_->server.empty() ? config_->domain : config_->server) +
           (config_->port != 0 ? ":" + std::to_string(config_->port) : "");
  }

  void log(LogLevel level, const std::string& message) {
    if (log_.enabled(level)) log_.log(level, message);
  }

  // libstrophe quotes whole stanzas (message text) in its debug lines only:
  // its errors say why a connection failed (TLS, DNS, a refused login) and
  // are worth a warning; the rest stays at debug.
  static void on_strophe_log(void* self, xmpp_log_level_t level, const char* area, const char* msg) {
    auto& s = *static_cast<XmppSource*>(self);
    if (level < XMPP_LEVEL_WARN) return;
    const LogLevel ours = level >= XMPP_LEVEL_ERROR ? LogLevel::warn : LogLevel::debug;
    if (!s.log_.enabled(ours)) return;
    s.log(ours,
          "libstrophe " + std::string(area != nullptr ? area : "") + ": " + (msg != nullptr ? msg : ""));
  }

  static void on_conn(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                      xmpp_stream_error_t* stream_error, void* self) {
    auto& s = *static_cast<XmppSource*>(self);
    if (event == XMPP_CONN_CONNECT) {
      s.link_ = Link::online;
      s.log(LogLevel::info, "connected to " + s.server_name() +
                                (xmpp_conn_is_secured(conn) != 0 ? " (TLS)" : " (without TLS)"));
      // Negative priority: the bridge is there for rooms, not for messages
      // sent to the account.
      xmpp_stanza_t* presence = xmpp_presence_new(s.ctx_);
      add_text(s.ctx_, add_child(s.ctx_, presence, "priority"), "-1");
      xmpp_send(conn, presence);
      xmpp_stanza_release(presence);
      s.ping_outstanding_ = false;
      xmpp_timed_handler_add(conn, &XmppSource::on_ping_timer,
                             static_cast<unsigned long>(s.config_->ping_interval.count()), self);
      for (auto& room : s.rooms_) {
        room.backoff = milliseconds(0);
        room.nick_tries = 0;
        s.join(room);
      }
      return;
    }
    if (event == XMPP_CONN_RAW_CONNECT) return;
    const bool was_online = s.link_ == Link::online;
    s.link_ = Link::closed;
    if (stream_error != nullptr) {
      s.last_reason_ = std::string("the server closed the stream: ") + stream_error_name(stream_error->type);
    } else if (error != 0) {
      s.last_reason_ = "connection error: " + std::error_code(error, std::generic_category()).message();
    } else if (!was_online) {
      // libstrophe says no more; its own warning (TLS, DNS, login) is logged.
      s.last_reason_ = "could not connect or log in";
    } else {
      s.last_reason_ = "connection closed";
    }
  }

  static int on_ping_timer(xmpp_conn_t* conn, void* self) {
    auto& s = *static_cast<XmppSource*>(self);
    if (s.ping_outstanding_) {
      // A whole interval without an answer: the link is dead even if TCP
      // has not noticed yet.
      s.log(LogLevel::warn, "no answer to a ping from " + s.server_name() + ": reconnecting");
      xmpp_disconnect(conn);
      return 0;
    }
    const std::string id = "relais-ping-" + std::to_string(++s.ping_seq_);
    xmpp_stanza_t* iq = xmpp_iq_new(s.ctx_, "get", id.c_str());
    xmpp_stanza_set_to(iq, s.config_->domain.c_str());
    add_child(s.ctx_, iq, "ping", kPingNs);
    xmpp_id_handler_add(conn, &XmppSource::on_pong, id.c_str(), self);
    xmpp_send(conn, iq);
    xmpp_stanza_release(iq);
    s.ping_outstanding_ = true;
    return 1;
  }

  static int on_pong(xmpp_conn_t* /*conn*/, xmpp_stanza_t* /*stanza*/, void* self) {
    // An error answer (a server without XEP-0199) still proves the link.
    static_cast<XmppSource*>(self)->ping_outstanding_ = false;
    return 0;
  }

  static int on_iq(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self) {
    auto& s = *static_cast<XmppSource*>(self);
    const char* type = xmpp_stanza_get_type(stanza);
    if (type == nullptr || (std::string_view(type) != "get" && std::string_view(type) != "set")) return 1;
    // Every request gets an answer (RFC 6120 8.2.3): a ping its pong, the
    // rest service-unavailable.
    xmpp_stanza_t* reply = nullptr;
    if (std::string_view(type) == "get" &&
        xmpp_stanza_get_child_by_name_and_ns(stanza, "ping", kPingNs) != nullptr) {
      reply = xmpp_stanza_reply(stanza);
      xmpp_stanza_set_type(reply, "result");
    } else {
      reply = xmpp_stanza_reply_error(stanza, "cancel", "service-unavailable", nullptr);
    }
    if (reply != nullptr) {
      xmpp_send(conn, reply);
      xmpp_stanza_release(reply);
    }
    (void)s;
    return 1;
  }

  RoomRuntime* room_of(xmpp_stanza_t* stanza) {
    const char* from = xmpp_stanza_get_from(stanza);
    if (from == nullptr) return nullptr;
    const std::string bare = lower(bare_of(from));
    for (auto& room : rooms_) {
      if (room.view.room->jid == bare) return &room;
    }
    return nullptr;
  }

  void join(RoomRuntime& room) {
    const Room& config = *room.view.room;
    std::string nick = config.nick;
    for (int i = 0; i < room.nick_tries; ++i) nick += '_';
    room.view.nick = nick;
    room.view.occupant_id.clear();
    room.view.real_jids.clear();
    xmpp_stanza_t* presence = xmpp_presence_new(ctx_);
    xmpp_stanza_set_to(presence, (config.jid + "/" + nick).c_str());
    xmpp_stanza_t* x = add_child(ctx_, presence, "x", kMucNs);
    xmpp_stanza_t* history = add_child(ctx_, x, "history");
    // From a little before the last message relaisd acknowledged: a room's
    // clock and ours may differ, and a message seen twice is stored once.
    if (const auto mark = marks_.watermark(config.jid)) {
      xmpp_stanza_set_attribute(history, "since",
                                format_datetime(*mark - config_->history_overlap_s).c_str());
      xmpp_stanza_set_attribute(history, "maxstanzas", std::to_string(config_->history_max_messages).c_str());
    } else {
      xmpp_stanza_set_attribute(history, "maxstanzas", std::to_string(config_->initial_history).c_str());
    }
    if (!config.password.empty()) add_text(ctx_, add_child(ctx_, x, "password"), config.password);
    xmpp_send(conn_, presence);
    xmpp_stanza_release(presence);
    room.state = RoomRuntime::State::joining;
    room.join_sent = Clock::now();
  }

  // Rooms we are out of, or whose join went unanswered, are joined again
  // once their pause is over.
  void tend_rooms() {
    const auto now = Clock::now();
    for (auto& room : rooms_) {
      if (room.state == RoomRuntime::State::joining && now - room.join_sent > kJoinTimeout) {
        log(LogLevel::warn, "no answer joining " + room.view.room->jid + ": trying again");
        retry_later(room);
      }
      if (room.state == RoomRuntime::State::out && now >= room.next_join) join(room);
    }
  }

  void retry_later(RoomRuntime& room) {
    room.state = RoomRuntime::State::out;
    room.backoff = room.backoff.count() == 0 ? config_->reconnect_min
                                             : std::min(room.backoff * 2, config_->reconnect_max);
    std::uniform_int_distribution<std::int64_t> spread(room.backoff.count() / 2, room.backoff.count());
    room.next_join = Clock::now() + milliseconds(spread(rng_));
  }

  void forget(RoomRuntime& room) {
    room.state = RoomRuntime::State::out;
    room.view.real_jids.clear();
  }

  void say_goodbye() {
    for (auto& room : rooms_) {
      if (room.state == RoomRuntime::State::out) continue;
      xmpp_stanza_t* presence = xmpp_presence_new(ctx_);
      xmpp_stanza_set_type(presence, "unavailable");
      xmpp_stanza_set_to(presence, (room.view.room->jid + "/" + room.view.nick).c_str());
      xmpp_send(conn_, presence);
      xmpp_stanza_release(presence);
    }
  }

  static int on_presence(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self) {
    auto& s = *static_cast<XmppSource*>(self);
    RoomRuntime* room = s.room_of(stanza);
    if (room == nullptr) return 1;
    const std::string nick = resource_of(xmpp_stanza_get_from(stanza));
    const char* type_attr = xmpp_stanza_get_type(stanza);
    const std::string_view type = type_attr != nullptr ? type_attr : "";
    const std::string& room_jid = room->view.room->jid;

    if (type == "error") {
      if (room->state != RoomRuntime::State::joining) return 1;
      const auto condition = error_condition(stanza);
      if (condition == "conflict" && room->nick_tries < 3) {
        ++room->nick_tries;
        s.log(LogLevel::warn, "nick taken in " + room_jid + ": joining with another");
        s.join(*room);
        return 1;
      }
      s.retry_later(*room);
      s.log(LogLevel::warn, "cannot join " + room_jid + ": " + condition + "; trying again in " +
                                std::to_string(room->backoff.count()) + " ms at most");
      return 1;
    }

    xmpp_stanza_t* x = xmpp_stanza_get_child_by_name_and_ns(stanza, "x", kMucUserNs);
    std::vector<std::string> codes;
    std::string real_jid;
    std::string new_nick;
    for (xmpp_stanza_t* c = x != nullptr ? xmpp_stanza_get_children(x) : nullptr; c != nullptr;
         c = xmpp_stanza_get_next(c)) {
      const char* name = xmpp_stanza_get_name(c);
      if (name == nullptr) continue;
      if (std::string_view(name) == "status") codes.push_back(attribute(c, "code"));
      if (std::string_view(name) == "item") {
        real_jid = lower(bare_of(attribute(c, "jid")));
        new_nick = attribute(c, "nick");
      }
    }
    const auto has = [&](std::string_view code) {
      return std::find(codes.begin(), codes.end(), code) != codes.end();
    };
    const bool self_presence = has("110") || nick == room->view.nick;

    if (type == "unavailable") {
      room->view.real_jids.erase(nick);
      if (!self_presence) return 1;
      if (has("303") && !new_nick.empty()) {  // our nick changed
        room->view.nick = new_nick;
        return 1;
      }
      if (s.leaving_) {  // we said goodbye
        s.forget(*room);
        return 1;
      }
      std::string why = "left";
      if (has("301")) why = "banned";
      if (has("307")) why = "kicked";
      if (has("321") || has("322")) why = "removed (affiliation or members-only)";
      if (has("332")) why = "removed (the room's service is shutting down)";
      if (x != nullptr && xmpp_stanza_get_child_by_name(x, "destroy") != nullptr)
        why = "removed (the room was destroyed)";
      s.retry_later(*room);
      s.log(LogLevel::warn, "out of " + room_jid + ": " + why + "; joining again in " +
                                std::to_string(room->backoff.count()) + " ms at most");
      return 1;
    }
    if (!type.empty()) return 1;  // subscriptions and probes: not from a room

    if (!real_jid.empty()) room->view.real_jids[nick] = real_jid;
    if (!self_presence) return 1;
    room->view.nick = nick;
    auto* occupant = xmpp_stanza_get_child_by_name_and_ns(stanza, "occupant-id", "urn:xmpp:occupant-id:0");
    room->view.occupant_id = attribute(occupant, "id");
    if (room->state != RoomRuntime::State::joined) {
      room->state = RoomRuntime::State::joined;
      room->backoff = milliseconds(0);
      s.log(LogLevel::info, "joined " + room_jid);
      // A room where nothing has been said yet still has a time to catch
      // up from: the first join, unless its history is taken anyway.
      if (s.config_->initial_history == 0 && s.marks_.start(room_jid, unix_now())) s.dirty_ = true;
    }
    if (has("201")) {
      // We created the room: accept the service's default configuration
      // (an "instant room"), or it stays locked to everyone else.
      xmpp_stanza_t* iq =
          xmpp_iq_new(s.ctx_, "set", ("relais-create-" + std::to_string(++s.ping_seq_)).c_str());
      xmpp_stanza_set_to(iq, room_jid.c_str());
      xmpp_stanza_t* query = add_child(s.ctx_, iq, "query", kMucOwnerNs);
      xmpp_stanza_t* form = add_child(s.ctx_, query, "x", "jabber:x:data");
      xmpp_stanza_set_type(form, "submit");
      xmpp_send(conn, iq);
      xmpp_stanza_release(iq);
      s.log(LogLevel::info, "created " + room_jid + " with the service's default configuration");
    }
    return 1;
  }

  static int on_message(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* self) {
    auto& s = *static_cast<XmppSource*>(self);
    const char* type = xmpp_stanza_get_type(stanza);
    // Private messages, invitations and errors are not the room's posts.
    if (type == nullptr || std::string_view(type) != "groupchat") return 1;
    RoomRuntime* room = s.room_of(stanza);
    if (room == nullptr) return 1;
    const auto mapped = map_message(stanza, room->view, *s.config_, unix_now());
    const char* id = xmpp_stanza_get_id(stanza);
    if (const auto* skipped = std::get_if<Skipped>(&mapped)) {
      const LogLevel level = skipped->refused ? LogLevel::warn : LogLevel::debug;
      s.log(level, std::string(skipped->refused ? "refused" : "skipped") + " a message in " +
                       room->view.room->jid + " (id " + (id != nullptr ? id : "none") +
                       "): " + skipped->reason);
      return 1;
    }
    const auto& m = std::get<Mapped>(mapped);
    const std::uint64_t token = s.next_token_++;
    s.marks_.seen(room->view.room->jid, token, m.stamp);
    s.queue_.push_back(Queued{static_cast<std::size_t>(room - s.rooms_.data()), token, m.post});
    if (s.log_.enabled(LogLevel::debug)) {
      s.log(LogLevel::debug, std::string(m.history ? "history" : "live") + " message " + m.post.external_id);
    }
    return 1;
  }

  // The queue into the client's window, as far as it goes.
  void pump(Client& client) {
    while (!queue_.empty()) {
      auto seq = client.submit(queue_.front().post, milliseconds(0));
      if (!seq) break;  // the window is full: relaisd is busy
      in_flight_.emplace(*seq, std::make_pair(queue_.front().room, queue_.front().token));
      queue_.pop_front();
    }
  }

  void on_result(const SubmitResult& r) {
    const auto it = in_flight_.find(r.seq);
    if (it == in_flight_.end()) return;
    const auto [room, token] = it->second;
    in_flight_.erase(it);
    switch (r.status) {
      case SubmitStatus::stored:
      case SubmitStatus::duplicate:
        if (log_.enabled(LogLevel::debug)) {
          log(LogLevel::debug, (r.status == SubmitStatus::stored ? "stored " : "duplicate ") + r.external_id +
                                   " as post " + std::to_string(r.post_id));
        }
        break;
      case SubmitStatus::rejected:
        // Refused for good: sending it again would not help, so it counts as
        // handled for the catch-up.
        log(LogLevel::warn, "relaisd refused " + r.external_id + ": " + r.code +
                                (r.field.empty() ? "" : " (" + r.field + ")") + ": " + r.message);
        break;
      case SubmitStatus::gave_up:
        // The client resends until acknowledged; this is not expected. The
        // message stays below the watermark, so the history brings it back.
        log(LogLevel::warn, "no acknowledgement for " + r.external_id);
        return;
    }
    if (marks_.done(rooms_[room].view.room->jid, token)) dirty_ = true;
  }

  void save_state(bool force) {
    if (state_file_.empty() || !dirty_) return;
    const auto now = Clock::now();
    if (!force && now - saved_at_ < kSaveEvery) return;
    saved_at_ = now;
    dirty_ = false;
    if (auto saved = marks_.save(state_file_); !saved) log(LogLevel::warn, saved.error().message);
  }

  enum class Link : std::uint8_t { connecting, online, closed };

  std::shared_ptr<const Config> config_;
  Logger& log_;
  std::mt19937_64 rng_;
  std::filesystem::path state_file_;
  Watermarks marks_;
  bool dirty_ = false;
  Clock::time_point saved_at_{};
  std::vector<RoomRuntime> rooms_;
  std::deque<Queued> queue_;
  std::unordered_map<std::uint64_t, std::pair<std::size_t, std::uint64_t>> in_flight_;  // seq -> room, token
  std::uint64_t next_token_ = 1;
  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_conn_t* conn_ = nullptr;
  Link link_ = Link::closed;
  bool leaving_ = false;  // asked to stop: leaving the rooms is expected
  std::string last_reason_;
  bool ping_outstanding_ = false;
  std::uint64_t ping_seq_ = 0;
};

class XmppFactory final : public SourceFactory {
 public:
  Expected<std::shared_ptr<const PluginConfig>> configure(const ConfigTable& table) const override {
    return xmpp::configure(table);
  }
  std::unique_ptr<Source> create(std::shared_ptr<const PluginConfig> config,
                                 const PluginContext& context) const override {
    return std::make_unique<XmppSource>(std::static_pointer_cast<const Config>(std::move(config)), context);
  }
};

}  // namespace

}  // namespace relais::xmpp

RELAIS_SOURCE_PLUGIN("source_xmpp", "1.0.0", relais::xmpp::XmppFactory)
