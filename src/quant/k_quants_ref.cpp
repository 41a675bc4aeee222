// The K-quants' reference dequantizers (the definition of each format's
// values; block_formats.h documents the bit layouts) and round-to-nearest
// quantizers. Float operations follow ggml's order, so dequantized values
// are bit-identical to ggml's and quantized bytes to llama-quantize's.
#include <cmath>
#include <cstring>

#include "quant/fp16.h"
#include "quant/quantize_row.h"

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

// Round to nearest, ties to even, as ggml's nearest_int: adding 1.5·2^23
// leaves the rounded integer in the low mantissa bits. Exact for |x| < 2^22;
// beyond that (or NaN, from overflowing inputs) a defined but meaningless
// value that the callers clamp, as ggml's does.
inline int nearest_int(float x) {
  const uint32_t bits = f32_bits(x + 12582912.0f);
  return int(bits & 0x007fffffu) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Scale and minimum of one sub-block x[n] for codes 0..nmax: the min/max
// grid first, then nstep + 1 scales (rmin + rdelta·is + nmax)/(max − min),
// each refit by weighted least squares (scale, min ≤ 0), keeping the one of
// least Σ w·err². L[n] gets the codes; *neg_min = −min (≥ 0).
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_min, float rmin,
                    float rdelta, int nstep) {
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1.0f / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * float(L[i]) + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  uint8_t trial[kQK];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      trial[i] = uint8_t(l);
      const float wl = w[i] * float(l);
      sum_l += wl;
      sum_l2 += wl * float(l);
      sum_xl += wl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (!(D > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * float(trial[i]) + this_min - x[i];
      error += w[i] * (diff * diff);
    }
    if (error < best_error) {
      for (int i = 0; i < n; ++i) L[i] = trial[i];
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

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

// Q6_K's sub-block fit: x[16] -> codes L[16] in 0..63 (level l + 32) and a
// signed scale; weights x², scales −(32 + 0.1·is)/max for is = −9..9 tried,
// each refit by least squares. ggml's make_qx_quants with rmse_type 1.
float fit_signed_scale(const float* x, int8_t* L) {
  constexpr int n = 16, nmax = 32;
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  // Σ w·x·l and Σ w·l² for the codes of iscale; `store` keeps the codes.
  auto sums = [&](float iscale, float* sumlx, float* suml2, bool store) {
    *sumlx = *suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      if (store) L[i] = int8_t(l + nmax);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * float(l);
      *suml2 += w * float(l) * float(l);
    }
  };
  float sumlx, suml2;
  sums(float(-nmax) / max, &sumlx, &suml2, true);
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float iscale = -(float(nmax) + 0.1f * float(is)) / max;
    sums(iscale, &sumlx, &suml2, false);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      sums(iscale, &sumlx, &suml2, true);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
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
      scales[s] = fit_signed_scale(x + 16 * s, L + 16 * s);
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
