#include "trainer_node/train/cuda_graph_step.h"

#ifdef BOOTH_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

#include <exception>
#include <optional>
#include <string>

namespace booth {

#ifdef BOOTH_WITH_CUDA
namespace {

// pytorch's documentation warms up for a few iterations on a side stream
// before capturing; three is what its examples use.
constexpr int kWarmupSteps = 3;

class CudaGraphStepImpl final : public CudaGraphStep {
 public:
  explicit CudaGraphStepImpl(std::function<void()> body)
      : body_(std::move(body)), stream_(c10::cuda::getStreamFromPool()) {}

  Status run() override {
    try {
      if (graph_) {
        graph_->replay();
        return okStatus();
      }
      if (warmups_ < kWarmupSteps) {
        // The inputs were written on the current stream: let the side stream
        // see them, and let later work see the side stream's results.
        torch::cuda::synchronize();
        {
          c10::cuda::CUDAStreamGuard guard(stream_);
          body_();
        }
        torch::cuda::synchronize();
        ++warmups_;
        return okStatus();
      }
      torch::cuda::synchronize();
      auto graph = std::make_unique<at::cuda::CUDAGraph>();
      {
        c10::cuda::CUDAStreamGuard guard(stream_);
        graph->capture_begin();
        body_();
        graph->capture_end();
      }
      torch::cuda::synchronize();
      graph_ = std::move(graph);
      // Capturing records the work without doing it: do this step now.
      graph_->replay();
      return okStatus();
    } catch (const std::exception& e) {
      return fail(std::string("CUDA graph step: ") + e.what());
    }
  }

  bool captured() const override { return graph_ != nullptr; }

 private:
  std::function<void()> body_;
  c10::cuda::CUDAStream stream_;
  std::unique_ptr<at::cuda::CUDAGraph> graph_;
  int warmups_ = 0;
};

}  // namespace

Result<std::unique_ptr<CudaGraphStep>> CudaGraphStep::create(std::function<void()> body) {
  try {
    if (!torch::cuda::is_available()) return fail("CUDA graphs need a CUDA device; none is available");
    return std::unique_ptr<CudaGraphStep>(new CudaGraphStepImpl(std::move(body)));
  } catch (const std::exception& e) {
    return fail(std::string("cannot set up a CUDA graph: ") + e.what());
  }
}

bool cudaGraphsCompiledIn() { return true; }

#else

Result<std::unique_ptr<CudaGraphStep>> CudaGraphStep::create(std::function<void()>) {
  return fail(
      "this trainer_node was built against a libtorch without CUDA, so it cannot capture CUDA "
      "graphs; rebuild with -DCMAKE_PREFIX_PATH=<CUDA libtorch> (see trainer_node/README.md)");
}

bool cudaGraphsCompiledIn() { return false; }

#endif

}  // namespace booth
