// moderate_hello: finds a word in a post's text.
//
//   [[moderate]]
//   plugin = "moderate_hello"
//   word = "hello"     # looked for as written (case-sensitive)
//   symbol = "HELLO"   # the finding's symbol
//   score = 1.0        # the finding's score
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <relais/plugin.hpp>

namespace {

// The factory's reading of one [[moderate]] table; never changes once made.
struct HelloConfig final : relais::PluginConfig {
  std::string word = "hello";
  std::string symbol = "HELLO";
  double score = 1.0;
};

class HelloModerator final : public relais::Moderator {
 public:
  HelloModerator(std::shared_ptr<const HelloConfig> config, relais::Logger& log)
      : config_(std::move(config)), log_(log) {}

  void moderate(const relais::Post& post, std::vector<relais::Finding>& findings) override {
    if (post.text.find(config_->word) == std::string::npos) return;
    relais::Finding finding;
    finding.symbol = config_->symbol;
    finding.score = config_->score;
    finding.description = "the text says \"" + config_->word + "\"";
    findings.push_back(std::move(finding));
    // The post's id, never its text: personal data stays at debug or below.
    if (log_.enabled(relais::LogLevel::debug)) {
      log_.log(relais::LogLevel::debug, "post " + std::to_string(post.id) + ": found " + config_->symbol);
    }
  }

 private:
  std::shared_ptr<const HelloConfig> config_;
  relais::Logger& log_;
};

class HelloFactory final : public relais::ModeratorFactory {
 public:
  relais::Expected<std::shared_ptr<const relais::PluginConfig>> configure(
      const relais::ConfigTable& table) const override {
    auto config = std::make_shared<HelloConfig>();
    // Each reader gives nothing (absent: keep the default), the value, or an
    // error carrying file:line:column.
    auto word = table.string("word");
    if (!word) return word.error();
    if (*word) config->word = **word;
    if (config->word.empty()) return table.error("word", "expected a non-empty string");
    auto symbol = table.string("symbol");
    if (!symbol) return symbol.error();
    if (*symbol) config->symbol = **symbol;
    auto score = table.number("score");
    if (!score) return score.error();
    if (*score) config->score = **score;
    // Last: any key not read above is a typo, and refused.
    if (auto finished = table.finish(); !finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& context) const override {
    return std::make_unique<HelloModerator>(std::static_pointer_cast<const HelloConfig>(std::move(config)),
                                            *context.log);
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_hello", "1.0.0", HelloFactory)
