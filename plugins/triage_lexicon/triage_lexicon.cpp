// triage_lexicon: kind, categories, urgency, area and language of a post
// from its form fields, and otherwise from its words: per-language lexicons
// in TOML (accent-folded, Snowball-stemmed, with negations and signals of
// urgency) and a gazetteer of the network's areas. Everything is compiled
// when the table is configured; a post costs a pass over its words with
// one hash lookup each. See README.md and config/triage/README.md.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "analyzer.hpp"
#include "files.hpp"
#include "gazetteer.hpp"
#include "lexicon.hpp"
#include "relais/plugin.hpp"

namespace {

using relais::ConfigTable;
using relais::Expected;
using relais::Post;
using relais::Triage;
using relais::triage::Settings;

constexpr std::int64_t kMinElderlyAge = 40;
constexpr std::int64_t kMaxElderlyAge = 120;

struct LexiconConfig final : relais::PluginConfig {
  std::shared_ptr<const Settings> settings;
  std::size_t lexicon_files = 0;
};

class LexiconTriager final : public relais::Triager {
 public:
  explicit LexiconTriager(std::shared_ptr<const LexiconConfig> config)
      : config_(std::move(config)), analyzer_(config_->settings) {}

  void triage(const Post& post, Triage& triage) override { analyzer_.triage(post, triage); }

 private:
  std::shared_ptr<const LexiconConfig> config_;
  relais::triage::Analyzer analyzer_;
};

class LexiconFactory final : public relais::TriagerFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto entries = table.strings("lexicons");
    if (!entries) return entries.error();
    auto gazetteer_file = table.string("gazetteer");
    if (!gazetteer_file) return gazetteer_file.error();
    auto default_language = table.string("default_language");
    if (!default_language) return default_language.error();
    auto elderly_age = table.integer("elderly_age");
    if (!elderly_age) return elderly_age.error();
    if (auto finished = table.finish(); !finished) return finished.error();

    if (!*entries || (*entries)->empty()) {
      return table.error("lexicons",
                         "expected an array of lexicon files, e.g. lexicons = [\"triage/*.toml\"]");
    }
    if (*elderly_age && (**elderly_age < kMinElderlyAge || **elderly_age > kMaxElderlyAge)) {
      return table.error("elderly_age", "expected an age from 40 to 120");
    }
    auto files = relais::files::expand(table, "lexicons", **entries);
    if (!files) return files.error();
    auto lexicons = relais::triage::read_lexicons(*files);
    if (!lexicons) return lexicons.error();
    if ((*lexicons)->languages.empty()) return table.error("lexicons", "the files define no language");
    if ((*lexicons)->languages.size() > relais::triage::kMaxLanguages) {
      return table.error("lexicons",
                         "at most " + std::to_string(relais::triage::kMaxLanguages) + " languages");
    }

    auto settings = std::make_shared<Settings>();
    settings->lexicons = *lexicons;
    if (*default_language) {
      const auto index = settings->lexicons->language_index(**default_language);
      if (index < 0) {
        return table.error("default_language",
                           "\"" + **default_language + "\" is not the language of a lexicon");
      }
      settings->default_language = static_cast<std::size_t>(index);
    }
    if (*elderly_age) settings->elderly_age = static_cast<std::int32_t>(**elderly_age);
    if (*gazetteer_file) {
      if ((*gazetteer_file)->empty()) return table.error("gazetteer", "expected a file name");
      const auto path = (relais::files::base_directory(table) / **gazetteer_file).lexically_normal();
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        return table.error("gazetteer", "no such file: " + path.string());
      }
      auto gazetteer = relais::triage::read_gazetteer(path, settings->lexicons->places);
      if (!gazetteer) return gazetteer.error();
      settings->gazetteer = *gazetteer;
    }
    auto config = std::make_shared<LexiconConfig>();
    config->settings = std::move(settings);
    config->lexicon_files = files->size();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Triager> create(std::shared_ptr<const relais::PluginConfig> config,
                                          const relais::PluginContext& context) const override {
    auto lexicon = std::static_pointer_cast<const LexiconConfig>(std::move(config));
    if (context.log != nullptr && context.log->enabled(relais::LogLevel::info)) {
      const auto& settings = *lexicon->settings;
      std::string languages;
      std::size_t terms = 0;
      for (const auto& lang : settings.lexicons->languages) {
        languages += (languages.empty() ? "" : ", ") + lang.code;
        terms += lang.terms.size();
      }
      const std::size_t files = lexicon->lexicon_files;
      context.log->log(relais::LogLevel::info,
                       std::to_string(terms) + " terms (" + languages + ") from " + std::to_string(files) +
                           (files == 1 ? " lexicon file; " : " lexicon files; ") +
                           (settings.gazetteer ? std::to_string(settings.gazetteer->areas.size()) + " areas"
                                               : std::string("no gazetteer")));
    }
    return std::make_unique<LexiconTriager>(std::move(lexicon));
  }
};

}  // namespace

RELAIS_TRIAGER_PLUGIN("triage_lexicon", "1.0.0", LexiconFactory)
