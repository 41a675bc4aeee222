#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

// Threads exist natively and in wasm builds with pthreads; a plain wasm build
// runs everything on the caller.
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define NIBBLE_HAVE_THREADS 1
#endif

namespace nibble {

#ifdef NIBBLE_HAVE_THREADS
// Each parallel_for publishes one job (a new generation number) and workers
// take chunks from a shared counter. Between jobs a worker spins briefly on
// the generation before it sleeps on a condition variable: a transformer
// calls parallel_for hundreds of times per token, microseconds apart, and
// waking a sleeping thread costs tens of microseconds (more in wasm). The
// spin is short so that a busy machine loses little to it.
constexpr int kSpinIterations = 1 << 14;

struct ThreadPool::Impl {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable wake, done;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};
  std::atomic<int> busy{0};
  // The current job, written before generation is bumped.
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0, chunk = 1;
  std::atomic<int64_t> next{0};

  void run_chunks() {
    for (;;) {
      int64_t begin = next.fetch_add(chunk);
      if (begin >= n) return;
      (*fn)(begin, std::min(n, begin + chunk));
    }
  }
  // Waits until generation differs from `seen` (or stop); returns it.
  uint64_t wait_for_job(uint64_t seen) {
    for (int i = 0; i < kSpinIterations; ++i) {
      const uint64_t g = generation.load();
      if (g != seen || stop.load()) return g;
    }
    std::unique_lock<std::mutex> lock(mu);
    wake.wait(lock, [&] { return stop.load() || generation.load() != seen; });
    return generation.load();
  }
  void worker_loop() {
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_job(seen);
      if (stop.load()) return;
      run_chunks();
      if (busy.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mu);
        done.notify_one();
      }
    }
  }
  void wait_until_done() {
    for (int i = 0; i < kSpinIterations; ++i)
      if (busy.load() == 0) return;
    std::unique_lock<std::mutex> lock(mu);
    done.wait(lock, [&] { return busy.load() == 0; });
  }
};
#else
struct ThreadPool::Impl {};
#endif

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
#ifdef NIBBLE_HAVE_THREADS
  if (threads_ > 1) {
    impl_ = new Impl;
    for (int i = 1; i < threads_; ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
  }
#else
  threads_ = 1;
#endif
}

ThreadPool::~ThreadPool() {
#ifdef NIBBLE_HAVE_THREADS
  if (impl_) {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->stop = true;
    }
    impl_->wake.notify_all();
    for (auto& t : impl_->workers) t.join();
    delete impl_;
  }
#endif
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
#ifdef NIBBLE_HAVE_THREADS
  if (impl_ && n > grain) {
    // About four chunks per thread balances uneven progress without much
    // counter traffic; chunks stay multiples of grain.
    int64_t chunks = int64_t(threads_) * 4;
    int64_t chunk = (n + chunks - 1) / chunks;
    chunk = std::max(grain, (chunk + grain - 1) / grain * grain);
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->fn = &fn;
      impl_->n = n;
      impl_->chunk = chunk;
      impl_->next.store(0);
      impl_->busy.store(int(impl_->workers.size()));
      impl_->generation.fetch_add(1);  // publishes the job to spinning workers
    }
    impl_->wake.notify_all();
    impl_->run_chunks();
    impl_->wait_until_done();
    return;
  }
#endif
  fn(0, n);
}

}  // namespace nibble
