// source_xmpp's table of relais.toml, read once into an immutable config.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "relais/config_table.hpp"
#include "relais/expected.hpp"
#include "relais/plugin.hpp"

namespace relais::xmpp {

enum class Tls : std::uint8_t { required, optional, off, direct };
enum class SenderFrom : std::uint8_t { nick, jid };

struct Room {
  std::string jid;  // bare, lower-cased: how the room's stanzas are matched
  std::string nick;
  std::string password;  // empty: none
};

struct Config final : PluginConfig {
  std::string jid;  // the account, as written (a resource is kept)
  std::string bare_jid;
  std::string domain;
  std::string password;
  std::string server;  // empty: the domain's SRV records, then the domain
  std::uint16_t port = 0;
  Tls tls = Tls::required;
  std::string ca_file;
  std::vector<Room> rooms;
  SenderFrom sender = SenderFrom::nick;
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{120000};
  std::chrono::milliseconds ping_interval{60000};
  std::int64_t initial_history = 0;
  std::int64_t history_max_messages = 500;
  std::int64_t history_overlap_s = 60;
  std::size_t max_text_bytes = 65536;
  std::size_t max_pending = 1024;
};

Expected<std::shared_ptr<const PluginConfig>> configure(const ConfigTable& table);

// JIDs compare case-insensitively in their node and domain.
std::string lower(std::string text);
// "node@domain/resource" -> "node@domain"; the resource may hold '/' and '@'.
std::string bare_of(std::string_view jid);
std::string resource_of(std::string_view jid);

}  // namespace relais::xmpp
