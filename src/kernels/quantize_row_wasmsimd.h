// The activation quantizers' wasm SIMD128 loops for the rules of
// q8_quantize_util.h: Q8's (quantize_row_q8_0_wasmsimd, four blocks'
// scales at a time) and W4A4's (quantize_row_q8_arrays_wasmsimd<I4Rule>).
// Same bytes as the reference: the scale comes from the shared scalar rule
// (Q8's in SIMD, the same floats), f32x4.nearest rounds half to even like
// std::nearbyint, trunc_sat sends NaN to 0, an i32x4 clamp to
// [kMin, kMax] (or, for Q8, the saturating narrows) saturates like round_to;
// W4A4's scale search sums its squared errors in squared_error()'s order
// and finds the largest value's sign from the max of the raw bit patterns.
#pragma once

#ifdef __wasm_simd128__

#include <wasm_simd128.h>

#include "kernels/q8_quantize_util.h"

namespace nibble {

// round_half_even(v · id) clamped to [kMin, kMax], as int32 lanes. Q8's
// range is what the two saturating narrows clamp to anyway (and its one
// scale needs no error), so its hot loop skips the clamp.
template <typename Rule>
v128_t round_lanes(v128_t v, v128_t id) {
  const v128_t t = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v, id)));
  if constexpr (Rule::kMin == -128 && Rule::kMax == 127) return t;
  return wasm_i32x4_min(wasm_i32x4_max(t, wasm_i32x4_splat(Rule::kMin)), wasm_i32x4_splat(Rule::kMax));
}

// A block's codes (vector i of int32 lanes from rounded(i), i < 8, within
// int8) into qb[32], and *sum = Σq.
template <typename Rounded>
void store_block(const Rounded& rounded, int8_t* qb, int32_t* sum) {
  v128_t q[2];
  for (int h = 0; h < 2; ++h) {
    v128_t r[4];
    for (int i = 0; i < 4; ++i) r[i] = rounded(4 * h + i);
    q[h] = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r[0], r[1]), wasm_i16x8_narrow_i32x4(r[2], r[3]));
    wasm_v128_store(qb + 16 * h, q[h]);
  }
  const v128_t s16 = wasm_i16x8_add(wasm_i16x8_extadd_pairwise_i8x16(q[0]), wasm_i16x8_extadd_pairwise_i8x16(q[1]));
  v128_t s32 = wasm_i32x4_extadd_pairwise_i16x8(s16);
  s32 = wasm_i32x4_add(s32, wasm_i32x4_shuffle(s32, s32, 2, 3, 0, 1));
  s32 = wasm_i32x4_add(s32, wasm_i32x4_shuffle(s32, s32, 1, 0, 3, 2));
  *sum = wasm_i32x4_extract_lane(s32, 0);
}

// fp16_to_fp32(fp32_to_fp16(x)) on four lanes of non-negative x (sign bit
// clear, as Q8's amax / 127 is): q8_quantize_util.h's scalar rule without
// its branches. Normal fp16 range: the low 13 mantissa bits rounded half to
// even in the integer bits (a carry into the exponent is right); below
// 2^−14 (fp16 subnormals, multiples of 2^−24): x + 0.5 rounds x to a
// multiple of 2^−24, half to even, as f32 does at 0.5's exponent, and − 0.5
// leaves it exact; ≥ 65520: infinity; NaN: the fp16 quiet NaN widened.
inline v128_t fp16_round_trip_f32x4(v128_t x) {
  const v128_t lsb = wasm_v128_and(wasm_u32x4_shr(x, 13), wasm_i32x4_splat(1));
  const v128_t normal = wasm_v128_and(wasm_i32x4_add(wasm_i32x4_add(x, wasm_i32x4_splat(0xfff)), lsb), wasm_i32x4_splat(~0x1fff));
  const v128_t half = wasm_f32x4_splat(0.5f);
  const v128_t subnormal = wasm_f32x4_sub(wasm_f32x4_add(x, half), half);
  v128_t r = wasm_v128_bitselect(subnormal, normal, wasm_i32x4_lt(x, wasm_i32x4_splat(0x38800000)));
  r = wasm_v128_bitselect(wasm_i32x4_splat(0x7f800000), r, wasm_i32x4_ge(x, wasm_i32x4_splat(0x477ff000)));
  return wasm_v128_bitselect(wasm_i32x4_splat(0x7fc00000), r, wasm_i32x4_gt(x, wasm_i32x4_splat(0x7f800000)));
}

// Q8Rule's rows, four blocks a group: their amax in the four lanes of one
// vector, then the steps (amax / 127), the stored scales and the
// multipliers (1 / step, 0 for a zero step) of the four at once, the same
// floats as the scalar rule's one block at a time (the two divisions and
// ~70 scalar instructions of fp16 rounding per block were a third of the
// quantizer's time). The block's values are read again for the rounding.
inline void quantize_row_q8_0_wasmsimd(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  const v128_t abs_mask = wasm_i32x4_splat(0x7fffffff);
  const int64_t nb = K / kQK;
  for (int64_t b0 = 0; b0 < nb; b0 += 4) {
    const int count = nb - b0 < 4 ? int(nb - b0) : 4;
    v128_t m[4];
    for (int j = 0; j < 4; ++j) {
      m[j] = wasm_i32x4_splat(0);
      if (j < count) {
        const float* xb = x + (b0 + j) * kQK;
        for (int i = 0; i < 8; ++i) m[j] = wasm_u32x4_max(m[j], wasm_v128_and(wasm_v128_load(xb + 4 * i), abs_mask));
      }
    }
    // Lane j of amax4: the max of m[j]'s four lanes.
    const v128_t m01 = wasm_u32x4_max(wasm_i32x4_shuffle(m[0], m[1], 0, 4, 1, 5), wasm_i32x4_shuffle(m[0], m[1], 2, 6, 3, 7));
    const v128_t m23 = wasm_u32x4_max(wasm_i32x4_shuffle(m[2], m[3], 0, 4, 1, 5), wasm_i32x4_shuffle(m[2], m[3], 2, 6, 3, 7));
    const v128_t amax4 = wasm_u32x4_max(wasm_i64x2_shuffle(m01, m23, 0, 2), wasm_i64x2_shuffle(m01, m23, 1, 3));
    const v128_t step4 = wasm_f32x4_div(amax4, wasm_f32x4_splat(127.0f));
    const v128_t id4 = wasm_v128_and(wasm_f32x4_div(wasm_f32x4_splat(1.0f), step4), wasm_f32x4_ne(step4, wasm_f32x4_splat(0.0f)));
    alignas(16) float ids[4];
    wasm_v128_store(ids, id4);
    if (count == 4) {
      wasm_v128_store(d + b0, fp16_round_trip_f32x4(step4));
    } else {
      alignas(16) float d4[4];
      wasm_v128_store(d4, fp16_round_trip_f32x4(step4));
      for (int j = 0; j < count; ++j) d[b0 + j] = d4[j];
    }
    for (int j = 0; j < count; ++j) {
      const int64_t b = b0 + j;
      const float* xb = x + b * kQK;
      // x·id rounded half to even by adding 1.5·2^23 (|x·id| ≤ 127), the
      // integer read from the low mantissa bits: f32x4.nearest and
      // trunc_sat took 8 x64 instructions a vector under V8 (trunc_sat's
      // NaN and overflow fixes), these 3. A zero, infinite or NaN id
      // (blocks of zeros, of an infinity or a NaN, or of values below
      // ~4e−37) takes round_lanes, whose NaN and saturation rules they need.
      const float id1 = ids[j];
      const v128_t id = wasm_f32x4_splat(id1), magic = wasm_f32x4_splat(12582912.0f);
      if (id1 != 0.0f && (f32_bits(id1) & 0x7f800000u) != 0x7f800000u) {
        store_block([&](int i) { return wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xb + 4 * i), id), magic), magic); },
                    qs + b * kQK, sums + b);
      } else {
        store_block([&](int i) { return round_lanes<Q8Rule>(wasm_v128_load(xb + 4 * i), id); }, qs + b * kQK, sums + b);
      }
    }
  }
}

template <typename Rule>
void quantize_row_q8_arrays_wasmsimd(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  const v128_t abs_mask = wasm_i32x4_splat(0x7fffffff);
  for (int64_t b = 0; b < K / kQK; ++b) {
    const float* xb = x + b * kQK;
    v128_t v[8];
    v128_t amax = wasm_i32x4_splat(0), bits_max = wasm_i32x4_splat(0);
    for (int i = 0; i < 8; ++i) {
      v[i] = wasm_v128_load(xb + 4 * i);
      amax = wasm_u32x4_max(amax, wasm_v128_and(v[i], abs_mask));
      if constexpr (Rule::kSigned) bits_max = wasm_u32x4_max(bits_max, v[i]);
    }
    amax = wasm_u32x4_max(amax, wasm_i32x4_shuffle(amax, amax, 2, 3, 0, 1));
    amax = wasm_u32x4_max(amax, wasm_i32x4_shuffle(amax, amax, 1, 0, 3, 2));
    const uint32_t amax_bits = uint32_t(wasm_i32x4_extract_lane(amax, 0));
    bool negative = false;
    if constexpr (Rule::kSigned) {
      bits_max = wasm_u32x4_max(bits_max, wasm_i32x4_shuffle(bits_max, bits_max, 2, 3, 0, 1));
      bits_max = wasm_u32x4_max(bits_max, wasm_i32x4_shuffle(bits_max, bits_max, 1, 0, 3, 2));
      negative = largest_is_negative(amax_bits, uint32_t(wasm_i32x4_extract_lane(bits_max, 0)));
    }
    const auto error = [&](const Q8BlockScale& s) {
      const v128_t d = wasm_f32x4_splat(fp16_to_fp32(s.d_fp16)), id = wasm_f32x4_splat(s.id);
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int i = 0; i < 8; ++i) {
        const v128_t e = wasm_f32x4_sub(v[i], wasm_f32x4_mul(d, wasm_f32x4_convert_i32x4(round_lanes<Rule>(v[i], id))));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(e, e));
      }
      acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1));
      acc = wasm_f32x4_add(acc, wasm_i32x4_shuffle(acc, acc, 1, 0, 3, 2));
      return wasm_f32x4_extract_lane(acc, 0);
    };
    const Q8BlockScale scale = chosen_scale<Rule>(amax_bits, negative, error);
    d[b] = fp16_to_fp32(scale.d_fp16);
    const v128_t id = wasm_f32x4_splat(scale.id);
    store_block([&](int i) { return round_lanes<Rule>(v[i], id); }, qs + b * kQK, sums + b);
  }
}

}  // namespace nibble

#endif  // __wasm_simd128__
