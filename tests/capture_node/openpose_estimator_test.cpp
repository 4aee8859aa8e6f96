#include "capture_node/pose/openpose_estimator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "shared_assets.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<OpenPoseEstimator> mustCreate(const OpenPoseConfig& config) {
  auto created = OpenPoseEstimator::create(config);
  if (!created.ok()) {
    ADD_FAILURE() << created.error();
    return nullptr;
  }
  return std::move(created).value();
}

OpenPoseConfig assetConfig() {
  OpenPoseConfig config;
  config.model_path = test::requireSharedAsset("tfpose_mobilenet_v2_small_368x432.pb").string();
  return config;
}

std::vector<cv::Mat> readAssetVideo() {
  cv::VideoCapture capture(test::requireSharedAsset("tfjs_pose_1.mp4").string());
  std::vector<cv::Mat> frames;
  cv::Mat frame;
  while (capture.read(frame)) frames.push_back(frame.clone());
  return frames;
}

CapturedFrame frameInfo(std::uint64_t sequence, const cv::Mat& image) {
  CapturedFrame frame;
  frame.camera_id = "file0";
  frame.sequence = sequence;
  frame.width = image.cols;
  frame.height = image.rows;
  return frame;
}

TEST(OpenPoseEstimator, MissingModelErrorNamesThePathAndTheFileToUse) {
  auto created = OpenPoseEstimator::create(OpenPoseConfig{"/nonexistent/pose.pb"});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().find("/nonexistent/pose.pb"), std::string::npos) << created.error();
  EXPECT_NE(created.error().find("tfpose_mobilenet_v2_small_368x432.pb"), std::string::npos)
      << created.error();
}

TEST(OpenPoseEstimator, FileThatIsNotAGraphIsRejectedNamingThePath) {
  const fs::path path = fs::temp_directory_path() / "booth_not_a_graph.pb";
  std::ofstream(path) << "not a tensorflow graph";
  auto created = OpenPoseEstimator::create(OpenPoseConfig{path.string()});
  fs::remove(path);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().find(path.string()), std::string::npos) << created.error();
}

TEST(OpenPoseEstimator, InputSizeNotAMultipleOfEightIsRejectedWithTheValue) {
  auto created = OpenPoseEstimator::create(OpenPoseConfig{"/nonexistent/pose.pb", 430, 368});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().find("430x368"), std::string::npos) << created.error();
}

TEST(OpenPoseEstimator, InputSizeTheGraphWasNotBuiltForFailsAtCreate) {
  OpenPoseConfig config = assetConfig();
  config.input_width = 320;
  config.input_height = 240;
  auto created = OpenPoseEstimator::create(config);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().find("320x240"), std::string::npos) << created.error();
}

TEST(OpenPoseEstimator, DescribesItselfAsANetwork) {
  auto estimator = mustCreate(assetConfig());
  ASSERT_NE(estimator, nullptr);
  EXPECT_EQ(estimator->origin(), PoseOrigin::kNetwork);
  EXPECT_NE(estimator->describe().find("tfpose_mobilenet_v2_small_368x432.pb"), std::string::npos);
}

TEST(OpenPoseEstimator, EmptyImageIsAnErrorWithTheFrame) {
  auto estimator = mustCreate(assetConfig());
  ASSERT_NE(estimator, nullptr);
  auto pose = estimator->estimate(frameInfo(7, cv::Mat{}), cv::Mat{});
  ASSERT_FALSE(pose.ok());
  EXPECT_NE(pose.error().find("file0 frame 7"), std::string::npos) << pose.error();
}

// The major joints: shoulders, elbows, wrists, hips, knees, ankles.
constexpr Coco17 kMajorJoints[] = {
    Coco17::kLeftShoulder, Coco17::kRightShoulder, Coco17::kLeftElbow, Coco17::kRightElbow,
    Coco17::kLeftWrist,    Coco17::kRightWrist,    Coco17::kLeftHip,   Coco17::kRightHip,
    Coco17::kLeftKnee,     Coco17::kRightKnee,     Coco17::kLeftAnkle, Coco17::kRightAnkle,
};

TEST(OpenPoseEstimator, MedianErrorAgainstReferenceKeypointsIsBelow30Px) {
  auto estimator = mustCreate(assetConfig());
  ASSERT_NE(estimator, nullptr);
  const std::vector<cv::Mat> frames = readAssetVideo();
  ASSERT_EQ(frames.size(), 120u);
  std::ifstream json_file(test::requireSharedAsset("tfjs_pose_1.json"));
  const nlohmann::json reference = nlohmann::json::parse(json_file);
  ASSERT_EQ(reference.size(), frames.size());

  std::vector<double> errors;  // a joint the estimator missed counts as infinitely wrong
  std::vector<double> millis;
  for (std::size_t i = 0; i < frames.size(); i += 10) {
    const auto begin = std::chrono::steady_clock::now();
    auto people = estimator->estimate(frameInfo(i, frames[i]), frames[i]);
    millis.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
            .count());
    ASSERT_TRUE(people.ok()) << people.error();
    const Pose pose = people->empty() ? Pose{} : people->front().pose;
    for (Coco17 joint : kMajorJoints) {
      const auto& ref = reference[i][std::string(coco17Name(static_cast<int>(joint)))];
      const double rx = ref.at("x").get<double>();
      const double ry = ref.at("y").get<double>();
      if (rx < 0 || ry < 0 || rx >= frames[i].cols || ry >= frames[i].rows)
        continue;  // not visible
      const Keypoint& k = pose[joint];
      errors.push_back(k.valid() ? std::hypot(k.x - rx, k.y - ry)
                                 : std::numeric_limits<double>::infinity());
    }
  }
  ASSERT_FALSE(errors.empty());
  std::sort(errors.begin(), errors.end());
  std::sort(millis.begin(), millis.end());
  const double median = errors[errors.size() / 2];
  const double median_ms = millis[millis.size() / 2];
  const auto missed =
      std::count(errors.begin(), errors.end(), std::numeric_limits<double>::infinity());
  std::cout << "pose error over " << errors.size() << " joints: median " << median
            << " px, 75th percentile " << errors[errors.size() * 3 / 4] << " px, missed " << missed
            << "; estimate() median " << median_ms << " ms/frame\n";
  RecordProperty("median_error_px", std::to_string(median));
  RecordProperty("median_ms_per_frame", std::to_string(median_ms));
  EXPECT_LT(median, 30.0);
  EXPECT_LT(missed, static_cast<long>(errors.size() / 4));
}

TEST(OpenPoseEstimator, KeypointsFollowTheFrameThroughAnAspectRatioStretch) {
  auto estimator = mustCreate(assetConfig());
  ASSERT_NE(estimator, nullptr);
  const std::vector<cv::Mat> frames = readAssetVideo();
  ASSERT_FALSE(frames.empty());
  cv::Mat wide;  // the same picture, 1.5x wider
  cv::resize(frames[0], wide, cv::Size(864, 576), 0, 0, cv::INTER_LINEAR);
  auto square = estimator->estimate(frameInfo(0, frames[0]), frames[0]);
  auto stretched = estimator->estimate(frameInfo(0, wide), wide);
  ASSERT_TRUE(square.ok()) << square.error();
  ASSERT_TRUE(stretched.ok()) << stretched.error();
  ASSERT_EQ(square->size(), 1u);
  ASSERT_EQ(stretched->size(), 1u);
  int compared = 0;
  for (Coco17 joint : kMajorJoints) {
    const Keypoint& a = square->front().pose[joint];
    const Keypoint& b = stretched->front().pose[joint];
    if (!a.valid() || !b.valid()) continue;
    EXPECT_NEAR(b.x, a.x * 1.5f, 4.0f) << coco17Name(static_cast<int>(joint));
    EXPECT_NEAR(b.y, a.y, 4.0f) << coco17Name(static_cast<int>(joint));
    ++compared;
  }
  EXPECT_GE(compared, 8);
}

}  // namespace
}  // namespace booth
