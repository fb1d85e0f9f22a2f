#include "plugins/sources.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "log.hpp"

namespace relais::daemon {

SourceRunner::SourceRunner(void* zmq_context, std::string endpoint)
    : zmq_context_(zmq_context), endpoint_(std::move(endpoint)), log_(component_logger("sources")) {}

SourceRunner::~SourceRunner() { stop(); }

void SourceRunner::start(std::shared_ptr<const PluginSet> set, RestartBackoff backoff) {
  set_ = std::move(set);
  for (const auto& source : set_->sources) {
    threads_.emplace_back([this, &source, backoff](const std::stop_token& stop) {
      name_this_thread("source");
      supervise(source, backoff, stop);
    });
  }
}

void SourceRunner::stop() {
  for (auto& t : threads_) t.request_stop();
  // A source finishes what it has in flight before it returns.
  threads_.clear();
  set_.reset();
}

void SourceRunner::supervise(const PluginInstance<Source>& source, RestartBackoff backoff,
                             const std::stop_token& stop) {
  const SourceEnvironment env{endpoint_, zmq_context_, stop};
  auto delay = backoff.min;
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    std::string died;
    try {
      source.object->run(env);
      died = "returned before it was asked to stop";
    } catch (const std::exception& e) {
      died = std::string("threw: ") + e.what();
    } catch (...) {
      died = "threw an unknown exception";
    }
    if (stop.stop_requested()) return;
    source.counters->errors.fetch_add(1, std::memory_order_relaxed);
    // A source that ran for a good while before dying starts over at the
    // shortest pause: it was not failing in a loop.
    if (std::chrono::steady_clock::now() - started >= backoff.max) delay = backoff.min;
    log_->warn("source_died instance={} plugin={} file={} reason=\"{}\" restart_in_ms={}", source.instance,
               source.plugin, source.file, died, delay.count());
    std::mutex mutex;
    std::condition_variable_any woken;
    std::unique_lock lock(mutex);
    if (woken.wait_for(lock, stop, delay, [] { return false; }) || stop.stop_requested()) return;
    delay = std::min(delay * 2, backoff.max);
    source.counters->restarts.fetch_add(1, std::memory_order_relaxed);
    log_->info("source_restarted instance={} plugin={}", source.instance, source.plugin);
  }
}

}  // namespace relais::daemon
