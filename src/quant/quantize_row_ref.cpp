// Round-to-nearest reference quantizers (llama.cpp's rules, byte for byte)
// and the dequantizers of the block types.
#include <cfloat>
#include <cmath>

#include "quant/fp16.h"
#include "quant/nibbles.h"
#include "quant/quantize_row.h"

namespace nibble {
namespace {

// llama.cpp converts the shifted value with a C cast to int8_t and then takes
// min(top, ·). For finite values that is truncation toward zero (the values
// here stay within [0, top + 1.5]). A value is non-finite only when the scale
// underflowed so far that 1/d is infinite (|d| < 2^-128, so its fp16 is 0);
// the cast is undefined there, and x86 (cvttss2si) yields 0, so we do too.
// The block then dequantizes to zeros whatever the codes are.
inline uint8_t truncated_code(float shifted, int top) {
  if (!std::isfinite(shifted)) return 0;
  const int q = int(shifted);  // toward zero
  return uint8_t(q < 0 ? 0 : (q > top ? top : q));
}

// Symmetric blocks (Q4_0, Q5_0) with levels q − half, q in 0..2·half − 1:
// the value of largest magnitude (sign kept; strict '<' keeps the first on
// ties) lands on code 0, so d = max/−half; q = min(top, trunc(x/d + half + 0.5)).
// Returns d; codes[32] <- x[32].
float symmetric_codes(const float* x, int half, uint8_t* codes) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -float(half);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) codes[j] = truncated_code(x[j] * id + (float(half) + 0.5f), 2 * half - 1);
  return d;
}

// Affine blocks (Q4_1, Q5_1), levels d·q + min, q in 0..top: d = (max − min)/top,
// q = min(top, trunc((x − min)/d + 0.5)). Sets *d, *min; codes[32] <- x[32].
void affine_codes(const float* x, int top, float* d, float* min, uint8_t* codes) {
  float lo = FLT_MAX;
  float hi = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *d = (hi - lo) / float(top);
  *min = lo;
  const float id = *d != 0.0f ? 1.0f / *d : 0.0f;
  for (int j = 0; j < kQK; ++j) codes[j] = truncated_code((x[j] - lo) * id + 0.5f, top);
}

// The index of the code-book value nearest to x (values[16] ascending; on a
// tie between two neighbours, the upper one), as ggml's best_index_int8.
// Exact: 2x against the sum of two neighbours.
int nearest_iq4nl_index(float x) {
  const float x2 = x + x;
  int i = 0;
  for (int step = 8; step > 0; step >>= 1) {
    if (x2 >= float(kIQ4NLValues[i + step - 1] + kIQ4NLValues[i + step])) i += step;
  }
  return i;
}

}  // namespace

// y[n/32] <- x[n]
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    uint8_t codes[kQK];
    y[b].d = fp32_to_fp16(symmetric_codes(x, 8, codes));
    pack_nibbles(codes, y[b].qs);
  }
}

// y[n/32] <- x[n]
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    uint8_t codes[kQK];
    float d, min;
    affine_codes(x, 15, &d, &min, codes);
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(min);
    pack_nibbles(codes, y[b].qs);
  }
}

// y[n/32] <- x[n]
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    uint8_t codes[kQK];
    y[b].d = fp32_to_fp16(symmetric_codes(x, 16, codes));
    pack_q5_codes(codes, y[b].qs, y[b].qh);
  }
}

// y[n/32] <- x[n]
void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    uint8_t codes[kQK];
    float d, min;
    affine_codes(x, 31, &d, &min, codes);
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(min);
    pack_q5_codes(codes, y[b].qs, y[b].qh);
  }
}

// y[n/32] <- x[n]. llama.cpp's rule (quantize_iq4_nl): per element a weight,
// x² (or, with importance data, importance·sqrt(σ² + x²), σ² twice the
// block's mean square); the scale max/127 (max: the value of largest
// magnitude), then (v − 127)/max for v = −7..7 as inverse scales, each refit
// by weighted least squares, keeping the best Σw·x·q / Σw·q²; the codes are
// then the nearest values at the kept scale.
void quantize_row_iq4_nl_imatrix(const float* x, BlockIQ4_NL* y, int64_t n, const float* importance) {
  constexpr int kTries = 7;
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float w[kQK];
    float sigma2 = 0.0f;
    for (int j = 0; j < kQK; ++j) sigma2 += x[j] * x[j];
    sigma2 *= 2.0f / float(kQK);
    for (int j = 0; j < kQK; ++j)
      w[j] = importance ? importance[b * kQK + j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    float d = 0.0f;
    if (amax >= kGroupMaxEps) {
      // Σ w·q·x and Σ w·q² over the block for the codes of inverse scale id.
      auto fit = [x, &w](float id, float* sumqx, float* sumq2) {
        *sumqx = *sumq2 = 0.0f;
        for (int j = 0; j < kQK; ++j) {
          const float q = float(kIQ4NLValues[nearest_iq4nl_index(id * x[j])]);
          *sumqx += w[j] * q * x[j];
          *sumq2 += w[j] * q * q;
        }
      };
      float sumqx, sumq2;
      fit(1.0f / (-max / float(kIQ4NLValues[0])), &sumqx, &sumq2);
      d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
      float best = d * sumqx;
      for (int t = -kTries; t <= kTries; ++t) {
        fit(float(t + kIQ4NLValues[0]) / max, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          d = sumqx / sumq2;
          best = d * sumqx;
        }
      }
    }
    y[b].d = fp32_to_fp16(d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) codes[j] = uint8_t(nearest_iq4nl_index(id * x[j]));
    pack_nibbles(codes, y[b].qs);
  }
}

// y[n/32] <- x[n]: the rule above without importance data.
void quantize_row_iq4_nl_ref(const float* x, BlockIQ4_NL* y, int64_t n) { quantize_row_iq4_nl_imatrix(x, y, n, nullptr); }

// y[n/32] <- x[n]
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) {
      // roundf: halves away from zero, as llama.cpp. Non-finite -> 0 (see above).
      const float r = std::round(x[j] * id);
      y[b].qs[j] = std::isfinite(r) ? int8_t(r) : int8_t(0);
    }
  }
}

// y[n] <- x[n/32]
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    uint8_t codes[kQK];
    unpack_nibbles(x[b].qs, codes);
    for (int j = 0; j < kQK; ++j) y[j] = float(int(codes[j]) - 8) * d;
  }
}

// y[n] <- x[n/32]
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    const float m = fp16_to_fp32(x[b].m);
    uint8_t codes[kQK];
    unpack_nibbles(x[b].qs, codes);
    for (int j = 0; j < kQK; ++j) y[j] = float(codes[j]) * d + m;
  }
}

// y[n] <- x[n/32]
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

namespace {

// The fifth bit of element j of a Q5 block, as 16 or 0: bit j of qh (LE u32).
inline int q5_high_bit(const uint8_t* qh, int j) {
  const uint32_t bits = uint32_t(qh[0]) | uint32_t(qh[1]) << 8 | uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
  return int((bits >> j) & 1u) << 4;
}

}  // namespace

// y[n] <- x[n/32]
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    uint8_t codes[kQK];
    unpack_nibbles(x[b].qs, codes);
    for (int j = 0; j < kQK; ++j) y[j] = float((codes[j] | q5_high_bit(x[b].qh, j)) - 16) * d;
  }
}

// y[n] <- x[n/32]
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    const float m = fp16_to_fp32(x[b].m);
    uint8_t codes[kQK];
    unpack_nibbles(x[b].qs, codes);
    for (int j = 0; j < kQK; ++j) y[j] = float(codes[j] | q5_high_bit(x[b].qh, j)) * d + m;
  }
}

// y[n] <- x[n/32]
void dequantize_row_iq4_nl(const BlockIQ4_NL* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = fp16_to_fp32(x[b].d);
    uint8_t codes[kQK];
    unpack_nibbles(x[b].qs, codes);
    for (int j = 0; j < kQK; ++j) y[j] = d * float(kIQ4NLValues[codes[j]]);
  }
}

}  // namespace nibble
