// moderate_rules: moderation by rule files that moderators write, in TOML.
// Every literal and pattern of every rule is compiled into one Hyperscan
// database per field, so a post costs one scan of each field whatever the
// number of rules. See README.md for the rule format.
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "matcher.hpp"
#include "relais/plugin.hpp"
#include "rules.hpp"

namespace {

namespace fs = std::filesystem;
using relais::ConfigTable;
using relais::Expected;
using relais::Finding;
using relais::Post;

struct RulesConfig final : relais::PluginConfig {
  std::shared_ptr<const relais::rules::CompiledRules> rules;
  std::size_t files = 0;
};

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// The files of one `rules` entry: a file, or a wildcard in the file name
// (sorted by name; hidden files only when the pattern says so).
Expected<std::vector<fs::path>> files_of(const ConfigTable& table, const fs::path& base,
                                         const std::string& entry) {
  const fs::path path = (base / entry).lexically_normal();
  if (has_wildcard(fs::path(entry).parent_path().string())) {
    return table.error("rules", "\"" + entry + "\": wildcards are allowed in the file name only");
  }
  if (!has_wildcard(path.filename().string())) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      return table.error("rules", "\"" + entry + "\": no such file: " + path.string());
    return std::vector<fs::path>{path};
  }
  std::vector<fs::path> out;
  std::error_code ec;
  const std::string pattern = path.filename().string();
  for (fs::directory_iterator it(path.parent_path().empty() ? fs::path(".") : path.parent_path(), ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0 && it->is_regular_file(type_ec)) {
      out.push_back(path.parent_path() / name);
    }
  }
  if (ec)
    return table.error("rules",
                       "\"" + entry + "\": cannot read " + path.parent_path().string() + ": " + ec.message());
  if (out.empty()) return table.error("rules", "\"" + entry + "\": matches no file");
  std::sort(out.begin(), out.end());
  return out;
}

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
    const fs::path base = fs::path(table.config_file()).parent_path();
    std::vector<fs::path> files;
    std::set<fs::path> seen;  // a file named twice (by a wildcard too) is read once
    for (const auto& entry : **entries) {
      auto matched = files_of(table, base, entry);
      if (!matched) return matched.error();
      for (auto& file : *matched) {
        std::error_code ec;
        const fs::path canonical = fs::weakly_canonical(file, ec);
        if (seen.insert(ec ? file : canonical).second) files.push_back(std::move(file));
      }
    }
    relais::rules::RuleSet set;
    for (const auto& file : files) {
      if (auto read = relais::rules::read_rule_file(file, set); !read) return read.error();
    }
    auto compiled = relais::rules::compile(std::move(set));
    if (!compiled) return compiled.error();
    auto config = std::make_shared<RulesConfig>();
    config->rules = std::move(*compiled);
    config->files = files.size();
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
