#include "trainer_node/train/pose_to_image_model.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

// Tiny enough that a training step takes milliseconds on one CPU core.
ModelConfig tinyConfig() {
  ModelConfig c;
  c.resolution = 32;
  c.ngf = 8;
  c.ndf = 8;
  c.downsamples = 2;
  c.blocks = 1;
  return c;
}

TrainConfig quickTrain(int iterations) {
  TrainConfig t;
  t.budget_seconds = 120;  // far above what the iterations need: max_iterations decides
  t.batch_size = 4;
  t.max_iterations = iterations;
  return t;
}

// A synthetic performer reduced to its essence: the "stick figure" is a white
// square on black, the "frame" a red square at the same place on a teal
// backdrop. Far from mid-grey, so an untrained generator (output near 0, i.e.
// grey) is clearly wrong.
struct Clip {
  std::vector<cv::Mat> sticks;
  std::vector<cv::Mat> frames;
};

Clip movingSquare(int n, int resolution) {
  Clip clip;
  const int side = resolution / 4;
  for (int i = 0; i < n; ++i) {
    const int x = (i * 3) % (resolution - side);
    const int y = (i * 5) % (resolution - side);
    const cv::Rect box(x, y, side, side);
    cv::Mat stick(resolution, resolution, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::rectangle(stick, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::Mat frame(resolution, resolution, CV_8UC3, cv::Scalar(180, 160, 20));
    cv::rectangle(frame, box, cv::Scalar(30, 40, 230), cv::FILLED);
    clip.sticks.push_back(stick);
    clip.frames.push_back(frame);
  }
  return clip;
}

std::unique_ptr<PoseToImageModel> makeModel(const ModelConfig& config = tinyConfig()) {
  auto model = PoseToImageModel::create(config, "cpu");
  EXPECT_TRUE(model.ok()) << model.error();
  return model.ok() ? std::move(model).value() : nullptr;
}

// Mean absolute error (0..255) of rendering the whole clip the way the
// renderer does: each output fed back as the next previous frame.
double renderError(PoseToImageModel& model, const Clip& clip) {
  double total = 0;
  cv::Mat previous;
  for (std::size_t i = 0; i < clip.sticks.size(); ++i) {
    auto out = model.generate(clip.sticks[i], previous);
    EXPECT_TRUE(out.ok()) << out.error();
    if (!out.ok()) return 1e9;
    total += cv::norm(*out, clip.frames[i], cv::NORM_L1) / static_cast<double>(out->total() * 3);
    previous = *out;
  }
  return total / static_cast<double>(clip.sticks.size());
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("booth_model_test_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(PoseToImageModelTest, CreateRejectsResolutionNotDivisibleByDownsampling) {
  ModelConfig c = tinyConfig();
  c.resolution = 34;  // not a multiple of 2^2
  auto model = PoseToImageModel::create(c, "cpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("34"), std::string::npos) << model.error();
  EXPECT_NE(model.error().find("divisible"), std::string::npos) << model.error();
}

TEST(PoseToImageModelTest, CreateRejectsZeroFilters) {
  ModelConfig c = tinyConfig();
  c.ngf = 0;
  auto model = PoseToImageModel::create(c, "cpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("ngf"), std::string::npos) << model.error();
}

TEST(PoseToImageModelTest, CreateRejectsUnknownDevice) {
  auto model = PoseToImageModel::create(tinyConfig(), "tpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("'tpu'"), std::string::npos) << model.error();
}

// The test stays libtorch-free (fast to compile): whether CUDA is usable is
// read from create() itself.
TEST(PoseToImageModelTest, CreateRejectsUnavailableCuda) {
  auto model = PoseToImageModel::create(tinyConfig(), "cuda");
  if (model.ok()) GTEST_SKIP() << "a CUDA device is available here";
  EXPECT_NE(model.error().find("no CUDA device is available"), std::string::npos) << model.error();
  EXPECT_NE(model.error().find("--device cpu"), std::string::npos) << model.error();
}

TEST(PoseToImageModelTest, CreateReportsConfigAndDevice) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  EXPECT_EQ(model->config().resolution, 32);
  EXPECT_EQ(model->config().ngf, 8);
  EXPECT_EQ(model->deviceName(), "cpu");
}

TEST(PoseToImageModelTest, GenerateReturnsBgrImageOfModelResolution) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(2, 32);
  auto first = model->generate(clip.sticks[0], cv::Mat());
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->type(), CV_8UC3);
  EXPECT_EQ(first->size(), cv::Size(32, 32));
  auto second = model->generate(clip.sticks[1], *first);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second->size(), cv::Size(32, 32));
}

TEST(PoseToImageModelTest, GenerateRejectsWrongSizeWithActualValue) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const cv::Mat stick(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  auto out = model->generate(stick, cv::Mat());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("64x64"), std::string::npos) << out.error();
  EXPECT_NE(out.error().find("32x32"), std::string::npos) << out.error();
}

TEST(PoseToImageModelTest, TrainingReducesReconstructionError) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(8, 32);
  const double before = renderError(*model, clip);
  auto result = model->train(clip.sticks, clip.frames, quickTrain(60), nullptr);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 60);
  const double after = renderError(*model, clip);
  EXPECT_LT(after, 0.5 * before) << "mean abs error before " << before << ", after " << after;
}

TEST(PoseToImageModelTest, TrainReportsProgressAtTheEnd) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(4, 32);
  std::vector<TrainProgress> reports;
  auto result = model->train(clip.sticks, clip.frames, quickTrain(3),
                             [&](const TrainProgress& p) { reports.push_back(p); });
  ASSERT_TRUE(result.ok()) << result.error();
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().iterations, 3);
  EXPECT_GT(reports.back().loss_l1, 0.f);
  EXPECT_GT(reports.back().loss_d, 0.f);
  EXPECT_GE(reports.back().loss_g, reports.back().loss_l1);  // lambda_l1 >= 1 plus a GAN term
  EXPECT_EQ(reports.back().budget_seconds, 120);
  EXPECT_GT(result->iterations_per_second, 0);
}

TEST(PoseToImageModelTest, TrainRejectsMismatchedCounts) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(5, 32);
  std::span<const cv::Mat> fourFrames(clip.frames.data(), 4);
  auto result = model->train(clip.sticks, fourFrames, quickTrain(1), nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("5 sticks"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("4 frames"), std::string::npos) << result.error();
}

TEST(PoseToImageModelTest, TrainRejectsSingleFrame) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(1, 32);
  auto result = model->train(clip.sticks, clip.frames, quickTrain(1), nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("at least 2"), std::string::npos) << result.error();
}

TEST(PoseToImageModelTest, TrainRejectsWrongImageType) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  Clip clip = movingSquare(3, 32);
  clip.frames[2] = cv::Mat(32, 32, CV_8UC1, cv::Scalar(0));
  auto result = model->train(clip.sticks, clip.frames, quickTrain(1), nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("frame 2"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("CV_8UC1"), std::string::npos) << result.error();
}

TEST(PoseToImageModelTest, StopRequestEndsTrainingPromptly) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(4, 32);
  TrainConfig t = quickTrain(0);  // no iteration limit: only the stop request ends it
  t.budget_seconds = 600;
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = model->train(clip.sticks, clip.frames, t, nullptr, stop.get_token());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_LT(seconds, 10.0);
  EXPECT_GT(result->iterations, 0);
}

TEST(PoseToImageModelTest, StopAlreadyRequestedRunsNoIterations) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const Clip clip = movingSquare(4, 32);
  std::stop_source stop;
  stop.request_stop();
  auto result = model->train(clip.sticks, clip.frames, quickTrain(0), nullptr, stop.get_token());
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 0);
}

TEST(PoseToImageModelTest, SaveThenLoadReproducesGeneratorOutput) {
  TempDir dir;
  const Clip clip = movingSquare(4, 32);
  auto trained = makeModel();
  ASSERT_TRUE(trained);
  ASSERT_TRUE(trained->train(clip.sticks, clip.frames, quickTrain(3), nullptr).ok());
  auto expected = trained->generate(clip.sticks[1], clip.frames[0]);
  ASSERT_TRUE(expected.ok()) << expected.error();
  const std::string path = dir.file("model.pt");
  auto saved = trained->save(path);
  ASSERT_TRUE(saved.ok()) << saved.error();

  auto fresh = makeModel();
  ASSERT_TRUE(fresh);
  auto untrained = fresh->generate(clip.sticks[1], clip.frames[0]);
  ASSERT_TRUE(untrained.ok());
  // Otherwise the comparison below would pass without loading anything.
  ASSERT_GT(cv::norm(*untrained, *expected, cv::NORM_INF), 0);

  auto loaded = fresh->load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  auto actual = fresh->generate(clip.sticks[1], clip.frames[0]);
  ASSERT_TRUE(actual.ok()) << actual.error();
  EXPECT_EQ(cv::norm(*actual, *expected, cv::NORM_INF), 0);
}

TEST(PoseToImageModelTest, LoadRejectsCheckpointOfAnotherConfig) {
  TempDir dir;
  auto small = makeModel();
  ASSERT_TRUE(small);
  const std::string path = dir.file("small.pt");
  ASSERT_TRUE(small->save(path).ok());
  ModelConfig other = tinyConfig();
  other.blocks = 2;
  auto model = makeModel(other);
  ASSERT_TRUE(model);
  auto loaded = model->load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("config"), std::string::npos) << loaded.error();
  EXPECT_NE(loaded.error().find("blocks=1"), std::string::npos) << loaded.error();
  EXPECT_NE(loaded.error().find("blocks=2"), std::string::npos) << loaded.error();
}

TEST(PoseToImageModelTest, LoadOfMissingFileNamesThePath) {
  TempDir dir;
  auto model = makeModel();
  ASSERT_TRUE(model);
  const std::string path = dir.file("does_not_exist.pt");
  auto loaded = model->load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
}

TEST(PoseToImageModelTest, LoadRejectsGarbageFile) {
  TempDir dir;
  const std::string path = dir.file("garbage.pt");
  std::ofstream(path) << "not a checkpoint";
  auto model = makeModel();
  ASSERT_TRUE(model);
  auto loaded = model->load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
}

TEST(PoseToImageModelTest, CudaSmokeTrainAndGenerate) {
  auto model = PoseToImageModel::create(tinyConfig(), "cuda");
  if (!model.ok()) GTEST_SKIP() << model.error();
  const Clip clip = movingSquare(4, 32);
  auto result = (*model)->train(clip.sticks, clip.frames, quickTrain(2), nullptr);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 2);
  auto out = (*model)->generate(clip.sticks[1], cv::Mat());
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->size(), cv::Size(32, 32));
}

}  // namespace
}  // namespace booth
