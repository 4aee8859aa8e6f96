// SpoolWriter: frames from the camera thread into the spool, off the camera
// thread; raw pixels become JPEG here; a refusing spool is reported once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <opencv2/core.hpp>

#include "capture_node/spool/spool_writer.h"
#include "scripted_source.h"
#include "temp_dir.h"

namespace booth {
namespace {
using test::makeFrame;

TEST(SpoolWriter, EveryOfferedFrameEndsUpInTheSpoolAfterClose) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path(), "cam0", budget);
  std::atomic<int> appended{0};
  SpoolWriter writer(*spool.value(), {}, [&] { ++appended; }, nullptr);
  for (std::uint64_t i = 0; i < 50; ++i) {
    CapturedFrame f = makeFrame("cam0", i);
    ASSERT_TRUE(writer.offer(f));
  }
  writer.close();
  EXPECT_EQ(spool.value()->frameCount(), 50u);
  EXPECT_EQ(appended.load(), 50);
  EXPECT_EQ(writer.written(), 50u);
}

TEST(SpoolWriter, RawPixelsAreSpooledAsJpeg) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path(), "cam0", budget);
  SpoolWriter writer(*spool.value(), {}, nullptr, nullptr);
  const cv::Mat img(48, 64, CV_8UC3, cv::Scalar(30, 60, 90));
  CapturedFrame f = makeFrame("cam0", 0, std::string(reinterpret_cast<const char*>(img.data),
                                                     img.total() * 3));
  f.encoding = FrameEncoding::kRawBgr;
  ASSERT_TRUE(writer.offer(f));
  writer.close();
  auto back = spool.value()->readFrame(0);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->encoding, FrameEncoding::kJpeg);
  EXPECT_EQ(static_cast<unsigned char>(back->data[0]), 0xFF);
  EXPECT_LT(back->data.size(), img.total() * 3);
}

TEST(SpoolWriter, AFullSpoolIsReportedOnceAndLaterFramesAreCounted) {
  test::TempDir dir;
  SpoolBudget budget(150000);
  auto spool = CameraSpool::open(dir.path(), "cam0", budget);
  std::vector<std::string> failures;
  SpoolWriter writer(*spool.value(), {}, nullptr,
                     [&](const std::string& why) { failures.push_back(why); });
  for (std::uint64_t i = 0; i < 5; ++i) {
    CapturedFrame f = makeFrame("cam0", i, std::string(60000, 'x'));
    ASSERT_TRUE(writer.offer(f));
  }
  writer.close();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("spool full"), std::string::npos) << failures[0];
  EXPECT_EQ(spool.value()->frameCount(), 2u);
  EXPECT_EQ(writer.refused(), 3u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_TRUE(spool.value()->readFrame(i).ok());
}

TEST(SpoolWriter, OfferNeverWaitsWhenTheQueueIsFull) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path(), "cam0", budget);
  SpoolWriterConfig config;
  config.queue_frames = 1;
  // The writer is slow to drain (its thread sleeps in on_appended): offers
  // beyond the queue's room come back false at once.
  std::atomic<bool> release{false};
  SpoolWriter writer(*spool.value(), config,
                     [&] {
                       while (!release) std::this_thread::yield();
                     },
                     nullptr);
  int refused = 0;
  for (std::uint64_t i = 0; i < 20; ++i) {
    CapturedFrame f = makeFrame("cam0", i);
    if (!writer.offer(f)) ++refused;
  }
  release = true;
  writer.close();
  EXPECT_GT(refused, 0);
  EXPECT_EQ(spool.value()->frameCount() + static_cast<std::size_t>(refused), 20u);
}

}  // namespace
}  // namespace booth
