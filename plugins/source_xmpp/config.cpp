#include "config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace relais::xmpp {

namespace {

template <class T>
using Opt = std::optional<T>;

// Reads a secret kept beside relais.toml; a final newline is not part of it.
Expected<std::string> read_secret(const ConfigTable& table, std::string_view key, const std::string& name) {
  std::filesystem::path file(name);
  if (file.is_relative()) file = std::filesystem::path(table.config_file()).parent_path() / file;
  std::ifstream in(file, std::ios::binary);
  if (!in) return table.error(key, "cannot read " + file.string());
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return table.error(key, file.string() + " is empty");
  return text;
}

// A JID we can use: "node@domain", at most 256 bytes, no spaces.
bool plausible_bare(std::string_view bare) {
  const auto at = bare.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < bare.size() && bare.size() <= 256 &&
         bare.find_first_of(" \t\r\n@", at + 1) == std::string_view::npos;
}

Expected<std::int64_t> integer_in(const ConfigTable& table, std::string_view key, std::int64_t fallback,
                                  std::int64_t min, std::int64_t max) {
  auto v = table.integer(key);
  if (!v) return v.error();
  if (!*v) return fallback;
  if (**v < min || **v > max) {
    return table.error(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return **v;
}

}  // namespace

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return text;
}

std::string bare_of(std::string_view jid) { return std::string(jid.substr(0, jid.find('/'))); }

std::string resource_of(std::string_view jid) {
  const auto slash = jid.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(jid.substr(slash + 1));
}

Expected<std::shared_ptr<const PluginConfig>> configure(const ConfigTable& table) {
  auto c = std::make_shared<Config>();

  auto jid = table.string("jid");
  if (!jid) return jid.error();
  if (!*jid) return table.error("", "jid is required: the account the bridge logs in with");
  c->jid = **jid;
  c->bare_jid = lower(bare_of(c->jid));
  if (!plausible_bare(c->bare_jid)) return table.error("jid", "expected an account JID, user@example.org");
  c->domain = c->bare_jid.substr(c->bare_jid.find('@') + 1);

  auto password = table.string("password");
  if (!password) return password.error();
  auto password_file = table.string("password_file");
  if (!password_file) return password_file.error();
  if (*password && *password_file)
    return table.error("password_file", "give password or password_file, not both");
  if (*password) {
    c->password = **password;
  } else if (*password_file) {
    auto secret = read_secret(table, "password_file", **password_file);
    if (!secret) return secret.error();
    c->password = std::move(*secret);
  } else {
    return table.error("", "password or password_file is required");
  }

  auto server = table.string("server");
  if (!server) return server.error();
  if (*server) {
    if ((*server)->empty()) return table.error("server", "expected a host name or address");
    c->server = **server;
  }
  auto port = integer_in(table, "port", 0, 1, 65535);
  if (!port) return port.error();
  c->port = static_cast<std::uint16_t>(*port);

  auto tls = table.string("tls");
  if (!tls) return tls.error();
  if (*tls) {
    if (**tls == "required") {
      c->tls = Tls::required;
    } else if (**tls == "optional") {
      c->tls = Tls::optional;
    } else if (**tls == "off") {
      c->tls = Tls::off;
    } else if (**tls == "direct") {
      c->tls = Tls::direct;
    } else {
      return table.error("tls", "expected \"required\", \"direct\", \"optional\" or \"off\"");
    }
  }
  auto ca_file = table.string("ca_file");
  if (!ca_file) return ca_file.error();
  if (*ca_file) {
    std::filesystem::path file(**ca_file);
    if (file.is_relative()) file = std::filesystem::path(table.config_file()).parent_path() / file;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      return table.error("ca_file", "no such file: " + file.string());
    c->ca_file = file.string();
  }

  auto nick = table.string("nick");
  if (!nick) return nick.error();
  const std::string default_nick = *nick ? **nick : "relais";
  if (default_nick.empty() || default_nick.size() > 256)
    return table.error("nick", "expected 1 to 256 bytes");

  // Room passwords live in a file of their own, so that relais.toml can be
  // shown without them: one "room@service password" per line.
  std::vector<std::pair<std::string, std::string>> room_passwords;
  auto room_password_file = table.string("room_password_file");
  if (!room_password_file) return room_password_file.error();
  if (*room_password_file) {
    auto text = read_secret(table, "room_password_file", **room_password_file);
    if (!text) return text.error();
    std::istringstream lines(*text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.front() == '#') continue;
      const auto space = line.find_first_of(" \t");
      if (space == std::string::npos) {
        return table.error("room_password_file",
                           "line " + std::to_string(n) + ": expected \"room@service password\"");
      }
      room_passwords.emplace_back(lower(line.substr(0, space)),
                                  line.substr(line.find_first_not_of(" \t", space)));
    }
  }

  auto rooms = table.strings("rooms");
  if (!rooms) return rooms.error();
  if (!*rooms || (*rooms)->empty()) {
    return table.error("rooms",
                       "at least one room is required: rooms = [\"entraide@conference.example.org\"]");
  }
  for (const auto& entry : **rooms) {
    Room room;
    room.jid = lower(bare_of(entry));
    room.nick = entry.find('/') != std::string::npos ? resource_of(entry) : default_nick;
    if (!plausible_bare(room.jid) || room.nick.empty() || room.nick.size() > 256) {
      return table.error("rooms", "expected room@service or room@service/nick, not \"" + entry + "\"");
    }
    for (const auto& other : c->rooms) {
      if (other.jid == room.jid) return table.error("rooms", room.jid + " is listed twice");
    }
    for (const auto& [jid_, secret] : room_passwords) {
      if (jid_ == room.jid) room.password = secret;
    }
    c->rooms.push_back(std::move(room));
  }

  auto sender = table.string("sender");
  if (!sender) return sender.error();
  if (*sender) {
    if (**sender == "nick") {
      c->sender = SenderFrom::nick;
    } else if (**sender == "jid") {
      c->sender = SenderFrom::jid;
    } else {
      return table.error("sender", "expected \"nick\" or \"jid\"");
    }
  }

  auto reconnect_min = integer_in(table, "reconnect_min_ms", 1000, 10, 3600000);
  if (!reconnect_min) return reconnect_min.error();
  auto reconnect_max = integer_in(table, "reconnect_max_ms", 120000, 10, 86400000);
  if (!reconnect_max) return reconnect_max.error();
  if (*reconnect_max < *reconnect_min)
    return table.error("reconnect_max_ms", "must not be below reconnect_min_ms");
  c->reconnect_min = std::chrono::milliseconds(*reconnect_min);
  c->reconnect_max = std::chrono::milliseconds(*reconnect_max);
  auto ping = integer_in(table, "ping_interval_ms", 60000, 100, 3600000);
  if (!ping) return ping.error();
  c->ping_interval = std::chrono::milliseconds(*ping);

  auto initial = integer_in(table, "initial_history", 0, 0, 100000);
  if (!initial) return initial.error();
  c->initial_history = *initial;
  auto history_max = integer_in(table, "history_max_messages", 500, 0, 100000);
  if (!history_max) return history_max.error();
  c->history_max_messages = *history_max;
  auto overlap = integer_in(table, "history_overlap_s", 60, 0, 86400);
  if (!overlap) return overlap.error();
  c->history_overlap_s = *overlap;
  auto max_text = integer_in(table, "max_text_bytes", 65536, 1, std::int64_t{16} * 1024 * 1024);
  if (!max_text) return max_text.error();
  c->max_text_bytes = static_cast<std::size_t>(*max_text);
  auto pending = integer_in(table, "max_pending", 1024, 1, 1000000);
  if (!pending) return pending.error();
  c->max_pending = static_cast<std::size_t>(*pending);

  auto finished = table.finish();
  if (!finished) return finished.error();
  return std::shared_ptr<const PluginConfig>(std::move(c));
}

}  // namespace relais::xmpp
