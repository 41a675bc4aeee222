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

namespace nibble {
namespace wasmsimd {

// Activation rows [m_begin, m_end) widened to int16 (row i at i·K), in a
// buffer reused by the calling thread: the W4A8 kernels broadcast (a_k, a_k+1)
// pairs straight from it with one v128.load32_splat.
inline const int16_t* widen_activations(const Q8Activations& x, int64_t m_begin, int64_t m_end) {
  thread_local std::vector<int16_t> buffer;
  const size_t n = size_t((m_end - m_begin) * x.K);
  if (buffer.size() < n) buffer.resize(n);
  const int8_t* src = x.qs + m_begin * x.K;
  for (size_t i = 0; i < n; i += 16) {
    const v128_t v = wasm_v128_load(src + i);
    wasm_v128_store(buffer.data() + i, wasm_i16x8_extend_low_i8x16(v));
    wasm_v128_store(buffer.data() + i + 8, wasm_i16x8_extend_high_i8x16(v));
  }
  return buffer.data();
}

// W4A8 tile: Y[m0 .. m0+MR, 4g .. 4g+4] for a full group; a16 = the MR rows'
// activations as int16 (row mi at a16 + mi·K).
// Per block: each 16-byte vector of the panel gives four i16x8 pair vectors
// (packed_weights.h); each meets the broadcast activation pair in one
// i32x4.dot_i16x8_s, so the 16 dots of a block add up the four rows' sums in
// the lanes of one i32x4. Then acc += float(dot [− 8·Σa]) · (d_w·d_a)
// [+ m_w·(d_a·Σa)]: the _ref formula and order, so results are bitwise the
// reference's.
template <bool kHasMin, int MR>
void q4_q8_tile(const Q4Weights& w, const Q8Activations& x, const int16_t* a16, int64_t g, int64_t m0, float* y,
                int64_t ldy) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const v128_t mask = wasm_i16x8_splat(0x000F);
  v128_t acc[MR];
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) acc[mi] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel) {
    const int16_t* ab = a16 + b * kQK;
    v128_t dot[MR];
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) dot[mi] = wasm_i32x4_splat(0);
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      const v128_t q = wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v);
      const v128_t pairs[4] = {wasm_v128_and(q, mask), wasm_v128_and(wasm_u16x8_shr(q, 4), mask),
                               wasm_v128_and(wasm_u16x8_shr(q, 8), mask), wasm_u16x8_shr(q, 12)};
#pragma clang loop unroll(full)
      for (int s = 0; s < 4; ++s) {
        const int k = 2 * (4 * v + s);
#pragma clang loop unroll(full)
        for (int mi = 0; mi < MR; ++mi)
          dot[mi] = wasm_i32x4_add(dot[mi], wasm_i32x4_dot_i16x8(pairs[s], wasm_v128_load32_splat(ab + mi * w.K + k)));
      }
    }
    const v128_t dw = wasm_v128_load(panel);
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) {
      const int64_t row_block = (m0 + mi) * nb + b;
      const float da = x.d[row_block];
      const int32_t sa = x.sums[row_block];
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
  for (int mi = 0; mi < MR; ++mi) wasm_v128_store(y + (m0 + mi) * ldy + g * kPackRows, acc[mi]);
}

// W4A32 tile: Y[m0 .. m0+MR, 4g .. 4g+4] for a full group. Seen as i32x4,
// a panel vector holds in lane r the nibbles of row r for two pairs of
// elements, so (v >> 4j) & 0xF is [q_r0, q_r1, q_r2, q_r3] for one element k:
// converted once (− 8 for Q4_0) and multiplied by x_k broadcast, for all MR
// rows. Per block: acc += d_w · Σ_k q·x [+ m_w · Σx].
template <bool kHasMin, int MR>
void q4_f32_tile(const Q4Weights& w, const F32Activations& x, int64_t g, int64_t m0, float* y, int64_t ldy) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin));
  const uint8_t* panel = q4_panel<kHasMin>(w, g, 0);
  const v128_t mask = wasm_i32x4_splat(0xF);
  const v128_t offset = wasm_f32x4_splat(kHasMin ? 0.0f : 8.0f);
  v128_t acc[MR];
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) acc[mi] = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel) {
    v128_t sum[MR];
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) sum[mi] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(full)
    for (int v = 0; v < 4; ++v) {
      const v128_t q = wasm_v128_load(panel + q4_qs_offset(kHasMin) + 16 * v);
#pragma clang loop unroll(full)
      for (int j = 0; j < 8; ++j) {
        // Nibble j of a 32-bit lane: pair 4v + j%4, element (j >= 4) of it.
        const int k = 2 * (4 * v + j % 4) + j / 4;
        const v128_t qi = j == 7 ? wasm_u32x4_shr(q, 28) : wasm_v128_and(wasm_u32x4_shr(q, 4 * (j % 4) + 16 * (j / 4)), mask);
        const v128_t wf = wasm_f32x4_sub(wasm_f32x4_convert_i32x4(qi), offset);
#pragma clang loop unroll(full)
        for (int mi = 0; mi < MR; ++mi)
          sum[mi] = wasm_f32x4_add(sum[mi], wasm_f32x4_mul(wf, wasm_v128_load32_splat(x.x + (m0 + mi) * w.K + b * kQK + k)));
      }
    }
    const v128_t dw = wasm_v128_load(panel);
#pragma clang loop unroll(full)
    for (int mi = 0; mi < MR; ++mi) {
      acc[mi] = wasm_f32x4_add(acc[mi], wasm_f32x4_mul(sum[mi], dw));
      if (kHasMin) {
        const v128_t mw = wasm_v128_load(panel + 16);
        acc[mi] = wasm_f32x4_add(acc[mi], wasm_f32x4_mul(mw, wasm_f32x4_splat(x.block_sums[(m0 + mi) * nb + b])));
      }
    }
  }
#pragma clang loop unroll(full)
  for (int mi = 0; mi < MR; ++mi) wasm_v128_store(y + (m0 + mi) * ldy + g * kPackRows, acc[mi]);
}

// Walks the tile's groups: full groups in tiles of up to max_rows activation
// rows (Tile::run<MR>), a partial last group through `scalar_tail`.
template <typename Tile, typename X, typename Scalar>
void q4_tiles(const Q4Weights& w, const X& x, const OutputTile& out, int max_rows, Scalar scalar_tail) {
  const typename Tile::Prepared prepared = Tile::prepare(x, out.m_begin, out.m_end);
  for (int64_t g = out.n_begin / kPackRows; g * kPackRows < out.n_end; ++g) {
    if ((g + 1) * kPackRows > std::min(out.n_end, w.N)) {
      scalar_tail(w, x, group_tile(out, g));
      continue;
    }
    int64_t m = out.m_begin;
    for (; m + max_rows <= out.m_end; m += max_rows) {
      if (max_rows == 4) Tile::template run<4>(w, x, prepared, g, m, out);
      else Tile::template run<1>(w, x, prepared, g, m, out);
    }
    switch (out.m_end - m) {
      case 3: Tile::template run<3>(w, x, prepared, g, m, out); break;
      case 2: Tile::template run<2>(w, x, prepared, g, m, out); break;
      case 1: Tile::template run<1>(w, x, prepared, g, m, out); break;
      default: break;
    }
  }
}

template <bool kHasMin>
struct Q8Tile {
  using Prepared = const int16_t*;  // widened activations of the tile's rows
  static Prepared prepare(const Q8Activations& x, int64_t m_begin, int64_t m_end) {
    return widen_activations(x, m_begin, m_end);
  }
  template <int MR>
  static void run(const Q4Weights& w, const Q8Activations& x, Prepared a16, int64_t g, int64_t m, const OutputTile& out) {
    q4_q8_tile<kHasMin, MR>(w, x, a16 + (m - out.m_begin) * w.K, g, m, out.y, out.ldy);
  }
};

template <bool kHasMin>
struct F32Tile {
  using Prepared = int;  // nothing to prepare
  static Prepared prepare(const F32Activations&, int64_t, int64_t) { return 0; }
  template <int MR>
  static void run(const Q4Weights& w, const F32Activations& x, Prepared, int64_t g, int64_t m, const OutputTile& out) {
    q4_f32_tile<kHasMin, MR>(w, x, g, m, out.y, out.ldy);
  }
};

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
