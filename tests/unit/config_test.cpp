// config: the shipped file, defaults, overrides, and an error naming
// file:line:column, the key and what was expected for each kind of mistake.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "support/support.hpp"

using relais::daemon::Config;
using relais::daemon::ConfigOverrides;
using relais::daemon::parse_config;
using relais::daemon::restart_only_changes;

namespace {

const std::filesystem::path kFile = "/etc/relais/test.toml";

Config parse_ok(const std::string& text, const ConfigOverrides& overrides = {}) {
  auto config = parse_config(text, kFile, overrides);
  if (!config) {
    ADD_FAILURE() << "refused: " << config.error().message << "\n" << text;
    return {};
  }
  return *config;
}

relais::Error parse_error(const std::string& text) {
  auto config = parse_config(text, kFile, {});
  if (config) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  return config.error();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The position prefix of a message: "FILE:LINE:COLUMN: ".
std::string at(int line, int column) {
  return kFile.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// Checks "FILE:<digits>:<digits>: " at the start of the message.
::testing::AssertionResult has_position(const std::string& message) {
  const std::string prefix = kFile.string() + ":";
  if (message.rfind(prefix, 0) != 0) return ::testing::AssertionFailure() << "no file: " << message;
  std::size_t pos = prefix.size();
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = pos;
    while (pos < message.size() && std::isdigit(static_cast<unsigned char>(message[pos])) != 0) ++pos;
    if (pos == start || message.substr(start, pos - start) == "0") {
      return ::testing::AssertionFailure() << "no " << (part == 0 ? "line" : "column") << ": " << message;
    }
    if (pos >= message.size() || message[pos] != ':') {
      return ::testing::AssertionFailure()
             << "no ':' after the " << (part == 0 ? "line" : "column") << ": " << message;
    }
    ++pos;
  }
  return ::testing::AssertionSuccess();
}

void expect_defaults(const Config& c) {
  EXPECT_EQ(c.state_dir, "/var/lib/relais");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.endpoints, std::vector<std::string>{"ipc:///var/lib/relais/ingest.sock"});
  EXPECT_EQ(c.max_message_bytes, 262144u);
  EXPECT_EQ(c.max_text_bytes, 65536u);
  EXPECT_EQ(c.batch_max, 1024u);
  EXPECT_EQ(c.backend, "sqlite");
  EXPECT_EQ(c.db_path, "relais.db");
  EXPECT_EQ(c.database(), "/var/lib/relais/relais.db");
  EXPECT_EQ(c.synchronous, "full");
  EXPECT_DOUBLE_EQ(c.hold_score, 5.0);
  EXPECT_DOUBLE_EQ(c.reject_score, 10.0);
  EXPECT_EQ(c.urgent_copy, (std::vector<relais::Urgency>{relais::Urgency::high, relais::Urgency::critical}));
  EXPECT_EQ(c.claim_timeout[3], std::chrono::minutes(30));
  EXPECT_EQ(c.max_attempts, 8u);
  EXPECT_EQ(c.retry_min, std::chrono::seconds(10));
  EXPECT_EQ(c.retry_max, std::chrono::minutes(30));
}

// What the shipped file sets apart from the defaults: the demo network, its
// sinks and the HTTP endpoint.
void expect_no_network(const Config& c) {
  EXPECT_TRUE(c.network_file.empty());
  EXPECT_TRUE(c.network->destinations.empty());
  EXPECT_TRUE(c.http_listen.empty());
}

TEST(config, ShippedFileParsesAndShowsTheDefaults) {
  const auto file = relais::test::source_dir() / "config/relais.toml";
  auto config = relais::daemon::load_config(file, {});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->file, file);
  expect_defaults(*config);
  EXPECT_EQ(config->network_file, relais::test::source_dir() / "config/demo-network.toml");
  EXPECT_EQ(config->network->destinations.size(), 13u);
  EXPECT_EQ(config->network->areas.size(), 14u);
  ASSERT_NE(config->network->fallback(), nullptr);
  EXPECT_EQ(config->network->fallback()->id, "reseau_solidarite_ville");
  EXPECT_EQ(config->http_listen, "127.0.0.1:8080");
  EXPECT_EQ(config->moderators.size(), 1u);
}

TEST(config, EmptyFileGivesTheDefaults) {
  const Config c = parse_ok("");
  EXPECT_EQ(c.file, kFile);
  expect_defaults(c);
  expect_no_network(c);
  EXPECT_EQ(c.ingest_socket(), "ipc:///var/lib/relais/ingest.sock");
}

TEST(config, EmptyTablesGiveTheDefaults) {
  const Config c = parse_ok(
      "[daemon]\n[log]\n[ingest]\n[storage]\n[moderation]\n[routing]\n[escalation]\n[outbox]\n[http]\n");
  expect_defaults(c);
  expect_no_network(c);
}

TEST(config, EveryKeyIsRead) {
  const Config c = parse_ok(R"([daemon]
state_dir = "/srv/relais"
[log]
level = "warn"
[ingest]
endpoints = ["tcp://127.0.0.1:5555", "inproc://x", "ipc:///run/relais.sock"]
max_message_bytes = 4096
max_text_bytes = 2048
batch_max = 7
[storage]
backend = "sqlite"
path = "data/r.db"
synchronous = "normal"
[moderation]
hold_score = 2
reject_score = 7.5
[routing]
urgent_copy = ["critical"]
offer_window = "3d"
[escalation]
claim_timeout = { low = "3d", normal = "1d", high = "90m", critical = "10s" }
moderators_lang = "en"
[outbox]
max_attempts = 3
retry_min = "250ms"
retry_max = "5s"
retry_jitter = 0
[http]
listen = "127.0.0.1:0"
public_url = "https://relais.example/"
link_ttl = "2d"
)");
  EXPECT_EQ(c.state_dir, "/srv/relais");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.endpoints,
            (std::vector<std::string>{"tcp://127.0.0.1:5555", "inproc://x", "ipc:///run/relais.sock"}));
  EXPECT_EQ(c.max_message_bytes, 4096u);
  EXPECT_EQ(c.max_text_bytes, 2048u);
  EXPECT_EQ(c.batch_max, 7u);
  EXPECT_EQ(c.database(), "/srv/relais/data/r.db");
  EXPECT_EQ(c.synchronous, "normal");
  EXPECT_DOUBLE_EQ(c.hold_score, 2.0);
  EXPECT_DOUBLE_EQ(c.reject_score, 7.5);
  EXPECT_EQ(c.urgent_copy, std::vector<relais::Urgency>{relais::Urgency::critical});
  EXPECT_EQ(c.offer_window, std::chrono::hours(72));
  EXPECT_EQ(c.claim_timeout[0], std::chrono::hours(72));
  EXPECT_EQ(c.claim_timeout[1], std::chrono::hours(24));
  EXPECT_EQ(c.claim_timeout[2], std::chrono::minutes(90));
  EXPECT_EQ(c.claim_timeout[3], std::chrono::seconds(10));
  EXPECT_EQ(c.moderators_lang, "en");
  EXPECT_EQ(c.max_attempts, 3u);
  EXPECT_EQ(c.retry_min, std::chrono::milliseconds(250));
  EXPECT_EQ(c.retry_max, std::chrono::seconds(5));
  EXPECT_DOUBLE_EQ(c.retry_jitter, 0.0);
  EXPECT_EQ(c.http_listen, "127.0.0.1:0");
  EXPECT_EQ(c.public_url, "https://relais.example");
  EXPECT_EQ(c.link_ttl, std::chrono::hours(48));
}

TEST(config, StateDirInTheFileMovesTheDefaultEndpointAndDatabase) {
  const Config c = parse_ok("[daemon]\nstate_dir = \"/srv/relais\"\n");
  EXPECT_EQ(c.endpoints, std::vector<std::string>{"ipc:///srv/relais/ingest.sock"});
  EXPECT_EQ(c.database(), "/srv/relais/relais.db");
}

TEST(config, StateDirOverrideMovesTheEndpointAndDatabase) {
  relais::test::TempDir dir;
  ConfigOverrides overrides;
  overrides.state_dir = dir.path();
  const Config c = parse_ok("[daemon]\nstate_dir = \"/srv/relais\"\n", overrides);
  EXPECT_EQ(c.state_dir, dir.path());
  EXPECT_EQ(c.endpoints, std::vector<std::string>{"ipc://" + (dir.path() / "ingest.sock").string()});
  EXPECT_EQ(c.database(), dir.path() / "relais.db");

  // Through load_config as relaisd does, with the shipped file.
  auto shipped = relais::daemon::load_config(relais::test::source_dir() / "config/relais.toml", overrides);
  ASSERT_TRUE(shipped) << shipped.error().message;
  EXPECT_EQ(shipped->endpoints, std::vector<std::string>{"ipc://" + (dir.path() / "ingest.sock").string()});
  EXPECT_EQ(shipped->database(), dir.path() / "relais.db");
}

TEST(config, StateDirOverrideKeepsExplicitEndpointsAndAbsoluteDatabasePath) {
  ConfigOverrides overrides;
  overrides.state_dir = "/tmp/elsewhere";
  const Config c = parse_ok(
      "[ingest]\nendpoints = [\"tcp://127.0.0.1:7000\"]\n[storage]\npath = \"/data/relais.db\"\n", overrides);
  EXPECT_EQ(c.endpoints, std::vector<std::string>{"tcp://127.0.0.1:7000"});
  EXPECT_EQ(c.database(), "/data/relais.db");
}

TEST(config, VerboseOverrideRaisesTheLogLevelToDebugButKeepsTrace) {
  ConfigOverrides verbose;
  verbose.verbose = true;
  EXPECT_EQ(parse_ok("[log]\nlevel = \"error\"\n", verbose).log_level, "debug");
  EXPECT_EQ(parse_ok("[log]\nlevel = \"trace\"\n", verbose).log_level, "trace");
  EXPECT_EQ(parse_ok("[log]\nlevel = \"error\"\n").log_level, "error");
}

TEST(config, MissingFileIsAnError) {
  relais::test::TempDir dir;
  auto config = relais::daemon::load_config(dir / "absent.toml", {});
  ASSERT_FALSE(config);
  EXPECT_TRUE(contains(config.error().message, (dir / "absent.toml").string())) << config.error().message;
  EXPECT_TRUE(contains(config.error().message, "cannot open")) << config.error().message;
}

TEST(config, LoadConfigReportsTheFileItRead) {
  relais::test::TempDir dir;
  relais::test::write_file(dir / "bad.toml", "[log]\nlevel = \"loud\"\n");
  auto config = relais::daemon::load_config(dir / "bad.toml", {});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.rfind((dir / "bad.toml").string() + ":2:9: ", 0), 0u)
      << config.error().message;
}

// ---------------------------------------------------------------------------
// Invalid configurations.

struct BadConfig {
  std::string name;
  std::string text;
  std::string key;                   // named in the message and in Error::field
  std::vector<std::string> expects;  // what the message says was expected
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

std::vector<BadConfig> bad_configs() {
  return {
      {"unknown_top_level_table", "[daemon]\n[deamon]\nstate_dir = \"/x\"\n", "deamon", {"unknown key"}},
      {"unknown_top_level_key", "log_level = \"info\"\n", "log_level", {"unknown key"}},
      {"unknown_key_in_table",
       "[ingest]\nmax_mesage_bytes = 1024\n",
       "ingest.max_mesage_bytes",
       {"unknown key"}},
      {"unknown_nested_table", "[storage.sqlite]\nwal = true\n", "storage.sqlite", {"unknown key"}},
      {"section_not_a_table", "log = \"debug\"\n", "log", {"expected a table"}},
      {"string_for_integer", "[ingest]\nbatch_max = \"10\"\n", "ingest.batch_max", {"expected an integer"}},
      {"float_for_integer",
       "[ingest]\nmax_text_bytes = 1024.0\n",
       "ingest.max_text_bytes",
       {"expected an integer"}},
      {"integer_for_string", "[log]\nlevel = 3\n", "log.level", {"expected a string"}},
      {"bool_for_path", "[daemon]\nstate_dir = true\n", "daemon.state_dir", {"expected a string"}},
      {"empty_path", "[storage]\npath = \"\"\n", "storage.path", {"expected a non-empty path"}},
      {"string_for_array",
       "[ingest]\nendpoints = \"ipc:///x\"\n",
       "ingest.endpoints",
       {"expected an array of strings"}},
      {"number_in_array",
       "[ingest]\nendpoints = [\"ipc:///x\", 5]\n",
       "ingest.endpoints",
       {"expected an array of strings"}},
      {"string_for_number",
       "[moderation]\nhold_score = \"5\"\n",
       "moderation.hold_score",
       {"expected a number"}},
      {"string_for_network", "[routing]\nnetwork = [\"ops\"]\n", "routing.network", {"expected a string"}},
      {"unknown_urgency",
       "[routing]\nurgent_copy = [\"soon\"]\n",
       "routing.urgent_copy",
       {"expected urgencies"}},
      {"bad_duration",
       "[escalation]\nclaim_timeout = { high = \"2 hours\" }\n",
       "escalation.claim_timeout.high",
       {"expected a duration"}},
      {"unknown_urgency_timeout",
       "[escalation]\nclaim_timeout = { urgent = \"2h\" }\n",
       "escalation.claim_timeout.urgent",
       {"unknown key"}},
      {"moderators_unknown_sink",
       "[escalation]\nmoderators = [{ sink = \"mail\", to = \"m@example.org\" }]\n",
       "escalation.moderators[0].sink",
       {"no [[sink]] entry is named \"mail\""}},
      {"retry_max_below_min",
       "[outbox]\nretry_min = \"10s\"\nretry_max = \"1s\"\n",
       "outbox.retry_max",
       {"not below retry_min"}},
      {"jitter_above_one", "[outbox]\nretry_jitter = 1.5\n", "outbox.retry_jitter", {"at most"}},
      {"listen_without_port", "[http]\nlisten = \"127.0.0.1\"\n", "http.listen", {"ADDRESS:PORT"}},
      {"public_url_scheme", "[http]\npublic_url = \"relais.example\"\n", "http.public_url", {"http://"}},
      {"missing_network",
       "[routing]\nnetwork = \"/nonexistent/network.toml\"\n",
       "routing.network",
       {"cannot open the network file"}},
      {"duplicate_sink_name",
       "[[sink]]\nplugin = \"sink_webhook\"\n[[sink]]\nplugin = \"sink_email\"\nname = \"webhook\"\n",
       "sink[1].name",
       {"two [[sink]] entries are named \"webhook\""}},
      {"ambiguous_sink_for_moderators",
       "[escalation]\nmoderators = [{ sink = \"webhook\", to = \"http://x.example\" }]\n[[sink]]\nplugin = "
       "\"sink_webhook\"\n[[sink]]\nplugin = \"sink_webhook\"\n",
       "escalation.moderators[0].sink",
       {"give them a `name` each"}},
      {"integer_below_range",
       "[ingest]\nmax_message_bytes = 100\n",
       "ingest.max_message_bytes",
       {"expected an integer from 1024 to 16777216", "got 100"}},
      {"integer_above_range",
       "[ingest]\nbatch_max = 100001\n",
       "ingest.batch_max",
       {"expected an integer from 1 to 100000", "got 100001"}},
      {"zero_batch",
       "[ingest]\nbatch_max = 0\n",
       "ingest.batch_max",
       {"expected an integer from 1 to 100000"}},
      {"negative_size",
       "[ingest]\nmax_text_bytes = -1\n",
       "ingest.max_text_bytes",
       {"expected an integer from 256 to 16777216", "got -1"}},
      {"negative_score",
       "[moderation]\nhold_score = -1.5\n",
       "moderation.hold_score",
       {"expected a number of at least 0"}},
      {"bad_log_level",
       "[log]\nlevel = \"verbose\"\n",
       "log.level",
       {"expected one of", "debug", "info", "trace", "warn", "got \"verbose\""}},
      {"bad_synchronous",
       "[storage]\nsynchronous = \"off\"\n",
       "storage.synchronous",
       {"expected one of full, normal", "got \"off\""}},
      {"bad_backend",
       "[storage]\nbackend = \"postgres\"\n",
       "storage.backend",
       {"expected one of sqlite", "got \"postgres\""}},
      {"bad_endpoint_scheme",
       "[ingest]\nendpoints = [\"ipc:///ok.sock\", \"udp://127.0.0.1:9\"]\n",
       "ingest.endpoints",
       {"expected ipc://, tcp:// or inproc://", "udp://127.0.0.1:9"}},
      {"endpoint_without_scheme",
       "[ingest]\nendpoints = [\"/run/relais.sock\"]\n",
       "ingest.endpoints",
       {"expected ipc://, tcp:// or inproc://", "/run/relais.sock"}},
      {"reject_below_hold",
       "[moderation]\nhold_score = 8\nreject_score = 6\n",
       "moderation.reject_score",
       {"not below hold_score"}},
      {"hold_above_default_reject",
       "[moderation]\nhold_score = 12\n",
       "moderation.hold_score",
       {"not above reject_score"}},
      {"text_limit_above_message_limit",
       "[ingest]\nmax_message_bytes = 1024\nmax_text_bytes = 2048\n",
       "ingest.max_text_bytes",
       {"at most ingest.max_message_bytes"}},
  };
}

class InvalidConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(InvalidConfig, NamesFileLineColumnKeyAndWhatWasExpected) {
  const BadConfig& c = GetParam();
  SCOPED_TRACE("config:\n" + c.text);
  const relais::Error error = parse_error(c.text);
  EXPECT_EQ(error.code, "config");
  EXPECT_EQ(error.field, c.key);
  EXPECT_TRUE(has_position(error.message));
  EXPECT_TRUE(contains(error.message, ": " + c.key + ": ")) << error.message;
  for (const auto& expected : c.expects) {
    EXPECT_TRUE(contains(error.message, expected)) << "missing \"" << expected << "\" in: " << error.message;
  }
}

INSTANTIATE_TEST_SUITE_P(config, InvalidConfig, ::testing::ValuesIn(bad_configs()),
                         [](const ::testing::TestParamInfo<BadConfig>& param) { return param.param.name; });

// Exact positions: the value at fault, or the start of what is unknown.
TEST(config_error_position, WrongTypePointsAtTheValue) {
  EXPECT_EQ(parse_error("# comment\n[ingest]\nbatch_max = \"10\"\n").message,
            at(3, 13) + "ingest.batch_max: expected an integer");
}

TEST(config_error_position, BadEnumPointsAtTheValue) {
  EXPECT_EQ(
      parse_error("[log]\n  level   =   \"loud\"\n").message,
      at(2, 15) + "log.level: expected one of critical, debug, error, info, off, trace, warn, got \"loud\"");
}

TEST(config_error_position, BadEndpointPointsAtTheItem) {
  EXPECT_EQ(parse_error("[ingest]\nendpoints = [\"ipc:///a\", \"udp://b\"]\n").message,
            at(2, 26) + "ingest.endpoints: expected ipc://, tcp:// or inproc:// endpoints, got \"udp://b\"");
}

TEST(config_error_position, UnknownKeyPointsAtIt) {
  const std::string message = parse_error("[storage]\nbackend = \"sqlite\"\npaht = \"x.db\"\n").message;
  EXPECT_EQ(message.rfind(kFile.string() + ":3:", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "storage.paht: unknown key")) << message;
}

TEST(config_error_position, UnknownTablePointsAtItsHeader) {
  const std::string message = parse_error("[log]\nlevel = \"info\"\n\n[logging]\nlevel = \"info\"\n").message;
  EXPECT_EQ(message.rfind(kFile.string() + ":4:", 0), 0u) << message;
  EXPECT_TRUE(contains(message, "logging: unknown key")) << message;
}

TEST(config_error_position, ReversedThresholdsPointAtRejectScore) {
  EXPECT_EQ(parse_error("[moderation]\nreject_score = 3.0\nhold_score = 4.0\n").message,
            at(2, 16) + "moderation.reject_score: expected a score not below hold_score");
}

TEST(config_error_position, SyntaxErrorPointsAtTheFault) {
  // An unterminated string on line 3.
  const relais::Error unterminated = parse_error("[log]\n# level\nlevel = \"info\n[ingest]\n");
  EXPECT_EQ(unterminated.code, "config");
  EXPECT_TRUE(has_position(unterminated.message));
  EXPECT_EQ(unterminated.message.rfind(kFile.string() + ":3:", 0), 0u) << unterminated.message;

  // A key without a value: line 2.
  const relais::Error no_value = parse_error("[ingest]\nbatch_max =\n");
  EXPECT_EQ(no_value.message.rfind(at(2, 12), 0), 0u) << no_value.message;

  // An unclosed table header, at its column.
  const relais::Error header = parse_error("\n\n[daemon\nstate_dir = \"/x\"\n");
  EXPECT_EQ(header.message.rfind(at(3, 8), 0), 0u) << header.message;

  // A key given twice.
  const relais::Error twice = parse_error("[log]\nlevel = \"info\"\nlevel = \"warn\"\n");
  EXPECT_EQ(twice.message.rfind(kFile.string() + ":3:", 0), 0u) << twice.message;
}

TEST(config_error_position, FirstFaultWins) {
  const std::string message = parse_error("[log]\nlevel = \"loud\"\n[ingest]\nbatch_max = 0\n").message;
  EXPECT_TRUE(contains(message, "log.level")) << message;
  EXPECT_FALSE(contains(message, "batch_max")) << message;
}

TEST(config_values, ScoresMayBeIntegersAndEqual) {
  const Config c = parse_ok("[moderation]\nhold_score = 6\nreject_score = 6\n");
  EXPECT_DOUBLE_EQ(c.hold_score, 6.0);
  EXPECT_DOUBLE_EQ(c.reject_score, 6.0);
}

TEST(config_values, RangesAreInclusive) {
  const Config c =
      parse_ok("[ingest]\nmax_message_bytes = 16777216\nmax_text_bytes = 256\nbatch_max = 100000\n");
  EXPECT_EQ(c.max_message_bytes, 16777216u);
  EXPECT_EQ(c.max_text_bytes, 256u);
  EXPECT_EQ(c.batch_max, 100000u);
  EXPECT_EQ(parse_ok("[ingest]\nmax_message_bytes = 1024\nmax_text_bytes = 1024\nbatch_max = 1\n").batch_max,
            1u);
}

// TOML has nan: a threshold no score can reach or cross must be refused, or
// every post would be accepted whatever its findings.
TEST(config_values, NanScoresAreRefused) {
  for (const char* text : {"[moderation]\nhold_score = nan\n", "[moderation]\nreject_score = nan\n",
                           "[moderation]\nhold_score = nan\nreject_score = nan\n"}) {
    SCOPED_TRACE(text);
    auto config = parse_config(text, kFile, {});
    EXPECT_FALSE(config) << "hold_score=" << config->hold_score << " reject_score=" << config->reject_score;
    if (!config) {
      EXPECT_TRUE(has_position(config.error().message));
      EXPECT_TRUE(contains(config.error().message, "moderation.")) << config.error().message;
    }
  }
}

// ---------------------------------------------------------------------------
// restart_only_changes

TEST(config_reload, NoChangeNeedsNoRestart) {
  const Config a = parse_ok("");
  EXPECT_TRUE(restart_only_changes(a, a).empty());
}

TEST(config_reload, EachRestartOnlyKeyIsListed) {
  const Config base = parse_ok("");
  struct Change {
    std::string key;
    void (*apply)(Config&);
  };
  const std::vector<Change> changes = {
      {"daemon.state_dir", [](Config& c) { c.state_dir = "/elsewhere"; }},
      {"ingest.endpoints", [](Config& c) { c.endpoints = {"tcp://127.0.0.1:9000"}; }},
      {"storage.backend", [](Config& c) { c.backend = "postgres"; }},
      {"storage.path", [](Config& c) { c.db_path = "other.db"; }},
      {"storage.synchronous", [](Config& c) { c.synchronous = "normal"; }},
  };
  Config all = base;
  std::vector<std::string> keys;
  for (const auto& change : changes) {
    Config next = base;
    change.apply(next);
    EXPECT_EQ(restart_only_changes(base, next), std::vector<std::string>{change.key});
    change.apply(all);
    keys.push_back(change.key);
  }
  auto listed = restart_only_changes(base, all);
  std::sort(listed.begin(), listed.end());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(listed, keys);
}

TEST(config_reload, LiveKeysAreNotListed) {
  const Config base = parse_ok("");
  const Config next = parse_ok(R"([log]
level = "debug"
[ingest]
max_text_bytes = 1024
batch_max = 10
[moderation]
hold_score = 1
reject_score = 2
[routing]
urgent_copy = ["critical"]
)");
  EXPECT_EQ(restart_only_changes(base, next), std::vector<std::string>{});
}

TEST(config_reload, ParsedFilesDifferingInRestartOnlyKeys) {
  const Config running = parse_ok("[storage]\nsynchronous = \"full\"\n[log]\nlevel = \"info\"\n");
  const Config loaded = parse_ok("[storage]\nsynchronous = \"normal\"\n[log]\nlevel = \"warn\"\n");
  EXPECT_EQ(restart_only_changes(running, loaded), std::vector<std::string>{"storage.synchronous"});

  // A new state_dir moves the default endpoint and the database with it.
  const Config moved = parse_ok("[daemon]\nstate_dir = \"/srv/relais\"\n");
  auto keys = restart_only_changes(parse_ok(""), moved);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"daemon.state_dir", "ingest.endpoints"}));
}

}  // namespace
