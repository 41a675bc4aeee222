// wasm SIMD128 loops on packed Q4 panels, shared by the Q4 *__wasmsimd
// kernels. One group = 4 weight rows; a tile is 4 weight rows × MR (1..4)
// activation rows and reuses each unpacked pair vector for all MR rows. Partial groups (N % 4 rows) go to the scalar kernel of the same
// name, which computes the same bits for W4A8. Small loops carry
// `unroll(full)` so the arrays of vectors stay in locals (clang 14 otherwise
// keeps them in stack memory).
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
// W4A8, per tile t and block b, kQ8Stride(R) int32:
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
        const bool real = m < m_end;
        const int8_t* a = x.qs + m * x.K + b * kQK;
        for (int p = 0; p < kQK / 2; ++p)
          out[p * R + r] = real ? int32_t(uint32_t(uint16_t(int16_t(a[2 * p]))) | (uint32_t(uint16_t(int16_t(a[2 * p + 1]))) << 16)) : 0;
        out[16 * R + r] = real ? int32_t(f32_bits(x.d[m * nb + b])) : 0;
        out[17 * R + r] = real ? x.sums[m * nb + b] : 0;
      }
    }
  }
  return buffer.data();
}

// W4A32, per tile t and block b, kF32Stride(R) floats:
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
        const bool real = m < m_end;
        for (int k = 0; k < kQK; ++k) out[k * R + r] = real ? x.x[m * x.K + b * kQK + k] : 0.0f;
        out[kQK * R + r] = real && x.block_sums ? x.block_sums[m * nb + b] : 0.0f;
      }
    }
  }
  return buffer.data();
}

// W4A8 tile: Y[m0 .. m0+MR, 4g .. 4g+4] for a full group; `act` = this
// tile's blocks from interleave_q8 (R ≥ MR rows).
// Per block: each 16-byte vector of the panel gives four i16x8 pair vectors
// (packed_weights.h); each meets the broadcast activation pair in one
// i32x4.dot_i16x8_s, so the 16 dots of a block add up the four rows' sums in
// the lanes of one i32x4. Then acc += float(dot [− 8·Σa]) · (d_w·d_a)
// [+ m_w·(d_a·Σa)]: the _ref formula and order, so results are bitwise the
// reference's.
template <bool kHasMin, int MR, int R>
void q4_q8_tile(const Q4Weights& w, const int32_t* act, int64_t g, float* y, int64_t ldy) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const v128_t mask = wasm_i16x8_splat(0x000F);
  v128_t acc[MR];
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) acc[mi] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride(R)) {
    v128_t dot[MR];
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) dot[mi] = wasm_i32x4_splat(0);
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      const v128_t q = wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v);
      const v128_t wq[4] = {wasm_v128_and(q, mask), wasm_v128_and(wasm_u16x8_shr(q, 4), mask),
                            wasm_v128_and(wasm_u16x8_shr(q, 8), mask), wasm_u16x8_shr(q, 12)};
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) {
        const int p = 4 * v + s;
#pragma clang loop unroll(full)
        for (int mi = 0; mi < MR; ++mi)
          dot[mi] = wasm_i32x4_add(dot[mi], wasm_i32x4_dot_i16x8(wq[s], wasm_v128_load32_splat(act + p * R + mi)));
      }
    }
    const v128_t dw = wasm_v128_load(panel);
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) {
      const float da = f32_from_bits(uint32_t(act[16 * R + mi]));
      const int32_t sa = act[17 * R + mi];
      const v128_t scale = wasm_f32x4_mul(dw, wasm_f32x4_splat(da));
      if (kHasMin) {
        const v128_t mw = wasm_v128_load(panel + 16);
        const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot[mi]), scale),
                                        wasm_f32x4_mul(mw, wasm_f32x4_splat(da * float(sa))));
        acc[mi] = wasm_f32x4_add(acc[mi], t);
      } else {
        const v128_t isum = wasm_i32x4_sub(dot[mi], wasm_i32x4_splat(8 * sa));
        acc[mi] = wasm_f32x4_add(acc[mi], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(isum), scale));
      }
    }
  }
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) wasm_v128_store(y + mi * ldy + g * kPackRows, acc[mi]);
}

// W4A32 tile: Y[m0 .. m0+MR, 4g .. 4g+4] for a full group; `act` = this
// tile's blocks from interleave_f32. Seen as i32x4, a panel vector holds in
// lane r the nibbles of row r for two pairs of elements, so (v >> 4j) & 0xF
// is [q_r0, q_r1, q_r2, q_r3] for one element k: converted once (− 8 for
// Q4_0) and multiplied by x_k broadcast, for all MR rows.
// Per block: acc += d_w · Σ_k q·x [+ m_w · Σx].
template <bool kHasMin, int MR, int R>
void q4_f32_tile(const Q4Weights& w, const float* act, int64_t g, float* y, int64_t ldy) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const v128_t mask = wasm_i32x4_splat(0xF);
  const v128_t offset = wasm_f32x4_splat(kHasMin ? 0.0f : 8.0f);
  v128_t acc[MR];
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) acc[mi] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += f32_block_stride(R)) {
    v128_t sum[MR];
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) sum[mi] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      const v128_t q = wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v);
#pragma clang loop unroll(full)
      for (int j = 0; j < 8; ++j) {
        // Nibble j of a 32-bit lane: pair 4v + j%4, element j/4 of the pair.
        const int k = 2 * (4 * v + j % 4) + j / 4;
        const v128_t qi = j == 7 ? wasm_u32x4_shr(q, 28) : wasm_v128_and(wasm_u32x4_shr(q, 4 * (j % 4) + 16 * (j / 4)), mask);
        const v128_t wf = wasm_f32x4_sub(wasm_f32x4_convert_i32x4(qi), offset);
#pragma clang loop unroll(full)
        for (int mi = 0; mi < MR; ++mi)
          sum[mi] = wasm_f32x4_add(sum[mi], wasm_f32x4_mul(wf, wasm_v128_load32_splat(act + k * R + mi)));
      }
    }
    const v128_t dw = wasm_v128_load(panel);
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) {
      acc[mi] = wasm_f32x4_add(acc[mi], wasm_f32x4_mul(sum[mi], dw));
      if (kHasMin) {
        const v128_t mw = wasm_v128_load(panel + 16);
        acc[mi] = wasm_f32x4_add(acc[mi], wasm_f32x4_mul(mw, wasm_v128_load32_splat(act + kQK * R + mi)));
      }
    }
  }
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) wasm_v128_store(y + mi * ldy + g * kPackRows, acc[mi]);
}

// Walks the tile's groups: full groups in tiles of up to max_rows activation
// rows (Tile::run<MR>), a partial last group through `scalar_tail`.
template <typename Tile, typename X, typename Scalar>
void q4_tiles(const Q4Weights& w, const X& x, const OutputTile& out, int max_rows, Scalar scalar_tail) {
  const typename Tile::Prepared prepared = Tile::prepare(x, out.m_begin, out.m_end, max_rows);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    if ((g + 1) * kPackRows > std::min(out.n_end, w.N)) {
      scalar_tail(w, x, group_tile(out, g));
      continue;
    }
    int64_t m = out.m_begin;
    for (; m + max_rows <= out.m_end; m += max_rows) {
      if (max_rows == 4) Tile::template run<4>(w, prepared, max_rows, g, m, out);
      else Tile::template run<1>(w, prepared, max_rows, g, m, out);
    }
    switch (out.m_end - m) {
      case 3: Tile::template run<3>(w, prepared, max_rows, g, m, out); break;
      case 2: Tile::template run<2>(w, prepared, max_rows, g, m, out); break;
      case 1: Tile::template run<1>(w, prepared, max_rows, g, m, out); break;
      default: break;
    }
  }
}

// Tile policies for q4_tiles: how to prepare a kernel call's activations
// and which tile function runs MR rows of them.
template <bool kHasMin>
struct Q8Tile {
  using Prepared = const int32_t*;
  static Prepared prepare(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R) {
    return interleave_q8(x, m_begin, m_end, R);
  }
  // Rows m .. m+MR, m − m_begin a multiple of R.
  template <int MR>
  static void run(const Q4Weights& w, Prepared act, int R, int64_t g, int64_t m, const OutputTile& out) {
    const int64_t tile = (m - out.m_begin) / R, nb = w.K / kQK;
    float* y = out.y + m * out.ldy;
    if (R == 4) q4_q8_tile<kHasMin, MR, 4>(w, act + tile * nb * q8_block_stride(4), g, y, out.ldy);
    else q4_q8_tile<kHasMin, MR, 1>(w, act + tile * nb * q8_block_stride(1), g, y, out.ldy);
  }
};

template <bool kHasMin>
struct F32Tile {
  using Prepared = const float*;
  static Prepared prepare(const F32Activations& x, int64_t m_begin, int64_t m_end, int R) {
    return interleave_f32(x, m_begin, m_end, R);
  }
  template <int MR>
  static void run(const Q4Weights& w, Prepared act, int R, int64_t g, int64_t m, const OutputTile& out) {
    const int64_t tile = (m - out.m_begin) / R, nb = w.K / kQK;
    float* y = out.y + m * out.ldy;
    if (R == 4) q4_f32_tile<kHasMin, MR, 4>(w, act + tile * nb * f32_block_stride(4), g, y, out.ldy);
    else q4_f32_tile<kHasMin, MR, 1>(w, act + tile * nb * f32_block_stride(1), g, y, out.ldy);
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
