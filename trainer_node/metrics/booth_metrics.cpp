#include "trainer_node/metrics/booth_metrics.h"

#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace booth {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

}  // namespace

BoothMetrics::BoothMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  clip_bytes_ = &prometheus::BuildCounter()
                     .Name("booth_clip_bytes_served_total")
                     .Help("Bytes of clips sent to visitors")
                     .Register(*registry_)
                     .Add({});
  requests_ = &prometheus::BuildCounter()
                   .Name("booth_http_requests_total")
                   .Help("HTTP requests answered, by status code")
                   .Register(*registry_);
}

BoothMetrics::~BoothMetrics() = default;

void BoothMetrics::addClipBytes(std::uint64_t bytes) {
  clip_bytes_->Increment(static_cast<double>(bytes));
}

void BoothMetrics::countRequest(int status) {
  requests_->Add({{"code", std::to_string(status)}}).Increment();
}

std::string BoothMetrics::render(const MetricsSnapshot& s) const {
  std::vector<MetricFamily> out = registry_->Collect();

  auto queue = family("booth_queue_length", "Jobs waiting for the trainer (state queued)",
                      MetricType::Gauge);
  const auto queued = s.jobs_by_state.find(JobState::kQueued);
  add(queue, queued == s.jobs_by_state.end() ? 0 : queued->second);
  out.push_back(std::move(queue));

  auto jobs = family("booth_jobs", "Jobs in the job store, by state", MetricType::Gauge);
  for (JobState state : allJobStates()) {
    const auto it = s.jobs_by_state.find(state);
    add(jobs, it == s.jobs_by_state.end() ? 0 : it->second, {{"state", jobStateName(state)}});
  }
  out.push_back(std::move(jobs));

  auto ips = family("booth_training_iterations_per_second",
                    "Training speed of the job being trained (0 when none)", MetricType::Gauge);
  add(ips, s.training_iterations_per_second);
  out.push_back(std::move(ips));

  auto received =
      family("booth_frames_received_total",
             "Frame records stored by the ingest (resends not counted)", MetricType::Counter);
  add(received, static_cast<double>(s.ingest.frames_received));
  out.push_back(std::move(received));
  auto rejected = family("booth_frames_rejected_total", "Frame records refused by the ingest",
                         MetricType::Counter);
  add(rejected, static_cast<double>(s.ingest.frames_rejected));
  out.push_back(std::move(rejected));

  auto nodes = family("booth_capture_nodes_connected", "Capture nodes connected to the trainer",
                      MetricType::Gauge);
  add(nodes, static_cast<double>(s.nodes.size()));
  out.push_back(std::move(nodes));

  auto fps = family("booth_camera_fps", "Frames per second a camera delivered recently",
                    MetricType::Gauge);
  auto nominal =
      family("booth_camera_nominal_fps", "Frame rate granted by the camera", MetricType::Gauge);
  auto frames =
      family("booth_camera_frames_total",
             "Frames a camera delivered since its capture node started", MetricType::Counter);
  auto dropped =
      family("booth_camera_frames_dropped_total",
             "Frames the driver or the capture node dropped since it started", MetricType::Counter);
  auto errors =
      family("booth_camera_error_frames_total",
             "Corrupt camera buffers skipped since the capture node started", MetricType::Counter);
  for (const NodeInfo& n : s.nodes) {
    for (const CameraStatus& c : n.cameras) {
      std::vector<ClientMetric::Label> labels = {{"node", n.node_id}, {"camera", c.camera_id}};
      add(fps, c.measured_fps, labels);
      add(nominal, c.fps, labels);
      add(frames, static_cast<double>(c.frames), labels);
      add(dropped, static_cast<double>(c.dropped), labels);
      add(errors, static_cast<double>(c.error_frames), labels);
    }
  }
  for (auto* f : {&fps, &nominal, &frames, &dropped, &errors}) out.push_back(std::move(*f));

  auto streams =
      family("booth_event_streams", "Operator pages following live events", MetricType::Gauge);
  add(streams, static_cast<double>(s.event_streams));
  out.push_back(std::move(streams));
  auto downloads =
      family("booth_clip_downloads_active", "Clip downloads being served", MetricType::Gauge);
  add(downloads, static_cast<double>(s.downloads_active));
  out.push_back(std::move(downloads));

  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, out);
  return text.str();
}

}  // namespace booth
