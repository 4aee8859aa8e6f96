#pragma once
// CudaGraphStep: runs one training step, captured once in a CUDA graph and
// replayed after (PyTorch's "whole network capture"). A small generator on
// a fast GPU is launch-bound: replaying the step's hundreds of kernels as
// one graph removes the per-kernel CPU cost. Internal to
// trainer_node/train/ (includes libtorch).
//
// Contract for `body`: reads only the static input tensors the caller
// refills before each run() (copy_ into them, never reassign), writes its
// results into static output tensors (copy_), allocates nothing that must
// outlive the call, never synchronizes with the host (no item()), and
// launches the optimizer updates whose step sizes the caller set before
// run() (FlatAdam::prepare). run() blocks nothing: the work is queued on the
// current stream.
//
// Only in builds against a CUDA libtorch (BOOTH_WITH_CUDA); elsewhere
// create() fails with the reason.
#include <functional>
#include <memory>

#include "common/core/result.h"

namespace booth {

class CudaGraphStep {
 public:
  static Result<std::unique_ptr<CudaGraphStep>> create(std::function<void()> body);
  virtual ~CudaGraphStep() = default;
  // The first few calls run `body` eagerly on a side stream (warm-up:
  // cuDNN picks its algorithms, the allocator fills its pool), the next
  // captures and replays it, later ones replay.
  virtual Status run() = 0;
  virtual bool captured() const = 0;
};

// Whether this build can capture CUDA graphs at all.
bool cudaGraphsCompiledIn();

}  // namespace booth
