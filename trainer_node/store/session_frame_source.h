#pragma once
// SessionFrameSource: where a worker gets the frames of a job's session to
// train on, one implementation per kind of store:
//   SessionStore (session_store.h)            the files the ingest wrote in
//                                             this trainer's data folder
//   BlobSessionFrames (blob_session_frames.h) the ingest's segment blobs,
//                                             materialized first into the
//                                             worker's scratch folder in the
//                                             session store's own format
// Either way the training code gets the same StoredFrames.
//
// Threading: one job's thread at a time per call; implementations keep no
// state between calls.
#include <filesystem>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/jobs/job_record.h"
#include "trainer_node/store/stored_frame.h"

namespace booth {

class SessionFrameSource {
 public:
  virtual ~SessionFrameSource() = default;
  // Every frame of `camera` (one of job.cameras) with its performer pose, in
  // sequence order. `scratch`: an empty folder of the caller's that the
  // source may fill (the worker removes it after the job). Missing or
  // damaged data is an error naming what and where, never an exception.
  virtual Result<std::vector<StoredFrame>> loadCamera(const JobRecord& job,
                                                      const CameraFrames& camera,
                                                      const std::filesystem::path& scratch) = 0;
};

}  // namespace booth
