// sink_zmq: a delivery published on a ZeroMQ PUB socket, two frames: the
// destination's topic, then the same JSON document sink_webhook posts.
// Chat bridges and dashboards subscribe to the topics they serve.
//
// PUB drops what no subscriber is connected for: "delivered" means
// published, not received. A receiver that must not miss a need reads the
// store or uses a sink that acknowledges.
//
// Instances of this plugin share one socket per endpoint: a reload makes
// new instances while the old ones still run, and two sockets bound to one
// endpoint would fight over it (for ipc://, the old socket's close would
// even remove the new one's file). Sharing also keeps the subscribers
// connected across a reload.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <zmq.hpp>

#include "delivery_json.hpp"
#include "relais/plugin.hpp"
#include "table.hpp"

namespace {

using relais::ConfigTable;
using relais::Delivery;
using relais::DeliveryResult;
using relais::DeliveryStatus;
using relais::Expected;
using relais::LogLevel;

enum class Mode : std::uint8_t { bind, connect };

struct ZmqConfig final : relais::PluginConfig {
  std::string endpoint;
  Mode mode = Mode::bind;
  std::int64_t high_water_mark = 1000;
  std::int64_t linger_ms = 1000;
};

// One PUB socket, with its own context, shared by the instances that name
// its endpoint; sends are serialised, since instances of the running and the
// incoming plugin set may deliver at the same time.
class Publisher {
 public:
  explicit Publisher(const ZmqConfig& config) : socket_(context_, zmq::socket_type::pub) {
    apply(config);
    try {
      if (config.mode == Mode::bind) {
        socket_.bind(config.endpoint);
      } else {
        socket_.connect(config.endpoint);
      }
    } catch (const zmq::error_t& e) {
      throw std::runtime_error(
          std::string(config.mode == Mode::bind ? "cannot bind " : "cannot connect to ") + config.endpoint +
          ": " + e.what());
    }
  }

  // The options of the latest configuration; the high-water mark applies
  // to subscribers that connect from then on.
  void apply(const ZmqConfig& config) {
    const std::lock_guard lock(mutex_);
    socket_.set(zmq::sockopt::sndhwm, static_cast<int>(config.high_water_mark));
    socket_.set(zmq::sockopt::linger, static_cast<int>(config.linger_ms));
  }

  // Both frames or neither: ZeroMQ sends a multipart message whole.
  void publish(std::string_view topic, std::string_view body) {
    const std::lock_guard lock(mutex_);
    socket_.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::mutex mutex_;
};

// The publishers in use, by mode and endpoint; an entry lives as long as
// an instance holds its publisher.
std::shared_ptr<Publisher> publisher_for(const ZmqConfig& config) {
  static std::mutex mutex;
  static std::map<std::pair<Mode, std::string>, std::weak_ptr<Publisher>> publishers;
  const std::lock_guard lock(mutex);
  std::erase_if(publishers, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = publishers[{config.mode, config.endpoint}];
  if (auto existing = slot.lock()) {
    existing->apply(config);
    return existing;
  }
  auto made = std::make_shared<Publisher>(config);
  slot = made;
  return made;
}

class ZmqSink final : public relais::Sink {
 public:
  ZmqSink(std::shared_ptr<const ZmqConfig> config, relais::Logger& log, bool shadow)
      : config_(std::move(config)), log_(log), publisher_(shadow ? nullptr : publisher_for(*config_)) {}

  DeliveryResult deliver(const Delivery& delivery) override {
    // A shadow instance only shows what would happen: it holds no socket.
    if (!publisher_) return {DeliveryStatus::retry, "a shadow instance publishes nothing", 0};
    const std::string& topic = delivery.address.empty() ? delivery.destination : delivery.address;
    const std::string body = relais::delivery_json::render(delivery);
    try {
      publisher_->publish(topic, body);
    } catch (const zmq::error_t& e) {
      return {DeliveryStatus::retry, std::string("cannot publish: ") + e.what(), 0};
    }
    if (log_.enabled(LogLevel::debug)) {
      log_.log(LogLevel::debug, "delivery " + delivery.id + " attempt " + std::to_string(delivery.attempt) +
                                    ": published on topic \"" + topic + "\"");
    }
    return {DeliveryStatus::delivered, "", 0};
  }

  relais::Status check_address(std::string_view address) const override {
    if (address.empty()) return relais::Error{"address", "expected a non-empty topic", ""};
    return relais::Done{};
  }

 private:
  std::shared_ptr<const ZmqConfig> config_;
  relais::Logger& log_;
  std::shared_ptr<Publisher> publisher_;
};

using relais::table::read_into;

class ZmqFactory final : public relais::SinkFactory {
 public:
  Expected<std::shared_ptr<const relais::PluginConfig>> configure(const ConfigTable& table) const override {
    auto config = std::make_shared<ZmqConfig>();
    std::string mode = "bind";
    for (const auto& status : {
             read_into([&] { return table.string("endpoint"); }, config->endpoint),
             read_into([&] { return table.string("mode"); }, mode),
             read_into([&] { return table.integer("high_water_mark"); }, config->high_water_mark),
             read_into([&] { return table.integer("linger_ms"); }, config->linger_ms),
         }) {
      if (!status) return status.error();
    }
    if (auto finished = table.finish(); !finished) return finished.error();

    const std::string_view endpoint = config->endpoint;
    if ((!endpoint.starts_with("tcp://") && !endpoint.starts_with("ipc://")) || endpoint.size() <= 6) {
      return table.error("endpoint", "expected a ZeroMQ endpoint tcp://host:port or ipc://path");
    }
    if (mode == "bind") {
      config->mode = Mode::bind;
    } else if (mode == "connect") {
      config->mode = Mode::connect;
    } else {
      return table.error("mode", "expected \"bind\" or \"connect\"");
    }
    if (config->high_water_mark < 0 || config->high_water_mark > 10'000'000) {
      return table.error("high_water_mark", "expected messages from 0 (no limit) to 10000000");
    }
    // No "wait for ever" (-1): a peer that never comes back would hold up
    // the daemon's shutdown.
    if (config->linger_ms < 0 || config->linger_ms > 600'000) {
      return table.error("linger_ms", "expected milliseconds from 0 to 600000");
    }
    return std::shared_ptr<const relais::PluginConfig>(std::move(config));
  }

  std::unique_ptr<relais::Sink> create(std::shared_ptr<const relais::PluginConfig> config,
                                       const relais::PluginContext& context) const override {
    return std::make_unique<ZmqSink>(std::static_pointer_cast<const ZmqConfig>(std::move(config)),
                                     *context.log, context.shadow);
  }
};

}  // namespace

RELAIS_SINK_PLUGIN("sink_zmq", "1.0.0", ZmqFactory)
