#pragma once
// WorkerPool: the HTTP server's threads (a cpp-httplib TaskQueue). A fixed
// number of threads, each lowered to `nice` when it starts, so that serving
// pages and clips yields the CPU to training (the trainer's own threads keep
// their priority). Each thread serves one connection at a time; connections
// wait in a FIFO while every thread is busy.
//
// Threading: cpp-httplib's listen thread calls enqueue(); shutdown() is
// called once, by that thread when the server stops, and joins the workers
// after the queued connections ran.
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
