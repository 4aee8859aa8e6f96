// The built-in synthetic corpus of the base model.
#include "trainer_node/pretrain/synthetic_corpus.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <set>
#include <tuple>

namespace booth {
namespace {

SyntheticCorpusOptions small() {
  SyntheticCorpusOptions o;
  o.performers = {"ben"};
  o.random_performers = 1;
  o.choreographies = {"robot"};
  o.clips_per_pair = 2;
  o.clip_seconds = 0.2;  // 6 frames
  o.frame = cv::Size(160, 120);
  return o;
}

TEST(SyntheticCorpus, OneClipPerPerformerChoreographyAndSeed) {
  auto corpus = buildSyntheticCorpus(small(), 32);
  ASSERT_TRUE(corpus.ok()) << corpus.error();
  ASSERT_EQ(corpus->size(), 4u);  // 2 performers x 1 choreography x 2 clips
  for (const auto& clip : corpus.value()) {
    EXPECT_EQ(clip.frames.size(), 6u);
    EXPECT_EQ(clip.heldOutCount(), 0u);
    EXPECT_EQ(clip.frames[0].size(), cv::Size(32, 32));
  }
}

TEST(SyntheticCorpus, IsDeterministic) {
  auto a = buildSyntheticCorpus(small(), 32);
  auto b = buildSyntheticCorpus(small(), 32);
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::size_t c = 0; c < a->size(); ++c)
    EXPECT_EQ(cv::norm((*a)[c].frames[3], (*b)[c].frames[3], cv::NORM_INF), 0);
}

TEST(SyntheticCorpus, RandomPerformersDifferFromEachOther) {
  const auto looks = randomPerformers(3, 5);
  ASSERT_EQ(looks.size(), 3u);
  EXPECT_NE(looks[0].shirt, looks[1].shirt);
  EXPECT_NE(looks[0].body.height_px, looks[1].body.height_px);
  EXPECT_EQ(looks[2].name, "random-5-2");
  EXPECT_EQ(randomPerformers(3, 5)[1].shirt, looks[1].shirt);  // same seed, same looks
}

TEST(SyntheticCorpus, RejectsUnknownNames) {
  SyntheticCorpusOptions o = small();
  o.choreographies = {"tango"};
  auto corpus = buildSyntheticCorpus(o, 32);
  ASSERT_FALSE(corpus.ok());
  EXPECT_NE(corpus.error().find("'tango'"), std::string::npos) << corpus.error();
}

TEST(SyntheticCorpus, SessionLooksLikeAStoredOne) {
  const auto frames = syntheticSession(*findPerformer("ada"), *findChoreography("warmup"), 1, 0.5,
                                       30, cv::Size(160, 120), 90);
  ASSERT_EQ(frames.size(), 15u);
  EXPECT_EQ(frames[3].sequence, 3u);
  EXPECT_EQ(frames[3].width, 160);
  ASSERT_TRUE(frames[3].pose);
  EXPECT_EQ(frames[3].encoding, FrameEncoding::kJpeg);
  EXPECT_FALSE(frames[3].data.empty());
}

TEST(SyntheticCorpus, DifferentSeedsVaryEveryAttributeOfTheLook) {
  std::set<Sleeves> sleeves;
  std::set<Pattern> patterns;
  std::set<LegWear> legs;
  std::set<HairStyle> hair;
  std::set<std::tuple<double, double, double>> skins, hair_colours, shirts, trousers;
  std::set<float> shoulders, limbs, heights;
  double darkest = 255, lightest = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const PerformerLook look = randomPerformers(1, seed)[0];
    sleeves.insert(look.outfit.sleeves);
    patterns.insert(look.outfit.pattern);
    legs.insert(look.outfit.legs);
    hair.insert(look.outfit.hair);
    skins.insert({look.skin[0], look.skin[1], look.skin[2]});
    hair_colours.insert({look.hair[0], look.hair[1], look.hair[2]});
    shirts.insert({look.shirt[0], look.shirt[1], look.shirt[2]});
    trousers.insert({look.trousers[0], look.trousers[1], look.trousers[2]});
    shoulders.insert(look.body.shoulder_width);
    limbs.insert(look.body.limb_width);
    heights.insert(look.body.height_px);
    darkest = std::min(darkest, look.skin[2]);
    lightest = std::max(lightest, look.skin[2]);
  }
  EXPECT_EQ(sleeves.size(), 3u) << "short, long, none";
  EXPECT_EQ(patterns.size(), 4u) << "plain, stripes, checks, dots";
  EXPECT_EQ(legs.size(), 3u) << "trousers, shorts, skirt";
  EXPECT_EQ(hair.size(), 4u) << "short, long, shaved, bun";
  EXPECT_GE(hair_colours.size(), 4u);
  EXPECT_EQ(skins.size(), 40u);
  EXPECT_GT(lightest - darkest, 100) << "skin from dark to light";
  EXPECT_EQ(shirts.size(), 40u);
  EXPECT_EQ(trousers.size(), 40u);
  EXPECT_EQ(shoulders.size(), 40u);
  EXPECT_EQ(limbs.size(), 40u);
  EXPECT_EQ(heights.size(), 40u);
}

TEST(SyntheticCorpus, DifferentSeedsVaryEveryAttributeOfTheScene) {
  const cv::Size frame(640, 480);
  std::set<double> distance, gain, side, tint;
  std::set<float> floor_y, centre_x, horizon;
  std::set<std::tuple<double, double, double>> walls, floors;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const SceneLook s = randomScene(seed, frame);
    EXPECT_EQ(s.stage.frame, frame);
    distance.insert(s.distance_scale);
    floor_y.insert(s.stage.floor_y);
    centre_x.insert(s.stage.centre_x);
    horizon.insert(s.backdrop.horizon);
    walls.insert({s.backdrop.wall[0], s.backdrop.wall[1], s.backdrop.wall[2]});
    floors.insert({s.backdrop.floor[0], s.backdrop.floor[1], s.backdrop.floor[2]});
    gain.insert(s.backdrop.light_gain);
    side.insert(s.backdrop.light_side);
    tint.insert(s.backdrop.light_tint[0]);
    EXPECT_GT(s.stage.floor_y, s.backdrop.horizon) << "the feet stand on the floor";
  }
  for (const auto* n : {&distance, &gain, &side, &tint}) EXPECT_EQ(n->size(), 20u);
  for (const auto* n : {&floor_y, &centre_x, &horizon}) EXPECT_EQ(n->size(), 20u);
  EXPECT_EQ(walls.size(), 20u);
  EXPECT_EQ(floors.size(), 20u);
  const SceneLook again = randomScene(7, frame);
  EXPECT_EQ(again.distance_scale, randomScene(7, frame).distance_scale) << "deterministic";
  EXPECT_EQ(again.backdrop.wall, randomScene(7, frame).backdrop.wall);
}

TEST(SyntheticCorpus, LaterClipsOfAPairAreFilmedInOtherScenes) {
  SyntheticCorpusOptions varied = small();
  varied.performers = {"ada"};
  varied.random_performers = 0;
  SyntheticCorpusOptions booth = varied;
  booth.vary_scenes = false;
  auto a = buildSyntheticCorpus(varied, 32);
  auto b = buildSyntheticCorpus(booth, 32);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ(cv::norm((*a)[0].frames[3], (*b)[0].frames[3], cv::NORM_INF), 0)
      << "the first clip of a pair is the booth's own scene";
  EXPECT_GT(cv::norm((*a)[1].frames[3], (*b)[1].frames[3], cv::NORM_L1), 0)
      << "the second is filmed elsewhere";
}

TEST(SyntheticCorpus, RandomLooksInRandomScenesStayInTheFrame) {
  const cv::Size frame(640, 480);
  const auto looks = randomPerformers(20, 3);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const SceneLook scene = randomScene(seed, frame);
    PerformerLook look = looks[seed - 1];
    look.body.height_px = static_cast<float>(look.body.height_px * scene.distance_scale);
    for (const char* name : {"warmup", "disco", "robot", "wave"}) {
      const Choreography dance(*findChoreography(name), look.body, scene.stage, seed);
      for (double t = 0; t < 6; t += 0.2) {
        const Pose pose = dance.poseAt(t);
        for (const Keypoint& k : pose.points) {
          EXPECT_TRUE(k.x >= 0 && k.x < frame.width && k.y >= 0 && k.y < frame.height)
              << "seed " << seed << " " << name << " t " << t << ": (" << k.x << ", " << k.y << ")";
        }
      }
    }
    // For eyeballing: BOOTH_TEST_IMAGE_DIR=/tmp/x writes one frame per scene.
    if (const char* dir = std::getenv("BOOTH_TEST_IMAGE_DIR")) {
      const Choreography dance(*findChoreography("disco"), look.body, scene.stage, seed);
      cv::imwrite(std::string(dir) + "/scene_" + std::to_string(seed) + ".png",
                  renderPerformer(look, dance.poseAt(1.3), frame, scene.backdrop));
    }
  }
}

}  // namespace
}  // namespace booth
