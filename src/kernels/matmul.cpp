// matmul(): validates, prepares activations (Q8_0 for W4A8, per-block sums
// for Q4_1 W4A32), then runs the config's kernels over output tiles, split
// across the thread pool by groups of weight rows. Every output element is
// computed by exactly one kernel call with the same arithmetic whatever the
// split, so results do not depend on the number of threads.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/config.h"
#include "kernels/packed_weights.h"
#include "runtime/thread_pool.h"

namespace nibble {
namespace {

// Activation rows processed per pass over the weights: keeps a pass's
// activations (kRowsPerPass × K int8 or f32) cache-resident.
constexpr int64_t kRowsPerPass = 64;
// Weight-row groups (of kPackRows rows) per thread-pool work item, at least.
constexpr int64_t kGroupsPerItem = 4;
// Below this many multiply-adds (a 576×576 GEMV is 0.33 M, ~16 µs) handing
// work to another thread costs more than it saves, even with the pool's
// workers spinning between jobs (runtime/thread_pool.cpp).
constexpr int64_t kMinParallelMacs = int64_t(1) << 17;

bool worth_splitting(ThreadPool* pool, int64_t macs) {
  return pool != nullptr && pool->size() > 1 && macs >= kMinParallelMacs;
}

// Reused per calling thread so steady-state calls do not allocate; grows to
// the largest activation seen. Workers only read it.
struct Scratch {
  std::vector<int8_t> qs;          // [M, K]     quantized activations
  std::vector<float> d;            // [M, K/32]  their scales
  std::vector<int32_t> sums;       // [M, K/32]  Σq per block
  std::vector<float> block_sums;   // [M, K/32]  Σx per block (Q4_1 W4A32)
};
thread_local Scratch t_scratch;

// Runs fn(tile) over Y in passes of kRowsPerPass activation rows, each pass
// split into tiles of whole weight-row groups, in parallel when the pool has
// threads.
template <typename Fn>
void for_each_tile(int64_t M, int64_t N, int64_t K, ThreadPool* pool, const Fn& fn) {
  const int64_t groups = (N + kPackRows - 1) / kPackRows;
  for (int64_t m0 = 0; m0 < M; m0 += kRowsPerPass) {
    const int64_t m1 = std::min(M, m0 + kRowsPerPass);
    auto run = [&](int64_t g0, int64_t g1) {
      fn(OutputTile{nullptr, N, m0, m1, g0 * kPackRows, std::min(N, g1 * kPackRows)});
    };
    if (worth_splitting(pool, (m1 - m0) * N * K)) {
      pool->parallel_for(groups, kGroupsPerItem, run);
    } else {
      run(0, groups);
    }
  }
}

// Runs fn(m0, m1) over activation rows, in parallel when the pool has threads.
template <typename Fn>
void for_each_row(int64_t M, int64_t K, ThreadPool* pool, const Fn& fn) {
  if (M > 1 && worth_splitting(pool, M * K)) {
    pool->parallel_for(M, 1, fn);
  } else {
    fn(0, M);
  }
}

Status validate(const PackedWeights& w, const float* x, int64_t M, const float* y) {
  if (w.empty()) return StateError("matmul: the weights are empty; pack them with PackedWeights::Pack first");
  if (x == nullptr || y == nullptr) return InvalidArgument("matmul: input x and output y must not be null");
  if (M <= 0) return OutOfRange("matmul: the number of activation rows M = " + std::to_string(M) + " must be > 0");
  if (uint64_t(M) > uint64_t(SIZE_MAX) / 4 / uint64_t(std::max(w.cols(), w.rows())))
    return ResourceError("matmul: M = " + std::to_string(M) + " rows of activations do not fit in memory");
  return Status::Ok();
}

}  // namespace

Status matmul_with(const KernelConfig& config, const PackedWeights& w, const float* x, int64_t M,
                   float* y, Precision precision, ThreadPool* pool) {
  NIBBLE_RETURN_IF_ERROR(validate(w, x, M, y));
  const int64_t N = w.rows(), K = w.cols();
  auto with_y = [y](OutputTile tile) {
    tile.y = y;
    return tile;
  };

  if (w.type() == TensorType::F32) {
    const F32Weights weights{reinterpret_cast<const float*>(w.data()), N, K};
    const F32Activations act{x, nullptr, K};
    const F32F32Fn kernel = M == 1 ? config.f32_gemv : config.f32_gemm;
    for_each_tile(M, N, w.cols(), pool, [&](const OutputTile& t) { kernel(weights, act, with_y(t)); });
    return Status::Ok();
  }

  const bool q4_1 = w.type() == TensorType::Q4_1;
  const KernelConfig::Q4Kernels& kernels = q4_1 ? config.q4_1 : config.q4_0;
  const Q4Weights weights{w.data(), N, K};
  const int64_t nb = K / kQK;
  Scratch& s = t_scratch;

  if (precision == Precision::kW4A8) {
    s.qs.resize(size_t(M * K));
    s.d.resize(size_t(M * nb));
    s.sums.resize(size_t(M * nb));
    for_each_row(M, K, pool, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m)
        config.quantize_q8(x + m * K, K, s.qs.data() + m * K, s.d.data() + m * nb, s.sums.data() + m * nb);
    });
    const Q8Activations act{s.qs.data(), s.d.data(), s.sums.data(), K};
    const Q4Q8Fn kernel = M == 1 ? kernels.q8_gemv : kernels.q8_gemm;
    for_each_tile(M, N, w.cols(), pool, [&](const OutputTile& t) { kernel(weights, act, with_y(t)); });
    return Status::Ok();
  }

  // W4A32. Σx per block is only needed for Q4_1's m·Σx term.
  const float* block_sums = nullptr;
  if (q4_1) {
    s.block_sums.resize(size_t(M * nb));
    for (int64_t i = 0; i < M * nb; ++i) {
      float sum = 0.0f;
      for (int j = 0; j < kQK; ++j) sum += x[i * kQK + j];
      s.block_sums[size_t(i)] = sum;
    }
    block_sums = s.block_sums.data();
  }
  const F32Activations act{x, block_sums, K};
  const Q4F32Fn kernel = M == 1 ? kernels.f32_gemv : kernels.f32_gemm;
  for_each_tile(M, N, w.cols(), pool, [&](const OutputTile& t) { kernel(weights, act, with_y(t)); });
  return Status::Ok();
}

Status matmul(const PackedWeights& w, const float* x, int64_t M, float* y, Precision precision,
              ThreadPool* pool) {
  return matmul_with(kernel_config(), w, x, M, y, precision, pool);
}

}  // namespace nibble
