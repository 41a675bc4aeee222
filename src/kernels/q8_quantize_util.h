// Rules shared by every tier of the activation quantizers, so all tiers of
// one produce identical bytes. Two rules, one code path:
//   Q8Rule (W4A8, f32 -> Q8_0)       step = amax / 127,  q in [−128, 127]
//   I4Rule (W4A4, signed 4-bit)      step = ±amax / c, q in [−8, 7], c the
//                                    first of kI4Divisors with the least
//                                    squared error over the block (a clip
//                                    search: c > 8 saturates the largest
//                                    values for finer steps on the rest);
//                                    the sign puts the block's largest
//                                    magnitude at −c, the end of the range
//                                    that reaches −8 (step < 0 when it is
//                                    positive)
// per 32-block:
//   amax  = max |x| over the block, taken as the max of the sign-cleared bit
//           patterns (a NaN wins over everything, in every tier alike);
//           it is negative when the max of the raw bit patterns, read as
//           unsigned, is amax's pattern with the sign bit set (a tie of +a
//           and −a counts as negative)
//   d     = step, stored as fp16 (the kernels use that fp16 value; the
//           search measures x − d·q with it, summed as squared_error() says)
//   q     = round_half_even(x · id), id = 1/step (0 if step == 0), saturated
//           to [kMin, kMax], NaN -> 0 (what f32x4.nearest + trunc_sat + an
//           i32x4 clamp do)
// Both write Q8Activations (int8 lanes), so the W4A8 integer-dot kernels of
// every type run 4-bit activations unchanged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <type_traits>

#include "kernels/microkernels.h"
#include "quant/fp16.h"

namespace nibble {

struct Q8Rule {
  static constexpr int kMin = -128, kMax = 127;
  static constexpr bool kSigned = false;  // its step ignores the largest value's sign
  static float step(float amax, bool /*negative*/) { return amax / 127.0f; }  // llama.cpp's Q8_0 scale
};

// W4A4's candidate divisors of amax: measured on stories260K (README,
// quantization quality: the search and the signed step lower W4A4's mean
// KL by about a tenth and then 5 %; 7 serves blocks whose both ends are
// near amax, 9.5 and 10 were never chosen).
constexpr float kI4Divisors[] = {7.0f, 8.0f, 8.5f, 9.0f};
struct I4Rule {
  static constexpr int kMin = -8, kMax = 7;
  static constexpr bool kSigned = true;
  // The largest magnitude (negative or not) maps to −c.
  static float step(float amax, bool negative, int candidate = 0) {
    return (negative ? amax : -amax) / kI4Divisors[candidate];
  }
};

// Whether the block's largest magnitude is a negative value, from amax's
// bit pattern and the max of the block's raw bit patterns read as unsigned.
inline bool largest_is_negative(uint32_t amax_bits, uint32_t max_bits) { return max_bits == (amax_bits | 0x80000000u); }

struct Q8BlockScale {
  uint16_t d_fp16;  // stored scale
  float id;         // multiplier applied before rounding
};

template <typename Rule, typename... Candidate>
Q8BlockScale block_scale(uint32_t amax_bits, bool negative, Candidate... candidate) {
  const float d = Rule::step(f32_from_bits(amax_bits), negative, candidate...);
  return {fp32_to_fp16(d), d != 0.0f ? 1.0f / d : 0.0f};
}

inline uint32_t abs_bits(float x) { return f32_bits(x) & 0x7fffffffu; }

// round_half_even(v) saturated to [kMin, kMax], NaN -> 0.
template <typename Rule>
int8_t round_to(float v) {
  const float r = std::nearbyint(v);  // default rounding mode: nearest, ties to even
  if (!(r == r)) return 0;
  if (r >= float(Rule::kMax)) return int8_t(Rule::kMax);
  if (r <= float(Rule::kMin)) return int8_t(Rule::kMin);
  return int8_t(r);
}

// Σ_j (x_j − d·q_j)² over a block, summed in four lanes (lane j % 4, j in
// order), then (lane 0 + lane 2) + (lane 1 + lane 3): the SIMD tier's order.
template <typename Rule>
float squared_error(const float* xb, const Q8BlockScale& scale) {
  const float d = fp16_to_fp32(scale.d_fp16);
  float lane[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int j = 0; j < kQK; ++j) {
    const float e = xb[j] - d * float(round_to<Rule>(xb[j] * scale.id));
    lane[j % 4] += e * e;
  }
  return (lane[0] + lane[2]) + (lane[1] + lane[3]);
}

// The block's scale: Q8Rule's one, or I4Rule's search (the first candidate
// unless a later one has a strictly smaller error; a NaN error never wins).
template <typename Rule, typename Error>
Q8BlockScale chosen_scale(uint32_t amax_bits, bool negative, const Error& error) {
  if constexpr (std::is_same_v<Rule, I4Rule>) {
    Q8BlockScale best = block_scale<Rule>(amax_bits, negative, 0);
    float best_error = error(best);
    for (int c = 1; c < int(std::size(kI4Divisors)); ++c) {
      const Q8BlockScale scale = block_scale<Rule>(amax_bits, negative, c);
      const float e = error(scale);
      if (e < best_error) {
        best = scale;
        best_error = e;
      }
    }
    return best;
  } else {
    return block_scale<Rule>(amax_bits, negative);
  }
}

// One row x[K] -> per block b: its qs at block_qs(b), its fp16 scale through
// store_d(b, bits), sums[b] = Σq (the reference and the scalar tier).
template <typename Rule, typename BlockQs, typename StoreD>
void quantize_row_blocks(const float* x, int64_t K, const BlockQs& block_qs, const StoreD& store_d, int32_t* sums) {
  for (int64_t b = 0; b < K / kQK; ++b) {
    const float* xb = x + b * kQK;
    int8_t* qb = block_qs(b);
    uint32_t amax_bits = 0, max_bits = 0;
    for (int j = 0; j < kQK; ++j) amax_bits = std::max(amax_bits, abs_bits(xb[j]));
    if constexpr (Rule::kSigned)
      for (int j = 0; j < kQK; ++j) max_bits = std::max(max_bits, f32_bits(xb[j]));
    const Q8BlockScale scale = chosen_scale<Rule>(amax_bits, largest_is_negative(amax_bits, max_bits),
                                                  [&](const Q8BlockScale& s) { return squared_error<Rule>(xb, s); });
    store_d(b, scale.d_fp16);
    int32_t sum = 0;
    for (int j = 0; j < kQK; ++j) {
      qb[j] = round_to<Rule>(xb[j] * scale.id);
      sum += qb[j];
    }
    sums[b] = sum;
  }
}

// The reference: K/32 standard Q8_0 blocks.
template <typename Rule>
void quantize_row_q8_blocks(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums) {
  quantize_row_blocks<Rule>(
      x, K, [&](int64_t b) { return blocks[b].qs; }, [&](int64_t b, uint16_t d) { blocks[b].d = d; }, sums);
}

// The scalar tier: Q8Activations' arrays.
template <typename Rule>
void quantize_row_q8_arrays(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  quantize_row_blocks<Rule>(
      x, K, [&](int64_t b) { return qs + b * kQK; }, [&](int64_t b, uint16_t bits) { d[b] = fp16_to_fp32(bits); },
      sums);
}

}  // namespace nibble
