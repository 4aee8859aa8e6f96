#include "common/transport/performer_status_wire.h"

#include <cmath>
#include <set>
#include <string>

namespace booth {
namespace {

constexpr std::size_t kMaxCameraIdBytes = 64;
constexpr float kSlack = 1e-4f;  // rounding at the frame's edge

void rectToProto(const NormalisedBox& b, v2::NormalisedRect* out) {
  out->set_x(b.x);
  out->set_y(b.y);
  out->set_width(b.width);
  out->set_height(b.height);
}

std::string text(const v2::NormalisedRect& r) {
  return std::to_string(r.x()) + "," + std::to_string(r.y()) + " " + std::to_string(r.width()) +
         "x" + std::to_string(r.height());
}

Result<NormalisedBox> rectFromProto(const v2::NormalisedRect& r, const char* what) {
  const float v[4] = {r.x(), r.y(), r.width(), r.height()};
  for (float f : v) {
    if (!std::isfinite(f) || f < 0.f || f > 1.f) {
      return fail(std::string(what) + " " + text(r) + " is not within the frame (each value 0..1)");
    }
  }
  if (r.x() + r.width() > 1.f + kSlack || r.y() + r.height() > 1.f + kSlack) {
    return fail(std::string(what) + " " + text(r) + " reaches past the frame's edge");
  }
  return NormalisedBox{r.x(), r.y(), r.width(), r.height()};
}

}  // namespace

void performerStatusToProto(const std::vector<CameraPerformer>& cameras, v2::PerformerStatus* out) {
  out->Clear();
  for (const CameraPerformer& c : cameras) {
    v2::CameraPerformer* p = out->add_cameras();
    p->set_camera_id(c.camera_id);
    p->set_sequence(c.sequence);
    p->set_seen(c.seen);
    if (c.seen) rectToProto(c.box, p->mutable_box());
    if (c.zone.width > 0 && c.zone.height > 0) rectToProto(c.zone, p->mutable_zone());
  }
}

Result<std::vector<CameraPerformer>> performerStatusFromProto(const v2::PerformerStatus& in) {
  if (in.cameras_size() > kMaxPerformerCameras) {
    return fail("performer status lists " + std::to_string(in.cameras_size()) +
                " cameras, at most " + std::to_string(kMaxPerformerCameras) + " are accepted");
  }
  std::vector<CameraPerformer> out;
  std::set<std::string> ids;
  for (const v2::CameraPerformer& p : in.cameras()) {
    if (p.camera_id().empty() || p.camera_id().size() > kMaxCameraIdBytes) {
      return fail("performer status: a camera id of " + std::to_string(p.camera_id().size()) +
                  " bytes (1.." + std::to_string(kMaxCameraIdBytes) + ")");
    }
    if (!ids.insert(p.camera_id()).second) {
      return fail("performer status lists camera '" + p.camera_id() + "' twice");
    }
    CameraPerformer c;
    c.camera_id = p.camera_id();
    c.sequence = p.sequence();
    c.seen = p.seen();
    if (c.seen) {
      if (!p.has_box()) return fail("performer status: camera '" + c.camera_id + "' is seen without a box");
      auto box = rectFromProto(p.box(), "performer box");
      if (!box) return fail("camera '" + c.camera_id + "': " + box.error());
      c.box = *box;
    }
    if (p.has_zone()) {
      auto zone = rectFromProto(p.zone(), "performance zone");
      if (!zone) return fail("camera '" + c.camera_id + "': " + zone.error());
      c.zone = *zone;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace booth
