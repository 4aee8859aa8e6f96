#pragma once
// The performer's box per camera, as a capture node reports it
// (PerformerStatus), kept with that camera's status for the operator
// page's countdown.
#include <vector>

#include "booth.pb.h"
#include "common/core/result.h"
#include "trainer_node/ingest/node_registry.h"

namespace booth {

// Sets each listed camera's performer (cameras the node did not list lose
// theirs: a new session cleared them); ids the node has no camera of are
// passed over. Error (nothing applied): the message is malformed or out of
// range (common/transport/performer_status_wire.h), naming the value.
Status applyPerformerStatus(const v2::PerformerStatus& status, std::vector<CameraStatus>& cameras);

// A Hello rebuilds a node's camera list: each camera keeps the performer
// it had in `before`.
void keepPerformers(const std::vector<CameraStatus>& before, std::vector<CameraStatus>& after);

}  // namespace booth
