#pragma once
// A session of the synthetic performer `ada` dancing `warmup`, stored as
// the ingest stores one (JPEG frames at 160x120, ground-truth poses), for
// tests of what reads sessions back (the job runner, pretrain --sessions).
// The storing itself is trainer_node/pretrain/synthetic_corpus.h's.
#include <gtest/gtest.h>

#include <string>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/pretrain/synthetic_corpus.h"
#include "trainer_node/store/session_store.h"

namespace booth::test {

inline void storeSyntheticSession(SessionSink& store, const std::string& session, int frames,
                                  const std::string& node = "node",
                                  const std::string& camera = "cam0") {
  PerformerLook small = *findPerformer("ada");
  const cv::Size size(160, 120);
  small.body.height_px = small.body.height_px * size.height / 480.f;
  const auto recorded =
      syntheticSession(small, *findChoreography("warmup"), 3, frames / 15.0, 15, size, 95);
  ASSERT_TRUE(booth::storeSyntheticSession(store, session, node, camera, recorded).ok());
}

}  // namespace booth::test
