// The W4A8 kernels of the kI8Panels types (Q8_0, IQ4_NL) for both SIMD
// tiers: int8 weights × int8 activations. Neither factor is 0..127, so the
// relaxed dot does not apply as is: the tiers widen to int16 and use
// i32x4.dot_i16x8_s, except for IQ4_NL on the relaxed tier (below). Panels (packed_weights.h, the same in every build):
// vector u of a Q8_0 panel holds in 32-bit lane r row r's elements
// 4u .. 4u+3; an IQ4_NL panel's nibble vector v, split into low and high
// nibbles and looked up in kIQ4NLValues with i8x16.swizzle, gives those
// vectors 2v and 2v + 1.
//
// A GEMM here runs the GEMV tile on each activation row (bitwise the same;
// a tile sharing each widened panel across 4 rows is not written yet).
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include <cstdint>

#include "kernels/q4_activations_wasmsimd.h"
#include "kernels/q4_panel.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {
namespace wasmsimd {

// The i16x8 [a[4u] .. a[4u+3], a[4u] .. a[4u+3]] of one activation row's
// block: the plain tier's layout holds int16 pairs, the relaxed tier's the
// int8 values (q4_activations_wasmsimd.h).
template <bool kRelaxed>
inline v128_t i8_activation_quad(const int32_t* act, int u) {
  if (kRelaxed) return wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(act + u));
  return wasm_v128_load64_splat(act + 2 * u);
}

// Adds weight vector w8 (four rows × elements 4u .. 4u+3, int8) times the
// activation quad to lo (lanes: row 0 twice, row 1 twice) and hi (rows 2, 3).
inline void add_i8_dots(v128_t w8, v128_t a, v128_t& lo, v128_t& hi) {
  lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(w8), a));
  hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(w8), a));
}

// W4A8 GEMV tile: y[4g .. 4g+4] for one activation row, `act` its blocks
// from interleave_q8<kRelaxed> with R = 1. Per block: the integer dot of
// each row, then acc += float(dot) · (d_w·d_a), bitwise the reference.
template <TensorType kType, bool kRelaxed>
void i8_q8_gemv_tile(const PackedView& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(kType);
  const uint8_t* panel = i8_panel<kType>(w, g, 0);
  const v128_t codebook = wasm_v128_load(kIQ4NLValues), low_nibbles = wasm_i8x16_splat(0x0F);
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride<kRelaxed>(1)) {
    v128_t lo = wasm_i32x4_splat(0), hi = lo;
    const uint8_t* qs = panel + kI8QsOffset;
#pragma clang loop unroll(disable)
    for (int v = 0; v < 4; ++v) {  // weight vectors 2v and 2v + 1
      v128_t first, second;
      if (kType == TensorType::Q8_0) {
        first = wasm_v128_load(qs + 32 * v);
        second = wasm_v128_load(qs + 32 * v + 16);
      } else {
        const v128_t q = wasm_v128_load(qs + 16 * v);
        first = wasm_i8x16_swizzle(codebook, wasm_v128_and(q, low_nibbles));
        second = wasm_i8x16_swizzle(codebook, wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles));
      }
      add_i8_dots(first, i8_activation_quad<kRelaxed>(act, 2 * v), lo, hi);
      add_i8_dots(second, i8_activation_quad<kRelaxed>(act, 2 * v + 1), lo, hi);
    }
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7));
    const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), wasm_v128_load32_splat(act + q8_field<kRelaxed>(1, kQ8D)));
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// IQ4_NL on the relaxed tier, whose dot wants one factor in 0..127: the
// code book is 15·q − 127 plus a residue r[q] in 0..18, so a block's
//   Σ v[q]·a = 15·Σ q·a + Σ r[q]·a − 127·Σa,
// two relaxed dots per 16 weights on the nibbles as Q4_0's GEMV has them
// (rows in lanes, packed_weights.h) and on their residues (i8x16.swizzle).
// Σ q·a adds up in int16 over the block as Q4's does; Σ r·a (lanes up to
// 2 · 2 · 18 · 128 = 9216 per vector) over each half.
struct IQ4NLResidues {
  int8_t r[16];
};
constexpr IQ4NLResidues iq4_nl_residues() {
  IQ4NLResidues t{};
  for (int q = 0; q < 16; ++q) t.r[q] = int8_t(kIQ4NLValues[q] - 15 * q + 127);
  return t;
}
inline constexpr IQ4NLResidues kIQ4NLResidues = iq4_nl_residues();
static_assert([] {
  for (int8_t r : kIQ4NLResidues.r)
    if (r < 0 || r > 18) return false;
  return true;
}(), "the IQ4_NL residues must stay in 0..18 (the int16 bound above)");

inline void iq4_nl_q8_gemv_tile_relaxed(const PackedView& w, const int32_t* act, int64_t g, float* y) {
  const int64_t nb = w.K / kQK;
  constexpr size_t kPanel = q4_panel_bytes(TensorType::IQ4_NL);
  const uint8_t* panel = i8_panel<TensorType::IQ4_NL>(w, g, 0);
  const v128_t residues = wasm_v128_load(kIQ4NLResidues.r), low_nibbles = wasm_i8x16_splat(0x0F);
  v128_t acc = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb; ++b, panel += kPanel, act += q8_block_stride<true>(1)) {
    const uint8_t* qs = panel + kI8QsOffset;
    const int32_t* words = act;
    v128_t sum_q = wasm_i16x8_splat(0), sum_r = wasm_i32x4_splat(0);
#pragma clang loop unroll(disable)
    for (int half = 0; half < 2; ++half, qs += 32, words += 4) {
      v128_t half_r = wasm_i16x8_splat(0);
#pragma clang loop unroll(full)
      for (int v = 0; v < 2; ++v) {
        const v128_t q = wasm_v128_load(qs + 16 * v), a_lo = wasm_v128_load32_splat(words + 2 * v), a_hi = wasm_v128_load32_splat(words + 2 * v + 1);
        const v128_t lo = wasm_v128_and(q, low_nibbles), hi = wasm_v128_and(wasm_u16x8_shr(q, 4), low_nibbles);
        sum_q = wasm_i16x8_add(sum_q, wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, lo), relaxed_dot_i8x16_i7x16(a_hi, hi)));
        half_r = wasm_i16x8_add(half_r, wasm_i16x8_add(relaxed_dot_i8x16_i7x16(a_lo, wasm_i8x16_swizzle(residues, lo)),
                                                       relaxed_dot_i8x16_i7x16(a_hi, wasm_i8x16_swizzle(residues, hi))));
      }
      sum_r = wasm_i32x4_add(sum_r, wasm_i32x4_extadd_pairwise_i16x8(half_r));
    }
    const v128_t dot_q = wasm_i32x4_extadd_pairwise_i16x8(sum_q);
    // −127·Σa from the layout's −8·Σa.
    const v128_t minus127_sum = wasm_i32x4_mul(wasm_i32x4_shr(wasm_v128_load32_splat(act + q8_field<true>(1, kQ8Minus8Sum)), 3), wasm_i32x4_splat(127));
    const v128_t dot = wasm_i32x4_add(wasm_i32x4_sub(wasm_i32x4_shl(dot_q, 4), dot_q), wasm_i32x4_add(sum_r, minus127_sum));
    const v128_t scale = wasm_f32x4_mul(wasm_v128_load(panel), wasm_v128_load32_splat(act + q8_field<true>(1, kQ8D)));
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(dot), scale));
  }
  wasm_v128_store(y + g * kPackRows, acc);
}

// The W4A8 kernel (GEMV and GEMM alike) of a kI8Panels type; a partial
// last group goes to `tail`, the scalar kernel of the same name.
template <TensorType kType, bool kRelaxed>
void i8_q8_kernel(const PackedView& w, const Q8Activations& x, const OutputTile& out, PackedQ8Fn tail) {
  const int64_t stride = (w.K / kQK) * q8_block_stride<kRelaxed>(1);
  q4_tiles(w, x, out, 1, interleave_q8<kRelaxed>, [&](const int32_t* act, int64_t t, int64_t g, float* y, int64_t, int) {
    if constexpr (kRelaxed && kType == TensorType::IQ4_NL) iq4_nl_q8_gemv_tile_relaxed(w, act + t * stride, g, y);
    else i8_q8_gemv_tile<kType, kRelaxed>(w, act + t * stride, g, y);
  }, tail);
}

}  // namespace wasmsimd
}  // namespace nibble

#endif  // __wasm_simd128__
