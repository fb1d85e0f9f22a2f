#include "support/xmpp_client.hpp"

#include <strophe.h>

#include <functional>
#include <mutex>

namespace relais::test {

namespace {
constexpr const char* kMucUserNs = "http://jabber.org/protocol/muc#user";
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

XmppClient::XmppClient(const std::string& jid, const std::string& password, int port) {
  static std::once_flag initialized;  // xmpp_initialize() is not counted
  std::call_once(initialized, [] { xmpp_initialize(); });
  ctx_ = xmpp_ctx_new(nullptr, nullptr);
  conn_ = xmpp_conn_new(ctx_);
  xmpp_conn_set_flags(conn_, XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
  xmpp_conn_set_jid(conn_, jid.c_str());
  xmpp_conn_set_pass(conn_, password.c_str());
  xmpp_handler_add(conn_, &XmppClient::on_stanza, nullptr, nullptr, nullptr, this);
  const auto handler = [](xmpp_conn_t* conn, xmpp_conn_event_t event, int, xmpp_stream_error_t*, void* self) {
    auto& c = *static_cast<XmppClient*>(self);
    if (event == XMPP_CONN_CONNECT) {
      c.online_ = true;
      xmpp_stanza_t* presence = xmpp_presence_new(xmpp_conn_get_context(conn));
      xmpp_send(conn, presence);
      xmpp_stanza_release(presence);
    } else if (event != XMPP_CONN_RAW_CONNECT) {
      c.online_ = false;
      c.closed_ = true;
    }
  };
  if (xmpp_connect_client(conn_, "127.0.0.1", static_cast<unsigned short>(port), handler, this) != XMPP_EOK) {
    closed_ = true;
    return;
  }
  run_until([&] { return online_ || closed_; }, std::chrono::seconds(20));
}

XmppClient::~XmppClient() {
  if (online_) {
    xmpp_disconnect(conn_);
    run_until([&] { return closed_; }, std::chrono::seconds(2));
  }
  xmpp_conn_release(conn_);
  xmpp_ctx_free(ctx_);
}

int XmppClient::on_stanza(xmpp_conn_t* /*conn*/, xmpp_stanza_t* stanza, void* self) {
  auto& c = *static_cast<XmppClient*>(self);
  const char* name = xmpp_stanza_get_name(stanza);
  const char* from = xmpp_stanza_get_from(stanza);
  if (name == nullptr || from == nullptr) return 1;
  const std::string room = std::string(from).substr(0, std::string(from).find('/'));
  if (std::string_view(name) == "presence") {
    xmpp_stanza_t* x = xmpp_stanza_get_child_by_name_and_ns(stanza, "x", kMucUserNs);
    for (xmpp_stanza_t* s = x != nullptr ? xmpp_stanza_get_children(x) : nullptr; s != nullptr;
         s = xmpp_stanza_get_next(s)) {
      const char* code = xmpp_stanza_get_attribute(s, "code");
      if (code != nullptr && std::string_view(code) == "110") c.joined_.push_back(room);
    }
  } else if (std::string_view(name) == "message") {
    const char* id = xmpp_stanza_get_id(stanza);
    const char* type = xmpp_stanza_get_type(stanza);
    if (id == nullptr || type == nullptr || std::string_view(type) != "groupchat") return 1;
    std::string stanza_id;
    xmpp_stanza_t* sid = xmpp_stanza_get_child_by_name_and_ns(stanza, "stanza-id", "urn:xmpp:sid:0");
    if (const char* v = sid != nullptr ? xmpp_stanza_get_attribute(sid, "id") : nullptr) stanza_id = v;
    c.echoes_.emplace_back(id, stanza_id);
  }
  return 1;
}

bool XmppClient::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (closed_ || std::chrono::steady_clock::now() >= until) return done();
    xmpp_run_once(ctx_, 20);
  }
  return true;
}

void XmppClient::run_for(std::chrono::milliseconds time) {
  run_until([] { return false; }, time);
}

bool XmppClient::join(const std::string& room, const std::string& nick) {
  joined_.clear();
  send_raw("<presence to='" + xml_escape(room + "/" + nick) +
           "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>");
  return run_until([&] { return !joined_.empty(); }, std::chrono::seconds(20));
}

void XmppClient::send_raw(const std::string& xml) {
  xmpp_send_raw(conn_, xml.data(), xml.size());
  run_until([&] { return xmpp_conn_send_queue_len(conn_) == 0; }, std::chrono::seconds(20));
}

bool XmppClient::send_and_wait_echo(const std::string& xml, const std::string& id, std::string* stanza_id) {
  echoes_.clear();
  send_raw(xml);
  std::string found;
  const bool ok = run_until(
      [&] {
        for (const auto& [message_id, sid] : echoes_) {
          if (message_id == id) {
            found = sid;
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(20));
  if (ok && stanza_id != nullptr) *stanza_id = found;
  return ok;
}

bool XmppClient::say(const std::string& room, const std::string& body, const std::string& id,
                     std::string* stanza_id) {
  return send_and_wait_echo("<message type='groupchat' to='" + xml_escape(room) + "' id='" + xml_escape(id) +
                                "'><body>" + xml_escape(body) + "</body></message>",
                            id, stanza_id);
}

}  // namespace relais::test
