// ThreadPool: splits a range of independent work items across threads.
//
// With one thread (or in a wasm build without pthreads) parallel_for runs the
// whole range inline on the caller. The caller's thread always takes part.
#pragma once

#include <cstdint>
#include <functional>

// Threads exist natively and in wasm builds with pthreads; a plain wasm build
// runs everything on the caller.
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define NIBBLE_HAVE_THREADS 1
#endif

namespace nibble {

class ThreadPool {
 public:
  // threads <= 1 means no worker threads at all.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n), each chunk a
  // multiple of `grain` items (but the last), and returns when all are done.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  struct Impl;
  int threads_;
  [[maybe_unused]] Impl* impl_ = nullptr;  // unused in builds without threads
};

// pool->parallel_for(n, grain, fn) when there is a pool and `split` holds
// (the caller judged the work big enough to be worth handing out), else
// fn(0, n) on the caller.
void parallel_for_if(ThreadPool* pool, bool split, int64_t n, int64_t grain,
                     const std::function<void(int64_t, int64_t)>& fn);

}  // namespace nibble
