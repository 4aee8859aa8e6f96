// /metrics text: every figure the booth promises, with its labels.
#include <gtest/gtest.h>

#include "trainer_node/metrics/booth_metrics.h"

namespace booth {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(BoothMetrics, WritesEveryFigureInPrometheusTextFormat) {
  BoothMetrics metrics;
  metrics.addClipBytes(1000);
  metrics.addClipBytes(234);
  metrics.countRequest(200);
  metrics.countRequest(200);
  metrics.countRequest(404);

  MetricsSnapshot s;
  s.jobs_by_state = {{JobState::kQueued, 2}, {JobState::kDone, 5}, {JobState::kTraining, 1}};
  s.training_iterations_per_second = 2.5;
  s.ingest.frames_received = 450;
  s.ingest.frames_rejected = 3;
  NodeInfo n;
  n.node_id = "booth-1";
  CameraStatus c;
  c.camera_id = "cam0";
  c.fps = 30;
  c.measured_fps = 29.5;
  c.frames = 900;
  c.dropped = 4;
  c.error_frames = 1;
  n.cameras.push_back(c);
  s.nodes.push_back(n);
  s.event_streams = 1;
  s.downloads_active = 3;

  const std::string text = metrics.render(s);
  EXPECT_TRUE(has(text, "# TYPE booth_queue_length gauge")) << text;
  EXPECT_TRUE(has(text, "booth_queue_length 2")) << text;
  EXPECT_TRUE(has(text, "booth_jobs{state=\"done\"} 5")) << text;
  EXPECT_TRUE(has(text, "booth_jobs{state=\"failed\"} 0")) << text;
  EXPECT_TRUE(has(text, "booth_jobs{state=\"cancelled\"} 0")) << text;  // every state listed
  EXPECT_TRUE(has(text, "booth_training_iterations_per_second 2.5")) << text;
  EXPECT_TRUE(has(text, "# TYPE booth_frames_received_total counter")) << text;
  EXPECT_TRUE(has(text, "booth_frames_received_total 450")) << text;
  EXPECT_TRUE(has(text, "booth_frames_rejected_total 3")) << text;
  EXPECT_TRUE(has(text, "booth_capture_nodes_connected 1")) << text;
  EXPECT_TRUE(has(text, "booth_camera_fps{node=\"booth-1\",camera=\"cam0\"} 29.5")) << text;
  EXPECT_TRUE(has(text, "booth_camera_frames_dropped_total{node=\"booth-1\",camera=\"cam0\"} 4"))
      << text;
  EXPECT_TRUE(has(text, "booth_clip_bytes_served_total 1234")) << text;
  EXPECT_TRUE(has(text, "booth_http_requests_total{code=\"200\"} 2")) << text;
  EXPECT_TRUE(has(text, "booth_clip_downloads_active 3")) << text;
}

TEST(BoothMetrics, LabelValuesAreEscaped) {
  BoothMetrics metrics;
  MetricsSnapshot s;
  NodeInfo n;
  n.node_id = "odd\"node\nname";
  n.cameras.push_back(CameraStatus{});
  s.nodes.push_back(n);
  const std::string text = metrics.render(s);
  EXPECT_NE(text.find("node=\"odd\\\"node\\nname\""), std::string::npos) << text;
}

}  // namespace
}  // namespace booth
