// The plugin host's per-instance logger: named after the instance, and
// rate-limited for warn and error lines, on a fake clock.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <vector>

#include "plugins/host.hpp"

namespace {

using relais::LogLevel;
using relais::daemon::PluginLogger;

class plugin_logger : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::info);
    captured = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    logger = std::make_unique<PluginLogger>(name, [this] { return now; });
    // The instance's own spdlog logger, which PluginLogger writes to.
    auto spd = spdlog::get(name);
    ASSERT_TRUE(spd);
    spd->sinks().clear();
    spd->sinks().push_back(captured);
    spd->set_pattern("[%n] %l %v");
  }
  void TearDown() override { spdlog::drop(name); }

  std::vector<std::string> lines() const { return captured->last_formatted(); }

  const std::string name = "moderate:test:" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> captured;
  std::unique_ptr<PluginLogger> logger;
};

TEST_F(plugin_logger, LinesCarryTheInstanceName) {
  logger->log(LogLevel::info, "loaded rules=3");
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_EQ(lines()[0], "[" + name + "] info loaded rules=3\n");
}

TEST_F(plugin_logger, ABurstOfErrorsIsCutAndTheCountReportedWithTheNextLine) {
  for (unsigned i = 0; i < PluginLogger::kBurst + 5; ++i)
    logger->log(LogLevel::error, "stage_error post=" + std::to_string(i));
  EXPECT_EQ(lines().size(), PluginLogger::kBurst);
  EXPECT_EQ(lines().back(),
            "[" + name + "] error stage_error post=" + std::to_string(PluginLogger::kBurst - 1) + "\n");

  // Info lines are not per-post failures: never cut.
  logger->log(LogLevel::info, "still here");
  EXPECT_EQ(lines().size(), PluginLogger::kBurst + 1);

  // Within the window, still cut.
  now += PluginLogger::kWindow - std::chrono::seconds(1);
  logger->log(LogLevel::warn, "slow");
  EXPECT_EQ(lines().size(), PluginLogger::kBurst + 1);

  // A new window: the next line goes out, with how many were dropped.
  now += std::chrono::seconds(1);
  logger->log(LogLevel::error, "stage_error post=99");
  ASSERT_EQ(lines().size(), PluginLogger::kBurst + 2);
  EXPECT_EQ(lines().back(), "[" + name + "] error stage_error post=99 suppressed=6\n");
  logger->log(LogLevel::error, "stage_error post=100");
  EXPECT_EQ(lines().back(), "[" + name + "] error stage_error post=100\n");
}

TEST_F(plugin_logger, LevelsBelowTheDaemonsAreNotEnabled) {
  EXPECT_FALSE(logger->enabled(LogLevel::debug));
  EXPECT_TRUE(logger->enabled(LogLevel::info));
  logger->log(LogLevel::debug, "the text of a post");
  EXPECT_TRUE(lines().empty());
}

}  // namespace
