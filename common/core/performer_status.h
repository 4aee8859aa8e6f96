#pragma once
// PerformerStatus: where the performer is in each camera, as the capture
// node's tracker last saw them, for the operator page's countdown (so that
// a wrong pick is seen while the visitor still dances). A domain type: the
// wire form (booth.v2.PerformerStatus) is converted at the transport edge
// (common/transport/wire.h).
#include <cstdint>
#include <string>
#include <vector>

namespace booth {

// A rectangle as fractions of the frame (0..1 across and down).
struct NormalisedBox {
  float x = 0;
  float y = 0;
  float width = 0;
  float height = 0;
  bool operator==(const NormalisedBox&) const = default;
};

struct CameraPerformer {
  std::string camera_id;
  std::uint64_t sequence = 0;  // the frame it was seen in (the latest posed one)
  bool seen = false;           // false: no performer in that frame (not chosen yet, out of view, hidden)
  NormalisedBox box;           // the performer's keypoints' box; meaningful when `seen`
  NormalisedBox zone;          // the camera's performance zone (the floor mark); empty: none
  bool operator==(const CameraPerformer&) const = default;
};

}  // namespace booth
