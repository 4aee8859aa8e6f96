// PoseToImageModel: creation checks, rendering, training (few steps of a
// tiny model), the time-based schedule, held-out best keeping, face GAN.
#include "trainer_node/train/pose_to_image_model.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <stop_token>

#include "model_test_support.h"

namespace booth {
namespace {

using test::FakeClock;
using test::iterationSchedule;
using test::makeModel;
using test::movingSquare;
using test::renderError;
using test::tinyModelConfig;
using test::ToyClip;

Result<TrainResult> train(PoseToImageModel& model, const ToyClip& clip, const TrainConfig& config,
                          const TrainHooks& hooks = {}, const ToyClip* held = nullptr,
                          std::stop_token stop = {}) {
  const TrainClip view = clip.view();
  const TrainClip held_view = held ? held->view() : TrainClip{};
  return model.train(std::span<const TrainClip>(&view, 1), held ? &held_view : nullptr, config,
                     hooks, stop);
}

TEST(PoseToImageModel, CreateRejectsResolutionNotDivisibleByDownsampling) {
  ModelConfig c = tinyModelConfig();
  c.resolution = 34;  // not a multiple of 2^2
  auto model = PoseToImageModel::create(c, "cpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("34"), std::string::npos) << model.error();
  EXPECT_NE(model.error().find("divisible"), std::string::npos) << model.error();
}

TEST(PoseToImageModel, CreateRejectsZeroFiltersNamingTheField) {
  ModelConfig c = tinyModelConfig();
  c.ngf = 0;
  auto model = PoseToImageModel::create(c, "cpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("ngf"), std::string::npos) << model.error();
  EXPECT_NE(model.error().find("got 0"), std::string::npos) << model.error();
}

TEST(PoseToImageModel, CreateRejectsTooManyDiscriminatorScales) {
  ModelConfig c = tinyModelConfig();
  c.d_scales = 3;  // 32 px -> 8 px at the coarsest scale
  auto model = PoseToImageModel::create(c, "cpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("d_scales 3"), std::string::npos) << model.error();
}

TEST(PoseToImageModel, CreateRejectsUnknownDevice) {
  auto model = PoseToImageModel::create(tinyModelConfig(), "tpu");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().find("'tpu'"), std::string::npos) << model.error();
}

TEST(PoseToImageModel, CreateRejectsUnavailableCuda) {
  auto model = PoseToImageModel::create(tinyModelConfig(), "cuda");
  if (model.ok()) GTEST_SKIP() << "a CUDA device is available here";
  EXPECT_NE(model.error().find("no CUDA device is available"), std::string::npos) << model.error();
  EXPECT_NE(model.error().find("--device cpu"), std::string::npos) << model.error();
}

TEST(PoseToImageModel, ReportsConfigDeviceAndSize) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  EXPECT_EQ(model->config(), tinyModelConfig());
  EXPECT_EQ(model->deviceName(), "cpu");
  EXPECT_GT(model->generatorParameters(), 1000);
  EXPECT_GT(model->discriminatorParameters(), 1000);
  // The head conv alone: 6 -> 8 channels, 7x7, on 32x32, 2 FLOPs each.
  EXPECT_GT(model->generatorForwardFlops(), 2.0 * 6 * 8 * 49 * 32 * 32);
}

TEST(PoseToImageModel, NextFrameReturnsBgrImagesOfModelResolution) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(2, 32);
  model->startSequence();
  for (const cv::Mat& stick : clip.sticks) {
    auto out = model->nextFrame(stick);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(out->type(), CV_8UC3);
    EXPECT_EQ(out->size(), cv::Size(32, 32));
  }
}

TEST(PoseToImageModel, NextFrameDependsOnThePreviousFrame) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(2, 32);
  model->startSequence();
  auto first = model->nextFrame(clip.sticks[1]);
  auto second = model->nextFrame(clip.sticks[1]);  // same stick, previous frame no longer zeros
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_GT(cv::norm(*first, *second, cv::NORM_INF), 0);
  model->startSequence();
  auto again = model->nextFrame(clip.sticks[1]);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(cv::norm(*first, *again, cv::NORM_INF), 0);
}

TEST(PoseToImageModel, TheFirstFrameIsDrawnFromTheGeneratorsFirstDrawingOfIt) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(2, 32);
  model->startSequence(/*prime_first_frame=*/false);
  auto from_zeros = model->nextFrame(clip.sticks[0]);
  auto from_that = model->nextFrame(clip.sticks[0]);
  model->startSequence();
  auto primed = model->nextFrame(clip.sticks[0]);
  ASSERT_TRUE(from_zeros.ok() && from_that.ok() && primed.ok());
  EXPECT_EQ(cv::norm(*primed, *from_that, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(*primed, *from_zeros, cv::NORM_INF), 0);
}

TEST(PoseToImageModel, WarpGeneratorTrainsThenRendersFromTheVisitorsFrames) {
  auto model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(12, 32);
  const ToyClip held = movingSquare(8, 32, 40);
  auto trained = train(*model, clip, iterationSchedule(3), {}, &held);
  ASSERT_TRUE(trained.ok()) << trained.error();
  EXPECT_EQ(trained->generator_steps, 3);
  model->startSequence();
  auto no_pose = model->nextFrame(clip.sticks[0]);
  ASSERT_FALSE(no_pose.ok());
  EXPECT_NE(no_pose.error().find("needs the target pose"), std::string::npos) << no_pose.error();
  auto no_references = model->nextFrame(clip.sticks[0], clip.poses[0]);
  ASSERT_FALSE(no_references.ok());
  EXPECT_NE(no_references.error().find("no reference frames"), std::string::npos)
      << no_references.error();
  ASSERT_TRUE(model->setReferences(clip.frames, clip.poses).ok());
  for (std::size_t i = 0; i < 3; ++i) {
    auto out = model->nextFrame(held.sticks[i], held.poses[i], held.face_boxes[i]);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(out->size(), cv::Size(32, 32));
  }
}

TEST(PoseToImageModel, WarpGeneratorDrawsFromItsReferences) {
  auto model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(6, 32);
  std::vector<cv::Mat> grey;
  for (const cv::Mat& f : clip.frames) grey.emplace_back(f.size(), f.type(), cv::Scalar::all(128));
  ASSERT_TRUE(model->setReferences(clip.frames, clip.poses).ok());
  model->startSequence();
  auto from_frames = model->nextFrame(clip.sticks[2], clip.poses[2]);
  ASSERT_TRUE(model->setReferences(grey, clip.poses).ok());
  model->startSequence();
  auto from_grey = model->nextFrame(clip.sticks[2], clip.poses[2]);
  ASSERT_TRUE(from_frames.ok() && from_grey.ok());
  EXPECT_GT(cv::norm(*from_frames, *from_grey, cv::NORM_INF), 0);
  // The pose generator has no such input: the same call gives the same frame.
  auto pose_model = makeModel();
  ASSERT_TRUE(pose_model);
  ASSERT_TRUE(pose_model->setReferences(clip.frames, clip.poses).ok());
  pose_model->startSequence();
  auto a = pose_model->nextFrame(clip.sticks[2], clip.poses[2]);
  ASSERT_TRUE(pose_model->setReferences(grey, clip.poses).ok());
  pose_model->startSequence();
  auto b = pose_model->nextFrame(clip.sticks[2], clip.poses[2]);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(cv::norm(*a, *b, cv::NORM_INF), 0);
}

TEST(PoseToImageModel, WarpGeneratorNeedsAPosePerTrainingFrame) {
  auto model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(model);
  ToyClip clip = movingSquare(4, 32);
  clip.poses.clear();
  auto trained = train(*model, clip, iterationSchedule(1));
  ASSERT_FALSE(trained.ok());
  EXPECT_NE(trained.error().find("needs a pose per frame, got 0 poses for 4 frames"),
            std::string::npos)
      << trained.error();
}

TEST(PoseToImageModel, WarpGeneratorSeesFourMoreInputChannels) {
  auto pose_model = makeModel();
  auto warp_model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(pose_model && warp_model);
  // Head conv: 4 more input channels x 8 filters x 7 x 7 weights.
  EXPECT_EQ(warp_model->generatorParameters() - pose_model->generatorParameters(), 4 * 8 * 49);
}

TEST(PoseToImageModel, NextFrameRejectsWrongSizeWithActualValue) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const cv::Mat stick(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  auto out = model->nextFrame(stick);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("64x64"), std::string::npos) << out.error();
  EXPECT_NE(out.error().find("32x32"), std::string::npos) << out.error();
}

TEST(PoseToImageModel, NextFrameRejectsAFaceBoxOutsideTheFrame) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(1, 32);
  auto out = model->nextFrame(clip.sticks[0], cv::Rect(28, 0, 8, 8));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("28,0 8x8"), std::string::npos) << out.error();
}

TEST(PoseToImageModel, UntrainedFaceGanLeavesTheFrameAsItIs) {
  // The face generator's output layer starts at zero: a zero residual.
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(1, 32);
  model->startSequence();
  auto plain = model->nextFrame(clip.sticks[0]);
  model->startSequence();
  auto refined = model->nextFrame(clip.sticks[0], clip.face_boxes[0]);
  ASSERT_TRUE(plain.ok() && refined.ok());
  EXPECT_EQ(cv::norm(*plain, *refined, cv::NORM_INF), 0);
}

TEST(PoseToImageModel, TrainingReducesReconstructionError) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(8, 32);
  const double before = renderError(*model, clip);
  TrainConfig t = iterationSchedule(80);
  t.face_gan = false;
  auto result = train(*model, clip, t);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 80);
  EXPECT_TRUE(result->finished);
  const double after = renderError(*model, clip);
  EXPECT_LT(after, 0.5 * before) << "mean abs error before " << before << ", after " << after;
}

TEST(PoseToImageModel, FaceGanChangesOnlyTheFaceBox) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(8, 32);
  TrainConfig t = iterationSchedule(40);
  t.face_fraction = 0.5;  // 20 generator steps, then 20 face steps
  auto result = train(*model, clip, t);
  ASSERT_TRUE(result.ok()) << result.error();
  model->startSequence();
  auto plain = model->nextFrame(clip.sticks[3]);
  model->startSequence();
  auto refined = model->nextFrame(clip.sticks[3], clip.face_boxes[3]);
  ASSERT_TRUE(plain.ok() && refined.ok());
  cv::Mat outside_mask(32, 32, CV_8U, cv::Scalar(255));
  outside_mask(*clip.face_boxes[3]).setTo(0);
  EXPECT_EQ(cv::norm(*plain, *refined, cv::NORM_INF, outside_mask), 0);
  EXPECT_GT(cv::norm((*plain)(*clip.face_boxes[3]), (*refined)(*clip.face_boxes[3]), cv::NORM_INF), 0);
}

TEST(PoseToImageModel, TrainReportsProgressAtTheEnd) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(4, 32);
  std::vector<TrainProgress> reports;
  TrainHooks hooks;
  hooks.progress = [&](const TrainProgress& p) { reports.push_back(p); };
  TrainConfig t = iterationSchedule(3);
  t.face_gan = false;
  auto result = train(*model, clip, t, hooks);
  ASSERT_TRUE(result.ok()) << result.error();
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().iterations, 3);
  EXPECT_DOUBLE_EQ(reports.back().fraction, 1.0);
  EXPECT_GT(reports.back().loss_l1, 0.f);
  EXPECT_GT(reports.back().loss_d, 0.f);
  EXPECT_GE(reports.back().loss_g, reports.back().loss_l1);  // lambda_l1 >= 1 plus GAN terms
  EXPECT_EQ(reports.back().budget_seconds, 3600);
  EXPECT_GT(result->iterations_per_second, 0);
  EXPECT_GT(result->step_seconds, 0);
  EXPECT_LE(result->step_seconds, result->seconds);
}

TEST(PoseToImageModel, BudgetEndsTheScheduleOnTheInjectedClock) {
  // Each clock reading advances 0.5 s: the 30 s budget ends after a bounded
  // number of steps, whatever the machine's speed.
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(4, 32);
  FakeClock clock(0.5);
  TrainHooks hooks;
  hooks.now_seconds = [&] { return clock(); };
  TrainConfig t = iterationSchedule(0);
  t.budget_seconds = 30;
  std::vector<std::string> phases;
  hooks.progress = [&](const TrainProgress& p) { phases.push_back(p.phase); };
  auto result = train(*model, clip, t, hooks);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_TRUE(result->finished);
  EXPECT_GT(result->iterations, 2);
  EXPECT_LT(result->iterations, 60);
  EXPECT_GE(result->last.elapsed_seconds, 30);
  // Both phases ran: the generator first, then the face GAN.
  ASSERT_FALSE(phases.empty());
  EXPECT_EQ(phases.front(), "generator");
  EXPECT_NE(std::find(phases.begin(), phases.end(), "face"), phases.end());
}

TEST(PoseToImageModel, CountsAndTimesGeneratorAndFaceStepsApart) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(4, 32);
  TrainConfig t = iterationSchedule(20);
  t.face_fraction = 0.25;  // the last 5 of 20 steps
  auto result = train(*model, clip, t);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->last.generator_steps, 15);
  EXPECT_EQ(result->last.face_steps, 5);
  EXPECT_EQ(result->generator_steps, 15);
  EXPECT_EQ(result->face_steps, 5);
  EXPECT_GT(result->last.generator_steps_per_second, 0);
  EXPECT_GT(result->last.face_steps_per_second, 0);
}

TEST(PoseToImageModel, L2SpKeepsFineTuningNearTheWeightsItStartedFrom) {
  test::TempDir dir;
  const ToyClip clip = movingSquare(6, 32);
  auto base = makeModel();
  ASSERT_TRUE(base);
  ASSERT_TRUE(base->save(dir.file("base.pt")).ok());
  auto drawn = [&](PoseToImageModel& m) {
    m.startSequence();
    auto out = m.nextFrame(clip.sticks[2]);
    EXPECT_TRUE(out.ok());
    return out.ok() ? out.value() : cv::Mat();
  };
  const cv::Mat before = drawn(*base);
  auto tuned = [&](float lambda) {
    auto m = makeModel();
    EXPECT_TRUE(m && m->loadWeights(dir.file("base.pt")).ok());
    TrainConfig t = iterationSchedule(25);
    t.face_gan = false;
    t.lambda_l2sp = lambda;
    EXPECT_TRUE(train(*m, clip, t).ok());
    return cv::norm(drawn(*m), before, cv::NORM_L1);
  };
  const double free_drift = tuned(0.f);
  const double pulled_drift = tuned(1e5f);
  EXPECT_GT(free_drift, 0);
  EXPECT_LT(pulled_drift, 0.5 * free_drift) << "free " << free_drift << ", L2-SP " << pulled_drift;
}

TEST(PoseToImageModel, TrainRejectsMismatchedCounts) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  ToyClip clip = movingSquare(5, 32);
  clip.frames.pop_back();
  clip.face_boxes.pop_back();
  auto result = train(*model, clip, iterationSchedule(1));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("5 sticks"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("4 frames"), std::string::npos) << result.error();
}

TEST(PoseToImageModel, TrainRejectsSingleFrame) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  auto result = train(*model, movingSquare(1, 32), iterationSchedule(1));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("at least 2"), std::string::npos) << result.error();
}

TEST(PoseToImageModel, TrainRejectsWrongImageType) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  ToyClip clip = movingSquare(3, 32);
  clip.frames[2] = cv::Mat(32, 32, CV_8UC1, cv::Scalar(0));
  auto result = train(*model, clip, iterationSchedule(1));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("frame 2"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("CV_8UC1"), std::string::npos) << result.error();
}

TEST(PoseToImageModel, TrainRejectsFaceBoxesOfTwoSizes) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  ToyClip clip = movingSquare(3, 32);
  clip.face_boxes[1] = cv::Rect(0, 0, 12, 12);
  auto result = train(*model, clip, iterationSchedule(1));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("side 12"), std::string::npos) << result.error();
}

TEST(PoseToImageModel, TrainRejectsBadConfigNamingTheValue) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  TrainConfig t = iterationSchedule(1);
  t.face_fraction = 0.95;
  auto result = train(*model, movingSquare(3, 32), t);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("face_fraction"), std::string::npos) << result.error();
  EXPECT_NE(result.error().find("0.95"), std::string::npos) << result.error();
}

TEST(PoseToImageModel, CudaGraphOnCpuIsRefused) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  TrainConfig t = iterationSchedule(1);
  t.cuda_graph = true;
  auto result = train(*model, movingSquare(3, 32), t);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("cuda_graph needs a CUDA device"), std::string::npos)
      << result.error();
}

TEST(PoseToImageModel, ShouldStopEndsTrainingUnfinished) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  TrainHooks hooks;
  hooks.progress_seconds = 0;  // poll after every step
  int polls = 0;
  hooks.should_stop = [&] { return ++polls >= 3; };
  auto result = train(*model, movingSquare(4, 32), iterationSchedule(1000), hooks);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_FALSE(result->finished);
  EXPECT_EQ(result->iterations, 3);
}

TEST(PoseToImageModel, StopAlreadyRequestedRunsNoIterations) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  std::stop_source stop;
  stop.request_stop();
  auto result = train(*model, movingSquare(4, 32), iterationSchedule(10), {}, nullptr,
                      stop.get_token());
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 0);
  EXPECT_FALSE(result->finished);
}

TEST(PoseToImageModel, KeepsTheWeightsThatScoredBestOnHeldOutFrames) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(8, 32);
  const ToyClip held = movingSquare(4, 32, 8);
  TrainConfig t = iterationSchedule(30);
  t.face_gan = false;
  // A learning rate this high makes the last weights worse than some
  // earlier ones on the held-out frames.
  t.learning_rate = 0.05f;
  t.constant_lr_fraction = 0.99;
  FakeClock clock(0.01);
  TrainHooks hooks;
  hooks.now_seconds = [&] { return clock(); };
  t.eval_seconds = 0.001;  // evaluate after every step
  auto result = train(*model, clip, t, hooks, &held);
  ASSERT_TRUE(result.ok()) << result.error();
  ASSERT_GE(result->last.best_heldout_l1, 0);
  // The model now holds the best weights: its held-out error is the best
  // error seen (rounding to 8 bits aside).
  const double error = renderError(*model, held) / 127.5;
  EXPECT_NEAR(error, result->last.best_heldout_l1, 0.01);
}

TEST(PoseToImageModel, CudaSmokeTrainAndRender) {
  auto model = PoseToImageModel::create(tinyModelConfig(), "cuda");
  if (!model.ok()) {
    std::cout << "SKIP: needs a CUDA device and a libtorch with CUDA: " << model.error() << "\n";
    std::exit(77);
  }
  const ToyClip clip = movingSquare(4, 32);
  for (bool graph : {false, true}) {
    for (Precision precision : {Precision::kFloat32, Precision::kBfloat16}) {
      TrainConfig t = iterationSchedule(8);
      t.cuda_graph = graph;
      t.precision = precision;
      auto result = train(**model, clip, t);
      ASSERT_TRUE(result.ok()) << result.error();
      EXPECT_EQ(result->iterations, 8);
      EXPECT_GT(result->last.loss_l1, 0.f);
    }
  }
  (*model)->startSequence();
  auto out = (*model)->nextFrame(clip.sticks[1], clip.face_boxes[1]);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out->size(), cv::Size(32, 32));
}

TEST(PoseToImageModel, Bfloat16AutocastTrainsOnCpu) {
  auto model = makeModel();
  ASSERT_TRUE(model);
  const ToyClip clip = movingSquare(8, 32);
  const double before = renderError(*model, clip);
  TrainConfig t = iterationSchedule(60);
  t.precision = Precision::kBfloat16;
  t.face_gan = false;
  auto result = train(*model, clip, t);
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_LT(renderError(*model, clip), 0.7 * before);
}

}  // namespace
}  // namespace booth
