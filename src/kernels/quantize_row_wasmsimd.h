// The activation quantizers' wasm SIMD128 loop, for either rule of
// q8_quantize_util.h. Same bytes as the reference: the scale comes from the
// shared scalar rule, f32x4.nearest rounds half to even like
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
    v128_t q[2];
    for (int h = 0; h < 2; ++h) {
      v128_t r[4];
      for (int i = 0; i < 4; ++i) r[i] = round_lanes<Rule>(v[4 * h + i], id);
      q[h] = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r[0], r[1]), wasm_i16x8_narrow_i32x4(r[2], r[3]));
      wasm_v128_store(qs + b * kQK + 16 * h, q[h]);
    }
    const v128_t s16 = wasm_i16x8_add(wasm_i16x8_extadd_pairwise_i8x16(q[0]), wasm_i16x8_extadd_pairwise_i8x16(q[1]));
    v128_t s32 = wasm_i32x4_extadd_pairwise_i16x8(s16);
    s32 = wasm_i32x4_add(s32, wasm_i32x4_shuffle(s32, s32, 2, 3, 0, 1));
    s32 = wasm_i32x4_add(s32, wasm_i32x4_shuffle(s32, s32, 1, 0, 3, 2));
    sums[b] = wasm_i32x4_extract_lane(s32, 0);
  }
}

}  // namespace nibble

#endif  // __wasm_simd128__
