#pragma once
// Turns parsed options into the node's parts: its frame sources (probed
// once, so a missing camera or file fails at start-up with a clear error,
// not at the first session) and its pose stage.
#include <memory>
#include <vector>

#include "capture_node/capture_options.h"
#include "capture_node/pose/movenet_estimator.h"
#include "capture_node/pose/pose_estimator.h"
#include "capture_node/source/frame_source.h"

namespace booth {

struct NodeParts {
  std::vector<std::unique_ptr<FrameSource>> sources;
  std::vector<std::unique_ptr<PoseEstimator>> estimators;  // one per pose worker
  std::vector<std::unique_ptr<MoveNetEstimator>> crop;     // top-down: one per pose worker
};

Result<NodeParts> buildNodeParts(const CaptureOptions& options);

}  // namespace booth
