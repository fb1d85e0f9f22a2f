// The floor: the least a store-then-ack ingest server can do on this machine.
//
// One thread, one ZeroMQ ROUTER, one SQLite file in WAL mode with the
// daemon's pragmas. It drains what is queued on the socket (up to batch_max
// messages), parses each JSON request with Boost.JSON, inserts every post in
// one transaction, commits, then acks each one with the protocol's own ack
// frame. No validation beyond what parsing needs (unless asked), no events
// table, no pipeline: whatever relaisd does beyond this is its overhead.
//
// It runs in a process of its own (bench/ingest re-executes itself with
// --serve-floor), so that the clients drive it exactly as they drive relaisd.
#include <sqlite3.h>

#include <boost/json.hpp>
#include <csignal>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "harness.hpp"
#include "protocol.hpp"

namespace relais::bench {
namespace json = boost::json;

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int /*signo*/) { g_stop = 1; }

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(std::string(sql).substr(0, 40) + ": " + msg);
  }
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db));
  }
  return stmt;
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string map_to_json(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return json::serialize(o);
}

std::string string_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::map<std::string, std::string> map_of(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> m;
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) return m;
  for (const auto& kv : v->get_object()) {
    if (kv.value().is_string()) m.emplace(kv.key(), kv.value().get_string());
  }
  return m;
}

struct Pending {
  std::string identity;
  std::uint64_t seq = 0;
  Post post;
};

// What one request frame asks for.
struct Parsed {
  enum class Kind : std::uint8_t { submit, ping, bad } kind = Kind::bad;
  std::uint64_t seq = 0;
  Post post;
};

// Bare parsing: Boost.JSON and the fields the table needs, nothing checked.
Parsed parse_bare(std::string_view frame) {
  Parsed out;
  boost::system::error_code ec;
  json::value doc = json::parse(frame, ec);
  if (ec || !doc.is_object()) return out;
  const auto& o = doc.get_object();
  const auto* seq = o.if_contains("seq");
  if (seq == nullptr || !seq->is_number()) return out;
  out.seq = seq->is_uint64() ? seq->get_uint64() : static_cast<std::uint64_t>(seq->to_number<std::int64_t>());
  const std::string type = string_of(o, "type");
  if (type == "ping") {
    out.kind = Parsed::Kind::ping;
    return out;
  }
  const auto* post = o.if_contains("post");
  if (type != "submit" || post == nullptr || !post->is_object()) return out;
  const auto& p = post->get_object();
  out.post.source = string_of(p, "source");
  out.post.external_id = string_of(p, "external_id");
  out.post.text = string_of(p, "text");
  out.post.channel = string_of(p, "channel");
  out.post.sender = string_of(p, "sender");
  out.post.lang = string_of(p, "lang");
  out.post.received_at = string_of(p, "received_at");
  if (const auto* subject = p.if_contains("subject"); subject != nullptr && subject->is_string()) {
    out.post.subject = std::string(subject->get_string());
  }
  out.post.fields = map_of(p, "fields");
  out.post.private_data = map_of(p, "private");
  if (out.post.source.empty() || out.post.external_id.empty()) return out;
  if (out.post.channel.empty()) out.post.channel = out.post.source;
  out.kind = Parsed::Kind::submit;
  return out;
}

// Full parsing and validation, as relaisd does it (sdk/src/protocol.cpp).
Parsed parse_validated(std::string_view frame) {
  Parsed out;
  auto request = protocol::parse_request(frame, protocol::Limits{});
  if (auto* s = std::get_if<protocol::Submit>(&request)) {
    out.kind = Parsed::Kind::submit;
    out.seq = s->seq;
    out.post = std::move(s->post);
  } else if (auto* p = std::get_if<protocol::Ping>(&request)) {
    out.kind = Parsed::Kind::ping;
    out.seq = p->seq;
  }
  return out;
}

}  // namespace

int serve_floor(const std::string& endpoint, const std::string& database, std::size_t batch_max,
                const std::string& synchronous, bool validate) {
  (void)std::signal(SIGTERM, on_stop_signal);
  (void)std::signal(SIGINT, on_stop_signal);
  sqlite3* db = nullptr;
  try {
    if (sqlite3_open_v2(database.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      throw std::runtime_error(database + ": cannot open");
    }
    sqlite3_busy_timeout(db, 5000);
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, synchronous == "normal" ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    // The columns of relaisd's posts table (schema version 1), nothing else.
    exec(db, R"sql(
CREATE TABLE IF NOT EXISTS posts(
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT,
  text TEXT NOT NULL,
  lang TEXT NOT NULL,
  fields TEXT NOT NULL,
  private TEXT NOT NULL,
  received_at TEXT NOT NULL,
  ingested_at TEXT NOT NULL,
  state TEXT NOT NULL,
  UNIQUE(source, external_id)
))sql");
    sqlite3_stmt* insert =
        prepare(db,
                "INSERT INTO posts(source, external_id, channel, sender, subject, text, lang, "
                "fields, private, received_at, ingested_at, state) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,'received') "
                "ON CONFLICT(source, external_id) DO NOTHING");
    sqlite3_stmt* find = prepare(db, "SELECT id FROM posts WHERE source = ? AND external_id = ?");

    zmq::context_t context(1);
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::rcvhwm, 0);
    router.set(zmq::sockopt::sndhwm, 0);
    router.bind(endpoint);

    auto reply = [&router](const std::string& identity, const std::string& frame) {
      try {
        router.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        router.send(zmq::buffer(frame), zmq::send_flags::dontwait);
      } catch (const zmq::error_t&) {
        // The peer went away; its resend will come back.
      }
    };

    std::vector<Pending> batch;
    std::vector<std::string> acks;
    while (g_stop == 0) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      try {
        if (zmq::poll(&item, 1, std::chrono::milliseconds(200)) == 0) continue;
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      // Drain what is queued: this is the group commit.
      batch.clear();
      for (std::size_t n = 0; n < batch_max; ++n) {
        zmq::message_t id;
        if (!router.recv(id, zmq::recv_flags::dontwait)) break;
        if (!id.more()) continue;
        std::vector<zmq::message_t> frames;
        while (true) {
          zmq::message_t part;
          if (!router.recv(part, zmq::recv_flags::none)) break;
          const bool more = part.more();
          frames.push_back(std::move(part));
          if (!more) break;
        }
        std::string identity = id.to_string();
        if (frames.empty()) continue;
        Parsed parsed = validate ? parse_validated(frames.back().to_string_view())
                                 : parse_bare(frames.back().to_string_view());
        switch (parsed.kind) {
          case Parsed::Kind::ping:
            reply(identity, protocol::encode_pong(parsed.seq));
            break;
          case Parsed::Kind::submit:
            batch.push_back({std::move(identity), parsed.seq, std::move(parsed.post)});
            break;
          case Parsed::Kind::bad:
            reply(identity, protocol::encode_nack({std::nullopt, protocol::Code::bad_json, "",
                                                   "the floor server could not read this request"}));
            break;
        }
      }
      if (batch.empty()) continue;

      const std::string now = protocol::now_rfc3339();
      acks.clear();
      exec(db, "BEGIN IMMEDIATE");
      for (auto& p : batch) {
        const Post& post = p.post;
        sqlite3_reset(insert);
        bind_text(insert, 1, post.source);
        bind_text(insert, 2, post.external_id);
        bind_text(insert, 3, post.channel);
        bind_text(insert, 4, post.sender);
        if (post.subject) {
          bind_text(insert, 5, *post.subject);
        } else {
          sqlite3_bind_null(insert, 5);
        }
        bind_text(insert, 6, post.text);
        bind_text(insert, 7, post.lang);
        bind_text(insert, 8, map_to_json(post.fields));
        bind_text(insert, 9, map_to_json(post.private_data));
        bind_text(insert, 10, post.received_at.empty() ? now : post.received_at);
        bind_text(insert, 11, now);
        if (sqlite3_step(insert) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
        bool duplicate = false;
        std::int64_t id = 0;
        if (sqlite3_changes(db) == 0) {
          duplicate = true;
          sqlite3_reset(find);
          bind_text(find, 1, post.source);
          bind_text(find, 2, post.external_id);
          if (sqlite3_step(find) == SQLITE_ROW) id = sqlite3_column_int64(find, 0);
          sqlite3_reset(find);
        } else {
          id = sqlite3_last_insert_rowid(db);
        }
        acks.push_back(protocol::encode_ack(p.seq, duplicate, id));
      }
      sqlite3_reset(insert);
      exec(db, "COMMIT");
      // Acks only after the commit, as relaisd promises.
      for (std::size_t i = 0; i < batch.size(); ++i) reply(batch[i].identity, acks[i]);
    }
    sqlite3_finalize(insert);
    sqlite3_finalize(find);
    sqlite3_close_v2(db);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "floor: " << e.what() << "\n";
    if (db != nullptr) sqlite3_close_v2(db);
    return 1;
  }
}

}  // namespace relais::bench
