#pragma once
// BoothMetrics: the trainer's figures for Prometheus (GET /metrics, text
// format 0.0.4), written with prometheus-cpp (Debian's prometheus-cpp-dev,
// core library only; the HTTP server is the trainer's own).
//
// Two kinds of figures: counters the HTTP server keeps itself (clip bytes
// served, requests by status code) live in a prometheus::Registry; figures
// owned by other components (jobs in the store, ingest counters, capture
// nodes' cameras) are read at scrape time into a MetricsSnapshot and
// written as they are, so they can never drift from their source.
//
// Threading: every method may be called from any thread.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "trainer_node/ingest/ingest_stats.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/store/job_store.h"

namespace prometheus {
class Counter;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace booth {

struct MetricsSnapshot {
  std::map<JobState, int> jobs_by_state;
  // Of the job training now, each phase's own rate; 0 when none (or before
  // that phase ran).
  double training_generator_steps_per_second = 0;
  double training_face_steps_per_second = 0;
  IngestStats ingest;
  std::vector<NodeInfo> nodes;
  std::size_t event_streams = 0;     // open operator event streams
  std::size_t downloads_active = 0;  // clip downloads being served
  std::uint64_t http_connections_refused = 0;  // 503 at a connection limit
  std::uint64_t http_connections_cut_off = 0;  // waiting ones closed to make room
};

class BoothMetrics {
 public:
  BoothMetrics();
  ~BoothMetrics();
  BoothMetrics(const BoothMetrics&) = delete;
  BoothMetrics& operator=(const BoothMetrics&) = delete;

  void addClipBytes(std::uint64_t bytes);
  void countRequest(int status);
  // The text exposition of everything.
  std::string render(const MetricsSnapshot& snapshot) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* clip_bytes_;                    // owned by registry_
  prometheus::Family<prometheus::Counter>* requests_;  // owned by registry_
};

}  // namespace booth
