#pragma once
// IngestServer: the trainer's ingest role, wired from three parts:
//   - IngestTransport (ingest_transport.h): the ROUTER socket and its
//     thread, CURVE, credit, durable batched acks;
//   - NodeRegistry (node_registry.h): which capture nodes are connected;
//   - SessionIntake (session_intake.h): sessions from start to queued,
//     every record checked and stored, manifests verified, the job's
//     state written through the JobQueue.
// This object routes each message to them (Hello to the registry, then
// credit and the node's unfinished sessions; records and manifests of a
// registered node to the intake) and offers the operator's commands to
// other threads.
//
// Everything a peer sends is hostile until proven otherwise: messages are
// bounded in size, must carry this protocol version and come from a node
// that said Hello with a valid id; records are accepted only for open
// sessions the node is a member of and cameras it announced. A refusal is
// an Ack with the reason (or a ProtocolError), never a dead thread.
//
// Sessions survive restarts on both sides: a node that comes back lists
// its unfinished sessions in Hello and is told to resume them; a trainer
// that comes back reopens the sessions its job queue says were receiving.
//
// Threading: the parts live on the ingest thread. startSession(), nodes()
// and cancelSession() run there through the transport and wait (bounded)
// for the answer; stats() reads atomics.
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/clock.h"
#include "common/core/result.h"
#include "trainer_node/ingest/ingest_config.h"
#include "trainer_node/ingest/ingest_stats.h"
#include "trainer_node/ingest/ingest_transport.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/ingest/session_intake.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/session_sink.h"

namespace booth {

class IngestServer : private IngestTransport::Handler, private NodeMessenger {
 public:
  IngestServer(IngestConfig config, JobQueue& jobs, SessionSink& sessions,
               const Clock& clock = SystemClock::instance());
  ~IngestServer() override;

  // Reopens the sessions the queue says were receiving, binds and starts
  // the ingest thread; fails naming the endpoint when the port is in use or
  // the endpoint is invalid.
  Status start();
  void stop();

  // Creates a session and its job and tells every connected node to
  // capture. Fails when no capture node is connected or a session is open.
  Result<JobRecord> startSession(const SessionRequest& request);
  std::vector<NodeInfo> nodes();
  // Ends a session that is still being captured or received (the operator
  // cancelled it): its capture nodes get SessionStop and the job is
  // cancelled with `reason`. false when the session is not open any more
  // (already queued, finished or unknown); the caller then cancels through
  // the JobQueue.
  bool cancelSession(const std::string& session_id, const std::string& reason);
  // Any thread; lock-free.
  IngestStats stats() const;
  const std::string& endpoint() const { return transport_.endpoint(); }

  // Handles one received message as the ingest thread does (for the fuzz
  // target and tests that drive the server without a network): replies go
  // to `socket`.
  void handleForTest(zmq::socket_t& socket, const std::string& routing_id,
                     const std::string& user_id, const v2::Envelope& env);
  void flushForTest(zmq::socket_t& socket);
  Result<JobRecord> startSessionForTest(zmq::socket_t& socket, const SessionRequest& request);

 private:
  // IngestTransport::Handler
  void onMessage(const std::string& routing_id, const std::string& user_id,
                 const v2::Envelope& env) override;
  Status beforeAcks() override { return intake_.sync(); }
  void housekeeping() override;
  // NodeMessenger
  void toNode(const std::string& node_id, const v2::Envelope& env) override;

  void onHello(const std::string& routing_id, const std::string& user_id, const v2::Hello& hello);
  Result<JobRecord> openSession(const SessionRequest& request);

  IngestConfig config_;
  const Clock& clock_;
  NodeRegistry registry_;
  SessionIntake intake_;
  IngestTransport transport_;  // last: its thread uses the parts above
};

}  // namespace booth
