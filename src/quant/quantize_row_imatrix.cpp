// Q4_0, Q4_1, Q5_0 and Q5_1 with importance data: llama.cpp's rules
// (quantize_row_q4_0_impl & co. in ggml-quants.c), float operations in its
// order so that the bytes equal llama-quantize --imatrix's. IQ4_NL's twin
// is quantize_row_iq4_nl_imatrix in quantize_row_ref.cpp.
#include <cmath>

#include "quant/fp16.h"
#include "quant/nibbles.h"
#include "quant/quantize_row.h"
#include "quant/scale_fit.h"

namespace nibble {
namespace {

// σ² = Σx²/n over the whole row.
float row_mean_square(const float* x, int64_t n) {
  float sum = 0.0f;
  for (int64_t j = 0; j < n; ++j) sum += x[j] * x[j];
  return sum / float(n);
}

// w[32] <- importance[32] · sqrt(σ² + x[32]²)
void block_weights(const float* x, const float* importance, float sigma2, float* w) {
  for (int j = 0; j < kQK; ++j) w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
}

// Symmetric blocks: codes[32] in 0..2·half−1 (level q − half); returns d.
float weighted_symmetric_codes(const float* x, const float* importance, float sigma2, int half, uint8_t* codes) {
  float w[kQK];
  int8_t levels[kQK];
  block_weights(x, importance, sigma2, w);
  const float d = fit_signed_scale(kQK, half, x, w, levels);
  for (int j = 0; j < kQK; ++j) codes[j] = uint8_t(levels[j]);
  return d;
}

// Affine blocks: codes[32] in 0..top, value d·q + m (m <= 0).
void weighted_affine_codes(const float* x, const float* importance, float sigma2, int top, float* d, float* m,
                           uint8_t* codes) {
  float w[kQK], neg_min;
  block_weights(x, importance, sigma2, w);
  *d = fit_scale_min(kQK, top, x, w, codes, &neg_min, -0.9f, 0.05f, 36);
  *m = -neg_min;
}

// Packs codes[32] into a block: the nibbles (Q4) or nibbles and fifth bits (Q5).
void pack_codes(const uint8_t* codes, BlockQ4_0* y) { pack_nibbles(codes, y->qs); }
void pack_codes(const uint8_t* codes, BlockQ4_1* y) { pack_nibbles(codes, y->qs); }
void pack_codes(const uint8_t* codes, BlockQ5_0* y) { pack_q5_codes(codes, y->qs, y->qh); }
void pack_codes(const uint8_t* codes, BlockQ5_1* y) { pack_q5_codes(codes, y->qs, y->qh); }

// Q4_0 (half 8) and Q5_0 (half 16): y[n/32] <- x[n].
template <typename Block>
void symmetric_rows(const float* x, Block* y, int64_t n, const float* importance, int half) {
  const float sigma2 = row_mean_square(x, n);
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint8_t codes[kQK];
    y[b].d = fp32_to_fp16(weighted_symmetric_codes(x + b * kQK, importance + b * kQK, sigma2, half, codes));
    pack_codes(codes, &y[b]);
  }
}

// Q4_1 (top 15) and Q5_1 (top 31): y[n/32] <- x[n].
template <typename Block>
void affine_rows(const float* x, Block* y, int64_t n, const float* importance, int top) {
  const float sigma2 = row_mean_square(x, n);
  for (int64_t b = 0; b < n / kQK; ++b) {
    uint8_t codes[kQK];
    float d, m;
    weighted_affine_codes(x + b * kQK, importance + b * kQK, sigma2, top, &d, &m, codes);
    y[b].d = fp32_to_fp16(d);
    y[b].m = fp32_to_fp16(m);
    pack_codes(codes, &y[b]);
  }
}

}  // namespace

void quantize_row_q4_0_imatrix(const float* x, BlockQ4_0* y, int64_t n, const float* importance) {
  if (importance) symmetric_rows(x, y, n, importance, 8);
  else quantize_row_q4_0_ref(x, y, n);
}

void quantize_row_q5_0_imatrix(const float* x, BlockQ5_0* y, int64_t n, const float* importance) {
  if (importance) symmetric_rows(x, y, n, importance, 16);
  else quantize_row_q5_0_ref(x, y, n);
}

void quantize_row_q4_1_imatrix(const float* x, BlockQ4_1* y, int64_t n, const float* importance) {
  if (importance) affine_rows(x, y, n, importance, 15);
  else quantize_row_q4_1_ref(x, y, n);
}

void quantize_row_q5_1_imatrix(const float* x, BlockQ5_1* y, int64_t n, const float* importance) {
  if (importance) affine_rows(x, y, n, importance, 31);
  else quantize_row_q5_1_ref(x, y, n);
}

}  // namespace nibble
