// The built-in synthetic corpus of the base model.
#include "trainer_node/pretrain/synthetic_corpus.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace booth
