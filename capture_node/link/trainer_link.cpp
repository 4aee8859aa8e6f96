#include "capture_node/link/trainer_link.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "common/transport/wire.h"

namespace booth {

TrainerLink::TrainerLink(TrainerLinkConfig config)
    : config_(std::move(config)), outgoing_(config_.send_queue) {}

TrainerLink::~TrainerLink() { stop(); }

std::string TrainerLink::endpoint() const {
  return config_.endpoints.at(current_.load() % config_.endpoints.size());
}

Status TrainerLink::start(MessageHandler on_message, SwitchHandler on_switch) {
  if (config_.endpoints.empty()) return fail("the trainer link needs at least one endpoint");
  wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_) return fail("cannot create an eventfd for the trainer link");
  std::promise<Status> started;
  auto result = started.get_future();
  thread_ = std::jthread([this, on_message = std::move(on_message),
                          on_switch = std::move(on_switch),
                          p = std::move(started)](std::stop_token st) mutable {
    // The socket lives and dies on this thread.
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    try {
      if (config_.node_keys && !config_.trainer_public_key.empty()) {
        socket.set(zmq::sockopt::curve_serverkey, config_.trainer_public_key);
        socket.set(zmq::sockopt::curve_publickey, config_.node_keys->public_key);
        socket.set(zmq::sockopt::curve_secretkey, config_.node_keys->secret_key);
      } else if (!config_.insecure ||
                 std::any_of(config_.endpoints.begin(), config_.endpoints.end(),
                             [](const std::string& e) { return !isLoopbackEndpoint(e); })) {
        p.set_value(fail(
            config_.insecure
                ? "a link without keys may only go to a loopback trainer, not " + endpoint() +
                      "; give --trainer-public-key and --curve-secret-key"
                : "the link needs keys: --trainer-public-key (the trainer's .pub) and "
                  "--curve-secret-key (make one with 'capture_node keygen'); or, for a "
                  "loopback-only demo, --insecure"));
        return;
      }
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::sndhwm, 1000);
      socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(config_.max_message_bytes));
      socket.connect(endpoint());
    } catch (const zmq::error_t& e) {
      p.set_value(fail("cannot connect to trainer at '" + endpoint() + "': " + e.what() +
                       " (use --trainer tcp://HOST:PORT)"));
      return;
    }
    p.set_value(okStatus());
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, wake_.get(), ZMQ_POLLIN, 0}};
    auto last_version_warning = std::chrono::steady_clock::time_point{};
    std::optional<v2::Envelope> pending;  // could not be queued by ZeroMQ yet
    auto last_heard = std::chrono::steady_clock::now();
    // Moves to the next endpoint: what was queued for the old one is
    // dropped (the node resends what matters after its Hello there).
    auto fail_over = [&] {
      const std::string from = endpoint();
      const std::size_t next = (current_.load() + 1) % config_.endpoints.size();
      try {
        socket.disconnect(from);
      } catch (const zmq::error_t&) {
        // Already gone: nothing to drop.
      }
      try {
        socket.connect(config_.endpoints[next]);
      } catch (const zmq::error_t& e) {
        spdlog::error("trainer link: cannot connect to {}: {}", config_.endpoints[next], e.what());
      }
      current_ = next;
      pending.reset();
      while (outgoing_.tryPop()) {
      }
      ++switches_;
      last_heard = std::chrono::steady_clock::now();
      spdlog::warn("trainer link: nothing from {} for {} ms; moving to {}", from,
                   config_.failover_after.count(), endpoint());
      if (on_switch) on_switch(endpoint());
    };
    while (!st.stop_requested()) {
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(pending ? 5 : 100));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::error("trainer link: poll failed: {}", e.what());
        break;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        std::uint64_t n;
        [[maybe_unused]] auto r = ::read(wake_.get(), &n, sizeof n);
      }
      // Send what is queued, as far as ZeroMQ takes it without blocking.
      while (true) {
        if (!pending) pending = outgoing_.tryPop();
        if (!pending) break;
        if (!sendEnvelope(socket, *pending)) {
          break;  // HWM reached: keep it and retry shortly
        }
        ++sent_;
        pending.reset();
      }
      for (int i = 0; i < 1000; ++i) {
        auto in = receiveEnvelope(socket, /*router=*/false, config_.max_message_bytes);
        if (!in.ok()) {
          spdlog::warn("trainer link: dropping a malformed message from the trainer: {}",
                       in.error());
          continue;
        }
        if (!in.value()) break;
        last_heard = std::chrono::steady_clock::now();
        v2::Envelope& env = in.value()->envelope;
        if (const std::string mismatch = versionMismatch(env); !mismatch.empty()) {
          const auto now = std::chrono::steady_clock::now();
          if (now - last_version_warning > std::chrono::minutes(1)) {
            spdlog::error("the trainer at {} speaks {}", endpoint(), mismatch);
            last_version_warning = now;
          }
          continue;
        }
        on_message(std::move(env));
      }
      if (config_.endpoints.size() > 1 &&
          std::chrono::steady_clock::now() - last_heard > config_.failover_after) {
        fail_over();
      }
    }
  });
  return result.get();
}

void TrainerLink::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    if (wake_) {
      std::uint64_t one = 1;
      [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
    }
    thread_.join();
  }
}

bool TrainerLink::send(v2::Envelope envelope) {
  if (!outgoing_.tryPush(envelope)) {
    ++send_failed_;
    return false;
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_.get(), &one, sizeof one);
  return true;
}

}  // namespace booth
