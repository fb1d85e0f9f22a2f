// plugins/loader on real shared libraries: the fixtures of
// tests/plugins/fixtures, built for this test only. A plugin of another ABI,
// or a file that is no plugin, is refused with its name, its file and the
// reason, and none of its code runs.
#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "plugins/loader.hpp"
#include "relais/plugin.hpp"
#include "support/support.hpp"

using relais::ConfigTable;
using relais::Error;
using relais::Expected;
using relais::PluginKind;
using relais::daemon::host_abi_stamp;
using relais::daemon::load_plugin;
using relais::daemon::PluginLibrary;
using relais::daemon::read_abi_stamp;
using relais::test::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(RELAIS_TEST_PLUGIN_DIR) / (name + ".so");
}

std::shared_ptr<const PluginLibrary> load_ok(const std::string& name) {
  auto library = load_plugin(name, fixture(name));
  if (!library) {
    ADD_FAILURE() << "refused: " << library.error().message;
    return nullptr;
  }
  return *library;
}

std::string refusal(const std::string& wanted, const std::filesystem::path& file) {
  auto library = load_plugin(wanted, file);
  if (library) {
    ADD_FAILURE() << file << " was loaded as " << wanted;
    return {};
  }
  EXPECT_EQ(library.error().code, "plugin");
  return library.error().message;
}

// Whether the dynamic linker has the file mapped in this process. RTLD_NOLOAD
// finds a library by its file, whatever the path it was opened by.
bool mapped(const std::filesystem::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

// A plugin's table as the daemon would hand it, over a map instead of TOML:
// the daemon's own ConfigTable is tested with the config.
using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

class MapTable final : public ConfigTable {
 public:
  explicit MapTable(std::map<std::string, Value, std::less<>> values) : values_(std::move(values)) {}

  std::string_view name() const noexcept override { return "moderate[0]"; }
  std::string_view config_file() const noexcept override { return "relais.toml"; }
  Expected<std::optional<std::string>> string(std::string_view key) const override {
    return read<std::string>(key, "a string");
  }
  Expected<std::optional<std::int64_t>> integer(std::string_view key) const override {
    return read<std::int64_t>(key, "an integer");
  }
  Expected<std::optional<double>> number(std::string_view key) const override {
    auto it = values_.find(key);
    if (it != values_.end()) {
      if (const auto* integer = std::get_if<std::int64_t>(&it->second)) {
        read_.emplace(key);
        return std::optional<double>(static_cast<double>(*integer));
      }
    }
    return read<double>(key, "a number");
  }
  Expected<std::optional<bool>> boolean(std::string_view key) const override {
    return read<bool>(key, "true or false");
  }
  Expected<std::optional<std::vector<std::string>>> strings(std::string_view key) const override {
    return read<std::vector<std::string>>(key, "an array of strings");
  }
  Error error(std::string_view key, std::string_view message) const override {
    return Error{
        "config",
        "test.toml:1:1: " + std::string(name()) + "." + std::string(key) + ": " + std::string(message),
        std::string(key)};
  }
  relais::Status finish() const override {
    for (const auto& [key, value] : values_) {
      if (read_.count(key) == 0) return error(key, "unknown key");
    }
    return relais::Done{};
  }

 private:
  template <class T>
  Expected<std::optional<T>> read(std::string_view key, std::string_view what) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::optional<T>();
    read_.emplace(key);
    if (const auto* value = std::get_if<T>(&it->second)) return std::optional<T>(*value);
    return error(key, "expected " + std::string(what));
  }

  std::map<std::string, Value, std::less<>> values_;
  mutable std::set<std::string, std::less<>> read_;
};

class SilentLogger final : public relais::Logger {
 public:
  bool enabled(relais::LogLevel /*level*/) const noexcept override { return false; }
  void log(relais::LogLevel /*level*/, std::string_view /*message*/) override {}
};

struct Expectation {
  std::string name;
  PluginKind kind;
  std::string version;
};

TEST(plugin_loader, EachValidFixtureLoadsWithItsKindNameVersionAndStamp) {
  for (const Expectation& e : {Expectation{"fixture_source", PluginKind::source, "0.1.0"},
                               Expectation{"fixture_moderator", PluginKind::moderator, "1.2.3"},
                               Expectation{"fixture_triager", PluginKind::triager, "0.1.0"},
                               Expectation{"fixture_sink", PluginKind::sink, "0.1.0"},
                               Expectation{"fixture_throwing", PluginKind::moderator, "0.1.0"}}) {
    SCOPED_TRACE(e.name);
    auto library = load_ok(e.name);
    ASSERT_NE(library, nullptr);
    const auto& d = library->descriptor();
    EXPECT_EQ(d.kind, e.kind);
    EXPECT_STREQ(d.name, e.name.c_str());
    EXPECT_STREQ(d.version, e.version.c_str());
    EXPECT_EQ(std::string_view(d.abi), host_abi_stamp());
    EXPECT_EQ(library->file(), fixture(e.name));
    EXPECT_EQ(d.source != nullptr, e.kind == PluginKind::source);
    EXPECT_EQ(d.moderator != nullptr, e.kind == PluginKind::moderator);
    EXPECT_EQ(d.triager != nullptr, e.kind == PluginKind::triager);
    EXPECT_EQ(d.sink != nullptr, e.kind == PluginKind::sink);
  }
}

TEST(plugin_loader, TheStampIsReadFromTheFileAlone) {
  auto stamp = read_abi_stamp(fixture("fixture_moderator"));
  ASSERT_TRUE(stamp) << stamp.error().message;
  EXPECT_EQ(*stamp, host_abi_stamp());
  // The stamp tells the whole build: a stamp of only the ABI number would
  // let a plugin built by another compiler or Boost through.
  EXPECT_THAT(*stamp, StartsWith("relais-sdk-abi=" RELAIS_ABI_STR(RELAIS_SDK_ABI) " compiler="));
  EXPECT_THAT(*stamp, HasSubstr(" boost="));

  auto old = read_abi_stamp(fixture("fixture_old_abi"));
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_THAT(*old, StartsWith("relais-sdk-abi=0 "));
  EXPECT_FALSE(mapped(fixture("fixture_old_abi")));
}

TEST(plugin_loader, APluginOfAnotherAbiIsRefusedBeforeAnyOfItsCodeRuns) {
  const auto file = fixture("fixture_old_abi");
  unsetenv("RELAIS_FIXTURE_OLD_ABI_RAN");  // NOLINT(concurrency-mt-unsafe)

  const std::string message = refusal("fixture_old_abi", file);
  EXPECT_THAT(message, StartsWith("plugin fixture_old_abi (" + file.string() + "): "));
  // Refused for the stamp it carries, not for a missing one: only then does
  // the dlopen() by hand below test the probes (and, should the linker have
  // mangled the stamp's section, only then is it safe).
  ASSERT_THAT(message, HasSubstr("built for another ABI"));
  EXPECT_THAT(message, HasSubstr("\"relais-sdk-abi=0 "));
  EXPECT_THAT(message, HasSubstr("\"" + std::string(host_abi_stamp()) + "\""));
  // Never mapped, so neither its constructor nor its factory getter (which
  // aborts: this process would not be here) ran.
  EXPECT_FALSE(mapped(file));
  EXPECT_EQ(std::getenv("RELAIS_FIXTURE_OLD_ABI_RAN"), nullptr);  // NOLINT(concurrency-mt-unsafe)

  // The two probes above do see a load: dlopen it by hand.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();  // NOLINT(concurrency-mt-unsafe)
  EXPECT_TRUE(mapped(file));
  EXPECT_NE(std::getenv("RELAIS_FIXTURE_OLD_ABI_RAN"), nullptr);  // NOLINT(concurrency-mt-unsafe)
  dlclose(handle);
  unsetenv("RELAIS_FIXTURE_OLD_ABI_RAN");  // NOLINT(concurrency-mt-unsafe)
}

TEST(plugin_loader, AMissingFileIsRefusedWithItsPath) {
  const TempDir dir;
  const auto file = dir / "moderate_nowhere.so";
  EXPECT_EQ(refusal("moderate_nowhere", file),
            "plugin moderate_nowhere (" + file.string() + "): no such file");
}

TEST(plugin_loader, ALibraryWithoutDescriptorIsRefused) {
  const auto file = fixture("fixture_no_descriptor");
  EXPECT_EQ(refusal("fixture_no_descriptor", file),
            "plugin fixture_no_descriptor (" + file.string() + "): it exports no relais_plugin descriptor");
}

TEST(plugin_loader, ALibraryWithoutStampIsRefusedWithoutBeingLoaded) {
  const auto file = fixture("fixture_not_a_plugin");
  const std::string message = refusal("fixture_not_a_plugin", file);
  EXPECT_THAT(message, StartsWith("plugin fixture_not_a_plugin (" + file.string() + "): no ABI stamp"));
  EXPECT_FALSE(mapped(file));
}

TEST(plugin_loader, AFileThatIsNoElfIsRefused) {
  const TempDir dir;
  const auto file = dir / "moderate_text.so";
  relais::test::write_file(file, "#!/bin/sh\necho this is not a shared library\n");
  EXPECT_EQ(refusal("moderate_text", file), "plugin moderate_text (" + file.string() + "): not an ELF file");

  // Shorter than an ELF header: the read fails rather than compares.
  const auto tiny = dir / "moderate_tiny.so";
  relais::test::write_file(tiny,
                           "\x7f"
                           "EL");
  EXPECT_EQ(refusal("moderate_tiny", tiny), "plugin moderate_tiny (" + tiny.string() + "): not an ELF file");
}

TEST(plugin_loader, AFileHoldingAnotherPluginIsRefused) {
  // `plugin = "moderate_rules"` with `path` pointing at the wrong file.
  const auto file = fixture("fixture_moderator");
  EXPECT_EQ(refusal("moderate_rules", file),
            "plugin moderate_rules (" + file.string() + "): the file holds plugin \"fixture_moderator\"");
}

TEST(plugin_loader, TheModeratorFixtureConfiguresFromItsTableAndAddsItsFinding) {
  auto library = load_ok("fixture_moderator");
  ASSERT_NE(library, nullptr);
  const relais::ModeratorFactory& factory = library->descriptor().moderator();

  // An integer is a number: `score = 3` is read as 3.0.
  const MapTable table({{"symbol", std::string("FIXTURE_HIT")}, {"score", std::int64_t{3}}});
  auto config = factory.configure(table);
  ASSERT_TRUE(config) << config.error().message;
  SilentLogger logger;
  auto moderator =
      factory.create(*config, relais::PluginContext{"moderate:fixture_moderator:0", &logger, "", false});
  ASSERT_NE(moderator, nullptr);

  relais::Post post;
  post.text = "bonjour";
  std::vector<relais::Finding> findings;
  moderator->moderate(post, findings);
  moderator->moderate(post, findings);
  ASSERT_EQ(findings.size(), 2U);
  EXPECT_EQ(findings[0].symbol, "FIXTURE_HIT");
  EXPECT_DOUBLE_EQ(findings[0].score, 3.0);
  EXPECT_EQ(findings[0].description, "moderate:fixture_moderator:0");
}

TEST(plugin_loader, TheModeratorFixtureHasDefaultsAndRefusesABadTable) {
  auto library = load_ok("fixture_moderator");
  ASSERT_NE(library, nullptr);
  const relais::ModeratorFactory& factory = library->descriptor().moderator();
  SilentLogger logger;

  auto config = factory.configure(MapTable({}));
  ASSERT_TRUE(config) << config.error().message;
  auto moderator =
      factory.create(*config, relais::PluginContext{"moderate:fixture_moderator:1", &logger, "", false});
  std::vector<relais::Finding> findings;
  moderator->moderate(relais::Post{}, findings);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].symbol, "FIXTURE");
  EXPECT_DOUBLE_EQ(findings[0].score, 1.0);

  // The errors are the table's, with its position: the factory passes them on.
  auto typo = factory.configure(MapTable({{"simbol", std::string("X")}}));
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message, "test.toml:1:1: moderate[0].simbol: unknown key");
  auto wrong_type = factory.configure(MapTable({{"score", std::string("high")}}));
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().message, "test.toml:1:1: moderate[0].score: expected a number");
}

// The other fixtures serve the host's and the pipeline's tests: they must do
// what their comments say.
TEST(plugin_loader, TheThrowingFixtureFailsWhereAsked) {
  auto library = load_ok("fixture_throwing");
  ASSERT_NE(library, nullptr);
  const relais::ModeratorFactory& factory = library->descriptor().moderator();
  SilentLogger logger;
  const relais::PluginContext context{"moderate:fixture_throwing:0", &logger, "", false};

  auto refused = factory.configure(MapTable({{"fail", true}}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "fail");
  EXPECT_THAT(refused.error().message, StartsWith("test.toml:1:1: moderate[0].fail: "));

  auto throwing = factory.configure(MapTable({{"throw_in_create", true}}));
  ASSERT_TRUE(throwing) << throwing.error().message;
  EXPECT_THROW(factory.create(*throwing, context), std::runtime_error);

  auto config = factory.configure(MapTable({{"fail", false}}));
  ASSERT_TRUE(config) << config.error().message;
  auto moderator = factory.create(*config, context);
  std::vector<relais::Finding> findings;
  EXPECT_THROW(moderator->moderate(relais::Post{}, findings), std::runtime_error);
}

TEST(plugin_loader, TheTriagerSinkAndSourceFixturesWork) {
  auto triager_library = load_ok("fixture_triager");
  auto sink_library = load_ok("fixture_sink");
  auto source_library = load_ok("fixture_source");
  ASSERT_NE(triager_library, nullptr);
  ASSERT_NE(sink_library, nullptr);
  ASSERT_NE(source_library, nullptr);
  SilentLogger logger;

  const auto& triagers = triager_library->descriptor().triager();
  auto triager_config = triagers.configure(MapTable({{"category", std::string("groceries")}}));
  ASSERT_TRUE(triager_config) << triager_config.error().message;
  auto triager = triagers.create(*triager_config, {"triage:fixture_triager:0", &logger, "", false});
  relais::Triage triage;
  triager->triage(relais::Post{}, triage);
  EXPECT_EQ(triage.categories, std::vector<std::string>{"groceries"});

  const auto& sinks = sink_library->descriptor().sink();
  auto sink_config = sinks.configure(MapTable({}));
  ASSERT_TRUE(sink_config) << sink_config.error().message;
  auto sink = sinks.create(*sink_config, {"sink:fixture_sink:0", &logger, "", false});
  EXPECT_EQ(sink->deliver(relais::Delivery{}).status, relais::DeliveryStatus::delivered);
  EXPECT_FALSE(sinks.configure(MapTable({{"url", std::string("x")}})));

  const auto& sources = source_library->descriptor().source();
  auto source_config = sources.configure(MapTable({}));
  ASSERT_TRUE(source_config) << source_config.error().message;
  std::shared_ptr<relais::Source> source =
      sources.create(*source_config, {"source:fixture_source:0", &logger, "", false});
  std::stop_source stop;
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    source->run(relais::SourceEnvironment{"inproc://nowhere", nullptr, stop.get_token()});
    returned = true;
  });
  // It must wait for the stop, not return at once and be run again.
  EXPECT_FALSE(relais::test::wait_until([&] { return returned.load(); }, std::chrono::milliseconds(100)));
  stop.request_stop();
  EXPECT_TRUE(relais::test::wait_until([&] { return returned.load(); }));
  runner.join();
}

}  // namespace
