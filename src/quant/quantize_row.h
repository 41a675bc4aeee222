// Row quantizers and dequantizers for the block types, the functions behind
// the traits table (block_traits.cpp). n is the row length and must be a
// multiple of the type's block size (callers check; see quantize_matrix in
// quantize.h).
//
//   *_ref  round-to-nearest, byte-identical to llama.cpp's reference rules
//          (quantize_row_q4_0_ref & co. in ggml-quants.c).
//   *_mse  clipping search: per block the scale (Q4_0) or scale and offset
//          (Q4_1) minimizing Σ importance[j]·(x[j] − x̂[j])², never worse than
//          *_ref on that sum, block by block.
#pragma once

#include <cstdint>

#include "quant/block_formats.h"

namespace nibble {

// x[n] -> y[n/32]: d = max/−8 (max = the value of largest magnitude, sign
// kept, first one on ties), q = min(15, trunc(x/d + 8.5)).
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);
// x[n] -> y[n/32]: d = (max − min)/15, m = min, q = min(15, trunc((x − min)/d + 0.5)).
void quantize_row_q4_1_ref(const float* x, BlockQ4_1* y, int64_t n);
// x[n] -> y[n/32]: d = max|x|/127, q = roundf(x/d).
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
// x[n] -> y[n/32]: d = max/−16, q = min(31, trunc(x/d + 16.5)).
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n);
// x[n] -> y[n/32]: d = (max − min)/31, m = min, q = trunc((x − min)/d + 0.5).
void quantize_row_q5_1_ref(const float* x, BlockQ5_1* y, int64_t n);
// x[n] -> y[n/32]: a least-squares scale search over the code book
// (quantize_row_ref.cpp), each x to its nearest d·kIQ4NLValues[q].
void quantize_row_iq4_nl_ref(const float* x, BlockIQ4_NL* y, int64_t n);
// K-quants (k_quants_ref.cpp), n a multiple of kQK_K: per sub-block a
// weighted least-squares scale (and minimum, Q4_K/Q5_K) search, the
// sub-scales rounded to 6 (Q4_K/Q5_K) or 8 (Q6_K) bits of the super-block's
// fp16 scales, then each x to its nearest code.
void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n);

// Below this largest |x| ggml treats a group of weights as all zeros
// (GROUP_MAX_EPS), in IQ4_NL and Q6_K.
constexpr float kGroupMaxEps = 1e-15f;

// llama.cpp's rules with importance data (llama-quantize --imatrix; ggml's
// quantize_q4_0 & co. given quant_weights), byte-identical to them:
// importance[n] (>= 0, the mean squared activation of each input column)
// times sqrt(σ² + x[j]²) weights element j (σ²: the row's mean square; for
// IQ4_NL twice the block's), then a weighted scale search per block (Q4_0,
// Q5_0: signed scales; Q4_1, Q5_1: scale and minimum; IQ4_NL: the rule of
// quantize_row_iq4_nl_ref). importance null: the *_ref rules.
void quantize_row_q4_0_imatrix(const float* x, BlockQ4_0* y, int64_t n, const float* importance);
void quantize_row_q4_1_imatrix(const float* x, BlockQ4_1* y, int64_t n, const float* importance);
void quantize_row_q5_0_imatrix(const float* x, BlockQ5_0* y, int64_t n, const float* importance);
void quantize_row_q5_1_imatrix(const float* x, BlockQ5_1* y, int64_t n, const float* importance);
void quantize_row_iq4_nl_imatrix(const float* x, BlockIQ4_NL* y, int64_t n, const float* importance);
// K-quants (k_quants_ref.cpp), ggml's quantize_row_q4_K_impl & co.: Q4_K and
// Q5_K weight element j by importance[j]·sqrt(σ² + x[j]²) (σ² twice the
// super-block's mean square) in each sub-block's scale and minimum search,
// then fit the 6-bit sub-scales and sub-minimums by least squares weighted
// by each sub-block's summed weights; Q6_K weights its sub-blocks' signed
// scale search by importance[j] alone.
void quantize_row_q4_k_imatrix(const float* x, BlockQ4_K* y, int64_t n, const float* importance);
void quantize_row_q5_k_imatrix(const float* x, BlockQ5_K* y, int64_t n, const float* importance);
void quantize_row_q6_k_imatrix(const float* x, BlockQ6_K* y, int64_t n, const float* importance);

// importance[n] weights element j of the row (null = all ones, entries >= 0).
void quantize_row_q4_0_mse(const float* x, BlockQ4_0* y, int64_t n, const float* importance);
void quantize_row_q4_1_mse(const float* x, BlockQ4_1* y, int64_t n, const float* importance);

// blocks -> y[n]:  Q4_0 y = d·(q − 8),  Q4_1 y = d·q + m,  Q8_0 y = d·q.
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
// Q5_0 y = d·(q − 16),  Q5_1 y = d·q + m,  IQ4_NL y = d·kIQ4NLValues[q].
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_iq4_nl(const BlockIQ4_NL* x, float* y, int64_t n);

// K-quants (k_quants_ref.cpp), n a multiple of kQK_K: blocks -> y[n] in
// ggml's float order, (d·sc)·q − (dmin·m) and (d·sc)·(q − 32) in f32.
void dequantize_row_q4_k(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_k(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_k(const BlockQ6_K* x, float* y, int64_t n);

}  // namespace nibble
