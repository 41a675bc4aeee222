// wasm SIMD128 loops on packed Q4 panels, shared by the Q4 *__wasmsimd
// kernels. One group = 4 weight rows. GEMV tiles: 4 weight rows × 1
// activation row; GEMM tiles: 4 × 4, the last activation tile zero-padded.
// Partial groups (N % 4 rows) go to the scalar kernel of the same name,
// which computes the same bits for W4A8.
//
// Shaped for what clang 14 and V8 make of it (checked in V8's x64 code):
// small loops carry `unroll(full)` so arrays of vectors stay in locals;
// activations are interleaved so one pointer with constant offsets reaches a
// block; pairs are broadcast with a load + lane shuffle, never
// load32_splat (V8 keeps one spilled base register per splat offset); the
// GEMM inner loop stays rolled (unrolled, clang hoists all its loads and V8
// spills them).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/q4_panel.h"
#include "kernels/wasmsimd_util.h"
#include "quant/fp16.h"

namespace nibble {
namespace wasmsimd {

// Activations for the tiles, interleaved in tiles of R rows (R = the
// kernel's max rows per tile, 1 or 4) so that a tile reads everything of a
// block from one pointer at constant offsets (wasm loads fold those; V8
// would otherwise keep one spilled base pointer per row and offset).
// Rows past m_end in the last tile are zero. Buffers are reused by the
// calling thread.
//
// W4A8, per tile t and block b, q8_block_stride(R) int32:
//   pairs[16][R]  (a[k], a[k+1]) as two int16 in one int32, k = 2p
//   d[R]          the rows' Q8_0 scales (f32 bits)
//   sums[R]       the rows' Σq
constexpr int q8_block_stride(int R) { return (kQK / 2 + 2) * R; }

inline const int32_t* interleave_q8(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R) {
  thread_local std::vector<int32_t> buffer;
  const int64_t nb = x.K / kQK, tiles = (m_end - m_begin + R - 1) / R;
  const size_t n = size_t(tiles * nb * q8_block_stride(R));
  if (buffer.size() < n) buffer.resize(n);
  int32_t* out = buffer.data();
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b, out += q8_block_stride(R)) {
      for (int r = 0; r < R; ++r) {
        const int64_t m = m_begin + t * R + r;
        if (m >= m_end) {
          for (int i = 0; i < kQK / 2 + 2; ++i) out[i * R + r] = 0;
          continue;
        }
        const int8_t* a = x.qs + m * x.K + b * kQK;
        for (int p = 0; p < kQK / 2; ++p)
          out[p * R + r] = int32_t(uint32_t(uint16_t(int16_t(a[2 * p]))) | (uint32_t(uint16_t(int16_t(a[2 * p + 1]))) << 16));
        out[16 * R + r] = int32_t(f32_bits(x.d[m * nb + b]));
        out[17 * R + r] = x.sums[m * nb + b];
      }
    }
  }
  return buffer.data();
}

// W4A32, per tile t and block b, f32_block_stride(R) floats:
//   x[32][R]      the rows' activations
//   xsum[R]       the rows' Σx over the block (Q4_1), else 0
constexpr int f32_block_stride(int R) { return (kQK + 1) * R; }

inline const float* interleave_f32(const F32Activations& x, int64_t m_begin, int64_t m_end, int R) {
  thread_local std::vector<float> buffer;
  const int64_t nb = x.K / kQK, tiles = (m_end - m_begin + R - 1) / R;
  const size_t n = size_t(tiles * nb * f32_block_stride(R));
  if (buffer.size() < n) buffer.resize(n);
  float* out = buffer.data();
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b, out += f32_block_stride(R)) {
      for (int r = 0; r < R; ++r) {
        const int64_t m = m_begin + t * R + r;
        if (m >= m_end) {
          for (int k = 0; k <= kQK; ++k) out[k * R + r] = 0.0f;
          continue;
        }
        for (int k = 0; k < kQK; ++k) out[k * R + r] = x.x[m * x.K + b * kQK + k];
        out[kQK * R + r] = x.block_sums ? x.block_sums[m * nb + b] : 0.0f;
      }
    }
  }
  return buffer.data();
}

// The four i16x8 pair vectors of a panel's 16-byte vector v (packed_weights.h):
// out[s] = [row0 k, row0 k+1, ..., row3 k, row3 k+1] for k = 2(4v + s).
inline void panel_pairs(const uint8_t* qs, v128_t out[4]) {
  const v128_t q = wasm_v128_load(qs);
  const v128_t mask = wasm_i16x8_splat(0x000F);
  out[0] = wasm_v128_and(q, mask);
  out[1] = wasm_v128_and(wasm_u16x8_shr(q, 4), mask);
  out[2] = wasm_v128_and(wasm_u16x8_shr(q, 8), mask);
  out[3] = wasm_u16x8_shr(q, 12);
}

// One block's W4A8 contribution for one activation row, the _ref formula on
// four weight rows at once: acc += float(dot [− 8·Σa]) · (d_w·d_a)
// [+ m_w·(d_a·Σa)], with da / sa holding that row's d_a / Σa in every lane
// that needs it.
template <bool kHasMin>
inline v128_t q8_block_update(v128_t acc, v128_t dot, const uint8_t* panel, v128_t da, v128_t sa) {
  const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), da);
  if (kHasMin) {
    const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale),
                                    wasm_f32x4_mul(wasm_v128_load(panel + 16), wasm_f32x4_mul(da, wasm_f32x4_convert_i32x4(sa))));
    return wasm_f32x4_add(acc, t);
  }
  const v128_t isum = wasm_i32x4_sub(dot, wasm_i32x4_shl(sa, 3));
  return wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), scale));
}

// W4A8 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks from
// interleave_q8 with R = 1. Each pair vector meets the activation pair
// broadcast to all lanes in one i32x4.dot_i16x8_s, so a block's 16 dots add
// up the four rows' sums in the lanes of one i32x4. (Pairs are broadcast by
// a v128 load and a lane shuffle: V8 gives every load32_splat offset its own
// spilled base register.) Results are bitwise the reference's.
// Measured alternatives, all slower: two groups per tile sharing the loads
// and shuffles (~5% faster from cache, ~40% slower streaming from DRAM);
// pairs stored pre-broadcast (plain loads instead of shuffles, but 4× the
// activation bytes); pair vectors 1 and 2 masked in place (×16, ×256) into
// separate accumulators to save shifts (V8 rematerializes the masks).
template <bool kHasMin>
void q4_q8_gemv_tile(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride(1)) {
    v128_t dot = wasm_i32x4_splat(0);
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      v128_t wq[4];
      panel_pairs(panel + q4_qs_offset(kHasMin) + 16 * v, wq);
      const v128_t a = wasm_v128_load(act + 4 * v);  // pairs 4v .. 4v+3
      dot = wasm_i32x4_add(dot, wasm_i32x4_dot_i16x8(wq[0], broadcast_lane<0>(a)));
      dot = wasm_i32x4_add(dot, wasm_i32x4_dot_i16x8(wq[1], broadcast_lane<1>(a)));
      dot = wasm_i32x4_add(dot, wasm_i32x4_dot_i16x8(wq[2], broadcast_lane<2>(a)));
      dot = wasm_i32x4_add(dot, wasm_i32x4_dot_i16x8(wq[3], broadcast_lane<3>(a)));
    }
    acc = q8_block_update<kHasMin>(acc, dot, panel, wasm_v128_load32_splat(act + 16), wasm_v128_load32_splat(act + 17));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// acc[j] lane i holds Y[row (i + j) % 4 of the tile, column 4g + i]; stores
// the first `rows` activation rows.
inline void store_rotated(const v128_t (&acc)[4], int64_t g, float* y, int64_t ldy, int rows) {
  alignas(16) float t[4][4];
  for (int j = 0; j < 4; ++j) wasm_v128_store(t[j], acc[j]);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      const int m = (i + j) % 4;
      if (m < rows) y[m * ldy + g * kPackRows + i] = t[j][i];
    }
}

// W4A8 GEMM tile: 4 weight rows × 4 activation rows (rows ≥ `rows` are zero
// padding and not stored); `act` = the tile's blocks from interleave_q8 with
// R = 4. A v128 load gives pair p of the four activation rows; it and its
// three lane rotations meet the weight pair vector in four dots, so
// dot[j] lane i sums weight row i × activation row (i + j) % 4: 16 products
// per pair from one load and three shuffles, no horizontal sums. The block
// update uses the rotated d_a / Σa; results are bitwise the reference's.
// Measured alternatives, both slower: two groups per tile sharing the loads
// and shuffles (V8 spills the eight accumulators); rotations stored by the
// interleave instead of shuffled (4× the activation traffic).
template <bool kHasMin>
void q4_q8_gemm_tile(const Q4Weights& w, const int32_t* act, int64_t g, float* y, int64_t ldy, int rows) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  v128_t acc[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) acc[j] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride(4)) {
    v128_t dot[4];
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j) dot[j] = wasm_i32x4_splat(0);
    // A rolled loop: unrolled, clang hoists all 16 loads and V8 spills them.
    const int32_t* pairs = act;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, pairs += 16) {
      v128_t wq[4];
      panel_pairs(panel + q4_qs_offset(kHasMin) + 16 * v, wq);
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) {
        const v128_t a = wasm_v128_load(pairs + 4 * s);
        dot[0] = wasm_i32x4_add(dot[0], wasm_i32x4_dot_i16x8(wq[s], a));
        dot[1] = wasm_i32x4_add(dot[1], wasm_i32x4_dot_i16x8(wq[s], rotate_lanes<1>(a)));
        dot[2] = wasm_i32x4_add(dot[2], wasm_i32x4_dot_i16x8(wq[s], rotate_lanes<2>(a)));
        dot[3] = wasm_i32x4_add(dot[3], wasm_i32x4_dot_i16x8(wq[s], rotate_lanes<3>(a)));
      }
    }
    const v128_t da = wasm_v128_load(act + 64), sa = wasm_v128_load(act + 68);
    acc[0] = q8_block_update<kHasMin>(acc[0], dot[0], panel, da, sa);
    acc[1] = q8_block_update<kHasMin>(acc[1], dot[1], panel, rotate_lanes<1>(da), rotate_lanes<1>(sa));
    acc[2] = q8_block_update<kHasMin>(acc[2], dot[2], panel, rotate_lanes<2>(da), rotate_lanes<2>(sa));
    acc[3] = q8_block_update<kHasMin>(acc[3], dot[3], panel, rotate_lanes<3>(da), rotate_lanes<3>(sa));
  }
  store_rotated(acc, g, y, ldy, rows);
}

// Nibble J (0..7) of every 32-bit lane of a panel vector as f32: lane r =
// row r's weight code for element 2(4v + J % 4) + J / 4 (packed_weights.h: a
// 32-bit lane holds row r's pair-lanes for two pairs). For Q4_1 the code q;
// for Q4_0, q − 8: the caller passes q ^ 0x88888888 (each nibble then holds
// q − 8 as a 4-bit two's complement), which a shift left and an arithmetic
// shift right sign-extend.
template <bool kHasMin, int J>
inline v128_t lane_nibble_f32(v128_t q) {
  v128_t qi;
  if (kHasMin) {
    qi = J == 7 ? wasm_u32x4_shr(q, 28) : wasm_v128_and(wasm_u32x4_shr(q, 4 * (J % 4) + 16 * (J / 4)), wasm_i32x4_splat(0xF));
  } else {
    constexpr int kShift = 4 * (J % 4) + 16 * (J / 4);
    qi = wasm_i32x4_shr(kShift == 28 ? q : wasm_i32x4_shl(q, 28 - kShift), 28);
  }
  return wasm_f32x4_convert_i32x4(qi);
}
// The panel vector as lane_nibble_f32 wants it.
template <bool kHasMin>
inline v128_t load_lane_nibbles(const uint8_t* qs) {
  const v128_t q = wasm_v128_load(qs);
  return kHasMin ? q : wasm_v128_xor(q, wasm_i32x4_splat(int32_t(0x88888888u)));
}
// Element offset within the 8 elements of vector v that nibble J holds.
constexpr int lane_nibble_k(int J) { return 2 * (J % 4) + J / 4; }

// W4A32 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_f32 with R = 1. Each nibble vector (lanes = the four rows,
// one element k) is multiplied by x_k broadcast.
// Per block: acc += d_w · Σ_k (q [− 8])·x [+ m_w · Σx].
template <bool kHasMin>
void q4_f32_gemv_tile(const Q4Weights& w, const float* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += f32_block_stride(1)) {
    v128_t sum0 = wasm_f32x4_splat(0.0f), sum1 = sum0;
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      const v128_t q = load_lane_nibbles<kHasMin>(panel + q4_qs_offset(kHasMin) + 16 * v);
      const v128_t x0 = wasm_v128_load(act + 8 * v), x1 = wasm_v128_load(act + 8 * v + 4);
      // Elements 8v + {0, 2, 4, 6} and 8v + {1, 3, 5, 7}.
      sum0 = wasm_f32x4_add(sum0, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 0>(q), broadcast_lane<0>(x0)));
      sum1 = wasm_f32x4_add(sum1, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 4>(q), broadcast_lane<1>(x0)));
      sum0 = wasm_f32x4_add(sum0, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 1>(q), broadcast_lane<2>(x0)));
      sum1 = wasm_f32x4_add(sum1, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 5>(q), broadcast_lane<3>(x0)));
      sum0 = wasm_f32x4_add(sum0, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 2>(q), broadcast_lane<0>(x1)));
      sum1 = wasm_f32x4_add(sum1, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 6>(q), broadcast_lane<1>(x1)));
      sum0 = wasm_f32x4_add(sum0, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 3>(q), broadcast_lane<2>(x1)));
      sum1 = wasm_f32x4_add(sum1, wasm_f32x4_mul(lane_nibble_f32<kHasMin, 7>(q), broadcast_lane<3>(x1)));
    }
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_add(sum0, sum1), wasm_v128_load(panel)));
    if (kHasMin) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(panel + 16), wasm_v128_load32_splat(act + kQK)));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// sum[j] += wf · (x rotated by j): weight row i meets activation row (i + j) % 4.
inline void accumulate_rotated(v128_t (&sum)[4], v128_t wf, v128_t x) {
  sum[0] = wasm_f32x4_add(sum[0], wasm_f32x4_mul(wf, x));
  sum[1] = wasm_f32x4_add(sum[1], wasm_f32x4_mul(wf, rotate_lanes<1>(x)));
  sum[2] = wasm_f32x4_add(sum[2], wasm_f32x4_mul(wf, rotate_lanes<2>(x)));
  sum[3] = wasm_f32x4_add(sum[3], wasm_f32x4_mul(wf, rotate_lanes<3>(x)));
}

// W4A32 GEMM tile: 4 weight rows × 4 activation rows (rows ≥ `rows` are
// padding), `act` = the tile's blocks from interleave_f32 with R = 4: a v128
// load gives x_k of the four activation rows, and with its lane rotations
// sum[j] lane i gathers weight row i × activation row (i + j) % 4.
template <bool kHasMin>
void q4_f32_gemm_tile(const Q4Weights& w, const float* act, int64_t g, float* y, int64_t ldy, int rows) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  v128_t acc[4];
#pragma clang loop unroll(full)
  for (int j = 0; j < 4; ++j) acc[j] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += f32_block_stride(4)) {
    v128_t sum[4];
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j) sum[j] = wasm_f32x4_splat(0.0f);
    // Rolled for the same reason as in q4_q8_gemm_tile.
    const float* xv = act;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v, xv += 4 * 8) {
      const v128_t q = load_lane_nibbles<kHasMin>(panel + q4_qs_offset(kHasMin) + 16 * v);
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 0>(q), wasm_v128_load(xv + 4 * lane_nibble_k(0)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 1>(q), wasm_v128_load(xv + 4 * lane_nibble_k(1)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 2>(q), wasm_v128_load(xv + 4 * lane_nibble_k(2)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 3>(q), wasm_v128_load(xv + 4 * lane_nibble_k(3)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 4>(q), wasm_v128_load(xv + 4 * lane_nibble_k(4)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 5>(q), wasm_v128_load(xv + 4 * lane_nibble_k(5)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 6>(q), wasm_v128_load(xv + 4 * lane_nibble_k(6)));
      accumulate_rotated(sum, lane_nibble_f32<kHasMin, 7>(q), wasm_v128_load(xv + 4 * lane_nibble_k(7)));
    }
    const v128_t dw = wasm_v128_load(panel);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(sum[0], dw));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(sum[1], dw));
    acc[2] = wasm_f32x4_add(acc[2], wasm_f32x4_mul(sum[2], dw));
    acc[3] = wasm_f32x4_add(acc[3], wasm_f32x4_mul(sum[3], dw));
    if (kHasMin) {
      const v128_t mw = wasm_v128_load(panel + 16), xs = wasm_v128_load(act + 4 * kQK);
      acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(mw, xs));
      acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(mw, rotate_lanes<1>(xs)));
      acc[2] = wasm_f32x4_add(acc[2], wasm_f32x4_mul(mw, rotate_lanes<2>(xs)));
      acc[3] = wasm_f32x4_add(acc[3], wasm_f32x4_mul(mw, rotate_lanes<3>(xs)));
    }
  }
  store_rotated(acc, g, y, ldy, rows);
}

// Runs a kernel call: prepares the activations of rows [m_begin, m_end)
// interleaved by R (1 for GEMV, 4 for GEMM), then runs tile(act, t, g, ...)
// for each full weight group g × each activation tile t; a partial last
// group (N % 4 rows) goes to `scalar_tail`, the scalar kernel of the same name.
template <typename Prepare, typename Tile, typename W, typename X, typename Scalar>
void q4_tiles(const W& w, const X& x, const OutputTile& out, int R, Prepare prepare, Tile tile, Scalar scalar_tail) {
  const auto* act = prepare(x, out.m_begin, out.m_end, R);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    if ((g + 1) * kPackRows > std::min(out.n_end, w.N)) {
      scalar_tail(w, x, group_tile(out, g));
      continue;
    }
    for (int64_t m = out.m_begin, t = 0; m < out.m_end; m += R, ++t)
      tile(act, t, g, out.y + m * out.ldy, out.ldy, int(std::min<int64_t>(R, out.m_end - m)));
  }
}

// The four kernels of a Q4 type, in terms of the tiles above.
template <bool kHasMin>
struct Q4Kernels {
  static void q8_gemv(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    const int64_t stride = (w.K / kQK) * q8_block_stride(1);
    q4_tiles(w, x, out, 1, interleave_q8, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t, int) {
      q4_q8_gemv_tile<kHasMin>(w, act + t * stride, g, y);
    }, tail);
  }
  static void q8_gemm(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
    const int64_t stride = (w.K / kQK) * q8_block_stride(4);
    q4_tiles(w, x, out, 4, interleave_q8, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t ldy, int rows) {
      q4_q8_gemm_tile<kHasMin>(w, act + t * stride, g, y, ldy, rows);
    }, tail);
  }
  static void f32_gemv(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    const int64_t stride = (w.K / kQK) * f32_block_stride(1);
    q4_tiles(w, x, out, 1, interleave_f32, [&](const float* act, int64_t t, int64_t g, float* y, int64_t, int) {
      q4_f32_gemv_tile<kHasMin>(w, act + t * stride, g, y);
    }, tail);
  }
  static void f32_gemm(const Q4Weights& w, const F32Activations& x, const OutputTile& out, Q4F32Fn tail) {
    const int64_t stride = (w.K / kQK) * f32_block_stride(4);
    q4_tiles(w, x, out, 4, interleave_f32, [&](const float* act, int64_t t, int64_t g, float* y, int64_t ldy, int rows) {
      q4_f32_gemm_tile<kHasMin>(w, act + t * stride, g, y, ldy, rows);
    }, tail);
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
