#include "trainer_node/ingest/performer_status_intake.h"

#include "common/transport/performer_status_wire.h"

namespace booth {

Status applyPerformerStatus(const v2::PerformerStatus& status, std::vector<CameraStatus>& cameras) {
  auto decoded = performerStatusFromProto(status);
  if (!decoded) return fail(decoded.error());
  for (CameraStatus& c : cameras) {
    c.performer.reset();
    for (const CameraPerformer& p : *decoded) {
      if (p.camera_id == c.camera_id) c.performer = p;
    }
  }
  return okStatus();
}

void keepPerformers(const std::vector<CameraStatus>& before, std::vector<CameraStatus>& after) {
  for (CameraStatus& c : after) {
    for (const CameraStatus& b : before) {
      if (b.camera_id == c.camera_id) c.performer = b.performer;
    }
  }
}

}  // namespace booth
