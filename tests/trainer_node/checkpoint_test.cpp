// Checkpoints: format, named config fields, resume of an interrupted run.
#include <gtest/gtest.h>

#include <fstream>

#include "model_test_support.h"
#include "support/small_disk.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {
namespace {

using test::FakeClock;
using test::iterationSchedule;
using test::makeModel;
using test::movingSquare;
using test::TempDir;
using test::tinyModelConfig;
using test::ToyClip;

Result<TrainResult> train(PoseToImageModel& model, const ToyClip& clip, const TrainConfig& config,
                          const TrainHooks& hooks = {}) {
  const TrainClip view = clip.view();
  return model.train(std::span<const TrainClip>(&view, 1), nullptr, config, hooks);
}

TEST(Checkpoint, SaveThenLoadReproducesTheFrames) {
  TempDir dir;
  const ToyClip clip = movingSquare(4, 32);
  auto trained = makeModel();
  ASSERT_TRUE(trained);
  ASSERT_TRUE(train(*trained, clip, iterationSchedule(6)).ok());
  trained->startSequence();
  auto expected = trained->nextFrame(clip.sticks[1], clip.face_boxes[1]);
  ASSERT_TRUE(expected.ok()) << expected.error();
  const std::string path = dir.file("model.pt");
  auto saved = trained->save(path);
  ASSERT_TRUE(saved.ok()) << saved.error();

  auto fresh = makeModel();
  ASSERT_TRUE(fresh);
  auto untrained = fresh->nextFrame(clip.sticks[1], clip.face_boxes[1]);
  ASSERT_TRUE(untrained.ok());
  // Otherwise the comparison below would pass without loading anything.
  ASSERT_GT(cv::norm(*untrained, *expected, cv::NORM_INF), 0);
  auto loaded = fresh->loadWeights(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  fresh->startSequence();
  auto actual = fresh->nextFrame(clip.sticks[1], clip.face_boxes[1]);
  ASSERT_TRUE(actual.ok()) << actual.error();
  EXPECT_EQ(cv::norm(*actual, *expected, cv::NORM_INF), 0);
}

// Saving onto a full disk is an error naming it, never an abort (libtorch's
// own file writer throws from its destructor there), and leaves neither a
// half-written checkpoint nor its temporary; the last good one stays.
TEST(Checkpoint, AFullDiskFailsTheSaveAndLeavesNothingHalfWritten) {
  TempDir dir;
  auto model = makeModel();
  ASSERT_TRUE(model);
  test::SmallDisk disk(dir.path() / "small", 64 * 1024);
  const auto path = (disk.path() / "train_state.pt").string();
  auto saved = model->save(path);
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.error().find("No space left on device"), std::string::npos) << saved.error();
  EXPECT_TRUE(std::filesystem::is_empty(disk.path())) << "nothing half-written stays";
}

TEST(Checkpoint, StoresTheConfigByName) {
  TempDir dir;
  ModelConfig c = tinyModelConfig();
  c.face_blocks = 2;
  auto model = makeModel(c);
  ASSERT_TRUE(model);
  ASSERT_TRUE(model->save(dir.file("m.pt")).ok());
  auto stored = PoseToImageModel::checkpointConfig(dir.file("m.pt"));
  ASSERT_TRUE(stored.ok()) << stored.error();
  EXPECT_EQ(stored.value(), c);
}

TEST(Checkpoint, LoadRejectsAnotherConfigNamingBoth) {
  TempDir dir;
  auto small = makeModel();
  ASSERT_TRUE(small);
  const std::string path = dir.file("small.pt");
  ASSERT_TRUE(small->save(path).ok());
  ModelConfig other = tinyModelConfig();
  other.blocks = 2;
  auto model = makeModel(other);
  ASSERT_TRUE(model);
  for (auto loaded : {model->load(path), model->loadWeights(path)}) {
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("blocks=1"), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("blocks=2"), std::string::npos) << loaded.error();
  }
}

// A checkpoint holds one kind of generator; loading it into the other kind
// is refused with one line that names both and what to do.
TEST(Checkpoint, AGeneratorOfTheOtherKindIsRefusedWithAClearLine) {
  TempDir dir;
  auto pose_model = makeModel();
  auto warp_model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(pose_model && warp_model);
  ASSERT_TRUE(pose_model->save(dir.file("pose.pt")).ok());
  ASSERT_TRUE(warp_model->save(dir.file("warp.pt")).ok());
  for (auto loaded : {warp_model->load(dir.file("pose.pt")), warp_model->loadWeights(dir.file("pose.pt"))}) {
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().find("cannot load checkpoint '" + dir.file("pose.pt") +
                                  "': it holds a 'pose' generator, but this trainer is configured "
                                  "for the 'warp' generator (--generator warp)"),
              std::string::npos)
        << loaded.error();
    EXPECT_NE(loaded.error().find("run with --generator pose"), std::string::npos) << loaded.error();
  }
  auto loaded = pose_model->loadWeights(dir.file("warp.pt"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("it holds a 'warp' generator"), std::string::npos) << loaded.error();
  EXPECT_NE(loaded.error().find("'trainer_node pretrain --generator pose'"), std::string::npos)
      << loaded.error();
  auto stored = PoseToImageModel::checkpointConfig(dir.file("warp.pt"));
  ASSERT_TRUE(stored.ok()) << stored.error();
  EXPECT_EQ(stored->generator, GeneratorKind::kWarp);
  EXPECT_TRUE(warp_model->loadWeights(dir.file("warp.pt")).ok());
}

// A pose base into a warp model, asked for explicitly: the warp channels
// start at zero, so it draws what the base draws.
TEST(Checkpoint, AWarpModelCanStartFromAPoseBase) {
  TempDir dir;
  const ToyClip clip = movingSquare(4, 32);
  auto pose_model = makeModel();
  ASSERT_TRUE(pose_model);
  ASSERT_TRUE(train(*pose_model, clip, iterationSchedule(4)).ok());
  ASSERT_TRUE(pose_model->save(dir.file("pose.pt")).ok());
  auto warp_model = makeModel(test::tinyWarpModelConfig());
  ASSERT_TRUE(warp_model);
  ASSERT_TRUE(warp_model->setReferences(clip.frames, clip.poses).ok());
  warp_model->startSequence();
  auto untrained = warp_model->nextFrame(clip.sticks[1], clip.poses[1]);
  auto loaded = warp_model->loadWeightsFromPoseBase(dir.file("pose.pt"));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  pose_model->startSequence();
  auto expected = pose_model->nextFrame(clip.sticks[1]);
  warp_model->startSequence();
  auto actual = warp_model->nextFrame(clip.sticks[1], clip.poses[1]);
  ASSERT_TRUE(untrained.ok() && expected.ok() && actual.ok());
  ASSERT_GT(cv::norm(*untrained, *expected, cv::NORM_INF), 2) << "loading must change something";
  EXPECT_LE(cv::norm(*actual, *expected, cv::NORM_INF), 1);
  // Only that way round.
  ASSERT_TRUE(warp_model->save(dir.file("warp.pt")).ok());
  auto wrong = warp_model->loadWeightsFromPoseBase(dir.file("warp.pt"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("it holds a 'warp' generator"), std::string::npos) << wrong.error();
}

TEST(Checkpoint, LoadOfMissingFileNamesThePath) {
  TempDir dir;
  auto model = makeModel();
  ASSERT_TRUE(model);
  const std::string path = dir.file("does_not_exist.pt");
  auto loaded = model->loadWeights(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
  EXPECT_NE(loaded.error().find("no such file"), std::string::npos) << loaded.error();
}

TEST(Checkpoint, LoadRejectsGarbageFile) {
  TempDir dir;
  const std::string path = dir.file("garbage.pt");
  std::ofstream(path) << "not a checkpoint";
  auto model = makeModel();
  ASSERT_TRUE(model);
  auto loaded = model->loadWeights(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find(path), std::string::npos) << loaded.error();
}

TEST(Checkpoint, AFailedLoadLeavesTheWeights) {
  TempDir dir;
  const ToyClip clip = movingSquare(2, 32);
  auto model = makeModel();
  ASSERT_TRUE(model);
  auto before = model->nextFrame(clip.sticks[0]);
  std::ofstream(dir.file("garbage.pt")) << "not a checkpoint";
  ASSERT_FALSE(model->load(dir.file("garbage.pt")).ok());
  model->startSequence();
  auto after = model->nextFrame(clip.sticks[0]);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(cv::norm(*before, *after, cv::NORM_INF), 0);
}

// Trains `schedule` until its stop hook has been polled `polls` times
// (once per step), saves the state to `path` and returns the stopped run.
Result<TrainResult> trainStoppedAndSaved(const ToyClip& clip, const TrainConfig& schedule, int polls,
                                         const std::string& path) {
  auto model = makeModel();
  if (!model) return fail("no model");
  TrainHooks hooks;
  hooks.progress_seconds = 0;
  int polled = 0;
  hooks.should_stop = [&] { return ++polled >= polls; };
  auto stopped = train(*model, clip, schedule, hooks);
  if (!stopped.ok()) return stopped;
  if (auto s = model->save(path); !s) return fail(s.error());
  return stopped;
}

// A model resumed from `path` that trains `schedule` to its end.
Result<TrainResult> resumeAndFinish(const ToyClip& clip, const TrainConfig& schedule,
                                    const std::string& path) {
  auto resumed = makeModel();
  if (!resumed) return fail("no model");
  if (auto s = resumed->load(path); !s) return fail(s.error());
  return train(*resumed, clip, schedule);
}

TEST(Checkpoint, ResumeContinuesTheScheduleWhereItStopped) {
  TempDir dir;
  const ToyClip clip = movingSquare(6, 32);
  const TrainConfig schedule = iterationSchedule(20);
  auto stopped = trainStoppedAndSaved(clip, schedule, 7, dir.file("state.pt"));
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  ASSERT_FALSE(stopped->finished);
  ASSERT_EQ(stopped->last.iterations, 7);
  auto rest = resumeAndFinish(clip, schedule, dir.file("state.pt"));
  ASSERT_TRUE(rest.ok()) << rest.error();
  EXPECT_TRUE(rest->finished);
  EXPECT_EQ(rest->iterations, 13);  // only what was left
  EXPECT_EQ(rest->last.iterations, 20);
}

TEST(Checkpoint, ResumeKeepsTheFaceStepCount) {
  TempDir dir;
  const ToyClip clip = movingSquare(6, 32);
  const TrainConfig schedule = iterationSchedule(20);
  // Stopped in the face phase (the last 15 % of the schedule).
  auto stopped = trainStoppedAndSaved(clip, schedule, 19, dir.file("state.pt"));
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  ASSERT_GE(stopped->last.face_steps, 1);
  auto rest = resumeAndFinish(clip, schedule, dir.file("state.pt"));
  ASSERT_TRUE(rest.ok()) << rest.error();
  EXPECT_EQ(rest->generator_steps, 0);
  EXPECT_EQ(rest->last.face_steps, stopped->last.face_steps + rest->face_steps);
  EXPECT_EQ(rest->last.generator_steps, stopped->last.generator_steps);
}

TEST(Checkpoint, LoadWeightsStartsAFreshSchedule) {
  TempDir dir;
  const ToyClip clip = movingSquare(6, 32);
  auto base = makeModel();
  ASSERT_TRUE(base);
  ASSERT_TRUE(train(*base, clip, iterationSchedule(5)).ok());
  ASSERT_TRUE(base->save(dir.file("base.pt")).ok());
  auto tuned = makeModel();
  ASSERT_TRUE(tuned);
  ASSERT_TRUE(tuned->loadWeights(dir.file("base.pt")).ok());
  auto result = train(*tuned, clip, iterationSchedule(4));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->iterations, 4);
  EXPECT_EQ(result->last.iterations, 4);
}

TEST(Checkpoint, TrainingWritesPeriodicCheckpoints) {
  TempDir dir;
  const ToyClip clip = movingSquare(6, 32);
  auto model = makeModel();
  ASSERT_TRUE(model);
  FakeClock clock(0.25);
  TrainHooks hooks;
  hooks.now_seconds = [&] { return clock(); };
  hooks.checkpoint_path = dir.file("periodic.pt");
  hooks.checkpoint_seconds = 1;
  auto result = train(*model, clip, iterationSchedule(12), hooks);
  ASSERT_TRUE(result.ok()) << result.error();
  auto reloaded = makeModel();
  ASSERT_TRUE(reloaded);
  auto loaded = reloaded->load(hooks.checkpoint_path);
  EXPECT_TRUE(loaded.ok()) << loaded.error();
}

}  // namespace
}  // namespace booth
