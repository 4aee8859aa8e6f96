#include "trainer_node/events/event_hub.h"

#include <spdlog/spdlog.h>

#include "common/core/random_token.h"

namespace booth {

bool sameNodes(const std::vector<NodeInfo>& a, const std::vector<NodeInfo>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const NodeInfo& x = a[i];
    const NodeInfo& y = b[i];
    if (x.node_id != y.node_id || x.pose_source != y.pose_source ||
        x.cameras.size() != y.cameras.size()) {
      return false;
    }
    for (std::size_t c = 0; c < x.cameras.size(); ++c) {
      const CameraStatus& p = x.cameras[c];
      const CameraStatus& q = y.cameras[c];
      if (p.camera_id != q.camera_id || p.kind != q.kind || p.pixel_format != q.pixel_format ||
          p.state != q.state || p.width != q.width || p.height != q.height || p.fps != q.fps ||
          p.measured_fps != q.measured_fps || p.frames != q.frames || p.dropped != q.dropped ||
          p.error_frames != q.error_frames || p.performer != q.performer) {
        return false;
      }
    }
  }
  return true;  // seconds_since_seen alone changes every poll: not news
}

EventHub::EventHub(EventHubConfig config, JobQueue& jobs, NodeSource nodes)
    : config_(config),
      jobs_(jobs),
      node_source_(std::move(nodes)),
      epoch_(randomHexToken(8)) {
  observer_id_ = jobs_.addObserver([this](const std::string& id) { onJobWritten(id); });
}

EventHub::~EventHub() {
  stop();
  jobs_.removeObserver(observer_id_);
}

void EventHub::start() {
  thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

void EventHub::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  closeSubscriptions();
}

void EventHub::closeSubscriptions() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (Subscription* s : subscribers_) s->close();
}

void EventHub::onJobWritten(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    pending_jobs_.insert(id);
  }
  wake_.notify_one();
}

void EventHub::loop(std::stop_token stop) {
  using SteadyClock = std::chrono::steady_clock;
  auto next_poll = SteadyClock::now();
  auto next_job_poll = SteadyClock::now() + config_.job_poll;
  while (!stop.stop_requested()) {
    const auto now = SteadyClock::now();
    const bool poll = now >= next_poll;
    const bool poll_jobs = now >= next_job_poll;
    // Last resort: a step that throws (a job row that cannot be read, a
    // node source that fails) loses those events, not the hub; pages
    // resynchronise from their next snapshot.
    try {
      runOnce(poll);
      if (poll_jobs) pollJobs();
    } catch (const std::exception& e) {
      spdlog::error("event hub: {}; going on", e.what());
    } catch (...) {
      spdlog::error("event hub: unknown exception; going on");
    }
    if (poll) next_poll = SteadyClock::now() + config_.node_poll;
    if (poll_jobs) next_job_poll = SteadyClock::now() + config_.job_poll;
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, stop, std::min(next_poll, next_job_poll),
                     [this] { return !pending_jobs_.empty(); });
  }
}

void EventHub::publishJob(JobRecord job) {
  {
    std::lock_guard lock(mutex_);
    published_changes_[job.id] = job.updated_ms;
  }
  BoothEvent event;
  event.kind = BoothEvent::Kind::kJob;
  event.job = std::move(job);
  publish(std::move(event));
}

void EventHub::runOnce(bool poll_nodes) {
  std::set<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    ids.swap(pending_jobs_);
  }
  // Several writes of one job since the last look are published once, as
  // the job is now.
  for (const std::string& id : ids) {
    if (auto job = jobs_.get(id)) publishJob(std::move(*job));
  }
  if (!poll_nodes) return;
  const std::string why = jobs_.unavailable().value_or(std::string());
  bool health_changed = false;
  {
    std::lock_guard lock(mutex_);
    health_changed = why != unavailable_;
  }
  if (health_changed) {
    if (why.empty()) {
      spdlog::info("event hub: the job queue's store is available again");
    } else {
      spdlog::warn("event hub: {}", why);
    }
    BoothEvent event;
    event.kind = BoothEvent::Kind::kDatabase;
    event.unavailable = why;
    publish(std::move(event));
  }
  if (!node_source_) return;
  std::vector<NodeInfo> now = node_source_();
  {
    std::lock_guard lock(mutex_);
    if (sameNodes(now, nodes_)) {
      nodes_ = now;  // keeps seconds_since_seen fresh for snapshots
      return;
    }
  }
  BoothEvent event;
  event.kind = BoothEvent::Kind::kNodes;
  event.nodes = std::move(now);
  publish(std::move(event));
}

void EventHub::pollJobs() {
  std::vector<JobRecord> newest = jobs_.list(config_.job_poll_limit);
  std::vector<JobRecord> missed;
  {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::int64_t> window;
    for (JobRecord& job : newest) {
      auto it = published_changes_.find(job.id);
      const bool known = it != published_changes_.end() && it->second >= job.updated_ms;
      window[job.id] = known ? it->second : job.updated_ms;
      // The first listing only learns what there is: pages start from a snapshot.
      if (!known && polled_once_) missed.push_back(std::move(job));
    }
    published_changes_ = std::move(window);
    polled_once_ = true;
  }
  for (JobRecord& job : missed) publishJob(std::move(job));
}

void EventHub::publish(BoothEvent event) {
  std::lock_guard lock(mutex_);
  event.sequence = ++sequence_;
  if (event.kind == BoothEvent::Kind::kNodes) nodes_ = event.nodes;
  if (event.kind == BoothEvent::Kind::kDatabase) unavailable_ = event.unavailable;
  for (Subscription* s : subscribers_) s->push(event, config_.subscriber_queue);
  if (config_.replay_events == 0) return;
  if (recent_.size() >= config_.replay_events) recent_.pop_front();
  recent_.push_back(std::move(event));
}

std::string EventHub::eventId(std::uint64_t sequence) const {
  return epoch_ + "-" + std::to_string(sequence);
}

std::unique_ptr<EventHub::Subscription> EventHub::subscribe(const std::string& last_event_id) {
  std::lock_guard lock(mutex_);
  if (closed_ || subscribers_.size() >= config_.max_subscribers) return nullptr;
  std::unique_ptr<Subscription> s(new Subscription(*this));
  s->start_sequence_ = sequence_;
  // "<epoch>-<sequence>" of this hub, not ahead of it, and no older than
  // the oldest event kept (or nothing was missed at all).
  const std::string prefix = epoch_ + "-";
  if (last_event_id.size() > prefix.size() && last_event_id.size() <= prefix.size() + 20 &&
      last_event_id.compare(0, prefix.size(), prefix) == 0 &&
      last_event_id.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
    const std::uint64_t seen = std::stoull(last_event_id.substr(prefix.size()));
    const std::uint64_t oldest = recent_.empty() ? sequence_ + 1 : recent_.front().sequence;
    // More missed than a subscriber may hold: a snapshot is cheaper.
    if (seen <= sequence_ && seen + 1 >= oldest &&
        sequence_ - seen <= config_.subscriber_queue) {
      s->resumed_ = true;
      for (const BoothEvent& e : recent_) {
        if (e.sequence > seen) s->queue_.push_back(e);
      }
    }
  }
  subscribers_.insert(s.get());
  return s;
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

std::vector<NodeInfo> EventHub::nodes() const {
  std::lock_guard lock(mutex_);
  return nodes_;
}

std::string EventHub::unavailable() const {
  std::lock_guard lock(mutex_);
  return unavailable_;
}

std::uint64_t EventHub::published() const {
  std::lock_guard lock(mutex_);
  return sequence_;
}

EventHub::Subscription::~Subscription() {
  std::lock_guard lock(hub_.mutex_);
  hub_.subscribers_.erase(this);
}

void EventHub::Subscription::push(const BoothEvent& event, std::size_t capacity) {
  {
    std::lock_guard lock(mutex_);
    if (closed_ || lagged_) return;
    if (queue_.size() >= capacity) {
      lagged_ = true;
      queue_.clear();
    } else {
      queue_.push_back(event);
    }
  }
  cv_.notify_one();
}

void EventHub::Subscription::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventHub::Subscription::lagged() const {
  std::lock_guard lock(mutex_);
  return lagged_;
}

std::optional<std::vector<BoothEvent>> EventHub::Subscription::wait(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return closed_ || lagged_ || !queue_.empty(); });
  if (closed_ || lagged_) return std::nullopt;
  std::vector<BoothEvent> out(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

}  // namespace booth
