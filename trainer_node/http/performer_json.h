#pragma once
// A camera's performer (CameraStatus::performer) as the operator page's
// JSON: {"seen": bool, "sequence": n, "box": {x, y, width, height} (when
// seen), "zone": {...} (when set)}, fractions of the frame.
#include <nlohmann/json.hpp>

#include "common/core/performer_status.h"

namespace booth {

nlohmann::json performerJson(const CameraPerformer& performer);

}  // namespace booth
