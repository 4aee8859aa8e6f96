#pragma once
// WorkerPool: the HTTP server's threads. A fixed number of threads, each
// lowered to `nice` when it starts, so that serving pages and clips yields
// the CPU to training (the trainer's own threads keep their priority). Each
// thread serves one whole request at a time (HttpServer hands over only
// requests its HeadReader has read); requests wait in a FIFO while every
// thread is busy.
//
// Threading: the HeadReader's thread calls enqueue(); shutdown() is called
// by HttpServer when the server stops, and joins the workers after the
// queued requests ran.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace booth {

class WorkerPool : public httplib::TaskQueue {
 public:
  WorkerPool(std::size_t threads, int nice);
  ~WorkerPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void work();
  std::mutex mutex_;  // guards jobs_ and stopping_
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  int nice_;
  std::vector<std::jthread> threads_;
};

}  // namespace booth
