// Plugins in a real relaisd: every kind loaded from the plugin directory and
// by path, listed by relaisctl; a throwing moderator holding its post; bad
// plugins refused at start-up with their message; reload keeping the running
// set when a new table is invalid; a dying source restarted with backoff.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/relaisctl.hpp"
#include "support/support.hpp"

namespace json = boost::json;
using relais::test::Process;
using relais::test::TempDir;
using relais::test::wait_until;

namespace {

std::string relaisd() { return (relais::test::bin_dir() / "daemon" / "relaisd").string(); }
std::string fixture(const std::string& name) {
  return (std::filesystem::path(RELAIS_TEST_PLUGIN_DIR) / (name + ".so")).string();
}
std::string shipped(const std::string& name) {
  return (relais::test::plugin_dir() / (name + ".so")).string();
}

// A TOML basic string.
std::string quoted(const std::string& s) { return json::serialize(json::string(s)); }

class PluginRuntime : public ::testing::Test {
 protected:
  std::filesystem::path config() const { return dir / "relais.toml"; }
  std::string state() const { return (dir / "state").string(); }

  // `body` comes after [log] and [plugins] (directory: the fixtures').
  void write_config(const std::string& body) {
    relais::test::write_file(
        config(), "[log]\nlevel = \"info\"\n\n[plugins]\ndirectory = " + quoted(RELAIS_TEST_PLUGIN_DIR) +
                      "\nsource_restart_min_ms = 20\nsource_restart_max_ms = 1000\n\n" + body);
  }

  std::unique_ptr<Process> start() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{relaisd(), "--config", config().string(), "--state-dir", state()},
        dir / "relaisd.log");
    EXPECT_TRUE(wait_until([&] { return ctl({"stats"}).status == 0 || !p->running(); })) << log();
    EXPECT_TRUE(p->running()) << log();
    return p;
  }

  relais::test::RunResult ctl(std::vector<std::string> args, const std::string& input = "") {
    return relais::test::relaisctl(state(), std::move(args), input, 2000);
  }

  json::value ctl_json(std::vector<std::string> args) {
    return relais::test::relaisctl_json(state(), std::move(args), 2000);
  }

  std::int64_t submit(const std::string& external_id, const std::string& text) {
    auto r =
        ctl({"submit", "-"},
            json::serialize(json::object{{"source", "test"}, {"external_id", external_id}, {"text", text}}));
    EXPECT_EQ(r.status, 0) << r.output;
    const auto at = r.output.find("stored id=");
    if (at == std::string::npos) {
      ADD_FAILURE() << r.output;
      return 0;
    }
    return std::stoll(r.output.substr(at + 10));
  }

  // The post once the pipeline has finished with it.
  json::object processed(std::int64_t id) {
    json::object post;
    EXPECT_TRUE(wait_until([&] {
      auto v = ctl_json({"show", std::to_string(id)});
      if (!v.is_object()) return false;
      post = v.at("post").as_object();
      return post.at("state") != "received";
    })) << log();
    return post;
  }

  // The id of the post of `source`/`external_id`, once it is stored.
  std::int64_t find_post(const std::string& source, const std::string& external_id) {
    std::int64_t id = 0;
    EXPECT_TRUE(wait_until([&] {
      auto v = ctl_json({"posts"});
      if (!v.is_object()) return false;
      for (const auto& p : v.at("posts").as_array()) {
        if (p.at("source") == source.c_str() && p.at("external_id") == external_id.c_str()) {
          id = p.at("id").as_int64();
          return true;
        }
      }
      return false;
    })) << log();
    return id;
  }

  static std::vector<std::string> symbols_of(const json::object& post) {
    std::vector<std::string> out;
    if (const auto* verdict = post.if_contains("verdict")) {
      for (const auto& f : verdict->at("findings").as_array()) {
        out.emplace_back(f.at("stage").as_string().c_str() + std::string(" ") +
                         f.at("symbol").as_string().c_str());
      }
    }
    return out;
  }

  json::object plugin_counters(const std::string& instance) {
    auto s = ctl_json({"stats"});
    const auto* plugins = s.is_object() ? s.as_object().if_contains("plugins") : nullptr;
    const auto* counters = plugins != nullptr ? plugins->as_object().if_contains(instance) : nullptr;
    if (counters == nullptr) {
      ADD_FAILURE() << "no counters for " << instance << " in " << s;
      return {};
    }
    return counters->as_object();
  }

  std::string log() const { return relais::test::read_file(dir / "relaisd.log"); }

  TempDir dir;
};

TEST_F(PluginRuntime, EachKindLoadsFromTheDirectoryAndByPath) {
  write_config(
      "[[source]]\nplugin = \"fixture_source\"\ntext = \"Bonjour, besoin d'aide pour mes courses\"\n"
      "external_id = \"from-source\"\n\n"
      "[[moderate]]\nplugin = \"moderate_basic\"\npath = " +
      quoted(shipped("moderate_basic")) +
      "\n\n"
      "[[moderate]]\nplugin = \"fixture_moderator\"\nsymbol = \"FROM_DIR\"\nscore = 0.5\n\n"
      "[[moderate]]\nplugin = \"fixture_moderator\"\npath = " +
      quoted(fixture("fixture_moderator")) +
      "\nsymbol = \"BY_PATH\"\nscore = 0.25\n\n"
      "[[triage]]\nplugin = \"triage_basic\"\npath = " +
      quoted(shipped("triage_basic")) +
      "\n\n"
      "[[triage]]\nplugin = \"fixture_triager\"\ncategory = \"groceries\"\n\n"
      "[[sink]]\nplugin = \"fixture_sink\"\n\n"
      "[[sink]]\nplugin = \"fixture_sink\"\npath = " +
      quoted(fixture("fixture_sink")) + "\n");
  auto daemon = start();

  // relaisctl plugins: every instance, its kind, version, file and ABI.
  struct Expected {
    std::string instance, plugin, kind, version, file;
  };
  const std::vector<Expected> expected = {
      {"source:fixture_source:0", "fixture_source", "source", "0.1.0", fixture("fixture_source")},
      {"moderate:basic:0", "moderate_basic", "moderate", "1.0.0", shipped("moderate_basic")},
      {"moderate:fixture_moderator:1", "fixture_moderator", "moderate", "1.2.3",
       fixture("fixture_moderator")},
      {"moderate:fixture_moderator:2", "fixture_moderator", "moderate", "1.2.3",
       fixture("fixture_moderator")},
      {"triage:basic:0", "triage_basic", "triage", "1.0.0", shipped("triage_basic")},
      {"triage:fixture_triager:1", "fixture_triager", "triage", "0.1.0", fixture("fixture_triager")},
      {"sink:fixture_sink:0", "fixture_sink", "sink", "0.1.0", fixture("fixture_sink")},
      {"sink:fixture_sink:1", "fixture_sink", "sink", "0.1.0", fixture("fixture_sink")},
  };
  const auto listed = ctl_json({"plugins"});
  ASSERT_TRUE(listed.is_object());
  const auto& plugins = listed.at("plugins").as_array();
  ASSERT_EQ(plugins.size(), expected.size()) << listed;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].instance);
    const auto& p = plugins[i].as_object();
    EXPECT_EQ(p.at("instance"), expected[i].instance.c_str());
    EXPECT_EQ(p.at("plugin"), expected[i].plugin.c_str());
    EXPECT_EQ(p.at("kind"), expected[i].kind.c_str());
    EXPECT_EQ(p.at("version"), expected[i].version.c_str());
    EXPECT_EQ(p.at("file"), expected[i].file.c_str());
    EXPECT_NE(std::string(p.at("abi").as_string()).find("relais-sdk-abi="), std::string::npos) << p;
  }
  const auto table = ctl({"plugins"});
  EXPECT_EQ(table.status, 0);
  EXPECT_NE(table.output.find("INSTANCE"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("moderate:fixture_moderator:2"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("relais-sdk-abi="), std::string::npos) << table.output;

  // The source's post went through every moderator and triager.
  const auto from_source = processed(find_post("fixture_source", "from-source-1"));
  EXPECT_EQ(symbols_of(from_source), (std::vector<std::string>{"moderate:fixture_moderator:1 FROM_DIR",
                                                               "moderate:fixture_moderator:2 BY_PATH"}));
  EXPECT_EQ(from_source.at("triage").at("kind"), "request");                              // triage_basic
  EXPECT_EQ(from_source.at("triage").at("categories"), json::parse(R"(["groceries"])"));  // fixture_triager

  // And so does a post from outside; the shipped moderator by path finds links.
  const auto linked = processed(submit("linked", "see http://a.example http://b.example http://c.example"));
  EXPECT_EQ(symbols_of(linked),
            (std::vector<std::string>{"moderate:basic:0 MANY_LINKS", "moderate:fixture_moderator:1 FROM_DIR",
                                      "moderate:fixture_moderator:2 BY_PATH"}));

  // Each instance counts what it saw.
  EXPECT_EQ(plugin_counters("moderate:fixture_moderator:1").at("posts"), 2);
  EXPECT_EQ(plugin_counters("moderate:fixture_moderator:1").at("findings"), 2);
  EXPECT_EQ(plugin_counters("moderate:basic:0").at("findings"), 1);
  EXPECT_EQ(plugin_counters("triage:fixture_triager:1").at("posts"), 2);
  EXPECT_EQ(plugin_counters("source:fixture_source:0").at("restarts"), 0);

  // Stop is orderly: the source is asked to stop first, and returns.
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
  EXPECT_NE(log().find("stopped"), std::string::npos) << log();
}

TEST_F(PluginRuntime, AThrowingModeratorHoldsThePostWithAnEventNamingIt) {
  // The shipped entries have no path: they come from the build's plugins.
  write_config(
      "[[moderate]]\nplugin = \"moderate_basic\"\npath = " + quoted(shipped("moderate_basic")) +
      "\n\n[[moderate]]\nplugin = \"fixture_throwing\"\n\n[[triage]]\nplugin = \"triage_basic\"\npath = " +
      quoted(shipped("triage_basic")) + "\n");
  auto daemon = start();
  const std::int64_t id = submit("thrown", "Bonjour, j'ai besoin d'aide pour mes courses");
  const auto post = processed(id);
  EXPECT_EQ(post.at("state"), "held");
  EXPECT_EQ(post.at("text"), "Bonjour, j'ai besoin d'aide pour mes courses");  // not lost
  std::vector<json::object> errors;
  for (const auto& e : post.at("events").as_array()) {
    if (e.at("type") == "stage_error") errors.push_back(e.as_object());
  }
  ASSERT_EQ(errors.size(), 1u) << post;
  EXPECT_EQ(errors[0].at("actor"), "moderate:fixture_throwing:1");
  EXPECT_EQ(errors[0].at("detail").at("plugin"), "fixture_throwing");
  EXPECT_EQ(errors[0].at("detail").at("error"), "fixture_throwing: moderate() always throws");
  EXPECT_EQ(post.at("triage").at("kind"), "request");  // a moderator sees what the need is

  // The daemon keeps serving, and the next post is held too.
  EXPECT_EQ(processed(submit("thrown-2", "Merci a tous")).at("state"), "held");
  const auto counters = plugin_counters("moderate:fixture_throwing:1");
  EXPECT_EQ(counters.at("errors"), 2);
  EXPECT_EQ(counters.at("posts"), 2);
  // The error is logged by the instance's own logger, without the post's text.
  const std::string text = log();
  EXPECT_NE(text.find("[moderate:fixture_throwing:1]"), std::string::npos) << text;
  EXPECT_NE(text.find("stage_error post=" + std::to_string(id)), std::string::npos) << text;
  EXPECT_EQ(text.find("besoin"), std::string::npos) << text;
}

struct Refusal {
  std::string what;
  std::string entry;                  // the [[...]] entry
  std::vector<std::string> expected;  // parts of the message
};

TEST_F(PluginRuntime, BadPluginsAreRefusedAtStartUpWithTheirMessage) {
  const std::vector<Refusal> refusals = {
      {"an ABI mismatch",
       "[[moderate]]\nplugin = \"fixture_old_abi\"\n",
       {"moderate[0]", "plugin fixture_old_abi", fixture("fixture_old_abi"), "built for another ABI",
        "relais-sdk-abi=0"}},
      {"a missing file",
       "[[moderate]]\nplugin = \"moderate_nowhere\"\n",
       {"moderate[0]", "plugin moderate_nowhere", fixture("moderate_nowhere"), "no such file"}},
      {"a missing file by path",
       "[[triage]]\nplugin = \"triage_basic\"\npath = \"/nonexistent/triage_basic.so\"\n",
       {"triage[0]", "/nonexistent/triage_basic.so", "no such file"}},
      {"a missing descriptor",
       "[[moderate]]\nplugin = \"fixture_no_descriptor\"\n",
       {"plugin fixture_no_descriptor", "exports no relais_plugin descriptor"}},
      {"a bad plugin table",
       "[[moderate]]\nplugin = \"fixture_moderator\"\nscore = \"high\"\n",
       {"relais.toml:11:9: moderate[0].score"}},
      {"a plugin refusing its table",
       "[[moderate]]\nplugin = \"fixture_throwing\"\nfail = true\n",
       {"relais.toml:11:8: moderate[0].fail: fixture_throwing refuses its table"}},
      {"a plugin throwing while configuring",
       "[[moderate]]\nplugin = \"fixture_throwing\"\nthrow_in_create = true\n",
       {"moderate[0]", "plugin fixture_throwing", "threw while configuring", "create() throws"}},
      {"a plugin of another kind",
       "[[triage]]\nplugin = \"fixture_moderator\"\n",
       {"triage[0]", "fixture_moderator", "is a moderate plugin, not a triage one"}},
  };
  for (const auto& r : refusals) {
    SCOPED_TRACE(r.what);
    write_config(r.entry);
    for (const bool check : {false, true}) {
      const auto out =
          check ? relais::test::run({relaisd(), "--check-config", config().string()})
                : relais::test::run({relaisd(), "--config", config().string(), "--state-dir", state()});
      EXPECT_EQ(out.status, 1) << out.output;
      for (const auto& part : r.expected) {
        EXPECT_NE(out.output.find(part), std::string::npos) << "missing \"" << part << "\" in " << out.output;
      }
    }
  }
}

TEST_F(PluginRuntime, ReloadKeepsTheRunningPluginsWhenANewTableIsInvalid) {
  write_config("[[moderate]]\nplugin = \"fixture_moderator\"\nsymbol = \"OLD\"\n");
  auto daemon = start();
  EXPECT_EQ(symbols_of(processed(submit("before", "one"))),
            std::vector<std::string>{"moderate:fixture_moderator:0 OLD"});

  // A table the plugin refuses: the whole new set is refused, the old runs on.
  write_config("[[moderate]]\nplugin = \"fixture_moderator\"\nsymbol = \"NEW\"\nscore = \"high\"\n");
  daemon->signal(SIGHUP);
  json::value s;
  ASSERT_TRUE(wait_until([&] {
    s = ctl_json({"stats"});
    return s.is_object() && s.at("config").at("reload_failures") == 1;
  })) << log();
  EXPECT_NE(std::string(s.at("config").at("last_reload_error").as_string())
                .find("relais.toml:12:9: moderate[0].score"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.at("config").at("generation"), 1);  // the one it started with
  EXPECT_EQ(symbols_of(processed(submit("during", "two"))),
            std::vector<std::string>{"moderate:fixture_moderator:0 OLD"});
  EXPECT_NE(log().find("reload_refused"), std::string::npos) << log();

  // A missing plugin at reload: refused the same way.
  write_config("[[moderate]]\nplugin = \"moderate_nowhere\"\n");
  daemon->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] {
    s = ctl_json({"stats"});
    return s.is_object() && s.at("config").at("reload_failures") == 2;
  })) << log();
  EXPECT_NE(std::string(s.at("config").at("last_reload_error").as_string()).find("no such file"),
            std::string::npos)
      << s;

  // A valid table: swapped in whole.
  write_config(
      "[[moderate]]\nplugin = \"fixture_moderator\"\nsymbol = \"NEW\"\n\n"
      "[[moderate]]\nplugin = \"fixture_moderator\"\nsymbol = \"TWICE\"\n");
  daemon->signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] {
    s = ctl_json({"stats"});
    return s.is_object() && s.at("config").at("generation") == 2;
  })) << log();
  EXPECT_EQ(
      symbols_of(processed(submit("after", "three"))),
      (std::vector<std::string>{"moderate:fixture_moderator:0 NEW", "moderate:fixture_moderator:1 TWICE"}));
  EXPECT_EQ(ctl_json({"plugins"}).at("plugins").as_array().size(), 2u);
  EXPECT_TRUE(daemon->running());
}

TEST_F(PluginRuntime, ADeadSourceIsRestartedWithBackoff) {
  // Its first two runs throw; the third submits its post.
  write_config("[[source]]\nplugin = \"fixture_source\"\ntext = \"Bonjour\"\ndie_runs = 2\n");
  auto daemon = start();
  EXPECT_GT(find_post("fixture_source", "fixture-3"), 0);
  const auto counters = plugin_counters("source:fixture_source:0");
  EXPECT_EQ(counters.at("errors"), 2);
  EXPECT_EQ(counters.at("restarts"), 2);
  const std::string text = log();
  // The pause doubles, from source_restart_min_ms.
  EXPECT_NE(text.find("source_died instance=source:fixture_source:0 plugin=fixture_source"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reason=\"threw: fixture source died on run 1\" restart_in_ms=20"), std::string::npos)
      << text;
  EXPECT_NE(text.find("reason=\"threw: fixture source died on run 2\" restart_in_ms=40"), std::string::npos)
      << text;
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(), 0) << log();
}

}  // namespace
