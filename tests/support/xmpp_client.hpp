// A small XMPP client for tests, on libstrophe: logs in to a test server on
// loopback without TLS, joins rooms and says things there. Single-threaded:
// its loop turns only inside its own calls, each bounded by a deadline.
#pragma once

#include <strophe.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace relais::test {

class XmppClient {
 public:
  // Connects as `jid` (with a resource or not) to 127.0.0.1:`port`; check
  // online() after.
  XmppClient(const std::string& jid, const std::string& password, int port);
  ~XmppClient();
  XmppClient(const XmppClient&) = delete;
  XmppClient& operator=(const XmppClient&) = delete;

  bool online() const { return online_; }
  // Joins `room` as `nick`, asking for no history; true once the room
  // confirmed it.
  bool join(const std::string& room, const std::string& nick);

  // Sends `xml` as it is (one stanza) and waits until the room echoes back a
  // groupchat message with id `id`; false if none came. `stanza_id` gets
  // the stanza-id the room gave it (empty when it gave none).
  bool send_and_wait_echo(const std::string& xml, const std::string& id, std::string* stanza_id = nullptr);
  // Says `body` in `room`, with message id `id`; as send_and_wait_echo.
  bool say(const std::string& room, const std::string& body, const std::string& id,
           std::string* stanza_id = nullptr);
  // Sends `xml` and turns the loop until it is written.
  void send_raw(const std::string& xml);
  // Turns the loop for `time`.
  void run_for(std::chrono::milliseconds time);

 private:
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  static int on_stanza(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* self);

  xmpp_ctx_t* ctx_ = nullptr;
  xmpp_conn_t* conn_ = nullptr;
  bool online_ = false;
  bool closed_ = false;
  std::vector<std::string> joined_;                          // rooms confirmed
  std::vector<std::pair<std::string, std::string>> echoes_;  // message id, stanza-id
};

// `text` escaped for XML character data and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace relais::test
