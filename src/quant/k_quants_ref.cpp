// The K-quants' reference dequantizers: the definition of each format's
// values (block_formats.h documents the bit layouts). Products are formed in
// ggml's order so the f32 results are bit-identical to ggml's.
#include "quant/fp16.h"
#include "quant/quantize_row.h"

namespace nibble {

// y[n] <- x[n/256]
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = fp16_to_fp32(x[b].d);
    const float dmin = fp16_to_fp32(x[b].dmin);
    for (int s = 0; s < kQK_K / kQK; ++s, y += kQK) {
      uint8_t sc, m;
      k_quant_scale_min(x[b].scales, s, &sc, &m);
      const float scale = d * float(sc);
      const float min = dmin * float(m);
      const uint8_t* q = x[b].qs + (s / 2) * kQK;  // chunk s/2: low nibbles even s, high odd s
      const int shift = (s % 2) * 4;
      for (int l = 0; l < kQK; ++l) y[l] = scale * float((q[l] >> shift) & 0xF) - min;
    }
  }
}

// y[n] <- x[n/256]
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n) {
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
      for (int l = 0; l < kQK; ++l) {
        const int high = ((x[b].qh[l] >> s) & 1) << 4;
        y[l] = scale * float(((q[l] >> shift) & 0xF) | high) - min;
      }
    }
  }
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

}  // namespace nibble
