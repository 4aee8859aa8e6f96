#pragma once
// A session of the synthetic performer `ada` dancing `warmup`, stored as
// the ingest stores one (JPEG frames at 160x120, ground-truth poses), for
// tests of what reads sessions back (the job runner, pretrain --sessions).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/store/session_store.h"

namespace booth::test {

inline void storeSyntheticSession(SessionStore& store, const std::string& session, int frames,
                                  const std::string& node = "node",
                                  const std::string& camera = "cam0") {
  const PerformerLook& look = *findPerformer("ada");
  const cv::Size size(160, 120);
  PerformerLook small = look;
  small.body.height_px = look.body.height_px * size.height / 480.f;
  Choreography dance(*findChoreography("warmup"), small.body, Stage{size}, 3);
  for (int i = 0; i < frames; ++i) {
    const Pose pose = dance.poseAt(i / 15.0);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", renderPerformer(small, pose, size), jpeg);
    const std::string bytes(jpeg.begin(), jpeg.end());
    FrameToAppend frame;
    frame.sequence = static_cast<std::uint64_t>(i);
    frame.capture_time_us = i * 66667;
    frame.width = size.width;
    frame.height = size.height;
    frame.data = bytes;
    ASSERT_TRUE(store.writeFrame(session, node, camera, frame).ok());
    PoseRecord record;
    record.camera_id = camera;
    record.sequence = frame.sequence;
    record.origin = PoseOrigin::kGroundTruth;
    record.performer = pose;
    ASSERT_TRUE(store.writePose(session, node, record).ok());
  }
  ASSERT_TRUE(store.sync().ok());
  store.close(session);
}

}  // namespace booth::test
