// Rules shared by every tier of the f32 -> Q8_0 activation quantizer, so all
// tiers produce identical bytes:
//   amax  = max |x| over the block, taken as the max of the sign-cleared bit
//           patterns (a NaN wins over everything, in every tier alike)
//   d     = amax / 127, stored as fp16 (the kernels use that fp16 value)
//   q     = round_half_even(x · id), id = 1/d (0 if d == 0), saturated to
//           [−128, 127], NaN -> 0 (what f32x4.nearest + trunc_sat + narrow do)
#pragma once

#include <cmath>
#include <cstdint>

#include "quant/fp16.h"

namespace nibble {

struct Q8BlockScale {
  uint16_t d_fp16;  // stored scale
  float id;         // multiplier applied before rounding
};

inline Q8BlockScale q8_block_scale(uint32_t amax_bits) {
  const float d = f32_from_bits(amax_bits) / 127.0f;
  return {fp32_to_fp16(d), d != 0.0f ? 1.0f / d : 0.0f};
}

inline uint32_t abs_bits(float x) { return f32_bits(x) & 0x7fffffffu; }

// round_half_even(v) saturated to int8, NaN -> 0.
inline int8_t q8_round(float v) {
  const float r = std::nearbyint(v);  // default rounding mode: nearest, ties to even
  if (!(r == r)) return 0;
  if (r >= 127.0f) return 127;
  if (r <= -128.0f) return -128;
  return int8_t(r);
}

}  // namespace nibble
