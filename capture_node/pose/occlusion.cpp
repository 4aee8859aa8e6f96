#include "capture_node/pose/occlusion.h"

#include <algorithm>

namespace booth {
namespace {

bool behindOf(const TrackPrediction& other, const TrackPrediction& performer, float tolerance) {
  if (!other.feet || !performer.feet) return false;
  return other.feet->y < performer.feet->y - tolerance * performer.box.height;
}

}  // namespace

OcclusionAssessment assessOcclusion(const std::vector<TrackPrediction>& tracks, int lookahead,
                                    int stale_frames, const OcclusionConfig& config,
                                    int occluder) {
  OcclusionAssessment out;
  const auto performer = std::find_if(tracks.begin(), tracks.end(),
                                      [](const TrackPrediction& t) { return t.performer; });
  if (performer == tracks.end() || performer->box.area() <= 0) return out;
  for (const TrackPrediction& other : tracks) {
    // Only someone who came from elsewhere and was seen more than once: a
    // fragment of the performer's own body is not someone in front.
    if (other.performer || !other.arrived || other.lost > stale_frames || other.extent.area() <= 0) {
      continue;
    }
    // Near: the other's box, widened by near_margin of its width on each
    // side, meets the performer's now or within the lookahead.
    for (int k = 0; k <= std::max(0, lookahead) && !out.near; ++k) {
      const cv::Point2f step = other.velocity * static_cast<float>(k);
      const cv::Point2f mine = performer->velocity * static_cast<float>(k);
      cv::Rect2f widened = other.extent + step;
      widened.x -= config.near_margin * other.extent.width;
      widened.width += 2 * config.near_margin * other.extent.width;
      if ((widened & (performer->box + mine)).area() > 0) out.near = true;
    }
    // Covering: most of the other's box lies on the performer's, and its
    // centre is on the performer's middle (the finder often sees only a
    // slice of someone passing in front: a leg and the trunk).
    // Across the image: how much of the narrower of the two the other's
    // extent overlaps, left to right (their heights are a partial
    // detection's, their vertical motion mostly noise); they must overlap
    // vertically at all.
    const cv::Rect2f& p = performer->box;
    const cv::Rect2f& o = other.extent;
    const float across = std::min(o.br().x, p.br().x) - std::max(o.x, p.x);
    const bool vertical = std::min(o.br().y, p.br().y) > std::max(o.y, p.y);
    const float cover = vertical && across > 0 ? across / std::max(1.f, std::min(o.width, p.width)) : 0.f;
    const float cx = other.extent.x + other.extent.width / 2;
    const float inset = other.id == occluder ? 0.f : config.centre_inset * performer->box.width;
    const bool on_middle = cx >= performer->box.x + inset && cx <= performer->box.br().x - inset;
    if (other.sightings >= 2 && on_middle && cover >= config.cover && cover > out.cover &&
        !behindOf(other, *performer, config.behind)) {
      out.cover = cover;
      out.occluder = other.id;
    }
  }
  if (out.occluder >= 0) out.near = true;
  return out;
}

}  // namespace booth
