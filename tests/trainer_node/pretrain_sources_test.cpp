// What `trainer_node pretrain` takes besides the synthetic corpus: stored
// sessions (only those whose visitor agreed to improve the booth) and dance
// videos posed through the capture node's import path.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "../capture_node/pose_model_files.h"
#include "job_fixtures.h"
#include "session_fixtures.h"
#include "trainer_node/pretrain/stored_sessions.h"
#include "trainer_node/pretrain/video_clips.h"
#include "trainer_node/store/job_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

class PretrainSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_pretrain_src_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sessions");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A stored session and its job (done), the visitor agreeing or not.
  void addSession(JobStore& jobs, const std::string& session, bool consent,
                  bool withdrawn = false) {
    SessionStore store(dir_, false);
    test::storeSyntheticSession(store, session, 12);
    JobRecord j;
    j.id = "job-" + session;
    j.session_id = session;
    j.state = JobState::kDone;
    j.clip_token = "clip-" + session;
    j.may_improve_booth = consent;
    ASSERT_TRUE(test::insertInState(jobs, j).ok());
    if (withdrawn) {
      ASSERT_TRUE(jobs.withdrawConsent(j.id, 1000).ok());
    }
  }
  TrainingSetOptions options() const {
    TrainingSetOptions o;
    o.resolution = 64;
    o.held_out_fraction = 0;
    return o;
  }
  fs::path dir_;
};

TEST_F(PretrainSourcesTest, OnlySessionsWhoseVisitorAgreedAreUsed) {
  {
    auto jobs = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(jobs.ok()) << jobs.error();
    addSession(*jobs.value(), "s-agreed", true);
    addSession(*jobs.value(), "s-plain", false);
    addSession(*jobs.value(), "s-changed", true, /*withdrawn=*/true);
  }
  SessionStore unrecorded(dir_, false);
  test::storeSyntheticSession(unrecorded, "s-nojob", 12);

  std::ostringstream log;
  auto corpus = loadConsentedSessions(dir_, options(), log);
  ASSERT_TRUE(corpus.ok()) << corpus.error();
  EXPECT_EQ(corpus->sessions_used, 1u);
  ASSERT_EQ(corpus->clips.size(), 1u);
  EXPECT_EQ(corpus->clips[0].frames.size(), 12u);
  EXPECT_EQ(corpus->refused, (std::vector<std::string>{"s-changed", "s-nojob", "s-plain"}));
  const std::string text = log.str();
  EXPECT_NE(text.find("refusing session s-plain: its visitor did not agree to improve the booth"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("refusing session s-changed: its visitor withdrew their consent"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("refusing session s-nojob: no job records"), std::string::npos) << text;
}

TEST_F(PretrainSourcesTest, WithoutAJobDatabaseNoSessionCanBeUsed) {
  SessionStore store(dir_, false);
  test::storeSyntheticSession(store, "s-1", 4);
  std::ostringstream log;
  auto corpus = loadConsentedSessions(dir_, options(), log);
  ASSERT_FALSE(corpus.ok());
  EXPECT_NE(corpus.error().find("jobs.sqlite"), std::string::npos) << corpus.error();
  EXPECT_FALSE(fs::exists(dir_ / "jobs.sqlite")) << "nothing is created in the data dir";
}

TEST_F(PretrainSourcesTest, ConsentRefusalNamesTheSessionAndTheReason) {
  JobRecord j;
  j.state = JobState::kDone;
  EXPECT_NE(consentRefusal("s-9", j)->find("s-9"), std::string::npos);
  j.may_improve_booth = true;
  EXPECT_FALSE(consentRefusal("s-9", j).has_value());
  j.state = JobState::kTraining;
  EXPECT_NE(consentRefusal("s-9", j)->find("training"), std::string::npos);
  j.state = JobState::kExpired;
  j.frames_purged_ms = 5;
  EXPECT_NE(consentRefusal("s-9", j)->find("deleted"), std::string::npos);
}

TEST_F(PretrainSourcesTest, AFolderWithoutVideosIsAClearError) {
  auto none = listVideos(dir_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("has no video"), std::string::npos) << none.error();
}

TEST_F(PretrainSourcesTest, AVideoGoesThroughTheImportPathIntoATrainingClip) {
  const fs::path asset = fs::absolute(test::requireSharedAsset("tfjs_pose_1.mp4"));
  const fs::path videos = dir_ / "videos";
  fs::create_directories(videos);
  fs::create_symlink(asset, videos / "walk.mp4");
  std::ofstream(videos / "notes.txt") << "not a video";

  VideoCorpusOptions o;
  o.pose.model_path = test::assetManifest(dir_ / "models").string();
  o.pose.input_width = 256;  // small and quick; accuracy is the importer test's business
  o.pose.input_height = 256;
  o.crop_model = test::moveNetAssetManifest(dir_ / "models").string();
  o.max_frames_per_video = 60;
  o.training = options();
  std::ostringstream log;
  auto corpus = loadVideoClips(videos, o, log);
  ASSERT_TRUE(corpus.ok()) << corpus.error() << "\n" << log.str();
  EXPECT_EQ(corpus->videos_seen, 1u);
  ASSERT_EQ(corpus->clips.size(), 1u);
  const TrainingSet& clip = corpus->clips[0];
  EXPECT_GE(clip.frames.size(), 40u) << "most of the 60 frames show the dancer";
  EXPECT_LE(clip.frames.size(), 60u);
  EXPECT_EQ(clip.resolution, 64);
  // Frames were shrunk on arrival to twice the resolution on the short side.
  EXPECT_EQ(clip.source_width, 128);
  EXPECT_EQ(clip.source_height, 128);
  ASSERT_EQ(clip.poses.size(), clip.frames.size());
  EXPECT_GE(clip.poses[0].validCount(), 10) << "the pose came along, in model pixels";
}

}  // namespace
}  // namespace booth
