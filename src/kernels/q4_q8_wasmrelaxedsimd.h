// The relaxed-SIMD W4A8 GEMV tiles of the Q4 and Q5 *__wasmrelaxedsimd
// kernels (their GEMM: q4_q8_gemm_wasmrelaxedsimd.h; q4_wasmsimd.h has the rest of that tier: its W4A32 tiles are the
// plain SIMD tiles on its layout). Its packed layout puts each row
// in its own 32-bit lane and pairs the groups (packed_weights.h,
// q4_panel.h); its GEMV activations are the int8 values as they are
// (q4_activations_wasmsimd.h). Only builds with NIBBLE_RELAXED_SIMD
// instantiate it: relaxed_dot_i8x16_i7x16 (wasmsimd_util.h) emits a
// placeholder that tools/patch_relaxed_simd.mjs rewrites after linking.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <algorithm>
#include <cstdint>

#include "kernels/q4_q8_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// The W4A8 GEMV tiles of the relaxed tier (rows in lanes, packed_weights.h),
// for one activation row, `act` its blocks from interleave_q8<true> with
// R = 1 (the int8 values as they are). Panel vector v masked to its low (high)
// nibbles holds in lane r row r's elements 8v .. 8v+3 (8v+4 .. 8v+7), so one
// relaxed dot with those four activations broadcast gives each row's
// products in its own lane, summed in pairs. A block's eight dots add up in
// int16 (|sum| ≤ 8 · 2 · 15 · 128 = 30720) and widen once; no rotations.
// Results are bitwise the reference's.
//
// The pair tile runs groups g and g + 1 (one pair, q4_panel_index) in one
// pass: the activation loads serve both, and the two groups' panels, which
// alternate, are one stream. 576×1536, Node: 19.7 → 23.2 GB/s from cache,
// 15–18 → 19.4 from memory; bench-model decode +5% in Node, +11% in
// Chromium. The single tile covers a group without its partner (an odd last
// group, or a thread's range that splits a pair).
// Panel vector q against its eight activations, a_lo = elements 8v .. 8v+3
// and a_hi = 8v+4 .. 8v+7, each broadcast: lane pair r holds row r's two
// int16 partial sums.
inline v128_t relaxed_vector_dots(v128_t q, v128_t a_lo, v128_t a_hi) {
  const v128_t low_nibbles = wasm_i8x16_splat(0x0F);
  return wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, wasm_v128_and(q, low_nibbles)),
                        relaxed_dot_i8x16_i7x16(a_hi, wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles)));
}
// Q5 panels (relaxed builds: q5_slot, q5_xor_panel in q4_panel.h): the two
// code vectors of panel vector v, elements 8v .. 8v+3 (*lo: bits 0..4 of
// each byte) and 8v+4 .. 8v+7 (*hi: ((qs >> 3) ^ (plane >> 2v)) & 31 in
// 16-bit lanes); `plane` is shifted by 2v already when v is 0.
// 4096×4096, Node, 8 alternating runs: 1.24× Q4_0's GEMV time (best and
// median), against 1.43× when *hi took bits 5..7 and the plane's to 3, 4
// (two more masks, an or and a shift), and 1.9–2.0× with a plane of fifth
// bits beside Q4 nibbles.
inline void q5_code_vectors(v128_t q, v128_t plane, int v, v128_t* lo, v128_t* hi) {
  const v128_t mask = wasm_i8x16_splat(0x1F);
  *lo = wasm_v128_and(q, mask);
  *hi = wasm_v128_and(wasm_v128_xor(wasm_u16x8_shr(q, 3), v == 0 ? plane : wasm_u16x8_shr(plane, uint32_t(2 * v))), mask);
}
// Q5: one block's int32 row dots (lane r = row r) of P groups whose panels
// lie `panel_bytes` apart (a pair, or P = 1), the activation words loaded
// once for both; Q5_0's with its −16·Σa term in already. One vector per
// step of a rolled loop (unrolled, clang loaded the whole block first and
// V8 spilled a quarter of the loop's ops; V8 peels a loop of two steps
// whole, with the same spills). The dots of low and of high codes add up
// in two int16 sums, widened once per block. Q5_0's both start at the
// layout's −8·Σa halves (−16·Σa in all), so each ends at Σ (q − 8)·a over
// its 8 elements per int16 lane minus 8·Σa over the other 8, within
// 8·23·128 + 8·8·128 = 31744 (Q5_1's, from zero: 8·31·128 = 31744). The
// planes move right by 2 bits per step (16-bit lanes, as q5_xor_panel
// reads them).
template <bool kHasMin, int P>
inline void relaxed_block_dots5(const uint8_t* panel, size_t panel_bytes, const int32_t* act, v128_t (&dot)[P]) {
  const uint8_t* qs = panel + q4_qs_offset(kHasMin);
  const v128_t start = kHasMin ? wasm_i16x8_splat(0) : wasm_v128_load32_splat(act + q8_field<true>(1, kQ8Minus8HalfSums));
  v128_t plane[P], sum_lo[P], sum_hi[P];
#pragma clang loop unroll(full)
  for (int p = 0; p < P; ++p) {
    plane[p] = wasm_v128_load(panel + p * panel_bytes + q5_high_offset(kHasMin));
    sum_lo[p] = sum_hi[p] = start;
  }
#pragma clang loop unroll(disable)
  for (int v = 0; v < 4; ++v, qs += 16, act += 2) {
    const v128_t a_lo = wasm_v128_load32_splat(act), a_hi = wasm_v128_load32_splat(act + 1);
#pragma clang loop unroll(full)
    for (int p = 0; p < P; ++p) {
      v128_t lo, hi;
      q5_code_vectors(wasm_v128_load(qs + p * panel_bytes), plane[p], 0, &lo, &hi);
      sum_lo[p] = wasm_i16x8_add(sum_lo[p], relaxed_dot_i8x16_i7x16(a_lo, lo));
      sum_hi[p] = wasm_i16x8_add(sum_hi[p], relaxed_dot_i8x16_i7x16(a_hi, hi));
      plane[p] = wasm_u16x8_shr(plane[p], 2);
    }
  }
#pragma clang loop unroll(full)
  for (int p = 0; p < P; ++p)
    dot[p] = wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(sum_lo[p]), wasm_i32x4_extadd_pairwise_i16x8(sum_hi[p]));
}
// A block's int16 sums start for one activation row (R = 1) or four
// (R = 4: lane r of the result's four int32): Q4_0 at the rows' −8·Σq
// halves (q4_activations_wasmsimd.h), so the block update adds no term;
// Q4_1 at zero.
template <bool kHasMin>
inline v128_t q8_sums_start(const int32_t* act, int R) {
  if (kHasMin) return wasm_i32x4_splat(0);
  const int32_t* halves = act + (R == 1 ? q8_field<true>(1, kQ8Minus8HalfSums) : q8_field<true>(4, kQ8Minus8HalfSums));
  return R == 1 ? wasm_v128_load32_splat(halves) : wasm_v128_load(halves);
}
// The GEMV tiles' block update for one activation row: Q4_0's and Q5_0's
// dots hold their terms already.
template <bool kHasMin, bool kHigh>
inline v128_t q8_gemv_block_update(v128_t acc, v128_t dot, const uint8_t* panel, const int32_t* act) {
  const v128_t da = wasm_v128_load32_splat(act + q8_field<true>(1, kQ8D));
  if (!kHasMin) return q8_block_update_with_term(acc, dot, panel, da);  // Q5_0's too (relaxed_block_dots5)
  return q8_block_update<kHasMin, kHigh>(acc, dot, panel, da, wasm_v128_load32_splat(act + q8_field<true>(1, q8_term_field<kHasMin>())));
}
template <bool kHasMin, bool kHigh>
void q4_q8_gemv_tile_relaxed(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin, kHigh));
  const uint8_t* panel = q4_panel<kHasMin, kHigh>(w, g, 0);
  const size_t step = size_t(q4_panel_step(w, g)) * kPanel;
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += step, act += q8_block_stride<true>(1)) {
    v128_t dot;
    if (kHigh) {
      v128_t dots[1];
      relaxed_block_dots5<kHasMin, 1>(panel, kPanel, act, dots);
      dot = dots[0];
    } else {
      const uint8_t* qs = panel + q4_qs_offset(kHasMin);
      const int32_t* words = act;
      v128_t sum = q8_sums_start<kHasMin>(act, 1);
      // Two steps of two vectors: V8 holds a base register per load32_splat
      // offset, and all four unrolled spill in Node 20's V8 (576×1536 from
      // cache, Node: 19.0 GB/s unrolled, 20.0 rolled, 21.3 like this;
      // Chromium: unrolled and this alike, rolled 7% slower).
#pragma clang loop unroll(disable)
      for (int half = 0; half < 2; ++half, qs += 32, words += 4) {
#pragma clang loop unroll(full)
        for (int v = 0; v < 2; ++v)
          sum = wasm_i16x8_add(sum, relaxed_vector_dots(wasm_v128_load(qs + 16 * v), wasm_v128_load32_splat(words + 2 * v),
                                                        wasm_v128_load32_splat(words + 2 * v + 1)));
      }
      dot = wasm_i32x4_extadd_pairwise_i16x8(sum);
    }
    acc = q8_gemv_block_update<kHasMin, kHigh>(acc, dot, panel, act);
  }
  wasm_v128_store(y + g * kPackRows, acc);
}
// Groups g (even) and g + 1, a pair.
template <bool kHasMin, bool kHigh>
void q4_q8_gemv_pair_tile_relaxed(const Q4Weights& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(q4_type(kHasMin, kHigh));
  const uint8_t* panel = q4_panel<kHasMin, kHigh>(w, g, 0);  // then group g + 1's, then g's next block, ...
  v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0;
  for (int64_t b = 0; b < nb; ++b, panel += 2 * kPanel, act += q8_block_stride<true>(1)) {
    v128_t dot0, dot1;
    if (kHigh) {
      v128_t dots[2];
      relaxed_block_dots5<kHasMin, 2>(panel, kPanel, act, dots);
      dot0 = dots[0];
      dot1 = dots[1];
    } else {
      const uint8_t* qs = panel + q4_qs_offset(kHasMin);
      const int32_t* words = act;
      v128_t sum0 = q8_sums_start<kHasMin>(act, 1), sum1 = sum0;
#pragma clang loop unroll(disable)
      for (int v = 0; v < 4; ++v, qs += 16, words += 2) {
        const v128_t a_lo = wasm_v128_load32_splat(words), a_hi = wasm_v128_load32_splat(words + 1);
        sum0 = wasm_i16x8_add(sum0, relaxed_vector_dots(wasm_v128_load(qs), a_lo, a_hi));
        sum1 = wasm_i16x8_add(sum1, relaxed_vector_dots(wasm_v128_load(qs + kPanel), a_lo, a_hi));
      }
      dot0 = wasm_i32x4_extadd_pairwise_i16x8(sum0);
      dot1 = wasm_i32x4_extadd_pairwise_i16x8(sum1);
    }
    acc0 = q8_gemv_block_update<kHasMin, kHigh>(acc0, dot0, panel, act);
    acc1 = q8_gemv_block_update<kHasMin, kHigh>(acc1, dot1, panel + kPanel, act);
  }
  wasm_v128_store(y + g * kPackRows, acc0);
  wasm_v128_store(y + (g + 1) * kPackRows, acc1);
}

// The relaxed tier's W4A8 GEMV: pairs of full groups through the pair tile,
// the rest one by one; a partial last group (N % 4 rows) to `tail`, the
// scalar kernel of the same name.
template <bool kHasMin, bool kHigh = false>
void q4_q8_gemv_relaxed(const Q4Weights& w, const Q8Activations& x, const OutputTile& out, Q4Q8Fn tail) {
  const int64_t stride = (w.K / kQK) * q8_block_stride<true>(1);
  const int32_t* act = interleave_q8<true>(x, out.m_begin, out.m_end, 1);
  const int64_t first = out.n_begin / kPackRows, full_end = std::min(out.n_end, w.N) / kPackRows;
  for (int64_t m = out.m_begin; m < out.m_end; ++m, act += stride) {
    float* y = out.y + m * out.ldy;
    for (int64_t g = first; g < full_end;) {
      if (g % 2 == 0 && g + 1 < full_end) {
        q4_q8_gemv_pair_tile_relaxed<kHasMin, kHigh>(w, act, g, y);
        g += 2;
      } else {
        q4_q8_gemv_tile_relaxed<kHasMin, kHigh>(w, act, g, y);
        ++g;
      }
    }
  }
  if (full_end * kPackRows < out.n_end) tail(w, x, group_tile(out, full_end));
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
