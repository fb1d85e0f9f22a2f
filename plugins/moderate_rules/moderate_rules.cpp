// moderate_rules: moderation by rule files that moderators write, in TOML.
// Every literal and pattern of every rule is compiled into one Hyperscan
// database per field, so a post costs one scan of each field whatever the
// number of rules. See README.md for the rule format.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "files.hpp"
#include "matcher.hpp"
#include "relais/plugin.hpp"
#include "rules.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;

struct RulesConfig final : relais::PluginConfig {
  std::shared_ptr<const relais::rules::CompiledRules> rules;
  std::size_t files = 0;
};

class RulesModerator final : public relais::Moderator {
 public:
  explicit RulesModerator(std::shared_ptr<const RulesConfig> config)
      : config_(std::move(config)), matcher_(config_->rules) {}

  void moderate(const Post& post, std::vector<Finding>& findings) override { matcher_.match(post, findings); }

 private:
  std::shared_ptr<const RulesConfig> config_;
  relais::rules::Matcher matcher_;
};

class RulesFactory final : public relais::ModeratorFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto entries = table.strings("rules");
    if (!entries) return entries.error();
    if (auto finished = table.finish(); !finished) return finished.error();
    if (!*entries || (*entries)->empty()) {
      return table.error("rules", "expected an array of rule files, e.g. rules = [\"rules/*.toml\"]");
    }
    auto files = relais::files::expand(table, "rules", **entries);
    if (!files) return files.error();
    relais::rules::RuleSet set;
    for (const auto& file : *files) {
      if (auto read = relais::rules::read_rule_file(file, set); !read) return read.error();
    }
    auto compiled = relais::rules::compile(std::move(set));
    if (!compiled) return compiled.error();
    auto config = std::make_shared<RulesConfig>();
    config->rules = std::move(*compiled);
    config->files = files->size();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Moderator> create(std::shared_ptr<const relais::PluginConfig> config,
                                            const relais::PluginContext& context) const override {
    auto rules = std::static_pointer_cast<const RulesConfig>(std::move(config));
    if (context.log != nullptr && context.log->enabled(relais::LogLevel::info)) {
      const auto& compiled = *rules->rules;
      context.log->log(relais::LogLevel::info,
                       std::to_string(compiled.rules.size()) + " rules from " + std::to_string(rules->files) +
                           " files, " + std::to_string(compiled.expressions) + " expressions compiled in " +
                           std::to_string(compiled.compile_time.count()) + " ms");
    }
    return std::make_unique<RulesModerator>(std::move(rules));
  }
};

}  // namespace

RELAIS_MODERATOR_PLUGIN("moderate_rules", "1.0.0", RulesFactory)
