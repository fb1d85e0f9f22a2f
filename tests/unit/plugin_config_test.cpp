// Plugin entries of relais.toml: the daemon reads `plugin` and `path` and
// keeps the rest of each table for the plugin, whose factory reads it through
// relais::ConfigTable and gets the core's file:line:column errors.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "config/plugin_table.hpp"

using relais::PluginKind;
using relais::daemon::Config;
using relais::daemon::parse_config;
using relais::daemon::TomlConfigTable;

namespace {

const std::filesystem::path kFile = "/etc/relais/test.toml";

Config parse_ok(const std::string& text) {
  auto config = parse_config(text, kFile, {});
  if (!config) {
    ADD_FAILURE() << "refused: " << config.error().message << "\n" << text;
    return {};
  }
  return *config;
}

std::string parse_error(const std::string& text) {
  auto config = parse_config(text, kFile, {});
  if (config) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  return config.error().message;
}

std::string at(int line, int column) {
  return kFile.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

TEST(plugin_config, EntriesKeepTheirKindOrderIndexAndInstanceName) {
  const Config c = parse_ok(R"(
[plugins]
directory = "/opt/relais/plugins"

[[moderate]]
plugin = "moderate_rules"
rules = "/etc/relais/a.rules"

[[triage]]
plugin = "triage_basic"

[[moderate]]
plugin = "moderate_rules"
rules = "/etc/relais/b.rules"

[[sink]]
plugin = "custom"
path = "/srv/custom.so"
)");
  EXPECT_EQ(c.plugin_dir, "/opt/relais/plugins");
  ASSERT_EQ(c.plugins.size(), 4U);
  // Grouped by kind (moderate before triage before sink), in file order within a kind.
  EXPECT_EQ(c.plugins[0].kind, PluginKind::moderator);
  EXPECT_EQ(c.plugins[0].instance(), "moderate:rules:0");
  EXPECT_EQ(c.plugins[1].instance(), "moderate:rules:1");
  EXPECT_EQ(c.plugins[2].kind, PluginKind::triager);
  EXPECT_EQ(c.plugins[2].instance(), "triage:basic:0");
  EXPECT_EQ(c.plugins[3].instance(), "sink:custom:0");
  EXPECT_EQ(c.plugins[0].file(c.plugin_dir), "/opt/relais/plugins/moderate_rules.so");
  EXPECT_EQ(c.plugins[3].file(c.plugin_dir), "/srv/custom.so");
}

TEST(plugin_config, PluginDirOverrideWins) {
  auto c = parse_config("[plugins]\ndirectory = \"/a\"\n", kFile, {.state_dir = {}, .plugin_dir = "/b"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->plugin_dir, "/b");
}

TEST(plugin_config, AnEntryWithoutPluginIsRefusedAtTheTable) {
  EXPECT_EQ(parse_error("[[moderate]]\nrules = \"x\"\n"),
            at(1, 1) + "moderate[0].plugin: missing: every [[moderate]] entry names its plugin");
}

TEST(plugin_config, ABadPluginNameIsRefusedAtTheValue) {
  const auto message = parse_error("[[triage]]\nplugin = \"../evil\"\n");
  EXPECT_EQ(message.rfind(at(2, 10) + "triage[0].plugin: expected a plugin name", 0), 0U) << message;
}

TEST(plugin_config, AKindThatIsNotAnArrayOfTablesIsRefused) {
  EXPECT_EQ(parse_error("[moderate]\nplugin = \"x\"\n"),
            at(1, 1) + "moderate: expected an array of tables ([[moderate]] entries)");
}

// The plugin's own keys are not the core's business: no unknown-key error here.
TEST(plugin_config, PluginKeysAreLeftToThePlugin) {
  const Config c = parse_ok("[[sink]]\nplugin = \"sink_webhook\"\nurl = \"http://x\"\nretries = 3\n");
  ASSERT_EQ(c.plugins.size(), 1U);
  const TomlConfigTable table(*c.plugins[0].table);
  EXPECT_EQ(table.name(), "sink[0]");
  auto url = table.string("url");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->value_or(""), "http://x");
  auto retries = table.integer("retries");
  ASSERT_TRUE(retries);
  EXPECT_EQ(retries->value_or(0), 3);
  EXPECT_TRUE(table.finish());
}

TEST(plugin_table, ErrorsNamePositionEntryAndKey) {
  const Config c = parse_ok(
      "[[moderate]]\nplugin = \"moderate_rules\"\nscore = \"high\"\nlist = [\"a\", 2]\nflag = 1\ntypo = 1\n");
  const TomlConfigTable table(*c.plugins[0].table);
  auto score = table.number("score");
  ASSERT_FALSE(score);
  EXPECT_EQ(score.error().message, at(3, 9) + "moderate[0].score: expected a number");
  auto list = table.strings("list");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message, at(4, 14) + "moderate[0].list: expected an array of strings");
  auto flag = table.boolean("flag");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message, at(5, 8) + "moderate[0].flag: expected true or false");
  auto absent = table.string("absent");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->has_value());
  // `typo` was never read: finish() points at it.
  auto finished = table.finish();
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().message, at(6, 1) + "moderate[0].typo: unknown key");
  EXPECT_EQ(table.error("score", "expected at most 10").message,
            at(3, 9) + "moderate[0].score: expected at most 10");
}

}  // namespace
