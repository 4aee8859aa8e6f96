#pragma once
// SessionIntake: what happens to a booth session between "start" and
// "queued". It creates the session and its job (JobQueue::add, state
// receiving), checks every frame and pose record a member node sends
// (membership, announced cameras, sizes, pixels, encodings, the frames
// per session), stores them in the SessionSink (the data folder's files,
// or segment blobs with a shared database: store/session_sink.h), reports what arrived
// (JobQueue::updateIntake, at most twice a second), verifies each member's
// SessionManifest against what was stored and, when every member has
// closed the session, queues the job (JobQueue::enqueue). A session that
// cannot go on (a member's manifest says it failed or does not match, a
// member stalls, the disk fills, the operator cancels) is ended: its
// members are told to stop and its job fails (JobQueue::failIntake) or is
// cancelled (JobQueue::cancel). After a restart, reopenReceiving() takes
// up the sessions the queue says are still receiving on this gateway
// (JobRecord::gateway_id is IngestConfig::gateway_id, or empty): several
// gateways share one database, and another's sessions are its own.
//
// The intake knows nothing of sockets: records come in as parsed protobuf
// messages with the sender's node id (the transport and the node registry
// have checked who it is), answers go back as values (a record's
// acceptance, a ManifestAck), and messages for nodes go through a
// NodeMessenger. Durability is the caller's to order: sync() makes every
// stored record durable and must succeed before those records are acked.
//
// Failure: a record that cannot be taken is answered with the reason (the
// node resends it, or fails its session); a write the disk refuses as full
// marks the session, which checkStalls() then fails with "disk full". A
// sync that fails is noted as each waiting member's last refusal, so a
// session that stalls through a store outage fails naming the store. A
// manifest is checked only after a successful sync and against totals the
// store could read; otherwise (the store unreachable) it is left
// unanswered and the node sends it again. A queue write that fails is
// logged; the job then shows what it last could.
//
// Threading: the ingest thread only, except the counters (any thread).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "booth.pb.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "trainer_node/ingest/ingest_config.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/session_sink.h"

namespace booth {

struct SessionRequest {
  double capture_seconds = 15;
  double train_budget_seconds = 0;
  std::string choreography;
  bool may_improve_booth = false;  // the visitor's consent (JobRecord::may_improve_booth)
};

// Delivers a message to every connection of a node (the transport's).
class NodeMessenger {
 public:
  virtual ~NodeMessenger() = default;
  virtual void toNode(const std::string& node_id, const v2::Envelope& env) = 0;
};

// The answer to one frame or pose record: taken (stored, or a harmless
// resend), or refused with the reason.
struct RecordAnswer {
  bool ok = true;
  std::string error;
};

// The job id of a session: the intake names its jobs after their sessions.
std::string jobIdForSession(const std::string& session_id);

class SessionIntake {
 public:
  SessionIntake(const IngestConfig& config, JobQueue& jobs, SessionSink& sessions,
                const Clock& clock);
  ~SessionIntake();

  // Reopens the sessions the queue says are receiving on this gateway
  // (trainer restart); one that names no node fails. Another gateway's are
  // left alone (there is no record of which gateways are alive: a gateway
  // that never comes back leaves its receiving jobs for the operator to
  // cancel).
  void reopenReceiving();
  // Creates a session with `members` (the connected nodes) as members,
  // records its job and sends them SessionStart. Fails while another
  // session is open or the data disk is almost full.
  Result<JobRecord> open(const SessionRequest& request, const std::vector<NodeInfo>& members,
                         NodeMessenger& out);
  RecordAnswer frame(const std::string& node_id, const v2::Frame& frame);
  RecordAnswer pose(const std::string& node_id, const v2::PoseRecord& pose);
  // Verifies a member's manifest; queues the job when it was the last one.
  // The ManifestAck goes to `reply` first, before the members of a session
  // the manifest ends are told to stop.
  void manifest(const std::string& node_id, const v2::SessionManifest& manifest,
                const std::function<void(const v2::Envelope&)>& reply, NodeMessenger& out);
  // SessionResume when the trainer still wants the node's unfinished
  // session, else SessionStop.
  v2::Envelope resume(const std::string& node_id, const v2::UnfinishedSession& unfinished);
  // The operator cancelled: members are told to stop, the job cancelled.
  // false when the session is not open.
  bool cancel(const std::string& session_id, const std::string& reason, NodeMessenger& out);
  // Makes every stored record durable. On a full disk every open session
  // is marked to fail.
  Status sync();
  // Fails sessions that cannot go on (disk full) or whose member made no
  // progress for the stall timeout (`connected` says whether a node is).
  void checkStalls(NodeMessenger& out, const std::function<bool(const std::string&)>& connected);
  // Writes what arrived to each open session's job (at most twice a second).
  void publishProgress();

  // Any thread.
  std::uint64_t framesReceived() const { return frames_received_.load(std::memory_order_relaxed); }
  std::uint64_t framesRejected() const { return frames_rejected_.load(std::memory_order_relaxed); }
  std::uint64_t posesReceived() const { return poses_received_.load(std::memory_order_relaxed); }
  std::uint64_t bytesReceived() const { return bytes_received_.load(std::memory_order_relaxed); }

 private:
  struct OpenSession;
  // The open session a record of `node_id` for `camera_id` belongs to, or why none.
  Result<OpenSession*> memberSession(const std::string& node_id, const std::string& session_id,
                                     const std::string& camera_id);
  // Whether a session that is no longer open was completed (so a late
  // resend of its records is acked).
  bool completed(const std::string& session_id);
  void end(NodeMessenger& out, const std::string& session_id, const std::string& reason,
           JobEvent event);
  void publish(OpenSession& session, bool force);

  const IngestConfig& config_;
  JobQueue& jobs_;
  SessionSink& sessions_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<OpenSession>> open_;  // by session id

  std::atomic<std::uint64_t> frames_received_{0};
  std::atomic<std::uint64_t> frames_rejected_{0};
  std::atomic<std::uint64_t> poses_received_{0};
  std::atomic<std::uint64_t> bytes_received_{0};
};

}  // namespace booth
