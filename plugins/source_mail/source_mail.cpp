// source_mail: a Maildir watched from inside relaisd, for sites where the
// mail system delivers to a mailbox relaisd can read. Each pass submits
// what is in new/ (maildir.hpp), then waits `poll_interval_ms` or until
// asked to stop. Polling rather than inotify: it works the same on every
// file system, a Maildir on NFS included, and a pass over an empty new/
// costs one directory read.
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "files.hpp"
#include "mail_post.hpp"
#include "maildir.hpp"
#include "relais/plugin.hpp"

namespace {

struct MailConfig final : relais::PluginConfig {
  std::filesystem::path maildir;
  std::string channel = "email";
  std::chrono::milliseconds poll_interval{2000};
  std::size_t max_message_bytes = relais::mail::kDefaultMaxMessageBytes;
  std::size_t max_text_bytes = 65536;
};

class MailSource final : public relais::Source {
 public:
  MailSource(std::shared_ptr<const MailConfig> config, relais::Logger* log)
      : config_(std::move(config)), log_(log) {}

  void run(const relais::SourceEnvironment& env) override {
    relais::mail::initialise();
    relais::mail::MaildirOptions options;
    options.parse.channel = config_->channel;
    options.parse.max_message_bytes = config_->max_message_bytes;
    options.parse.max_text_bytes = config_->max_text_bytes;
    // In-process, an acknowledgement only waits for a commit.
    options.ack_wait = std::chrono::seconds(30);
    options.on_refused = [this](std::string_view file, const relais::Error& why) {
      log_->log(relais::LogLevel::warn, "message " + std::string(file) + " set aside in " +
                                            relais::mail::kRefusedFolder + ": " + why.message);
    };
    options.on_stored = [this](std::string_view file, const relais::SubmitResult& result) {
      if (!log_->enabled(relais::LogLevel::debug)) return;
      log_->log(relais::LogLevel::debug,
                "message " + std::string(file) +
                    (result.status == relais::SubmitStatus::stored ? " stored" : " duplicate") +
                    " post=" + std::to_string(result.post_id));
    };
    relais::ClientOptions client;
    client.endpoint = env.endpoint;
    client.zmq_context = env.zmq_context;

    while (!env.stop.stop_requested()) {
      const auto pass = relais::mail::drain_maildir(config_->maildir, client, options, env.stop);
      // Thrown, the daemon logs it and runs the source again after a backoff:
      // a Maildir that went away, a message that cannot be moved.
      if (!pass) throw std::runtime_error(pass.error().message);
      if (pass->stored + pass->duplicates + pass->refused + pass->waiting > 0 &&
          log_->enabled(relais::LogLevel::info)) {
        log_->log(relais::LogLevel::info, "maildir pass stored=" + std::to_string(pass->stored) +
                                              " duplicates=" + std::to_string(pass->duplicates) +
                                              " set_aside=" + std::to_string(pass->refused) +
                                              " waiting=" + std::to_string(pass->waiting));
      }
      std::unique_lock lock(mutex_);
      woken_.wait_for(lock, env.stop, config_->poll_interval, [] { return false; });
    }
  }

 private:
  std::shared_ptr<const MailConfig> config_;
  relais::Logger* log_;
  std::mutex mutex_;
  std::condition_variable_any woken_;
};

class MailFactory final : public relais::SourceFactory {
 public:
  relais::Expected<std::shared_ptr<const relais::PluginConfig>> configure(
      const relais::ConfigTable& table) const override {
    auto config = std::make_shared<MailConfig>();
    auto maildir = table.string("maildir");
    if (!maildir) return maildir.error();
    if (!*maildir || (*maildir)->empty()) return table.error("maildir", "is required: the Maildir to watch");
    config->maildir = relais::files::base_directory(table) / **maildir;

    auto channel = table.string("channel");
    if (!channel) return channel.error();
    if (*channel) {
      if ((*channel)->empty() || (*channel)->size() > 256)
        return table.error("channel", "must be 1 to 256 bytes");
      config->channel = **channel;
    }
    auto poll = table.integer("poll_interval_ms");
    if (!poll) return poll.error();
    if (*poll) {
      if (**poll < 100 || **poll > 600000) return table.error("poll_interval_ms", "must be 100 to 600000");
      config->poll_interval = std::chrono::milliseconds(**poll);
    }
    auto max_message = table.integer("max_message_bytes");
    if (!max_message) return max_message.error();
    if (*max_message) {
      if (**max_message < 1024 || **max_message > (std::int64_t{1} << 30)) {
        return table.error("max_message_bytes", "must be 1024 to 1073741824");
      }
      config->max_message_bytes = static_cast<std::size_t>(**max_message);
    }
    auto max_text = table.integer("max_text_bytes");
    if (!max_text) return max_text.error();
    if (*max_text) {
      if (**max_text < 1 || **max_text > (std::int64_t{1} << 24)) {
        return table.error("max_text_bytes", "must be 1 to 16777216");
      }
      config->max_text_bytes = static_cast<std::size_t>(**max_text);
    }
    auto finished = table.finish();
    if (!finished) return finished.error();
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Source> create(std::shared_ptr<const relais::PluginConfig> config,
                                         const relais::PluginContext& context) const override {
    return std::make_unique<MailSource>(std::static_pointer_cast<const MailConfig>(std::move(config)),
                                        context.log);
  }
};

}  // namespace

RELAIS_SOURCE_PLUGIN("source_mail", "1.0.0", MailFactory)
