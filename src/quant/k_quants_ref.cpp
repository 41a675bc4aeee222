// The K-quants' reference dequantizers (the definition of each format's
// values; block_formats.h documents the bit layouts) and quantizers, round
// to nearest or with importance data (llama-quantize --imatrix). Float
// operations follow ggml's order, so dequantized values are bit-identical to
// ggml's and quantized bytes to llama-quantize's.
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

// ---- Quantizers: llama.cpp's rules (quantize_row_q4_K_ref, and
// quantize_row_q4_K_impl & co. with importance) with their float operations
// in the same order, so the bytes are the same.

namespace {

constexpr int kSub = kQK_K / kQK;  // Q4_K / Q5_K sub-blocks per super-block

// Q4_K / Q5_K's 6-bit sub-block scales ls[8] and minimums lm[8] (<= 63) into
// y->scales, d and dmin as fp16, then every code of x[256] again from the
// rounded values into L[256] (0..nmax).
template <typename Block>
void pack_k_scales_and_requantize(const float* x, const uint8_t* ls, const uint8_t* lm, float d, float dmin,
                                  int nmax, Block* y, uint8_t* L) {
  for (int s = 0; s < kSub; ++s) {
    if (s < 4) {
      y->scales[s] = ls[s];
      y->scales[s + 4] = lm[s];
    } else {
      y->scales[s + 4] = uint8_t((ls[s] & 0xF) | ((lm[s] & 0xF) << 4));
      y->scales[s - 4] |= uint8_t((ls[s] >> 4) << 6);
      y->scales[s] |= uint8_t((lm[s] >> 4) << 6);
    }
  }
  y->d = fp32_to_fp16(d);
  y->dmin = fp32_to_fp16(dmin);
  for (int s = 0; s < kSub; ++s) {
    uint8_t sc, m;
    k_quant_scale_min(y->scales, s, &sc, &m);
    const float ds = fp16_to_fp32(y->d) * float(sc);
    if (ds == 0.0f) continue;  // keeps the fit's codes, as ggml does
    const float dm = fp16_to_fp32(y->dmin) * float(m);
    for (int l = 0; l < kQK; ++l) L[kQK * s + l] = uint8_t(clamp_int(nearest_int((x[kQK * s + l] + dm) / ds), 0, nmax));
  }
}

// Q4_K / Q5_K round to nearest: per 32-weight sub-block a fitted scale and
// minimum (weights av_x + |x|), both as 6-bit multiples of the largest.
template <typename Block>
void quantize_k_scales_and_codes(const float* x, Block* y, int nmax, float rmin, float rdelta, int nstep,
                                 uint8_t* L) {
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
  uint8_t ls[kSub], lm[kSub];
  for (int s = 0; s < kSub; ++s) {
    // uint8_t first, as ggml stores it, then capped at 63.
    ls[s] = uint8_t(nearest_int(inv_scale * scales[s]));
    lm[s] = uint8_t(nearest_int(inv_min * mins[s]));
    ls[s] = ls[s] < 63 ? ls[s] : 63;
    lm[s] = lm[s] < 63 ? lm[s] : 63;
  }
  pack_k_scales_and_requantize(x, ls, lm, max_scale / 63.0f, max_min / 63.0f, nmax, y, L);
}

// Q4_K / Q5_K with importance[256] (ggml's quantize_row_q4_K_impl): element
// weights importance·sqrt(σ² + x²), σ² twice the super-block's mean square;
// per sub-block a scale and minimum search, then the 6-bit scales and
// minimums fitted to them (fit_unsigned_scale), each sub-block weighted by
// the sum of its element weights. ggml's Q5_K caps the 6-bit values at 63,
// its Q4_K does not; fit_unsigned_scale keeps them <= 63 either way.
template <typename Block>
void quantize_k_scales_and_codes_weighted(const float* x, const float* importance, Block* y, int nmax, uint8_t* L) {
  float sum_x2 = 0;
  for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / float(kQK_K);
  float scales[kSub], mins[kSub], sum_w[kSub];
  for (int s = 0; s < kSub; ++s) {
    const float* xs = x + kQK * s;
    float weights[kQK];
    for (int l = 0; l < kQK; ++l) weights[l] = importance[kQK * s + l] * std::sqrt(sigma2 + xs[l] * xs[l]);
    sum_w[s] = 0;
    for (int l = 0; l < kQK; ++l) sum_w[s] += weights[l];
    scales[s] = fit_scale_min(kQK, nmax, xs, weights, L + kQK * s, &mins[s], -0.9f, 0.05f, 36);
  }
  uint8_t ls[kSub], lm[kSub];
  const float d = fit_unsigned_scale(kSub, 63, scales, sum_w, ls);
  const float dmin = fit_unsigned_scale(kSub, 63, mins, sum_w, lm);
  pack_k_scales_and_requantize(x, ls, lm, d, dmin, nmax, y, L);
}

// Q4_K's codes L[256]: 64-weight chunk c holds sub-block 2c in the low
// nibbles, 2c + 1 in the high.
void pack_q4_k_codes(const uint8_t* L, BlockQ4_K* y) {
  for (int c = 0; c < kQK_K / 64; ++c)
    for (int l = 0; l < kQK; ++l) y->qs[kQK * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + kQK + l] << 4));
}

// Q5_K's codes L[256]: Q4_K's nibbles plus the fifth bits in qh.
void pack_q5_k_codes(const uint8_t* L, BlockQ5_K* y) {
  for (int l = 0; l < kQK; ++l) y->qh[l] = 0;
  for (int c = 0; c < kQK_K / 64; ++c) {
    for (int l = 0; l < kQK; ++l) {
      const int lo = L[64 * c + l], hi = L[64 * c + kQK + l];
      y->qh[l] |= uint8_t(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      y->qs[kQK * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
    }
  }
}


// Q4_K (nmax 15) and Q5_K (nmax 31) rows: y[n/256] <- x[n]. importance
// null: round to nearest with the fit's search range rmin, rdelta, nstep;
// else the weighted rule. pack(L, block) stores the codes.
template <typename Block, typename Pack>
void quantize_rows_q45_k(const float* x, Block* y, int64_t n, const float* importance, int nmax, float rmin,
                         float rdelta, int nstep, Pack pack) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    uint8_t L[kQK_K];
    if (importance) {
      quantize_k_scales_and_codes_weighted(x, importance + b * kQK_K, &y[b], nmax, L);
    } else {
      quantize_k_scales_and_codes(x, &y[b], nmax, rmin, rdelta, nstep, L);
    }
    pack(L, &y[b]);
  }
}

}  // namespace

void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n) { quantize_row_q4_k_imatrix(x, y, n, nullptr); }
void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n) { quantize_row_q5_k_imatrix(x, y, n, nullptr); }
void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n) { quantize_row_q6_k_imatrix(x, y, n, nullptr); }

// The round-to-nearest rules search scale and minimum over ggml's ranges
// (Q4_K: 21 steps of 0.1 from −1; Q5_K: 16 from −0.5).
void quantize_row_q4_k_imatrix(const float* x, BlockQ4_K* y, int64_t n, const float* importance) {
  quantize_rows_q45_k(x, y, n, importance, 15, -1.0f, 0.1f, 20, pack_q4_k_codes);
}
void quantize_row_q5_k_imatrix(const float* x, BlockQ5_K* y, int64_t n, const float* importance) {
  quantize_rows_q45_k(x, y, n, importance, 31, -0.5f, 0.1f, 15, pack_q5_k_codes);
}
// Q6_K: per 16-weight sub-block a signed scale (weights x², or the
// importance itself, as ggml's quantize_row_q6_K_impl), the scales as 8-bit
// multiples of the largest, then each x to its nearest code. y[n/256] <- x[n].
void quantize_row_q6_k_imatrix(const float* x, BlockQ6_K* y, int64_t n, const float* importance) {
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    const float* qw = importance ? importance + b * kQK_K : nullptr;
    int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < kQK_K / 16; ++s) {
      scales[s] = fit_signed_scale(16, 32, x + 16 * s, qw ? qw + 16 * s : nullptr, L + 16 * s);
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
