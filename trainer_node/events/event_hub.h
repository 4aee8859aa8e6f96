#pragma once
// EventHub: the trainer's live events for the operator page (Server-Sent
// Events). Three sources feed it:
//   - the JobQueue: the hub observes every committed change
//     (JobQueue::addObserver; with PostgreSQL that is LISTEN/NOTIFY, other
//     processes' writes too) and publishes the job as it now is. As a
//     fallback for a missed wake-up (a NOTIFY lost while the listener
//     reconnected), it also lists the newest jobs every `job_poll` and
//     publishes those whose last change it has not published;
//   - the capture nodes: the hub asks its node source once a second and
//     publishes the list when anything in it changed;
//   - the queue's health: once a second it asks JobQueue::unavailable()
//     and publishes a `database` event when that changes (the page says
//     "database unavailable" meanwhile).
//
// Resume: every event has an id, "<epoch>-<sequence>", where the epoch is
// random per hub (so an id from another trainer process or an earlier run
// is never mistaken for one of this hub's) and the sequence grows by one
// per event. The hub keeps the last `replay_events` events. A subscriber
// that names the last id it saw (the browser's Last-Event-ID) gets every
// later event replayed, in order, before new ones; when the id is not this
// hub's or older than what the hub keeps, the subscription says so
// (resumed() false) and the caller sends a full snapshot instead.
//
// Subscribers (one per open event stream) each get a bounded queue. A
// subscriber that falls further behind than its queue holds is told so
// (lagged) and resumes or resynchronises as above instead of growing
// memory.
//
// Threading: one hub thread (started by start(), joined by stop() and the
// destructor) reads the queue and the node source and publishes. The queue
// observer only records the job id and wakes that thread, so a writer
// (worker, ingest) never waits for the hub. subscribe() and the
// Subscription's methods may be called from any thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/jobs/job_queue.h"

namespace booth {

struct BoothEvent {
  enum class Kind { kJob, kNodes, kDatabase };
  Kind kind = Kind::kJob;
  std::uint64_t sequence = 0;   // increases by one per published event
  JobRecord job;                // kJob
  std::vector<NodeInfo> nodes;  // kNodes: every connected node
  std::string unavailable;      // kDatabase: why the queue's store cannot be used; empty: it can
};

struct EventHubConfig {
  std::chrono::milliseconds node_poll{1000};  // nodes and the queue's health
  std::chrono::milliseconds job_poll{2000};   // the fallback listing of the newest jobs
  int job_poll_limit = 100;                   // jobs the fallback lists
  std::size_t subscriber_queue = 256;  // events held per subscriber
  std::size_t max_subscribers = 16;    // open event streams at once
  std::size_t replay_events = 512;     // events kept for Last-Event-ID resume
};

class EventHub {
 public:
  using NodeSource = std::function<std::vector<NodeInfo>()>;

  // Observes `jobs` from construction to destruction.
  EventHub(EventHubConfig config, JobQueue& jobs, NodeSource nodes);
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
    // Events published since the last call (first the replayed ones),
    // waiting up to `timeout` for the first one. Empty on timeout. nullopt
    // once the hub closed the subscription (stop()) or the subscriber
    // lagged: its queue overflowed and events were lost.
    std::optional<std::vector<BoothEvent>> wait(std::chrono::milliseconds timeout);
    bool lagged() const;
    // true when the subscription resumed after the Last-Event-ID it was
    // given (the missed events are queued); false when the caller must send
    // a snapshot.
    bool resumed() const { return resumed_; }
    // The last sequence published when the subscription began: a snapshot
    // read after subscribe() shows at least everything up to it.
    std::uint64_t startSequence() const { return start_sequence_; }

   private:
    friend class EventHub;
    explicit Subscription(EventHub& hub) : hub_(hub) {}
    void push(const BoothEvent& event, std::size_t capacity);
    void close();
    EventHub& hub_;
    bool resumed_ = false;             // set before the subscription is shared
    std::uint64_t start_sequence_ = 0;  // likewise
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
  // `last_event_id`: the id of the last event the subscriber saw (the
  // Last-Event-ID header); empty for a fresh start.
  std::unique_ptr<Subscription> subscribe(const std::string& last_event_id = {});
  std::size_t subscribers() const;
  // The node list as last published (empty before the first poll).
  std::vector<NodeInfo> nodes() const;
  // Why the queue's store cannot be used, as last checked; empty: it can.
  std::string unavailable() const;
  std::uint64_t published() const;
  // The id of the event with `sequence` ("<epoch>-<sequence>").
  std::string eventId(std::uint64_t sequence) const;

  // For tests: runs one step of the hub thread on the calling thread
  // (publish pending jobs; poll nodes and the queue's health when
  // `poll_nodes`).
  void runOnce(bool poll_nodes);
  // For tests: one fallback listing of the newest jobs (the hub thread
  // runs it every job_poll).
  void pollJobs();

 private:
  void loop(std::stop_token stop);
  void publish(BoothEvent event);
  void publishJob(JobRecord job);
  void onJobWritten(const std::string& id);

  EventHubConfig config_;
  JobQueue& jobs_;
  NodeSource node_source_;
  const std::string epoch_;  // random per hub
  std::uint64_t observer_id_ = 0;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable_any wake_;
  std::set<std::string> pending_jobs_;  // written since the hub last looked
  std::set<Subscription*> subscribers_;
  std::deque<BoothEvent> recent_;  // the last replay_events events, oldest first
  std::vector<NodeInfo> nodes_;
  std::string unavailable_;
  // The last change (updated_ms) published per job, for the fallback poll;
  // bounded by the poll's window plus what was published since.
  std::map<std::string, std::int64_t> published_changes_;
  bool polled_once_ = false;
  std::uint64_t sequence_ = 0;
  bool closed_ = false;

  std::jthread thread_;
};

// true when two node lists would show the same on the page.
bool sameNodes(const std::vector<NodeInfo>& a, const std::vector<NodeInfo>& b);

}  // namespace booth
