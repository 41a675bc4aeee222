// The K-quants' reference dequantizers (the definition of each format's
// values; block_formats.h documents the bit layouts) and round-to-nearest
// quantizers. Float operations follow ggml's order, so dequantized values
// are bit-identical to ggml's and quantized bytes to llama-quantize's.
#include <cmath>
#include <cstring>

#include "quant/fp16.h"
#include "quant/quantize_row.h"
#include "quant/scale_fit.h"

namespace nibble {

namespace {

// Q4_K and Q5_K: sub-block s of each super-block is (d·sc_s)·q − dmin·m_s,
// q from the nibbles of chunk s/2 (low for even s, high for odd) plus, for
// Q5_K, `fifth(block, l, s)`: element l's bit 4 as 16 or 0.
template <typename Block, typename FifthBit>
void dequantize_row_q45_k(const Block* x, float* y, int64_t n, FifthBit fifth) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    for (int s = 0; s < kQK_K / kQK; ++s, y += kQK) {
      uint8_t sc, m;
      k_quant_scale_min(x[b].scales, s, &sc, &m);
      const float scale = d * float(sc);
      const float min = dmin * float(m);
      const uint8_t* q = x[b].qs + (s / 2) * kQK;
      const int shift = (s % 2) * 4;
      for (int l = 0; l < kQK; ++l) y[l] = scale * float(((q[l] >> shift) & 0xF) | fifth(x[b], l, s)) - min;
    }
  }
}

}  // namespace

// y[n] <- x[n/256]
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
  dequantize_row_q45_k(x, y, n, [](const BlockQ4_K&, int, int) { return 0; });
}

// y[n] <- x[n/256]
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
  dequantize_row_q45_k(x, y, n, [](const BlockQ5_K& block, int l, int s) { return ((block.qh[l] >> s) & 1) << 4; });
}

// y[n] <- x[n/256]
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    for (int h = 0; h < 2; ++h, y += kQK_K / 2) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      const int8_t* sc = x[b].scales + 8 * h;
      for (int i = 0; i < 4; ++i) {
        for (int l = 0; l < kQK; ++l) {
          const int low = (ql[l + 32 * (i & 1)] >> (4 * (i >> 1))) & 0xF;
          const int q = (low | (((qh[l] >> (2 * i)) & 3) << 4)) - 32;
          y[32 * i + l] = d * float(sc[2 * i + l / 16]) * float(q);
        }
      }
    }
  }
}

// ---- Quantizers: llama.cpp's reference rules (quantize_row_q4_K_ref & co.)
// with their float operations in the same order, so the bytes are the same.

namespace {

// Q4_K / Q5_K's first half: per 32-weight sub-block a fitted scale and
// minimum (weights av_x + |x|), then both as 6-bit multiples of the
// super-block's d and dmin, then every code again from the rounded scales.
// L[256] gets codes 0..nmax.
template <typename Block>
void quantize_k_scales_and_codes(const float* x, Block* y, int nmax, float rmin, float rdelta, int nstep,
                                 uint8_t* L) {
  constexpr int kSub = kQK_K / kQK;
  float scales[kSub], mins[kSub];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < kSub; ++s) {
    const float* xs = x + kQK * s;
    float sum_x2 = 0;
    for (int l = 0; l < kQK; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / float(kQK));
    float weights[kQK];
    for (int l = 0; l < kQK; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[s] = fit_scale_min(kQK, nmax, xs, weights, L + kQK * s, &mins[s], rmin, rdelta, nstep);
    if (scales[s] > max_scale) max_scale = scales[s];
    if (mins[s] > max_min) max_min = mins[s];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  for (int s = 0; s < kSub; ++s) {
    // uint8_t first, as ggml stores it, then capped at 63.
    uint8_t ls = uint8_t(nearest_int(inv_scale * scales[s]));
    uint8_t lm = uint8_t(nearest_int(inv_min * mins[s]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (s < 4) {
      y->scales[s] = ls;
      y->scales[s + 4] = lm;
    } else {
      y->scales[s + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      y->scales[s - 4] |= uint8_t((ls >> 4) << 6);
      y->scales[s] |= uint8_t((lm >> 4) << 6);
    }
  }
  y->d = fp32_to_fp16(max_scale / 63.0f);
  y->dmin = fp32_to_fp16(max_min / 63.0f);
  for (int s = 0; s < kSub; ++s) {
    uint8_t sc, m;
    k_quant_scale_min(y->scales, s, &sc, &m);
    const float d = fp16_to_fp32(y->d) * float(sc);
    if (d == 0.0f) continue;  // keeps the fit's codes, as ggml does
    const float dm = fp16_to_fp32(y->dmin) * float(m);
    for (int l = 0; l < kQK; ++l) L[kQK * s + l] = uint8_t(clamp_int(nearest_int((x[kQK * s + l] + dm) / d), 0, nmax));
  }
}

}  // namespace

// y[n/256] <- x[n]
void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    quantize_k_scales_and_codes(x, &y[b], 15, -1.0f, 0.1f, 20, L);
    // 64-weight chunk c: sub-block 2c in the low nibbles, 2c + 1 in the high.
    for (int c = 0; c < kQK_K / 64; ++c)
      for (int l = 0; l < kQK; ++l) y[b].qs[kQK * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + kQK + l] << 4));
  }
}

// y[n/256] <- x[n]
void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    quantize_k_scales_and_codes(x, &y[b], 31, -0.5f, 0.1f, 15, L);
    for (int l = 0; l < kQK; ++l) y[b].qh[l] = 0;
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < kQK; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + kQK + l];
        y[b].qh[l] |= uint8_t(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        y[b].qs[kQK * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
      }
    }
  }
}

// y[n/256] <- x[n]
void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < kQK_K / 16; ++s) {
      scales[s] = fit_signed_scale(16, 32, x + 16 * s, nullptr, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    BlockQ6_K& q = y[b];
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&q, 0, sizeof(q));
      continue;
    }
    const float iscale = -128.0f / max_scale;
    q.d = fp32_to_fp16(1.0f / iscale);
    for (int s = 0; s < kQK_K / 16; ++s) {
      const int l = nearest_int(iscale * scales[s]);
      q.scales[s] = int8_t(l < 127 ? l : 127);
    }
    for (int s = 0; s < kQK_K / 16; ++s) {
      const float d = fp16_to_fp32(q.d) * float(q.scales[s]);
      if (d == 0.0f) continue;  // keeps the fit's codes, as ggml does
      for (int l = 0; l < 16; ++l) L[16 * s + l] = int8_t(clamp_int(nearest_int(x[16 * s + l] / d), -32, 31) + 32);
    }
    // Layout: block_formats.h (two halves of 128; element 32i + l of a half).
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < kQK; ++l) {
        q.ql[64 * h + l] = uint8_t((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
        q.ql[64 * h + l + 32] = uint8_t((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
        q.qh[32 * h + l] = uint8_t((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                   ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

}  // namespace nibble
