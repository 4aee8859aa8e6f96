// trainer_node pretrain: a base from the synthetic corpus, and resume.
#include "trainer_node/pretrain/pretrainer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "model_test_support.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {
namespace {

using test::TempDir;
using test::tinyModelConfig;

PretrainConfig tinyPretrain(const TempDir& dir, int iterations) {
  PretrainConfig c;
  c.model = tinyModelConfig();
  c.train.max_iterations = iterations;
  c.train.budget_seconds = 3600;
  c.train.batch_size = 2;
  c.train.adapt_threads = false;
  c.out = dir.path() / "base.pt";
  c.corpus.performers = {"ben"};
  c.corpus.random_performers = 1;
  c.corpus.choreographies = {"robot"};
  c.corpus.clip_seconds = 0.3;
  c.corpus.frame = cv::Size(160, 120);
  c.progress_seconds = 0;
  return c;
}

TEST(Pretrainer, WritesABaseThatLoadsIntoTheSameModel) {
  TempDir dir;
  std::ostringstream log;
  Pretrainer pretrainer(tinyPretrain(dir, 6), log);
  auto summary = pretrainer.run({});
  ASSERT_TRUE(summary.ok()) << summary.error() << "\n" << log.str();
  EXPECT_TRUE(summary->finished);
  EXPECT_EQ(summary->iterations, 6);
  EXPECT_EQ(summary->written, dir.path() / "base.pt");
  EXPECT_FALSE(std::filesystem::exists(Pretrainer::resumePath(dir.path() / "base.pt")));
  auto model = PoseToImageModel::create(tinyModelConfig(), "cpu");
  ASSERT_TRUE(model.ok());
  auto loaded = (*model)->loadWeights((dir.path() / "base.pt").string());
  EXPECT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_NE(log.str().find("step 6/6"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("6 generator steps and 0 face-GAN steps"), std::string::npos) << log.str();
}

TEST(Pretrainer, AStoppedRunResumesFromItsState) {
  TempDir dir;
  const auto resume = Pretrainer::resumePath(dir.path() / "base.pt");
  {
    std::ostringstream log;  // read only after the run's thread ended
    PretrainConfig config = tinyPretrain(dir, 2000);
    config.checkpoint_seconds = 0.2;
    Pretrainer first(config, log);
    first.start();
    // Stop once training has saved its state at least once.
    for (int i = 0; i < 1200 && !std::filesystem::exists(resume); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    first.stop();
    auto summary = first.wait();
    ASSERT_TRUE(summary.ok()) << summary.error() << "\n" << log.str();
    ASSERT_FALSE(summary->finished) << log.str();
    EXPECT_EQ(summary->written, resume);
    ASSERT_TRUE(std::filesystem::exists(resume));
    ASSERT_LT(summary->iterations, 2000);
  }
  std::ostringstream log;
  PretrainConfig config = tinyPretrain(dir, 2000);
  config.train.max_iterations = 40;  // the schedule is over sooner now
  Pretrainer second(config, log);
  auto summary = second.run({});
  ASSERT_TRUE(summary.ok()) << summary.error();
  EXPECT_TRUE(summary->finished);
  EXPECT_NE(log.str().find("resuming from"), std::string::npos) << log.str();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "base.pt"));
  EXPECT_FALSE(std::filesystem::exists(resume));
}

TEST(Pretrainer, RejectsAnEmptyCorpus) {
  TempDir dir;
  PretrainConfig config = tinyPretrain(dir, 5);
  config.synthetic = false;
  std::ostringstream log;
  Pretrainer pretrainer(config, log);
  auto summary = pretrainer.run({});
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().find("--sessions"), std::string::npos) << summary.error();
}

}  // namespace
}  // namespace booth
