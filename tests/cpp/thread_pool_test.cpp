// ThreadPool: parallel_for hands out [0, n) exactly once in grain-aligned
// chunks for any thread count, size and grain, over many calls and pools;
// worker threads really run beside the caller; and matmul() gives bitwise
// the same output with 2, 3 or 4 threads as with one, for every kernel tier,
// weight type and precision, in GEMV (split by rows) and GEMM (split by
// tiles), one matrix or several sharing an input.
//
// Built only where there are threads: natively and in the wasm pthreads
// builds (CMakeLists.txt). A wasm build without pthreads has one thread, and
// these tests would compare one thread with one thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernels/config.h"
#include "kernels/matmul.h"
#include "kernels/packed_weights.h"
#include "runtime/thread_pool.h"
#include "support/kernel_test_util.h"

namespace nibble {
namespace {

using namespace kerneltest;

// Runs pool.parallel_for(n, grain) and checks every index was visited once
// and every chunk started on a multiple of grain and held a multiple of
// grain items (but the one ending at n).
void expect_exact_cover(ThreadPool& pool, int64_t n, int64_t grain) {
  const std::string where = "threads=" + std::to_string(pool.size()) + " n=" + std::to_string(n) +
                            " grain=" + std::to_string(grain);
  std::unique_ptr<std::atomic<int>[]> visits(new std::atomic<int>[size_t(n > 0 ? n : 1)]);
  for (int64_t i = 0; i < n; ++i) visits[size_t(i)] = 0;
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> bad_chunks;
  pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    const bool aligned = begin % grain == 0 && (end == n || (end - begin) % grain == 0);
    if (begin < 0 || end > n || begin >= end || !aligned) {
      std::lock_guard<std::mutex> lock(mu);
      bad_chunks.emplace_back(begin, end);
      return;
    }
    for (int64_t i = begin; i < end; ++i) visits[size_t(i)].fetch_add(1);
  });
  for (const auto& c : bad_chunks) ADD_FAILURE() << where << ": bad chunk [" << c.first << ", " << c.second << ")";
  for (int64_t i = 0; i < n; ++i) {
    if (visits[size_t(i)] != 1) {
      ADD_FAILURE() << where << ": index " << i << " visited " << visits[size_t(i)] << " times, expected 1";
      return;
    }
  }
}

TEST(ThreadPool, CoversEveryIndexOnceForAllSizes) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int64_t grain : {1, 3, 4, 16, 64}) {
      // Sizes around the grain and around the split into per-thread segments.
      for (int64_t n = 0; n <= 130; ++n) expect_exact_cover(pool, n, grain);
      for (int64_t n : {1000, 4099, 65536}) expect_exact_cover(pool, n, grain);
      if (HasFailure()) return;
    }
  }
}

TEST(ThreadPool, ZeroAndNegativeGrainAreOne) {
  ThreadPool pool(2);
  int64_t total = 0;
  std::mutex mu;
  for (int64_t grain : {0, -5}) {
    pool.parallel_for(100, grain, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(mu);
      total += e - b;
    });
  }
  EXPECT_EQ(total, 200);
}

TEST(ThreadPool, ManyCallsOnOnePool) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  int64_t want = 0;
  for (int call = 0; call < 3000; ++call) {
    const int64_t n = call % 97;
    want += n * (n - 1) / 2;
    pool.parallel_for(n, 1 + call % 5, [&](int64_t b, int64_t e) {
      int64_t s = 0;
      for (int64_t i = b; i < e; ++i) s += i;
      sum.fetch_add(s);
    });
  }
  EXPECT_EQ(sum.load(), want);
}

// Pools made and destroyed one after another (as models are loaded and
// disposed): in wasm every destroyed pool's workers must be free again.
TEST(ThreadPool, PoolsComeAndGo) {
  for (int round = 0; round < 40; ++round) {
    ThreadPool pool(2 + round % 3);
    expect_exact_cover(pool, 257, 4);
    if (HasFailure()) return;
  }
}

TEST(ThreadPool, SizeIsAtLeastOne) {
  EXPECT_EQ(ThreadPool(0).size(), 1);
  EXPECT_EQ(ThreadPool(-3).size(), 1);
  EXPECT_EQ(ThreadPool(1).size(), 1);
}

// Two chunks are in fn at the same time: the first chunk waits (up to 20 s)
// until a second thread has entered, which only a running worker can do.
TEST(ThreadPool, WorkersRunBesideTheCaller) {
#ifdef __EMSCRIPTEN__
  std::printf("[ info ] thread tests in a wasm pthreads build\n");
#else
  std::printf("[ info ] thread tests in the native build\n");
#endif
  ThreadPool pool(2);
  ASSERT_EQ(pool.size(), 2);
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  pool.parallel_for(8, 1, [&](int64_t, int64_t) {
    inside.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!overlapped.load() && std::chrono::steady_clock::now() < deadline) {
      if (inside.load() >= 2) overlapped = true;
    }
    inside.fetch_sub(1);
  });
  EXPECT_TRUE(overlapped.load()) << "no two chunks of parallel_for ever ran at the same time with 2 threads";
}

// ---------------------------------------------------------------------------
// matmul with threads

void expect_same_bits(const std::vector<float>& want, const std::vector<float>& got, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0) {
      FAIL() << what << ": y[" << i << "] 1 thread " << want[i] << " vs threaded " << got[i];
    }
  }
}

struct Weights {
  PackedWeights packed;
  std::string name;
};

// y = x·Wᵀ of every tier and precision, one thread against each pool:
// bitwise the same.
void expect_threaded_equals_single(const std::vector<Weights>& weights, const std::vector<float>& x, int64_t M, int64_t K,
                                   const std::vector<ThreadPool*>& pools) {
  for (const KernelConfig* config : tiers()) {
    for (const Weights& w : weights) {
      const int64_t N = w.packed.rows();
      for (Precision prec : {Precision::kW4A8, Precision::kW4A32}) {
        std::vector<float> one(size_t(M * N));
        ASSERT_TRUE(matmul_with(*config, w.packed, x.data(), M, one.data(), prec, nullptr).ok());
        for (ThreadPool* pool : pools) {
          std::vector<float> many(size_t(M * N), -1.0f);
          ASSERT_TRUE(matmul_with(*config, w.packed, x.data(), M, many.data(), prec, pool).ok());
          expect_same_bits(one, many,
                           std::string(config->name) + " " + w.name + (prec == Precision::kW4A8 ? " w4a8 " : " w4a32 ") +
                               shape_str(M, N, K) + " threads=" + std::to_string(pool->size()));
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
}

std::vector<Weights> random_weights(Rng& rng, int64_t N, int64_t K) {
  std::vector<Weights> out(3);
  const auto q40 = random_q4_0(rng, N, K);
  const auto q41 = random_q4_1(rng, N, K);
  const auto f32 = random_activations(rng, N * K);
  EXPECT_TRUE(PackedWeights::Pack(TensorType::Q4_0, q40.data(), q40.size() * sizeof(BlockQ4_0), N, K, &out[0].packed).ok());
  EXPECT_TRUE(PackedWeights::Pack(TensorType::Q4_1, q41.data(), q41.size() * sizeof(BlockQ4_1), N, K, &out[1].packed).ok());
  EXPECT_TRUE(PackedWeights::Pack(TensorType::F32, f32.data(), f32.size() * 4, N, K, &out[2].packed).ok());
  out[0].name = "q4_0";
  out[1].name = "q4_1";
  out[2].name = "f32";
  return out;
}

// N: below one work item, not a multiple of the 4-row group, and large;
// M: GEMV, small GEMM, and more rows than one pass (64).
TEST(ThreadPoolMatmul, ThreadedEqualsSingleThreadBitwise) {
  Rng rng(20240611);
  const int64_t shapes[][2] = {{5, 32}, {67, 96}, {1001, 256}, {4096, 128}};  // {N, K}
  ThreadPool two(2), three(3), four(4);
  for (const auto& nk : shapes) {
    const int64_t N = nk[0], K = nk[1];
    const std::vector<Weights> weights = random_weights(rng, N, K);
    for (int64_t M : {1, 2, 5, 64, 67}) {
      // Many rows of many outputs add no new split, only time (ASan, wasm):
      // 4096 outputs run with M ≤ 5, 64 and 67 rows with 1,001 outputs.
      if (N * M > 70000) continue;
      expect_threaded_equals_single(weights, random_activations(rng, M * K), M, K, {&two, &three, &four});
      if (HasFailure()) return;
    }
  }
}

// The other weight types (their GEMV and GEMM kernels split by the same
// tiles): rows not a multiple of the tile and above one work item; GEMV, a
// small GEMM and more rows than one pass (with 67 outputs only: time).
TEST(ThreadPoolMatmul, EveryTypeThreadedEqualsSingleThreadBitwise) {
  Rng rng(7);
  ThreadPool pool(3);
  for (int64_t N : {67, 1001}) {
    const int64_t K = 256;
    std::vector<Weights> weights;
    const auto add = [&](TensorType type, const std::vector<uint8_t>& bytes) {
      weights.emplace_back();
      weights.back().name = tensor_type_info(type)->name;
      EXPECT_TRUE(PackedWeights::Pack(type, bytes.data(), bytes.size(), N, K, &weights.back().packed).ok());
    };
    const auto as_bytes = [](const auto& blocks) {
      const uint8_t* p = reinterpret_cast<const uint8_t*>(blocks.data());
      return std::vector<uint8_t>(p, p + blocks.size() * sizeof(blocks[0]));
    };
    add(TensorType::Q5_0, as_bytes(random_blocks<BlockQ5_0>(rng, N, K)));
    add(TensorType::Q5_1, as_bytes(random_blocks<BlockQ5_1>(rng, N, K)));
    add(TensorType::Q8_0, as_bytes(random_blocks<BlockQ8_0>(rng, N, K)));
    add(TensorType::IQ4_NL, as_bytes(random_blocks<BlockIQ4_NL>(rng, N, K)));
    for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) add(type, random_k_blocks(rng, type, N, K));
    for (int64_t M : {1, 5, 67}) {
      if (N * M > 20000) continue;
      expect_threaded_equals_single(weights, random_activations(rng, M * K), M, K, {&pool});
      if (HasFailure()) return;
    }
  }
}

// Matrices sharing one input (three weight types, 577 rows: not a multiple
// of 4), tiles split across threads: bitwise the outputs without a pool
// (which kernels_matmul_test.cpp holds to matmul() of each matrix alone).
TEST(ThreadPoolMatmul, SharedInputThreadedEqualsSingleThread) {
  Rng rng(11);
  const int64_t N = 577, K = 320;
  std::vector<Weights> weights = random_weights(rng, N, K);
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int t : {2, 3}) pools.emplace_back(new ThreadPool(t));
  for (int64_t M : {1, 5, 70}) {
    const auto x = random_activations(rng, M * K);
    for (Precision prec : {Precision::kW4A8, Precision::kW4A32}) {
      std::vector<float> one[3], many[3];
      MatmulTarget one_targets[3], many_targets[3];
      for (int i = 0; i < 3; ++i) {
        one[i].resize(size_t(M * N));
        one_targets[i] = {&weights[size_t(i)].packed, one[i].data()};
      }
      ASSERT_TRUE(matmul_shared_input(one_targets, 3, x.data(), M, prec, nullptr).ok());
      for (const auto& pool : pools) {
        for (int i = 0; i < 3; ++i) {
          many[i].assign(size_t(M * N), -1.0f);
          many_targets[i] = {&weights[size_t(i)].packed, many[i].data()};
        }
        ASSERT_TRUE(matmul_shared_input(many_targets, 3, x.data(), M, prec, pool.get()).ok());
        for (int i = 0; i < 3; ++i)
          expect_same_bits(one[i], many[i],
                           "shared input " + weights[size_t(i)].name + (prec == Precision::kW4A8 ? " w4a8 " : " w4a32 ") +
                               shape_str(M, N, K) + " threads=" + std::to_string(pool->size()));
        if (HasFailure()) return;
      }
    }
  }
}

// The same pool serves many matmuls in a row (a model's decode loop).
TEST(ThreadPoolMatmul, RepeatedCallsStayEqual) {
  Rng rng(99);
  const int64_t N = 300, K = 64;
  const std::vector<Weights> weights = random_weights(rng, N, K);
  const auto x = random_activations(rng, K);
  std::vector<float> want(static_cast<size_t>(N));
  ASSERT_TRUE(matmul(weights[0].packed, x.data(), 1, want.data(), Precision::kW4A8).ok());
  ThreadPool pool(2);
  for (int call = 0; call < 500; ++call) {
    std::vector<float> got(size_t(N), 0.0f);
    ASSERT_TRUE(matmul(weights[0].packed, x.data(), 1, got.data(), Precision::kW4A8, &pool).ok());
    expect_same_bits(want, got, "call " + std::to_string(call));
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace nibble
