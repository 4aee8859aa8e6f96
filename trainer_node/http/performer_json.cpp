#include "trainer_node/http/performer_json.h"

namespace booth {
namespace {

nlohmann::json boxJson(const NormalisedBox& b) {
  return {{"x", b.x}, {"y", b.y}, {"width", b.width}, {"height", b.height}};
}

}  // namespace

nlohmann::json performerJson(const CameraPerformer& performer) {
  nlohmann::json out = {{"seen", performer.seen}, {"sequence", performer.sequence}};
  if (performer.seen) out["box"] = boxJson(performer.box);
  if (performer.zone.width > 0 && performer.zone.height > 0) out["zone"] = boxJson(performer.zone);
  return out;
}

}  // namespace booth
