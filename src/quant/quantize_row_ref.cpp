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

}  // namespace

// y[n/32] <- x[n]
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    // The value of largest magnitude, sign kept; strict '<' keeps the first on ties.
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;  // max lands on code 0, i.e. level −8
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) codes[j] = truncated_code(x[j] * id + 8.5f, 15);
    pack_nibbles(codes, y[b].qs);
  }
}

// y[n/32] <- x[n]
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float min = FLT_MAX;
    float max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(min);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) codes[j] = truncated_code((x[j] - min) * id + 0.5f, 15);
    pack_nibbles(codes, y[b].qs);
  }
}

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
