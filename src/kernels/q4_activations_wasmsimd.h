// The activation layouts of the Q4 wasm SIMD128 tiles (both SIMD tiers:
// *__wasmsimd and *__wasmrelaxedsimd): Q8_0 activations for the W4A8 tiles,
// f32 activations for the W4A32 tiles.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/microkernels.h"
#include "quant/fp16.h"

namespace nibble {
namespace wasmsimd {

// Activations for the tiles, interleaved in tiles of R rows (R = the
// kernel's max rows per tile, 1 or 4) so that a tile reads everything of a
// block from one pointer at constant offsets (wasm loads fold those; V8
// would otherwise keep one spilled base pointer per row and offset).
// Rows past m_end in the last tile are zero. matmul() writes the W4A8
// tiles once per call (q8_layout__wasmsimd, q8_layout__wasmrelaxedsimd); a
// kernel called without them copies its rows into a buffer reused by the
// calling thread.
//
// W4A8, per tile t and block b, q8_block_stride<kRelaxed>(R) int32, where
// kRelaxed says which tier reads them (false: __wasmsimd, true:
// __wasmrelaxedsimd):
//   pairs[16][R]  (a[k], a[k+1]) as two int16 in one int32, k = 2p; for the
//                 relaxed tier instead words[8][R], the 32 int8 values as
//                 they are (word w: elements 4w .. 4w+3)
//   d[R]          the rows' Q8_0 scales (f32 bits)
//   minus8sum[R]  −8·Σq (Q4_0's −8 term, int32)
//   dsum[R]       d·float(Σq) (Q4_1's m term, f32 bits)
//   halves[R]     relaxed tier only: −8·Σq over the elements 4w, 4w+1 (low
//                 int16) and over 4w+2, 4w+3 (high int16) of the block's
//                 words: broadcast, the i16x8 lanes in which a relaxed dot
//                 with the words sums them, so a Q4_0 GEMM tile starts its
//                 int16 sums there instead of adding −8·Σq to every dot
//                 (|start + partial sums| ≤ 16 · 8 · 128 = 16384 stays in int16)
// The last three are the block updates' per-row terms, computed once here
// rather than in every tile (the same float product, so the same bits).
template <bool kRelaxed>
constexpr int q8_value_ints(int R) { return (kRelaxed ? kQK / 4 : kQK / 2) * R; }
template <bool kRelaxed>
constexpr int q8_block_stride(int R) { return q8_value_ints<kRelaxed>(R) + (kRelaxed ? 4 : 3) * R; }
enum Q8Field { kQ8D, kQ8Minus8Sum, kQ8DSum, kQ8Minus8HalfSums };
// Where field f of tile row r starts in a block.
template <bool kRelaxed>
constexpr int q8_field(int R, Q8Field f, int r = 0) { return q8_value_ints<kRelaxed>(R) + int(f) * R + r; }

// The per-row terms of one block of row m.
inline void write_q8_row_terms(const Q8Activations& x, int64_t row_block, int32_t* d, int32_t* minus8sum, int32_t* dsum) {
  const float da = x.d[row_block];
  const int32_t sa = x.sums[row_block];
  *d = int32_t(f32_bits(da));
  *minus8sum = -8 * sa;
  *dsum = int32_t(f32_bits(da * float(sa)));
}

// The halves field of a block's 32 int8 values `a` (one int32: two int16).
inline int32_t q8_minus8_half_sums(const int8_t* a) {
  // i16 lane j = a[2j] + a[2j + 1]: even lanes hold elements 4w, 4w+1,
  // odd lanes 4w+2, 4w+3; then the four int32 lanes (two int16 each) folded.
  v128_t s = wasm_i16x8_add(wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(a)),
                            wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(a + 16)));
  s = wasm_i16x8_add(s, wasm_i32x4_shuffle(s, s, 2, 3, 0, 1));
  s = wasm_i16x8_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
  return wasm_i32x4_extract_lane(wasm_i16x8_mul(s, wasm_i16x8_splat(-8)), 0);
}

// One block of a full 4-row tile of the relaxed layout (R = 4, rows m ..
// m + 3): the rows' words transposed four at a time (word j of row r at
// 4j + r), and the halves of all four rows from those words at once (a
// word's extadd gives lane 2r the sum of row r's elements 4j, 4j+1 and
// lane 2r + 1 that of 4j+2, 4j+3).
inline void write_relaxed_q8_tile(const Q8Activations& x, int64_t m, int64_t b, int32_t* out) {
  const int64_t nb = x.K / kQK;
  const int8_t* a = x.qs + m * x.K + b * kQK;
  v128_t halves = wasm_i16x8_splat(0);
  for (int h = 0; h < 2; ++h) {  // words 4h .. 4h + 3
    const v128_t r0 = wasm_v128_load(a + 16 * h), r1 = wasm_v128_load(a + x.K + 16 * h);
    const v128_t r2 = wasm_v128_load(a + 2 * x.K + 16 * h), r3 = wasm_v128_load(a + 3 * x.K + 16 * h);
    const v128_t lo01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), hi01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
    const v128_t lo23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), hi23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    const v128_t words[4] = {wasm_i64x2_shuffle(lo01, lo23, 0, 2), wasm_i64x2_shuffle(lo01, lo23, 1, 3),
                             wasm_i64x2_shuffle(hi01, hi23, 0, 2), wasm_i64x2_shuffle(hi01, hi23, 1, 3)};
    for (int j = 0; j < 4; ++j) {
      wasm_v128_store(out + 4 * (4 * h + j), words[j]);
      halves = wasm_i16x8_add(halves, wasm_i16x8_extadd_pairwise_i8x16(words[j]));
    }
  }
  wasm_v128_store(out + q8_field<true>(4, kQ8Minus8HalfSums), wasm_i16x8_mul(halves, wasm_i16x8_splat(-8)));
  for (int r = 0; r < 4; ++r)
    write_q8_row_terms(x, (m + r) * nb + b, out + q8_field<true>(4, kQ8D, r), out + q8_field<true>(4, kQ8Minus8Sum, r), out + q8_field<true>(4, kQ8DSum, r));
}

// One block of a full 4-row tile of the plain layout (R = 4, rows m ..
// m + 3): each row's values widened to int16 (v128.load8x8_s), four pairs
// at a time, then transposed (pair p of row r at 4p + r): the element-wise
// copy took 1.6 % of a 64-token prompt in the SIMD build.
inline void write_plain_q8_tile(const Q8Activations& x, int64_t m, int64_t b, int32_t* out) {
  const int64_t nb = x.K / kQK;
  const int8_t* a = x.qs + m * x.K + b * kQK;
  for (int h = 0; h < 4; ++h, a += 8, out += 16) {  // pairs 4h .. 4h + 3
    const v128_t r0 = wasm_i16x8_load8x8(a), r1 = wasm_i16x8_load8x8(a + x.K);
    const v128_t r2 = wasm_i16x8_load8x8(a + 2 * x.K), r3 = wasm_i16x8_load8x8(a + 3 * x.K);
    const v128_t lo01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), hi01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
    const v128_t lo23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), hi23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    wasm_v128_store(out, wasm_i64x2_shuffle(lo01, lo23, 0, 2));
    wasm_v128_store(out + 4, wasm_i64x2_shuffle(lo01, lo23, 1, 3));
    wasm_v128_store(out + 8, wasm_i64x2_shuffle(hi01, hi23, 0, 2));
    wasm_v128_store(out + 12, wasm_i64x2_shuffle(hi01, hi23, 1, 3));
  }
  out -= 64;
  for (int r = 0; r < 4; ++r)
    write_q8_row_terms(x, (m + r) * nb + b, out + q8_field<false>(4, kQ8D, r), out + q8_field<false>(4, kQ8Minus8Sum, r), out + q8_field<false>(4, kQ8DSum, r));
}

template <bool kRelaxed>
constexpr size_t q8_interleaved_ints(int64_t M, int64_t K, int R) {
  return size_t((M + R - 1) / R * (K / kQK) * q8_block_stride<kRelaxed>(R));
}

// Writes the tiles of rows [m_begin, m_end) (m_begin a multiple of R) at
// their place in out; rows past m_end in the last tile are zero.
template <bool kRelaxed>
inline void interleave_q8_into(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R, int32_t* out) {
  const int64_t nb = x.K / kQK, tiles = (m_end - m_begin + R - 1) / R;
  out += m_begin / R * nb * q8_block_stride<kRelaxed>(R);
  if (R == 1) {  // pairs are the int8 values widened to int16, in order
    for (int64_t m = m_begin; m < m_end; ++m) {
      for (int64_t b = 0; b < nb; ++b, out += q8_block_stride<kRelaxed>(1)) {
        const int8_t* a = x.qs + m * x.K + b * kQK;
        const v128_t lo = wasm_v128_load(a), hi = wasm_v128_load(a + 16);
        if (kRelaxed) {
          wasm_v128_store(out, lo);
          wasm_v128_store(out + 4, hi);
        } else {
          wasm_v128_store(out, wasm_i16x8_extend_low_i8x16(lo));
          wasm_v128_store(out + 4, wasm_i16x8_extend_high_i8x16(lo));
          wasm_v128_store(out + 8, wasm_i16x8_extend_low_i8x16(hi));
          wasm_v128_store(out + 12, wasm_i16x8_extend_high_i8x16(hi));
        }
        write_q8_row_terms(x, m * nb + b, out + q8_field<kRelaxed>(1, kQ8D), out + q8_field<kRelaxed>(1, kQ8Minus8Sum), out + q8_field<kRelaxed>(1, kQ8DSum));
        if constexpr (kRelaxed) out[q8_field<kRelaxed>(1, kQ8Minus8HalfSums)] = q8_minus8_half_sums(a);
      }
    }
    return;
  }
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b, out += q8_block_stride<kRelaxed>(R)) {
      if (R == 4 && m_begin + t * R + R <= m_end) {
        if constexpr (kRelaxed) {
          write_relaxed_q8_tile(x, m_begin + t * R, b, out);
        } else {
          write_plain_q8_tile(x, m_begin + t * R, b, out);
        }
        continue;
      }
      for (int r = 0; r < R; ++r) {
        const int64_t m = m_begin + t * R + r;
        if (m >= m_end) {
          for (int i = 0; i < q8_block_stride<kRelaxed>(R) / R; ++i) out[i * R + r] = 0;
          continue;
        }
        const int8_t* a = x.qs + m * x.K + b * kQK;
        if (kRelaxed) {
          for (int i = 0; i < kQK / 4; ++i) std::memcpy(out + i * R + r, a + 4 * i, 4);
        } else {
          for (int p = 0; p < kQK / 2; ++p)
            out[p * R + r] = int32_t(uint32_t(uint16_t(int16_t(a[2 * p]))) | (uint32_t(uint16_t(int16_t(a[2 * p + 1]))) << 16));
        }
        write_q8_row_terms(x, m * nb + b, out + q8_field<kRelaxed>(R, kQ8D, r), out + q8_field<kRelaxed>(R, kQ8Minus8Sum, r), out + q8_field<kRelaxed>(R, kQ8DSum, r));
        if constexpr (kRelaxed) out[q8_field<kRelaxed>(R, kQ8Minus8HalfSums, r)] = q8_minus8_half_sums(a);
      }
    }
  }
}

// The tiles of rows [m_begin, m_end) for a kernel call: from matmul()'s
// copy when it has this tile height, else copied here into a buffer reused
// by the calling thread.
template <bool kRelaxed>
inline const int32_t* interleave_q8(const Q8Activations& x, int64_t m_begin, int64_t m_end, int R) {
  const int64_t nb = x.K / kQK;
  if (x.interleaved != nullptr && x.tile_rows == R && m_begin % R == 0)
    return x.interleaved + m_begin / R * nb * q8_block_stride<kRelaxed>(R);
  thread_local std::vector<int32_t> buffer;
  const size_t n = q8_interleaved_ints<kRelaxed>(m_end - m_begin, x.K, R);
  if (buffer.size() < n) buffer.resize(n);
  Q8Activations rows = x;  // row m_begin becomes row 0 of the buffer
  rows.qs += m_begin * x.K;
  rows.d += m_begin * nb;
  rows.sums += m_begin * nb;
  interleave_q8_into<kRelaxed>(rows, 0, m_end - m_begin, R, buffer.data());
  return buffer.data();
}

// W4A32, per tile t and block b, f32_block_stride(R) floats:
//   x[32 R]       the rows' activations, x[k] of row r at f32_x_slot(R, r, k)
//   xsum[R]       the rows' Σx over the block (Q4_1), else 0
constexpr int f32_block_stride(int R) { return (kQK + 1) * R; }

// Panel vector v, half e (nibbles 4e .. 4e+3 of each 32-bit lane) holds in
// lane i element 8v + 2i + e (lane_nibble_f32). R = 1: vector 2v + e holds
// those elements in lane i. R = 4: vector 4(2v + e) + c holds in lane i that
// element of tile row (i + c) % 4.
constexpr int f32_x_slot(int R, int r, int k) {
  const int v = k / 8, i = (k % 8) / 2, e = k % 2;
  return R == 1 ? 8 * v + 4 * e + i : 16 * (2 * v + e) + 4 * ((r - i + 4) % 4) + i;
}

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
          for (int k = 0; k < kQK; ++k) out[f32_x_slot(R, r, k)] = 0.0f;
          out[kQK * R + r] = 0.0f;
          continue;
        }
        for (int k = 0; k < kQK; ++k) out[f32_x_slot(R, r, k)] = x.x[m * x.K + b * kQK + k];
        out[kQK * R + r] = x.block_sums ? x.block_sums[m * nb + b] : 0.0f;
      }
    }
  }
  return buffer.data();
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
