// f32 operators of the transformer. Plain loops: they are a small share of
// the time next to the matmuls, and the plain order of summation keeps the
// F32 path close to llama2.c's reference.
#pragma once

#include <cstdint>

namespace nibble {

// out[n] = x[n] / sqrt(mean(x²) + eps) · weight[n]   (out may alias x)
void rmsnorm(float* out, const float* x, const float* weight, int n, float eps);

// Rotary position embedding, adjacent-pair convention (llama2.c, and GGUF
// "llama" files, whose Q/K rows were permuted for it): for each head of
// head_dim values in vec[n_heads·head_dim], pairs (2i, 2i+1) with 2i < rope_dim
// rotate by angle pos · theta^(−2i/head_dim).
void rope(float* vec, int n_heads, int head_dim, int rope_dim, int pos, float theta);

// x[n] = softmax(x[n]) in place.
void softmax(float* x, int n);

// gate[n] = silu(gate[n]) · up[n]   (SwiGLU)
void swiglu(float* gate, const float* up, int n);

// One query head attending over positions 0..n_pos−1 of one KV head:
//   out[head_dim] = Σ_p softmax_p(q·k_p / sqrt(head_dim)) · v_p
// k, v: cache rows of one layer, row p at k + p·kv_stride (same for v).
// scores[n_pos] is scratch.
void attention_head(float* out, const float* q, const float* k, const float* v, int n_pos,
                    int head_dim, int kv_stride, float* scores);

}  // namespace nibble
