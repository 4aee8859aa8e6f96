#include "trainer_node/jobs/job_queue.h"

namespace booth {

const char* jobQueueErrorName(JobQueueError error) {
  switch (error) {
    case JobQueueError::kNotFound:
      return "not found";
    case JobQueueError::kRefused:
      return "refused";
    case JobQueueError::kFenced:
      return "fenced";
    case JobQueueError::kNotRunning:
      return "not running";
    case JobQueueError::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

}  // namespace booth
