// Shared loops of the *_ref kernels: plain C++ on standard GGUF blocks, the
// definition every packed kernel is tested against. Not for speed.
#pragma once

#include <cstdint>

#include "quant/block_formats.h"
#include "quant/fp16.h"

namespace nibble {
namespace ref {

// Element j (0..31) of a block's nibbles, GGUF order.
inline int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4); }

// W4A8 contribution of one block pair (see microkernels.h for the formula).
inline float block_dot_q8(const BlockQ4_0& w, const BlockQ8_0& x) {
  int32_t isum = 0;
  for (int j = 0; j < kQK; ++j) isum += (nibble(w.qs, j) - 8) * x.qs[j];
  return float(isum) * (fp16_to_fp32(w.d) * fp16_to_fp32(x.d));
}
inline float block_dot_q8(const BlockQ4_1& w, const BlockQ8_0& x) {
  int32_t isum = 0, xsum = 0;
  for (int j = 0; j < kQK; ++j) {
    isum += nibble(w.qs, j) * x.qs[j];
    xsum += x.qs[j];
  }
  const float dx = fp16_to_fp32(x.d);
  return float(isum) * (fp16_to_fp32(w.d) * dx) + fp16_to_fp32(w.m) * (dx * float(xsum));
}

// Q5_0 / Q5_1 code j (0..31): the nibble and bit j of qh (little-endian u32) as bit 4.
inline int q5_code(const uint8_t* qs, const uint8_t* qh, int j) { return nibble(qs, j) | ((qh[j / 8] >> (j % 8)) & 1) << 4; }
// Code j of a block as the integer that multiplies the activation, and the
// block's fp16 minimum's share (Q5_1 only, below).
inline int code(const BlockQ5_0& b, int j) { return q5_code(b.qs, b.qh, j) - 16; }
inline int code(const BlockQ5_1& b, int j) { return q5_code(b.qs, b.qh, j); }
inline int code(const BlockIQ4_NL& b, int j) { return kIQ4NLValues[nibble(b.qs, j)]; }
inline int code(const BlockQ8_0& b, int j) { return b.qs[j]; }
// W4A8 per block pair, the types without a minimum: float(Σ code·q_x) · (d_w·d_x).
template <typename Block>
float block_dot_q8(const Block& w, const BlockQ8_0& x) {
  int32_t isum = 0;
  for (int j = 0; j < kQK; ++j) isum += code(w, j) * x.qs[j];
  return float(isum) * (fp16_to_fp32(w.d) * fp16_to_fp32(x.d));
}
inline float block_dot_q8(const BlockQ5_1& w, const BlockQ8_0& x) {
  int32_t isum = 0, xsum = 0;
  for (int j = 0; j < kQK; ++j) {
    isum += code(w, j) * x.qs[j];
    xsum += x.qs[j];
  }
  const float dx = fp16_to_fp32(x.d);
  return float(isum) * (fp16_to_fp32(w.d) * dx) + fp16_to_fp32(w.m) * (dx * float(xsum));
}

// Dequantized weight j of a block.
inline float weight(const BlockQ4_0& b, int j) { return fp16_to_fp32(b.d) * float(nibble(b.qs, j) - 8); }
inline float weight(const BlockQ4_1& b, int j) {
  return fp16_to_fp32(b.d) * float(nibble(b.qs, j)) + fp16_to_fp32(b.m);
}

template <typename Block>
float weight(const Block& b, int j) { return float(code(b, j)) * fp16_to_fp32(b.d); }
inline float weight(const BlockQ5_1& b, int j) { return float(code(b, j)) * fp16_to_fp32(b.d) + fp16_to_fp32(b.m); }

// y[N] = W[N,K] · x[K], x quantized to K/32 Q8_0 blocks.
template <typename Block>
void gemv_q8(const Block* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y) {
  const int64_t nb = K / kQK;
  for (int64_t n = 0; n < N; ++n) {
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; ++b) acc += block_dot_q8(w[n * nb + b], x[b]);
    y[n] = acc;
  }
}

// y[N] = W[N,K] · x[K], dequantized weights, double accumulation.
template <typename Block>
void gemv_f32(const Block* w, int64_t N, int64_t K, const float* x, float* y) {
  const int64_t nb = K / kQK;
  for (int64_t n = 0; n < N; ++n) {
    double acc = 0.0;
    for (int64_t b = 0; b < nb; ++b)
      for (int j = 0; j < kQK; ++j) acc += double(weight(w[n * nb + b], j)) * double(x[b * kQK + j]);
    y[n] = float(acc);
  }
}

}  // namespace ref
}  // namespace nibble
