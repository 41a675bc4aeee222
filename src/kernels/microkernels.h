// Every matmul microkernel, declared once. Naming scheme: src/kernels/README.md.
//
// Tiers:  *_ref        plain loops on STANDARD GGUF blocks: the definition
//         *__scalar    portable C++ on the packed layout (packed_weights.h)
//         *__wasmsimd  wasm SIMD128 on the packed layout (SIMD builds;
//                      its Q4 kernels not in relaxed-SIMD builds)
//         *__wasmrelaxedsimd  wasm relaxed SIMD on the relaxed-SIMD builds'
//                      packed layout (those builds only); it reuses the
//                      wasmsimd quantizer and f32 kernels
//
// Packed-tier kernels share one signature per family and compute an output
// tile Y[m_begin:m_end, n_begin:n_end] of Y[M,N] = X[M,K] · W[N,K]ᵀ; for Q4
// weights n_begin must be a multiple of kPackRows and n_end one too or N
// (F32: any). Kernels write only inside their tile, so disjoint tiles may
// run on different threads; SIMD kernels keep a per-thread scratch buffer
// for reordered activations (no other state).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/block_formats.h"

namespace nibble {

// Packed weights W[N,K] of any type, as KernelConfig's per-type kernels
// take them: PackedWeights::data() and the shape (layouts in
// packed_weights.h).
struct PackedView {
  const uint8_t* data;
  int64_t N, K;
};
// The Q4 panel family's name for it.
using Q4Weights = PackedView;

// Row-major F32 weights W[N,K].
struct F32Weights {
  const float* data;
  int64_t N, K;
};

// Activations X[M,K] quantized per 32-block (W4A8 input), row m at:
//   qs   + m·K     int8 q[K]       x ≈ d·q
//   d    + m·K/32  f32 d[K/32]     the Q8_0 scale, fp16-rounded (exact fp16 value)
//   sums + m·K/32  int32 Σq[K/32]  per-block Σ q (Q4_0's −8 and Q4_1's m terms)
struct Q8Activations {
  const int8_t* qs;
  const float* d;
  const int32_t* sums;
  int64_t K;
  // Optional: the same rows already in the layout a tier's W4A8 kernels
  // read (KernelConfig::q8_layout), in tiles of tile_rows rows from row 0.
  // matmul() writes it once per call; a kernel whose tiles have another
  // height, or finding it null, makes its own copy for its tile.
  const int32_t* interleaved = nullptr;
  int tile_rows = 0;
};

// A tier's own layout of Q8 activations (see Q8Activations::interleaved):
// ints(M, K, R) is the buffer size for M rows in tiles of R; write() fills
// the tiles of rows [m_begin, m_end), m_begin a multiple of R, at their
// place in `out`.
struct Q8Layout {
  size_t (*ints)(int64_t M, int64_t K, int R);
  void (*write)(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R, int32_t* out);
};

// F32 activations X[M,K], row m at x + m·K; block_sums + m·K/32 holds Σx per
// 32-block (only read by Q4_1 W4A32; may be null otherwise).
struct F32Activations {
  const float* x;
  const float* block_sums;
  int64_t K;
};

// The output tile: rows [m_begin, m_end) × cols [n_begin, n_end) of y (ld N).
struct OutputTile {
  float* y;
  int64_t ldy;
  int64_t m_begin, m_end, n_begin, n_end;
};

// Quantizes one row x[K] (K % 32 == 0) to Q8_0: per block d = fp16(amax/127),
// q = round_half_even(x · (1/(amax/127))) saturated to int8, NaN -> 0.
using QuantizeQ8Fn = void (*)(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums);
// A type's kernels, as KernelConfig holds them: W4A8 and f32 activations.
using PackedQ8Fn = void (*)(const PackedView& w, const Q8Activations& x, const OutputTile& out);
using PackedF32Fn = void (*)(const PackedView& w, const F32Activations& x, const OutputTile& out);
using Q4Q8Fn = PackedQ8Fn;
using Q4F32Fn = PackedF32Fn;
using F32F32Fn = void (*)(const F32Weights& w, const F32Activations& x, const OutputTile& out);

// --- activation quantization f32 -> Q8_0 ----------------------------------
// blocks[K/32] standard Q8_0, sums[K/32] = Σ q per block.
void q8_0_quantize_ref(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums);
void q8_0_quantize__scalar(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums);
void q8_0_quantize__wasmsimd(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums);
// --- activation quantization f32 -> signed 4-bit (W4A4) ---------------------
// The same outputs with q in [−8, 7] (rules: q8_quantize_util.h); the W4A8
// kernels below then run the integer dots unchanged.
void i4_quantize_ref(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums);
void i4_quantize__scalar(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums);
void i4_quantize__wasmsimd(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums);

// --- references on GGUF blocks: w = N rows of K/32 blocks, y[M,N] ----------
// W4A8, per block pair: acc += float(Σ q_w·q_x) · (d_w·d_x)        (Q4_0, q_w − 8)
//                       acc += float(Σ q_w·q_x) · (d_w·d_x) + m_w · (d_x·float(Σ q_x))   (Q4_1)
// with blocks summed in order from b = 0 into a float starting at 0.
void q4_0_q8_0_gemv_ref(const BlockQ4_0* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q4_0_q8_0_gemm_ref(const BlockQ4_0* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q4_1_q8_0_gemv_ref(const BlockQ4_1* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q4_1_q8_0_gemm_ref(const BlockQ4_1* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
// The other 32-weight types, per block pair (codes as ref_util.h's code()):
//   acc += float(Σ c_w·q_x) · (d_w·d_x), c_w = q − 16 (Q5_0), kIQ4NLValues[q]
//   (IQ4_NL), q (Q8_0);  Q5_1 as Q4_1 with its 5-bit q.
void q5_0_q8_0_gemv_ref(const BlockQ5_0* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q5_0_q8_0_gemm_ref(const BlockQ5_0* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q5_1_q8_0_gemv_ref(const BlockQ5_1* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q5_1_q8_0_gemm_ref(const BlockQ5_1* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void iq4_nl_q8_0_gemv_ref(const BlockIQ4_NL* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void iq4_nl_q8_0_gemm_ref(const BlockIQ4_NL* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q8_0_q8_0_gemv_ref(const BlockQ8_0* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q8_0_q8_0_gemm_ref(const BlockQ8_0* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
// W4A32 and F32: Σ_k w[n,k]·x[m,k] with w dequantized, accumulated in double.
void q5_0_f32_gemv_ref(const BlockQ5_0* w, int64_t N, int64_t K, const float* x, float* y);
void q5_0_f32_gemm_ref(const BlockQ5_0* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q5_1_f32_gemv_ref(const BlockQ5_1* w, int64_t N, int64_t K, const float* x, float* y);
void q5_1_f32_gemm_ref(const BlockQ5_1* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void iq4_nl_f32_gemv_ref(const BlockIQ4_NL* w, int64_t N, int64_t K, const float* x, float* y);
void iq4_nl_f32_gemm_ref(const BlockIQ4_NL* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q8_0_f32_gemv_ref(const BlockQ8_0* w, int64_t N, int64_t K, const float* x, float* y);
void q8_0_f32_gemm_ref(const BlockQ8_0* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q4_0_f32_gemv_ref(const BlockQ4_0* w, int64_t N, int64_t K, const float* x, float* y);
void q4_0_f32_gemm_ref(const BlockQ4_0* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q4_1_f32_gemv_ref(const BlockQ4_1* w, int64_t N, int64_t K, const float* x, float* y);
void q4_1_f32_gemm_ref(const BlockQ4_1* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void f32_f32_gemv_ref(const float* w, int64_t N, int64_t K, const float* x, float* y);
void f32_f32_gemm_ref(const float* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);

// K-quants (Q4_K, Q5_K, Q6_K; K a multiple of 256): W4A8 per super-block
// as k_superblock_q8() (kernels/k_panel.h) defines, super-blocks summed in
// order from 0; W4A32 as above, weights from the type's row dequantizer.
void q4_k_q8_0_gemv_ref(const BlockQ4_K* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q4_k_q8_0_gemm_ref(const BlockQ4_K* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q4_k_f32_gemv_ref(const BlockQ4_K* w, int64_t N, int64_t K, const float* x, float* y);
void q4_k_f32_gemm_ref(const BlockQ4_K* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q5_k_q8_0_gemv_ref(const BlockQ5_K* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q5_k_q8_0_gemm_ref(const BlockQ5_K* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q5_k_f32_gemv_ref(const BlockQ5_K* w, int64_t N, int64_t K, const float* x, float* y);
void q5_k_f32_gemm_ref(const BlockQ5_K* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);
void q6_k_q8_0_gemv_ref(const BlockQ6_K* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y);
void q6_k_q8_0_gemm_ref(const BlockQ6_K* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y);
void q6_k_f32_gemv_ref(const BlockQ6_K* w, int64_t N, int64_t K, const float* x, float* y);
void q6_k_f32_gemm_ref(const BlockQ6_K* w, int64_t N, int64_t K, const float* x, int64_t M, float* y);

// --- packed tiers ----------------------------------------------------------
// GEMV kernels treat every row of the tile as its own M = 1 product; GEMM
// kernels share each unpacked weight panel across up to 4 activation rows.
void q4_0_q8_0_gemv_4x__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_q8_0_gemm_4x4__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemv_4x__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemm_4x4__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_f32_gemv_4x__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_0_f32_gemm_4x4__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemv_4x__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemm_4x4__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q5_0_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_0_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_0_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q5_0_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q5_1_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q5_1_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void iq4_nl_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q8_0_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q8_0_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q4_k_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q4_k_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q4_k_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q4_k_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q5_k_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q5_k_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q6_k_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void q6_k_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out);
void f32_f32_gemv__scalar(const F32Weights& w, const F32Activations& x, const OutputTile& out);
void f32_f32_gemm_4x4__scalar(const F32Weights& w, const F32Activations& x, const OutputTile& out);

extern const Q8Layout q8_layout__wasmsimd;
void q4_0_q8_0_gemv_4x__wasmsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_q8_0_gemm_4x4__wasmsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemv_4x__wasmsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemm_4x4__wasmsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_f32_gemv_4x__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_0_f32_gemm_4x4__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemv_4x__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemm_4x4__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q5_0_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_0_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q4_k_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q4_k_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_q8_0_gemv_4x__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void f32_f32_gemv__wasmsimd(const F32Weights& w, const F32Activations& x, const OutputTile& out);
void f32_f32_gemm_4x4__wasmsimd(const F32Weights& w, const F32Activations& x, const OutputTile& out);

extern const Q8Layout q8_layout__wasmrelaxedsimd;
void q4_0_q8_0_gemv_4x__wasmrelaxedsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_q8_0_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemv_4x__wasmrelaxedsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_1_q8_0_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out);
void q4_0_f32_gemv_4x__wasmrelaxedsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_0_f32_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemv_4x__wasmrelaxedsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_1_f32_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out);
void q4_k_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q4_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q6_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);

void q5_0_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_0_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q5_1_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void iq4_nl_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);
void q8_0_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out);

}  // namespace nibble
