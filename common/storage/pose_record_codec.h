#pragma once
// The on-disk form of a PoseRecord, shared by the capture node's spool and
// the trainer's session store: a small versioned binary layout, independent
// of the wire contract, so stored poses survive protocol changes.
#include <string>
#include <string_view>

#include "common/core/pose_record.h"
#include "common/core/result.h"

namespace booth {

std::string encodePoseRecord(const PoseRecord& record);
// Fails on anything but a whole record of the current layout.
Result<PoseRecord> decodePoseRecord(std::string_view bytes);

}  // namespace booth
