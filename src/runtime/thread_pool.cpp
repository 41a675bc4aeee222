#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace nibble {

#ifdef NIBBLE_HAVE_THREADS
// Each parallel_for publishes one job (a new generation number) and the
// threads take its chunks (below). Between jobs a worker spins briefly on
// the generation before it sleeps on a condition variable: a transformer
// calls parallel_for hundreds of times per token, microseconds apart, and
// waking a sleeping thread costs tens of microseconds (more in wasm). The
// spin is short (2^14 loads, 18–30 µs as measured in Node's wasm) so that
// a busy machine loses little to it: with more runnable threads than cores, a spinning
// worker can hold the very core its caller waits for (a 0.5 ms spin halved
// decoding on this 2-core machine at load 3).
constexpr int kSpinIterations = 1 << 14;

// The range of a job is cut into one contiguous segment per thread. A
// thread takes chunks from the front of its own segment, then from the
// fronts of the others (in turn after its own), so each thread streams
// through contiguous weights (hardware prefetchers lose their stream at
// every jump: many small interleaved chunks made decoding 40% slower). A
// chunk is half of what is left in its segment (whole grains, at least
// one): long runs first, and small ones at the end, where a thread that
// started late or ran slower is evened out.
struct alignas(64) Segment {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
};

struct ThreadPool::Impl {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable wake, done;
  // Odd while a job is open (its chunks may be taken), even when closed.
  // The caller opens a job, takes chunks itself, and closes it once every
  // chunk is taken (by anyone); then it waits only for the workers that
  // are inside the job (`inside`), never for one that did not get to it:
  // a worker still asleep, or descheduled on a busy machine, used to hold
  // every parallel_for up until it had woken just to find nothing left
  // (the one-token steps run hundreds of them a token).
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};
  std::atomic<int> inside{0};  // workers between entering an open job and leaving it
  // The mutex and condition variables are only touched when a thread sleeps
  // or must wake one that does: taking the mutex on every job made the
  // caller, publishing the next job, queue behind a worker that was
  // notifying nobody (a futex wait of tens of µs, often). A sleeper
  // announces itself before its last check, and the other side checks after
  // its own store (all seq_cst), so a wake-up is never lost.
  std::atomic<int> sleepers{0};             // workers waiting on `wake`
  std::atomic<bool> caller_sleeping{false};  // the caller waiting on `done`
  // The current job, written before generation is bumped.
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t grain = 1;
  std::unique_ptr<Segment[]> segments;  // [threads]
  int threads = 0;

  void plan(int64_t n, int64_t job_grain) {
    grain = job_grain;
    const int64_t grains = (n + grain - 1) / grain;  // segments are whole grains
    for (int t = 0; t < threads; ++t) {
      segments[t].next.store(std::min(n, grains * t / threads * grain));
      segments[t].end = std::min(n, grains * (t + 1) / threads * grain);
    }
  }
  void run_chunks(int self) {
    for (int i = 0; i < threads; ++i) {
      Segment& s = segments[(self + i) % threads];
      int64_t begin = s.next.load();
      while (begin < s.end) {
        const int64_t half_grains = ((s.end - begin + grain - 1) / grain + 1) / 2;
        const int64_t end = std::min(s.end, begin + half_grains * grain);
        if (s.next.compare_exchange_weak(begin, end)) {  // on failure, begin is reloaded
          (*fn)(begin, end);
          begin = s.next.load();
        }
      }
    }
  }
  // Waits until an open job other than `seen` is published (or stop); returns it.
  uint64_t wait_for_job(uint64_t seen) {
    const auto ready = [&](uint64_t g) { return stop.load() || (g != seen && (g & 1) != 0); };
    for (;;) {
      uint64_t g = 0;
      for (int i = 0; i < kSpinIterations; ++i) {
        g = generation.load();
        if (ready(g)) return g;
      }
      // Asleep until the generation moves at all, then spinning again: a
      // job shorter than the wake-up is closed by the time this thread
      // runs, and waiting for the next open one asleep would miss each
      // such job in turn.
      std::unique_lock<std::mutex> lock(mu);
      sleepers.fetch_add(1);
      wake.wait(lock, [&] { return stop.load() || generation.load() != g; });
      sleepers.fetch_sub(1);
    }
  }
  void worker_loop(int self) {
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_job(seen);
      if (stop.load()) return;
      // Enter, then check the job is still open: the caller closes it
      // before it reads `inside`, so it waits for this worker exactly when
      // the worker may be taking its chunks (both sides seq_cst).
      inside.fetch_add(1);
      if (generation.load() == seen) run_chunks(self);
      if (inside.fetch_sub(1) == 1 && caller_sleeping.load()) {
        std::lock_guard<std::mutex> lock(mu);
        done.notify_one();
      }
    }
  }
  void wait_until_done() {
    for (int i = 0; i < kSpinIterations; ++i)
      if (inside.load() == 0) return;
    std::unique_lock<std::mutex> lock(mu);
    caller_sleeping.store(true);
    done.wait(lock, [&] { return inside.load() == 0; });
    caller_sleeping.store(false);
  }
};
#else
struct ThreadPool::Impl {};
#endif

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
#ifdef NIBBLE_HAVE_THREADS
  if (threads_ > 1) {
    impl_ = new Impl;
    impl_->threads = threads_;
    impl_->segments.reset(new Segment[size_t(threads_)]);
    for (int i = 1; i < threads_; ++i) impl_->workers.emplace_back([this, i] { impl_->worker_loop(i); });
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
    impl_->fn = &fn;
    impl_->plan(n, grain);
    impl_->generation.fetch_add(1);  // opens the job (publishes the fields above)
    if (impl_->sleepers.load() > 0) {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->wake.notify_all();
    }
    impl_->run_chunks(0);
    impl_->generation.fetch_add(1);  // closes it: every chunk is taken
    impl_->wait_until_done();
    return;
  }
#endif
  fn(0, n);
}

void parallel_for_if(ThreadPool* pool, bool split, int64_t n, int64_t grain,
                     const std::function<void(int64_t, int64_t)>& fn) {
#ifdef NIBBLE_HAVE_THREADS
  if (pool != nullptr && split) {
    pool->parallel_for(n, grain, fn);
    return;
  }
#else
  (void)pool, (void)split, (void)grain;  // one thread: always on the caller
#endif
  if (n > 0) fn(0, n);
}

}  // namespace nibble
