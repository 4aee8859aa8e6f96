#include "capture_node/pose/openpose_decoder.h"

#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

using P = OpenPose18;

// The project manifest's limb table (tf-pose-estimation's COCO pairs).
std::vector<PafLimb> cocoLimbs() {
  return {{1, 2, 12, 13},  {1, 5, 20, 21},  {2, 3, 14, 15},   {3, 4, 16, 17},   {5, 6, 22, 23},
          {6, 7, 24, 25},  {1, 8, 0, 1},    {8, 9, 2, 3},     {9, 10, 4, 5},    {1, 11, 6, 7},
          {11, 12, 8, 9},  {12, 13, 10, 11}, {1, 0, 28, 29},  {0, 14, 30, 31},  {14, 16, 34, 35},
          {0, 15, 32, 33}, {15, 17, 36, 37}, {2, 16, 18, 19}, {5, 17, 26, 27}};
}

// Synthetic network output on a 40 x 30 map: Gaussian peaks for the parts
// and unit vectors along each limb, as a trained network draws them.
class Maps {
 public:
  Maps() {
    for (int i = 0; i < 19; ++i) heatmaps.push_back(cv::Mat::zeros(30, 40, CV_32F));
    for (int i = 0; i < 38; ++i) pafs.push_back(cv::Mat::zeros(30, 40, CV_32F));
  }

  void addPerson(const std::array<cv::Point2f, 18>& parts, float peak = 0.8f) {
    for (int p = 0; p < 18; ++p) {
      if (parts[p].x < 0) continue;
      cv::Mat& h = heatmaps[p];
      for (int y = 0; y < h.rows; ++y) {
        for (int x = 0; x < h.cols; ++x) {
          const float d2 = std::pow(x - parts[p].x, 2.f) + std::pow(y - parts[p].y, 2.f);
          h.at<float>(y, x) = std::max(h.at<float>(y, x), peak * std::exp(-d2 / 2.f));
        }
      }
    }
    for (const PafLimb& limb : cocoLimbs()) {
      const cv::Point2f a = parts[limb.a];
      const cv::Point2f b = parts[limb.b];
      if (a.x < 0 || b.x < 0) continue;
      const cv::Point2f d = b - a;
      const float len = std::hypot(d.x, d.y);
      const cv::Point2f u = d / len;
      for (int y = 0; y < 30; ++y) {
        for (int x = 0; x < 40; ++x) {
          const cv::Point2f v = cv::Point2f(x, y) - a;
          const float along = v.dot(u);
          const float across = std::abs(v.x * u.y - v.y * u.x);
          if (along < -0.5f || along > len + 0.5f || across > 1.0f) continue;
          pafs[limb.x_channel].at<float>(y, x) = u.x;
          pafs[limb.y_channel].at<float>(y, x) = u.y;
        }
      }
    }
  }

  std::vector<cv::Mat> heatmaps;
  std::vector<cv::Mat> pafs;
};

// A small upright person with its neck at (cx, top).
std::array<cv::Point2f, 18> person(float cx, float top) {
  std::array<cv::Point2f, 18> p;
  const auto at = [&](P part, float dx, float dy) {
    p[static_cast<int>(part)] = {cx + dx, top + dy};
  };
  at(P::kNose, 0, -2);
  at(P::kNeck, 0, 0);
  at(P::kRightShoulder, -2, 0);
  at(P::kRightElbow, -3, 4);
  at(P::kRightWrist, -3, 8);
  at(P::kLeftShoulder, 2, 0);
  at(P::kLeftElbow, 3, 4);
  at(P::kLeftWrist, 3, 8);
  at(P::kRightHip, -1.5f, 9);
  at(P::kRightKnee, -1.5f, 14);
  at(P::kRightAnkle, -1.5f, 19);
  at(P::kLeftHip, 1.5f, 9);
  at(P::kLeftKnee, 1.5f, 14);
  at(P::kLeftAnkle, 1.5f, 19);
  at(P::kRightEye, -0.7f, -2.7f);
  at(P::kLeftEye, 0.7f, -2.7f);
  at(P::kRightEar, -1.4f, -2.2f);
  at(P::kLeftEar, 1.4f, -2.2f);
  return p;
}

OpenPoseDecoder decoder(OpenPoseDecoderConfig config = {}) {
  config.duplicate_radius = 0.5f;  // the synthetic face parts are close together
  return OpenPoseDecoder(config, 18, cocoLimbs());
}

TEST(OpenPoseDecoder, NothingInTheMapsIsNobody) {
  Maps maps;
  EXPECT_TRUE(decoder().decode(maps.heatmaps, maps.pafs, {8, 8}).empty());
}

TEST(OpenPoseDecoder, OnePersonComesOutWithEveryPartInImagePixels) {
  Maps maps;
  maps.addPerson(person(12.3f, 6.6f));
  const auto people = decoder().decode(maps.heatmaps, maps.pafs, {10, 8});
  ASSERT_EQ(people.size(), 1u);
  const Pose& pose = people[0].pose;
  EXPECT_EQ(pose.validCount(), kCoco17Count);
  // Left wrist at map (15.3, 14.6): sub-cell refined, cell centre + 0.5.
  EXPECT_NEAR(pose[Coco17::kLeftWrist].x, (15.3f + 0.5f) * 10, 1.5f);
  EXPECT_NEAR(pose[Coco17::kLeftWrist].y, (14.6f + 0.5f) * 8, 1.2f);
  EXPECT_NEAR(pose[Coco17::kRightAnkle].x, (10.8f + 0.5f) * 10, 1.5f);
  EXPECT_GT(people[0].score, 0.5f);
  EXPECT_LE(people[0].score, 1.f);
}

TEST(OpenPoseDecoder, TwoPeopleAreGroupedWithoutMixingTheirParts) {
  Maps maps;
  maps.addPerson(person(8, 5));
  maps.addPerson(person(30, 7), 0.6f);
  const auto people = decoder().decode(maps.heatmaps, maps.pafs, {1, 1});
  ASSERT_EQ(people.size(), 2u);
  // Most confident first; every joint of each lies on its own side.
  for (const Keypoint& k : people[0].pose.points) EXPECT_LT(k.x, 19.f);
  for (const Keypoint& k : people[1].pose.points) EXPECT_GT(k.x, 19.f);
  EXPECT_EQ(people[0].pose.validCount(), kCoco17Count);
  EXPECT_EQ(people[1].pose.validCount(), kCoco17Count);
  EXPECT_GT(people[0].score, people[1].score);
}

TEST(OpenPoseDecoder, PartsWithoutASupportingFieldAreNotJoined) {
  Maps maps;
  maps.addPerson(person(8, 5));
  // A lone wrist peak far from anyone, with no field towards it.
  cv::circle(maps.heatmaps[static_cast<int>(P::kRightWrist)], {35, 25}, 0, cv::Scalar(0.9), -1);
  const auto people = decoder().decode(maps.heatmaps, maps.pafs, {1, 1});
  ASSERT_EQ(people.size(), 1u);
  EXPECT_NEAR(people[0].pose[Coco17::kRightWrist].x, 5.5f, 0.6f);
}

TEST(OpenPoseDecoder, AFragmentWithTooFewPartsIsDropped) {
  Maps maps;
  std::array<cv::Point2f, 18> parts;
  parts.fill({-1, -1});
  parts[static_cast<int>(P::kNeck)] = {20, 10};
  parts[static_cast<int>(P::kRightShoulder)] = {18, 10};
  parts[static_cast<int>(P::kRightElbow)] = {17, 14};
  maps.addPerson(parts);
  EXPECT_TRUE(decoder().decode(maps.heatmaps, maps.pafs, {1, 1}).empty());
  OpenPoseDecoderConfig lenient;
  lenient.min_parts = 3;
  EXPECT_EQ(decoder(lenient).decode(maps.heatmaps, maps.pafs, {1, 1}).size(), 1u);
}

TEST(OpenPoseDecoder, BothAnkleLabelsOnOneFootKeepOnlyTheStrongerOne) {
  Maps maps;
  auto parts = person(12, 4);
  maps.addPerson(parts);
  // The right-ankle heatmap also fires, weaker, on the left foot, and the
  // right shin's field leads there (the right leg hidden behind).
  const cv::Point2f left_ankle = parts[static_cast<int>(P::kLeftAnkle)];
  maps.heatmaps[static_cast<int>(P::kRightAnkle)].setTo(0);
  maps.heatmaps[static_cast<int>(P::kRightAnkle)].at<float>(static_cast<int>(left_ankle.y),
                                                           static_cast<int>(left_ankle.x)) = 0.3f;
  parts[static_cast<int>(P::kRightAnkle)] = left_ankle;
  Maps field;
  field.addPerson(parts);
  maps.pafs = field.pafs;
  OpenPoseDecoderConfig config;
  config.duplicate_radius = 1.0f;
  const auto people = OpenPoseDecoder(config, 18, cocoLimbs()).decode(maps.heatmaps, maps.pafs, {1, 1});
  ASSERT_EQ(people.size(), 1u);
  EXPECT_TRUE(isUsable(people[0].pose[Coco17::kLeftAnkle]));
  EXPECT_FALSE(isUsable(people[0].pose[Coco17::kRightAnkle]));
}

}  // namespace
}  // namespace booth
