// matmul(): validates, prepares activations once (rotated per block for
// weights stored rotated; Q8_0 for W4A8, signed 4-bit for W4A4, per-block
// sums for Q4_1 W4A32), then runs the config's kernels over output tiles of
// every target, split across the thread pool by groups of weight rows. Every output element is
// computed by exactly one kernel call with the same arithmetic whatever the
// split, so results do not depend on the number of threads.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/config.h"
#include "kernels/packed_weights.h"
#include "quant/hadamard.h"
#include "runtime/decimal_text.h"
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
  std::vector<float> rotated;      // [M, K]     x shifted and/or rotated per block
  std::vector<int8_t> qs;          // [M, K]     quantized activations
  std::vector<float> d;            // [M, K/32]  their scales
  std::vector<int32_t> sums;       // [M, K/32]  Σq per block
  std::vector<float> block_sums;   // [M, K/32]  Σx per block (Q4_1 W4A32)
  std::vector<float> coefficients;  // [M, r]    x's coefficients along the input basis (W4A4)
  std::vector<int32_t> interleaved;  // the tier's Q8 layout, if it has one
  std::vector<const TypeKernels*> kernels;  // [count] each target's kernel set
};
thread_local Scratch t_scratch;

// Grows a scratch vector to at least n elements and never shrinks it: a
// prompt's matmuls alternate K (576 and 1536 in the bench model) and M (the
// prompt, then one row for its logits), and each resize up would otherwise
// value-initialize the new tail one element at a time (about 5% of a
// 64-token prompt's time in Node, with every layer's down projection).
template <typename T>
void grow(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(n);
}

// Runs fn(target, tile) over every target's Y in passes of kRowsPerPass
// activation rows; a pass splits the targets' weight-row groups, taken one
// after the other, into tiles that never straddle two targets, in parallel
// when the pool has threads and the pass is big enough.
template <typename Fn>
void for_each_tile(const MatmulTarget* targets, int count, int64_t M, int64_t K, ThreadPool* pool, const Fn& fn) {
  int64_t groups = 0, rows = 0;
  for (int i = 0; i < count; ++i) {
    groups += (targets[i].w->rows() + kPackRows - 1) / kPackRows;
    rows += targets[i].w->rows();
  }
  for (int64_t m0 = 0; m0 < M; m0 += kRowsPerPass) {
    const int64_t m1 = std::min(M, m0 + kRowsPerPass);
    auto run = [&](int64_t g0, int64_t g1) {
      int64_t first = 0;  // the first group of target i in the pass's numbering
      for (int i = 0; i < count && first < g1; ++i) {
        const int64_t N = targets[i].w->rows(), end = first + (N + kPackRows - 1) / kPackRows;
        const int64_t b = std::max(g0, first), e = std::min(g1, end);
        if (b < e) fn(i, OutputTile{targets[i].y, N, m0, m1, (b - first) * kPackRows, std::min(N, (e - first) * kPackRows)});
        first = end;
      }
    };
    parallel_for_if(pool, worth_splitting(pool, (m1 - m0) * rows * K), groups, kGroupsPerItem, run);
  }
}

// Runs fn(m0, m1) over activation rows, in parallel when the pool has
// threads; m0 is a multiple of kActivationTileRows. Preparing a value
// (shift, rotate, quantize) costs about as much as kPrepareMacs kernel
// multiply-adds: counted as one, a prompt's activations (64 × 576 values,
// some 30 µs) ran on one thread between GEMMs split in two.
constexpr int64_t kActivationTileRows = 4;
constexpr int64_t kPrepareMacs = 16;
template <typename Fn>
void for_each_row(int64_t M, int64_t K, ThreadPool* pool, const Fn& fn) {
  parallel_for_if(pool, M > 1 && worth_splitting(pool, M * K * kPrepareMacs), M, kActivationTileRows, fn);
}

// W4A4's low-rank remedy (PackedWeights::input_basis), plain C++ written
// for the vectorizer: for each of the M rows z[K] (K a multiple of 32),
// c[k] = u_k · z (four interleaved partial sums, lanes j mod 4, added as
// (s0 + s1) + (s2 + s3)), then z −= c[k]·u_k for k = 0, 1, …
void remove_directions(const float* u, int64_t r, int64_t K, int64_t M, float* x, float* c) {
  for (int64_t m = 0; m < M; ++m) {
    float* z = x + m * K;
    float* cm = c + m * r;
    for (int64_t k = 0; k < r; ++k) {
      const float* uk = u + k * K;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      for (int64_t j = 0; j < K; j += 4) {
        s0 += uk[j] * z[j];
        s1 += uk[j + 1] * z[j + 1];
        s2 += uk[j + 2] * z[j + 2];
        s3 += uk[j + 3] * z[j + 3];
      }
      cm[k] = (s0 + s1) + (s2 + s3);
    }
    for (int64_t k = 0; k < r; ++k) {
      const float* uk = u + k * K;
      const float ck = cm[k];
      for (int64_t j = 0; j < K; ++j) z[j] -= ck * uk[j];
    }
  }
}

// tile.y[m][n] += correction[k·N + n] · c[m·r + k] for k = 0, 1, … (correction [r, N]).
void add_directions_back(const float* correction, int64_t r, int64_t N, const float* c, const OutputTile& tile) {
  for (int64_t m = tile.m_begin; m < tile.m_end; ++m) {
    float* y = tile.y + m * tile.ldy;
    for (int64_t k = 0; k < r; ++k) {
      const float* wk = correction + k * N;
      const float ck = c[m * r + k];
      for (int64_t n = tile.n_begin; n < tile.n_end; ++n) y[n] += wk[n] * ck;
    }
  }
}

}  // namespace

void prepare_input_row(const PackedWeights& w, bool shift, float* row) {
  const int64_t K = w.cols();
  if (shift && w.input_shift())
    for (int64_t j = 0; j < K; ++j) row[j] -= (*w.input_shift())[size_t(j)];
  if (w.rotated_input()) hadamard_rotate_blocks(row, K);
}

namespace {

Status validate(const MatmulTarget* targets, int count, const float* x, int64_t M) {
  if (targets == nullptr || count <= 0) return InvalidArgument("matmul: no weight matrices given");
  if (x == nullptr) return InvalidArgument("matmul: input x must not be null");
  if (M <= 0) return OutOfRange("matmul: the number of activation rows M = " + integer_text(M) + " must be > 0");
  for (int i = 0; i < count; ++i) {
    const PackedWeights* w = targets[i].w;
    if (w == nullptr || w->empty()) return StateError("matmul: the weights are empty; pack them with PackedWeights::Pack first");
    if (targets[i].y == nullptr) return InvalidArgument("matmul: output y must not be null");
    if (w->cols() != targets[0].w->cols())
      return InvalidArgument("matmul: matrices sharing one input need the same row length; got " +
                             integer_text(targets[0].w->cols()) + " and " + integer_text(w->cols()));
    if (w->rotated_input() != targets[0].w->rotated_input())
      return InvalidArgument("matmul: matrices sharing one input must all take it rotated, or none");
    if (w->input_shift() != targets[0].w->input_shift())  // (one shared vector: a pointer compare)
      return InvalidArgument("matmul: matrices sharing one input must all hold its one shift, or none");
    if (w->input_basis() != targets[0].w->input_basis())
      return InvalidArgument("matmul: matrices sharing one input must all hold its one low-rank basis, or none");
    if (w->rotated_input() && w->cols() % kRotationBlock != 0)
      return InvalidArgument("matmul: a rotated matrix needs rows of a multiple of " +
                             integer_text(kRotationBlock) + " values; got " + integer_text(w->cols()));
    if (uint64_t(M) > uint64_t(SIZE_MAX) / 4 / uint64_t(std::max(w->cols(), w->rows())))
      return ResourceError("matmul: M = " + integer_text(M) + " rows of activations do not fit in memory");
  }
  return Status::Ok();
}

}  // namespace

Status precision_from_code(int32_t code, Precision* out) {
  static constexpr Precision kByCode[] = {Precision::kW4A8, Precision::kW4A32, Precision::kW4A4};
  if (code < 0 || code > 2)
    return OutOfRange("precision " + integer_text(code) + " is not 0 (w4a8), 1 (w4a32) or 2 (w4a4)");
  *out = kByCode[code];
  return Status::Ok();
}

Status matmul_shared_input_with(const KernelConfig& config, const MatmulTarget* targets, int count,
                                const float* x, int64_t M, Precision precision, ThreadPool* pool) {
  NIBBLE_RETURN_IF_ERROR(validate(targets, count, x, M));
  const int64_t K = targets[0].w->cols(), nb = K / kQK;
  // W4A8 / W4A4 for the targets whose type has such kernels (f32 weights
  // ignore `precision`); Σx per block for those whose f32 kernels read it.
  Scratch& s = t_scratch;
  const bool int_activations = precision == Precision::kW4A8 || precision == Precision::kW4A4;
  // x − shift, rounded, then + W·shift after the product (every target:
  // one without integer kernels gets W·(x − shift) + W·shift as well).
  const InputShift& shift = targets[0].w->input_shift();  // [K] or null
  const bool shifted = int_activations && shift != nullptr;
  const bool rotated = targets[0].w->rotated_input();  // the weights are W·H: y = (W·H)·(H·x)
  // W4A4 only: then z − Uᵀ(U·z) rounded, + (W·Uᵀ)·(U·z) after the product.
  // (W4A8 rounds finely enough: taking the directions out there too moved
  // its KL by under 1 % on stories260K; README.)
  const InputBasis& basis = targets[0].w->input_basis();  // [r·K] or null
  const bool low_rank = precision == Precision::kW4A4 && basis != nullptr;
  const int64_t rank = low_rank ? int64_t(basis->size()) / K : 0;
  if (rotated || shifted || low_rank) {
    s.rotated.assign(x, x + M * K);
    for_each_row(M, K, pool, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m) prepare_input_row(*targets[0].w, shifted, s.rotated.data() + m * K);
    });
    x = s.rotated.data();
  }
  if (low_rank) {  // (one pass over the rows: r dot products of K each)
    s.coefficients.resize(size_t(M * rank));
    remove_directions(basis->data(), rank, K, M, s.rotated.data(), s.coefficients.data());
  }
  const QuantizeQ8Fn quantize = precision == Precision::kW4A4 ? config.quantize_i4 : config.quantize_q8;
  s.kernels.resize(size_t(count));
  bool any_q8 = false, any_block_sums = false;
  for (int i = 0; i < count; ++i) {
    const TypeKernels* kernels = config.kernels_for(targets[i].w->type());
    if (kernels == nullptr)
      return InvalidArgument(std::string("matmul: the ") + config.name + " tier has no kernels for this weight type");
    s.kernels[size_t(i)] = kernels;
    const bool q8 = int_activations && kernels->q8_gemv != nullptr;
    any_q8 |= q8;
    any_block_sums |= !q8 && kernels->reads_block_sums;
  }

  // Activations, prepared once for every target.
  Q8Activations q8{nullptr, nullptr, nullptr, K};
  if (any_q8) {
    grow(&s.qs, size_t(M * K));
    grow(&s.d, size_t(M * nb));
    grow(&s.sums, size_t(M * nb));
    q8 = Q8Activations{s.qs.data(), s.d.data(), s.sums.data(), K};
    // The tier's own layout, in the tile height its kernels will use (GEMV
    // tiles up to 4 rows), so that no kernel call copies it again.
    const Q8Layout* layout = config.q8_layout;
    const int R = M <= kActivationTileRows ? 1 : int(kActivationTileRows);
    if (layout != nullptr) grow(&s.interleaved, layout->ints(M, K, R));
    for_each_row(M, K, pool, [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m)
        quantize(x + m * K, K, s.qs.data() + m * K, s.d.data() + m * nb, s.sums.data() + m * nb);
      if (layout != nullptr) layout->write(q8, m0, m1, R, s.interleaved.data());
    });
    if (layout != nullptr) {
      q8.interleaved = s.interleaved.data();
      q8.tile_rows = R;
    }
  }
  if (any_block_sums) {  // Σx per block, e.g. for Q4_1's m·Σx term
    grow(&s.block_sums, size_t(M * nb));
    for (int64_t i = 0; i < M * nb; ++i) {
      float sum = 0.0f;
      for (int j = 0; j < kQK; ++j) sum += x[i * kQK + j];
      s.block_sums[size_t(i)] = sum;
    }
  }
  const F32Activations f32{x, nullptr, K};
  const F32Activations f32_with_sums{x, s.block_sums.data(), K};

  for_each_tile(targets, count, M, K, pool, [&](int i, const OutputTile& tile) {
    const PackedWeights& w = *targets[i].w;
    const TypeKernels& k = *s.kernels[size_t(i)];
    const PackedView weights{w.data(), w.rows(), K};
    if (int_activations && k.q8_gemv != nullptr) {
      (M == 1 ? k.q8_gemv : k.q8_gemm)(weights, q8, tile);
    } else {
      (M == 1 ? k.f32_gemv : k.f32_gemm)(weights, k.reads_block_sums ? f32_with_sums : f32, tile);
    }
    if (shifted) {
      const float* correction = w.shift_correction().data();  // [N]
      for (int64_t m = tile.m_begin; m < tile.m_end; ++m)
        for (int64_t n = tile.n_begin; n < tile.n_end; ++n) tile.y[m * tile.ldy + n] += correction[n];
    }
    if (low_rank)
      add_directions_back(w.basis_correction().data(), rank, w.rows(), s.coefficients.data(), tile);
  });
  return Status::Ok();
}

Status set_input_shift(InputShift shift, PackedWeights* w) {
  if (shift == nullptr || int64_t(shift->size()) != w->cols())
    return InvalidArgument("an input shift needs " + integer_text(w->cols()) + " values; got " +
                           integer_text(shift ? shift->size() : 0));
  std::vector<float> correction(static_cast<size_t>(w->rows()));  // [N] W·shift, from the weights as packed
  w->set_input_shift(nullptr, {});
  NIBBLE_RETURN_IF_ERROR(matmul(*w, shift->data(), 1, correction.data(), Precision::kW4A32));
  w->set_input_shift(shift, std::move(correction));
  return Status::Ok();
}

Status matmul_with(const KernelConfig& config, const PackedWeights& w, const float* x, int64_t M,
                   float* y, Precision precision, ThreadPool* pool) {
  const MatmulTarget target{&w, y};
  return matmul_shared_input_with(config, &target, 1, x, M, precision, pool);
}

Status matmul_shared_input(const MatmulTarget* targets, int count, const float* x, int64_t M,
                           Precision precision, ThreadPool* pool) {
  return matmul_shared_input_with(kernel_config(), targets, count, x, M, precision, pool);
}

Status matmul(const PackedWeights& w, const float* x, int64_t M, float* y, Precision precision,
              ThreadPool* pool) {
  return matmul_with(kernel_config(), w, x, M, y, precision, pool);
}

}  // namespace nibble
