#include "common/synthetic/synthetic_performer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "common/synthetic/choreography.h"

namespace booth {
namespace {

const cv::Size kFrame{640, 480};

double distance(const Keypoint& a, const Keypoint& b) { return std::hypot(a.x - b.x, a.y - b.y); }

cv::Point2f point(const Keypoint& k) { return {k.x, k.y}; }

cv::Vec3b bgr(const cv::Scalar& s) {
  return {static_cast<uchar>(s[0]), static_cast<uchar>(s[1]), static_cast<uchar>(s[2])};
}

// Max per-channel difference between two colours.
int colourDistance(cv::Vec3b a, cv::Vec3b b) {
  int d = 0;
  for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(int{a[c]} - int{b[c]}));
  return d;
}

// Standing with arms straight out to the sides, feet at (centre_x, floor_y),
// laid out like Choreography's poses (face points around the head centre).
Pose tPose(const BodyProportions& b, float centre_x, float floor_y, float scale = 1.f) {
  const float h = b.height_px * scale;
  Pose pose;
  auto set = [&](Coco17 j, float x, float y) { pose[j] = {x, y, 1.f, false}; };
  const float hip_y = floor_y - (b.thigh + b.shin) * h;
  const float shoulder_y = hip_y - b.torso * h;
  const float head_y = shoulder_y - b.neck * h;
  const float r = b.head_radius * h;
  const float hip = b.hip_width * h / 2;
  const float shoulder = b.shoulder_width * h / 2;
  set(Coco17::kLeftAnkle, centre_x + hip, floor_y);
  set(Coco17::kRightAnkle, centre_x - hip, floor_y);
  set(Coco17::kLeftKnee, centre_x + hip, floor_y - b.shin * h);
  set(Coco17::kRightKnee, centre_x - hip, floor_y - b.shin * h);
  set(Coco17::kLeftHip, centre_x + hip, hip_y);
  set(Coco17::kRightHip, centre_x - hip, hip_y);
  set(Coco17::kLeftShoulder, centre_x + shoulder, shoulder_y);
  set(Coco17::kRightShoulder, centre_x - shoulder, shoulder_y);
  set(Coco17::kLeftElbow, centre_x + shoulder + b.upper_arm * h, shoulder_y);
  set(Coco17::kRightElbow, centre_x - shoulder - b.upper_arm * h, shoulder_y);
  set(Coco17::kLeftWrist, centre_x + shoulder + (b.upper_arm + b.forearm) * h, shoulder_y);
  set(Coco17::kRightWrist, centre_x - shoulder - (b.upper_arm + b.forearm) * h, shoulder_y);
  set(Coco17::kNose, centre_x, head_y + 0.2f * r);
  set(Coco17::kLeftEye, centre_x + 0.39f * r, head_y - 0.1f * r);
  set(Coco17::kRightEye, centre_x - 0.39f * r, head_y - 0.1f * r);
  set(Coco17::kLeftEar, centre_x + r, head_y);
  set(Coco17::kRightEar, centre_x - r, head_y);
  return pose;
}

Pose tPoseOf(const PerformerLook& look, float scale = 1.f) {
  return tPose(look.body, kFrame.width / 2.f, 0.93f * kFrame.height, scale);
}

// Writes the image under $BOOTH_TEST_IMAGE_DIR when set, for eyeballing.
void maybeWrite(const std::string& name, const cv::Mat& image) {
  if (const char* dir = std::getenv("BOOTH_TEST_IMAGE_DIR")) {
    cv::imwrite(std::string(dir) + "/" + name + ".png", image);
  }
}

TEST(SyntheticPerformerTest, BuiltinPerformersAreFoundByName) {
  for (const char* name : {"ada", "ben", "cleo", "dev"}) {
    const PerformerLook* look = findPerformer(name);
    ASSERT_NE(look, nullptr) << name;
    EXPECT_EQ(look->name, name);
  }
  EXPECT_EQ(findPerformer("nobody"), nullptr);
}

TEST(SyntheticPerformerTest, BuiltinPerformersWearDistinctClothes) {
  const auto looks = builtinPerformers();
  ASSERT_GE(looks.size(), 4u);
  for (std::size_t i = 0; i < looks.size(); ++i) {
    for (std::size_t j = i + 1; j < looks.size(); ++j) {
      EXPECT_GT(colourDistance(bgr(looks[i].shirt), bgr(looks[j].shirt)), 40)
          << looks[i].name << " " << looks[j].name;
      EXPECT_GT(colourDistance(bgr(looks[i].trousers), bgr(looks[j].trousers)), 40)
          << looks[i].name << " " << looks[j].name;
    }
  }
}

TEST(SyntheticPerformerTest, BuiltinChoreographiesAreFoundByName) {
  for (const char* name : {"warmup", "disco", "robot", "wave"}) {
    const ChoreographySpec* spec = findChoreography(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->name, name);
  }
  EXPECT_EQ(findChoreography("salsa"), nullptr);
}

TEST(SyntheticPerformerTest, ChoreographyKeypointsStayInsideTheFrame) {
  for (const PerformerLook& look : builtinPerformers()) {
    for (const ChoreographySpec& spec : builtinChoreographies()) {
      const Choreography choreography(spec, look.body, Stage{}, 11);
      for (int step = 0; step <= 600; ++step) {
        const Pose pose = choreography.poseAt(step * 0.1);
        for (int j = 0; j < kCoco17Count; ++j) {
          const Keypoint& k = pose.points[j];
          ASSERT_EQ(k.confidence, 1.f);
          ASSERT_FALSE(k.imputed);
          ASSERT_TRUE(k.x >= 0 && k.x < kFrame.width && k.y >= 0 && k.y < kFrame.height)
              << look.name << " " << spec.name << " t=" << step * 0.1 << " " << coco17Name(j)
              << " at (" << k.x << ", " << k.y << ")";
        }
      }
    }
  }
}

TEST(SyntheticPerformerTest, ChoreographyBoneLengthsFollowTheBodyProportions) {
  struct Bone {
    Coco17 a;
    Coco17 b;
    float BodyProportions::*proportion;
  };
  const Bone bones[] = {
      {Coco17::kLeftHip, Coco17::kLeftKnee, &BodyProportions::thigh},
      {Coco17::kRightKnee, Coco17::kRightAnkle, &BodyProportions::shin},
      {Coco17::kLeftShoulder, Coco17::kLeftElbow, &BodyProportions::upper_arm},
      {Coco17::kRightElbow, Coco17::kRightWrist, &BodyProportions::forearm},
      {Coco17::kLeftShoulder, Coco17::kRightShoulder, &BodyProportions::shoulder_width},
      {Coco17::kLeftHip, Coco17::kRightHip, &BodyProportions::hip_width},
  };
  for (const PerformerLook& look : builtinPerformers()) {
    for (const ChoreographySpec& spec : builtinChoreographies()) {
      const Choreography choreography(spec, look.body, Stage{}, 5);
      for (int step = 0; step <= 300; ++step) {
        const Pose pose = choreography.poseAt(step * 0.1);
        for (const Bone& bone : bones) {
          const double expected = look.body.*bone.proportion * look.body.height_px;
          ASSERT_NEAR(distance(pose[bone.a], pose[bone.b]), expected, 1.0)
              << look.name << " " << spec.name << " t=" << step * 0.1 << " "
              << coco17Name(static_cast<int>(bone.a)) << " - "
              << coco17Name(static_cast<int>(bone.b));
        }
      }
    }
  }
}

TEST(SyntheticPerformerTest, ChoreographyKeepsTheLowerAnkleOnTheFloor) {
  const Stage stage;
  const double floor = stage.floor_y * stage.frame.height;
  for (const PerformerLook& look : builtinPerformers()) {
    for (const ChoreographySpec& spec : builtinChoreographies()) {
      const Choreography choreography(spec, look.body, stage, 2);
      for (int step = 0; step <= 300; ++step) {
        const Pose pose = choreography.poseAt(step * 0.1);
        const double lower = std::max(pose[Coco17::kLeftAnkle].y, pose[Coco17::kRightAnkle].y);
        ASSERT_NEAR(lower, floor, 1.0) << look.name << " " << spec.name << " t=" << step * 0.1;
      }
    }
  }
}

TEST(SyntheticPerformerTest, PerformersDifferInProportions) {
  const PerformerLook& ada = *findPerformer("ada");
  const PerformerLook& ben = *findPerformer("ben");
  const PerformerLook& cleo = *findPerformer("cleo");
  const ChoreographySpec& spec = *findChoreography("warmup");
  const Pose a = Choreography(spec, ada.body, Stage{}).poseAt(1.0);
  const Pose b = Choreography(spec, ben.body, Stage{}).poseAt(1.0);
  const Pose c = Choreography(spec, cleo.body, Stage{}).poseAt(1.0);
  // ben is broader in the shoulders, cleo longer in the leg (in pixels and
  // relative to the torso).
  EXPECT_GT(distance(b[Coco17::kLeftShoulder], b[Coco17::kRightShoulder]),
            distance(a[Coco17::kLeftShoulder], a[Coco17::kRightShoulder]) + 15);
  const auto legToTorso = [](const Pose& p) {
    return distance(p[Coco17::kLeftHip], p[Coco17::kLeftKnee]) /
           distance(p[Coco17::kLeftShoulder], p[Coco17::kLeftHip]);
  };
  EXPECT_GT(legToTorso(c), legToTorso(a) * 1.1);
}

TEST(SyntheticPerformerTest, ChoreographyTrajectoriesAreSmooth) {
  // At 30 fps no joint jumps: the fastest built-in move (a wrist) travels
  // about 8 px per frame for the tallest performer.
  constexpr double kMaxStepPx = 10.0;
  for (const PerformerLook& look : builtinPerformers()) {
    for (const ChoreographySpec& spec : builtinChoreographies()) {
      const Choreography choreography(spec, look.body, Stage{}, 9);
      Pose previous = choreography.poseAt(0.0);
      for (int frame = 1; frame <= 900; ++frame) {
        const Pose pose = choreography.poseAt(frame / 30.0);
        for (int j = 0; j < kCoco17Count; ++j) {
          ASSERT_LT(distance(pose.points[j], previous.points[j]), kMaxStepPx)
              << look.name << " " << spec.name << " frame " << frame << " " << coco17Name(j);
        }
        previous = pose;
      }
    }
  }
}

TEST(SyntheticPerformerTest, ChoreographyIsDeterministicForASeed) {
  const PerformerLook& look = *findPerformer("dev");
  const Choreography first(*findChoreography("robot"), look.body, Stage{}, 42);
  const Choreography second(*findChoreography("robot"), look.body, Stage{}, 42);
  for (double t : {0.0, 1.7, 12.3}) {
    const Pose a = first.poseAt(t);
    const Pose b = second.poseAt(t);
    for (int j = 0; j < kCoco17Count; ++j) {
      EXPECT_EQ(a.points[j].x, b.points[j].x);
      EXPECT_EQ(a.points[j].y, b.points[j].y);
    }
  }
}

TEST(SyntheticPerformerTest, DifferentSeedsGiveDifferentPoses) {
  const PerformerLook& look = *findPerformer("ada");
  for (const ChoreographySpec& spec : builtinChoreographies()) {
    const Pose a = Choreography(spec, look.body, Stage{}, 1).poseAt(2.0);
    const Pose b = Choreography(spec, look.body, Stage{}, 2).poseAt(2.0);
    double largest = 0.0;
    for (int j = 0; j < kCoco17Count; ++j)
      largest = std::max(largest, distance(a.points[j], b.points[j]));
    EXPECT_GT(largest, 10.0) << spec.name;
  }
}

TEST(SyntheticPerformerTest, DepthWalkScalesTheBodyAndMovesItsFloor) {
  ChoreographySpec spec = *findChoreography("warmup");
  spec.depth = 0.2f;
  const PerformerLook& look = *findPerformer("ben");
  const Choreography choreography(spec, look.body, Stage{}, 3);
  double shortest = 1e9, longest = 0.0, floor_when_short = 0.0, floor_when_long = 0.0;
  for (int step = 0; step <= 600; ++step) {
    const Pose pose = choreography.poseAt(step * 0.1);
    const double thigh = distance(pose[Coco17::kLeftHip], pose[Coco17::kLeftKnee]);
    const double shin = distance(pose[Coco17::kLeftKnee], pose[Coco17::kLeftAnkle]);
    ASSERT_NEAR(thigh / shin, look.body.thigh / look.body.shin, 0.01)
        << "proportions hold at any depth";
    const double floor = std::max(pose[Coco17::kLeftAnkle].y, pose[Coco17::kRightAnkle].y);
    if (thigh < shortest) shortest = thigh, floor_when_short = floor;
    if (thigh > longest) longest = thigh, floor_when_long = floor;
  }
  EXPECT_GT(longest / shortest, 1.3);
  EXPECT_GT(floor_when_long, floor_when_short + 10) << "closer means lower in the frame";
}

TEST(SyntheticPerformerTest, RenderShowsTheShirtAtTheTorsoCentre) {
  for (const PerformerLook& look : builtinPerformers()) {
    const Pose pose = tPoseOf(look);
    const cv::Mat image = renderPerformer(look, pose, kFrame);
    maybeWrite("tpose_" + look.name, image);
    const cv::Point2f centre =
        (point(pose[Coco17::kLeftShoulder]) + point(pose[Coco17::kRightShoulder]) +
         point(pose[Coco17::kLeftHip]) + point(pose[Coco17::kRightHip])) /
        4;
    EXPECT_LE(colourDistance(image.at<cv::Vec3b>(centre), bgr(look.shirt)), 2) << look.name;
  }
}

TEST(SyntheticPerformerTest, RenderShowsSkinAtTheHeadCentre) {
  for (const PerformerLook& look : builtinPerformers()) {
    const Pose pose = tPoseOf(look);
    const cv::Mat image = renderPerformer(look, pose, kFrame);
    const cv::Point2f head = (point(pose[Coco17::kLeftEar]) + point(pose[Coco17::kRightEar])) / 2;
    EXPECT_LE(colourDistance(image.at<cv::Vec3b>(head), bgr(look.skin)), 2) << look.name;
  }
}

TEST(SyntheticPerformerTest, RenderEqualsTheBackdropFarFromTheFigure) {
  const PerformerLook& look = *findPerformer("ben");
  const cv::Mat image = renderPerformer(look, tPoseOf(look), kFrame);
  const cv::Mat backdrop = renderPerformer(look, Pose{}, kFrame);
  const cv::Rect corners[] = {
      {0, 0, 80, 80}, {560, 0, 80, 80}, {0, 400, 80, 80}, {560, 400, 80, 80}};
  for (const cv::Rect& corner : corners) {
    EXPECT_EQ(cv::norm(image(corner), backdrop(corner), cv::NORM_INF), 0.0) << corner;
  }
  EXPECT_GT(cv::norm(image, backdrop, cv::NORM_L1), 0.0);
}

TEST(SyntheticPerformerTest, BackdropHasAWallAndAFloor) {
  const Backdrop backdrop;
  const cv::Mat image = renderPerformer(*findPerformer("ada"), Pose{}, kFrame);
  const cv::Vec3b wall =
      image.at<cv::Vec3b>(static_cast<int>(0.5 * backdrop.horizon * kFrame.height), 30);
  const cv::Vec3b floor = image.at<cv::Vec3b>(kFrame.height - 5, 30);
  EXPECT_LE(colourDistance(wall, bgr(backdrop.wall)), 15);
  EXPECT_LE(colourDistance(floor, bgr(backdrop.floor)), 20);
  EXPECT_GT(colourDistance(wall, floor), 50);
}

TEST(SyntheticPerformerTest, InvalidJointsAndTheirLimbsAreNotDrawn) {
  const PerformerLook& look = *findPerformer("cleo");
  Pose pose = tPoseOf(look);
  const cv::Point2f forearm_mid =
      (point(pose[Coco17::kLeftElbow]) + point(pose[Coco17::kLeftWrist])) / 2;
  const cv::Mat backdrop = renderPerformer(look, Pose{}, kFrame);
  const cv::Mat with_wrist = renderPerformer(look, pose, kFrame);
  pose[Coco17::kLeftWrist].confidence = 0.f;
  const cv::Mat without_wrist = renderPerformer(look, pose, kFrame);
  EXPECT_NE(with_wrist.at<cv::Vec3b>(forearm_mid), backdrop.at<cv::Vec3b>(forearm_mid));
  EXPECT_EQ(without_wrist.at<cv::Vec3b>(forearm_mid), backdrop.at<cv::Vec3b>(forearm_mid));
}

// Pixels of `colour` in the image column through `at`.
int runLength(const cv::Mat& image, cv::Point2f at, const cv::Scalar& colour) {
  const int x = static_cast<int>(at.x);
  int count = 0;
  for (int y = 0; y < image.rows; ++y) {
    if (colourDistance(image.at<cv::Vec3b>(y, x), bgr(colour)) <= 2) ++count;
  }
  return count;
}

TEST(SyntheticPerformerTest, APerformerDrawnSmallHasThinnerLimbs) {
  const PerformerLook& look = *findPerformer("ben");
  const Pose near = tPoseOf(look, 1.f);
  const Pose far = tPoseOf(look, 0.5f);
  const auto forearmMid = [](const Pose& p) {
    return (point(p[Coco17::kLeftElbow]) + point(p[Coco17::kLeftWrist])) / 2;
  };
  const int near_width =
      runLength(renderPerformer(look, near, kFrame), forearmMid(near), look.skin);
  const int far_width = runLength(renderPerformer(look, far, kFrame), forearmMid(far), look.skin);
  ASSERT_GT(near_width, 6);
  EXPECT_NEAR(static_cast<double>(far_width) / near_width, 0.5, 0.2);
}

TEST(SyntheticPerformerTest, RenderingIsDeterministic) {
  const PerformerLook& look = *findPerformer("dev");
  const Pose pose = Choreography(*findChoreography("disco"), look.body, Stage{}, 4).poseAt(3.2);
  const cv::Mat first = renderPerformer(look, pose, kFrame);
  const cv::Mat second = renderPerformer(look, pose, kFrame);
  maybeWrite("disco_dev", first);
  EXPECT_EQ(cv::norm(first, second, cv::NORM_INF), 0.0);
}

// --- what a look wears, and the light ---

cv::Point2f along(const Pose& pose, Coco17 a, Coco17 b, float t) {
  return point(pose[a]) + (point(pose[b]) - point(pose[a])) * t;
}

TEST(SyntheticPerformerTest, SleevesAreShortLongOrNone) {
  PerformerLook look = *findPerformer("ada");
  const Pose pose = tPoseOf(look);
  const cv::Point2f upper = along(pose, Coco17::kLeftShoulder, Coco17::kLeftElbow, 0.45f);
  const cv::Point2f fore = along(pose, Coco17::kLeftElbow, Coco17::kLeftWrist, 0.5f);
  cv::Mat image = renderPerformer(look, pose, kFrame);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(upper), bgr(look.shirt)), 2) << "short: upper arm";
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(fore), bgr(look.skin)), 2) << "short: forearm";
  look.outfit.sleeves = Sleeves::kLong;
  image = renderPerformer(look, pose, kFrame);
  maybeWrite("sleeves_long", image);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(fore), bgr(look.shirt)), 2) << "long: forearm";
  look.outfit.sleeves = Sleeves::kNone;
  image = renderPerformer(look, pose, kFrame);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(upper), bgr(look.skin)), 2) << "none: upper arm";
}

TEST(SyntheticPerformerTest, ShortsAndSkirtsShowTheLegsSkin) {
  PerformerLook look = *findPerformer("ben");
  const Pose pose = tPoseOf(look);
  const cv::Point2f shin = along(pose, Coco17::kLeftKnee, Coco17::kLeftAnkle, 0.5f);
  // Between the thighs, half-way down: the wall behind trousers, the skirt's cloth.
  const cv::Point2f between =
      (along(pose, Coco17::kLeftHip, Coco17::kLeftKnee, 0.5f) +
       along(pose, Coco17::kRightHip, Coco17::kRightKnee, 0.5f)) / 2;
  cv::Mat image = renderPerformer(look, pose, kFrame);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(shin), bgr(look.trousers)), 2);
  EXPECT_GT(colourDistance(image.at<cv::Vec3b>(between), bgr(look.trousers)), 30);
  look.outfit.legs = LegWear::kShorts;
  image = renderPerformer(look, pose, kFrame);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(shin), bgr(look.skin)), 2) << "shorts";
  look.outfit.legs = LegWear::kSkirt;
  image = renderPerformer(look, pose, kFrame);
  maybeWrite("skirt", image);
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(shin), bgr(look.skin)), 2) << "skirt: shin";
  EXPECT_LE(colourDistance(image.at<cv::Vec3b>(between), bgr(look.trousers)), 2) << "skirt";
}

TEST(SyntheticPerformerTest, PatternedShirtsShowTheirPattern) {
  PerformerLook look = *findPerformer("ada");
  const Pose pose = tPoseOf(look);
  const cv::Rect torso(cv::Point(cvRound(pose[Coco17::kRightShoulder].x) + 8,
                                 cvRound(pose[Coco17::kRightShoulder].y) + 8),
                       cv::Point(cvRound(pose[Coco17::kLeftHip].x) - 8,
                                 cvRound(pose[Coco17::kLeftHip].y) - 20));
  auto inked = [&](const cv::Mat& image) {
    int n = 0;
    for (int y = torso.y; y < torso.br().y; ++y)
      for (int x = torso.x; x < torso.br().x; ++x)
        n += colourDistance(image.at<cv::Vec3b>(y, x), bgr(look.outfit.pattern_colour)) < 30;
    return n;
  };
  EXPECT_EQ(inked(renderPerformer(look, pose, kFrame)), 0) << "plain";
  for (Pattern p : {Pattern::kStripes, Pattern::kChecks, Pattern::kDots}) {
    look.outfit.pattern = p;
    const cv::Mat image = renderPerformer(look, pose, kFrame);
    maybeWrite(std::string("pattern_") + patternName(p), image);
    EXPECT_GT(inked(image), torso.area() / 20) << patternName(p);
    EXPECT_LT(inked(image), torso.area() * 3 / 4) << patternName(p) << ": the shirt still shows";
  }
}

TEST(SyntheticPerformerTest, HairStylesDiffer) {
  PerformerLook look = *findPerformer("cleo");
  look.hair = {20, 200, 240};  // a colour nothing else has
  const Pose pose = tPoseOf(look);
  const float r = look.body.head_radius * look.body.height_px;
  const cv::Point2f centre = (point(pose[Coco17::kLeftEar]) + point(pose[Coco17::kRightEar])) / 2;
  const cv::Point2f beside_neck = centre + cv::Point2f(0.9f * r, 1.1f * r);
  const cv::Point2f crown = centre - cv::Point2f(0, 0.95f * r);
  const cv::Point2f above_crown = crown - cv::Point2f(0, 0.4f * r);
  auto hairAt = [&](const cv::Mat& image, cv::Point2f p) {
    return colourDistance(image.at<cv::Vec3b>(p), bgr(look.hair)) <= 20;
  };
  const cv::Mat short_hair = renderPerformer(look, pose, kFrame);
  EXPECT_TRUE(hairAt(short_hair, crown));
  EXPECT_FALSE(hairAt(short_hair, beside_neck));
  EXPECT_FALSE(hairAt(short_hair, above_crown));
  look.outfit.hair = HairStyle::kLong;
  EXPECT_TRUE(hairAt(renderPerformer(look, pose, kFrame), beside_neck)) << "long";
  look.outfit.hair = HairStyle::kBun;
  EXPECT_TRUE(hairAt(renderPerformer(look, pose, kFrame), above_crown)) << "bun";
  look.outfit.hair = HairStyle::kShaved;
  EXPECT_FALSE(hairAt(renderPerformer(look, pose, kFrame), crown)) << "shaved";
}

TEST(SyntheticPerformerTest, TheLightChangesTheWholeFrame) {
  const PerformerLook& look = *findPerformer("ada");
  const cv::Mat even = renderPerformer(look, Pose{}, kFrame);
  Backdrop dim;
  dim.light_gain = 0.5;
  const cv::Mat dark = renderPerformer(look, Pose{}, kFrame, dim);
  const cv::Vec3b a = even.at<cv::Vec3b>(40, 40), b = dark.at<cv::Vec3b>(40, 40);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(b[c], a[c] * 0.5, 1.0);
  Backdrop side;
  side.light_side = 0.3;  // brighter to the right
  const cv::Mat lit = renderPerformer(look, Pose{}, kFrame, side);
  EXPECT_LT(lit.at<cv::Vec3b>(40, 5)[1], even.at<cv::Vec3b>(40, 5)[1]);
  EXPECT_GT(lit.at<cv::Vec3b>(40, kFrame.width - 5)[1], even.at<cv::Vec3b>(40, kFrame.width - 5)[1]);
  Backdrop warm;
  warm.light_tint = {0.8, 1.0, 1.2};
  const cv::Mat tinted = renderPerformer(look, Pose{}, kFrame, warm);
  EXPECT_LT(tinted.at<cv::Vec3b>(40, 40)[0], even.at<cv::Vec3b>(40, 40)[0]);
  EXPECT_GE(tinted.at<cv::Vec3b>(40, 40)[2], even.at<cv::Vec3b>(40, 40)[2]);
}

}  // namespace
}  // namespace booth
