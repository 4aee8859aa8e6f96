#include "trainer_node/jobs/job_record.h"

#include <algorithm>
#include <tuple>

namespace booth {

const CameraFrames* primaryCamera(const JobRecord& job) {
  const CameraFrames* best = nullptr;
  for (const CameraFrames& c : job.cameras) {
    if (c.frames <= 0) continue;  // unplugged at the start: passed over
    if (!best || std::tie(c.node, c.camera) < std::tie(best->node, best->camera)) best = &c;
  }
  return best;
}

}  // namespace booth
