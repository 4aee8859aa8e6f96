#pragma once
// EventHub: the trainer's live events for the operator page (Server-Sent
// Events). Two sources feed it:
//   - JobStore, the single source of truth for jobs: the hub observes every
//     write (JobStore::addObserver) and publishes the job as it now is;
//   - the capture nodes: the hub asks its node source once a second and
//     publishes the list when anything in it changed (a node came or went,
//     a camera's frame rate, frames or drops moved).
// Subscribers (one per open event stream) each get a bounded queue. A
// subscriber that falls further behind than its queue holds is told so
// (lagged) and resynchronises from a snapshot instead of growing memory.
//
// Threading: one hub thread (started by start(), joined by stop() and the
// destructor) reads the store and the node source and publishes. The
// JobStore observer only records the job id and wakes that thread, so a
// writer (job runner, ingest) never waits for the hub. subscribe() and the
// Subscription's methods may be called from any thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/job_store.h"

namespace booth {

struct BoothEvent {
  enum class Kind { kJob, kNodes };
  Kind kind = Kind::kJob;
  std::uint64_t sequence = 0;   // increases by one per published event
  JobRecord job;                // kJob
  std::vector<NodeInfo> nodes;  // kNodes: every connected node
};

struct EventHubConfig {
  std::chrono::milliseconds node_poll{1000};
  std::size_t subscriber_queue = 256;  // events held per subscriber
  std::size_t max_subscribers = 16;    // open event streams at once
};

class EventHub {
 public:
  using NodeSource = std::function<std::vector<NodeInfo>()>;

  // Observes `jobs` from construction to destruction.
  EventHub(EventHubConfig config, JobStore& jobs, NodeSource nodes);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void start();
  // Stops the hub thread and closes every subscription (their wait() returns
  // at once); later subscribe() calls get nullptr.
  void stop();

  class Subscription {
   public:
    ~Subscription();  // unsubscribes
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // Events published since the last call, waiting up to `timeout` for the
    // first one. Empty on timeout. nullopt once the hub closed the
    // subscription (stop()) or the subscriber lagged: its queue overflowed
    // and events were lost, so it must start again from a snapshot.
    std::optional<std::vector<BoothEvent>> wait(std::chrono::milliseconds timeout);
    bool lagged() const;

   private:
    friend class EventHub;
    explicit Subscription(EventHub& hub) : hub_(hub) {}
    void push(const BoothEvent& event, std::size_t capacity);
    void close();
    EventHub& hub_;
    mutable std::mutex mutex_;  // guards the members below
    std::condition_variable cv_;
    std::deque<BoothEvent> queue_;
    bool closed_ = false;
    bool lagged_ = false;
  };

  // Closes every subscription and refuses new ones (the HTTP server is
  // stopping). stop() does this too.
  void closeSubscriptions();
  // nullptr when max_subscribers streams are open or the hub is stopped.
  std::unique_ptr<Subscription> subscribe();
  std::size_t subscribers() const;
  // The node list as last published (empty before the first poll).
  std::vector<NodeInfo> nodes() const;
  std::uint64_t published() const;

  // For tests: runs one step of the hub thread on the calling thread
  // (publish pending jobs; poll nodes when `poll_nodes`).
  void runOnce(bool poll_nodes);

 private:
  void loop(std::stop_token stop);
  void publish(BoothEvent event);
  void onJobWritten(const std::string& id);

  EventHubConfig config_;
  JobStore& jobs_;
  NodeSource node_source_;
  std::uint64_t observer_id_ = 0;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable_any wake_;
  std::set<std::string> pending_jobs_;  // written since the hub last looked
  std::set<Subscription*> subscribers_;
  std::vector<NodeInfo> nodes_;
  std::uint64_t sequence_ = 0;
  bool closed_ = false;

  std::jthread thread_;
};

// true when two node lists would show the same on the page.
bool sameNodes(const std::vector<NodeInfo>& a, const std::vector<NodeInfo>& b);

}  // namespace booth
