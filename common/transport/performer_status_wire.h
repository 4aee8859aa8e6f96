#pragma once
// PerformerStatus <-> booth.v2.PerformerStatus. What arrives is hostile:
// every box must be finite and inside the frame (each value in [0, 1], the
// box not past the frame's edge), camera ids short and unique, and the
// cameras few; anything else is refused whole, naming the offending value.
#include <vector>

#include "booth.pb.h"
#include "common/core/performer_status.h"
#include "common/core/result.h"

namespace booth {

inline constexpr int kMaxPerformerCameras = 16;

void performerStatusToProto(const std::vector<CameraPerformer>& cameras, v2::PerformerStatus* out);
Result<std::vector<CameraPerformer>> performerStatusFromProto(const v2::PerformerStatus& in);

}  // namespace booth
