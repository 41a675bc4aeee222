// f32 operators of the transformer, plain loops (ops.cpp). Softmax, SwiGLU
// and attention also have a wasm SIMD tier (ops__wasmsimd.cpp), which the
// public function uses when the build has it; their plain loops stay as
// `_ref` twins. The SIMD tier sums in another order and takes exp from a
// polynomial, within a few float roundings of the reference (ops_test.cpp).
#pragma once

#include <cstdint>

namespace nibble {

// out[n] = x[n] / sqrt(mean(x²) + eps) · weight[n]   (out may alias x)
void rmsnorm(float* out, const float* x, const float* weight, int n, float eps);

// Rotary position embedding. Pair i (i < rope_dim/2) of each head rotates by
// angle pos · theta^(−2i/rope_dim) / factors[i] (factors: Llama 3's
// rope_freqs; null = all 1). The angles depend on the position only, so a
// forward pass computes them once for every layer:
//   rope_table(cos_sin[rope_dim], ...) then rope(vec, ..., cos_sin).
// rope(): adjacent-pair convention (llama2.c, and GGUF "llama" files, whose
// Q/K rows were permuted for it): pair i is (2i, 2i+1) of each head of
// head_dim values in vec[n_heads·head_dim]. rope_half_split(): pair i is
// (i, i + rope_dim/2) (llama.cpp's NEOX: Qwen, Gemma, Phi-3).
void rope_table(float* cos_sin, int rope_dim, int pos, float theta, const float* factors);
void rope(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin);
void rope_half_split(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin);

// gate[n] = gelu(gate[n]) · up[n]   (GeGLU; GELU's tanh approximation)
void geglu(float* gate, const float* up, int n);

// x[n] += y[n]   (residuals: here, not in the forward pass's own code, which
// is compiled for size and, in relaxed-SIMD builds, without vectorizing)
void add_to(float* x, const float* y, int n);

// x[n] = cap · tanh(x[n] / cap)   (soft-capping, Gemma 2)
void softcap(float* x, int n, float cap);

// x[n] = softmax(x[n]) in place.
void softmax(float* x, int n);

// gate[n] = silu(gate[n]) · up[n]   (SwiGLU)
void swiglu(float* gate, const float* up, int n);

// `heads` query heads that share one KV head (grouped-query attention),
// each attending over positions 0..n_pos−1:
//   out[h·head_dim ..] = Σ_p softmax_p(q_h·k_p / sqrt(head_dim)) · v_p
// q_h at q + h·head_dim; k, v: cache rows of one layer, row p at
// k + p·kv_stride (same for v). scores[heads·n_pos] is scratch.
void attention_group(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                     int head_dim, int kv_stride, float* scores);

// attention_group with each score soft-capped before the softmax
// (cap · tanh(score / cap)); plain loops.
void attention_group_capped(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                            int head_dim, int kv_stride, float* scores, float cap);

// Causal attention of a prompt's n tokens at positions first_pos.. for
// `heads` query heads sharing one KV head, in tiles with an online softmax
// (attention_tiled.cpp): token t (query row h at q + t·q_stride + h·head_dim)
// attends over the cache rows of positions [max(0, first_pos + t + 1 −
// window), first_pos + t] (window 0: from 0), row p at k + p·head_dim (and
// v), scores soft-capped when cap > 0; its output for head h goes to
// out + t·out_stride + h·head_dim. The same as attention_group /
// attention_group_capped for each token, summed in another order.
// Its query tiles hold kPromptTileTokens tokens: calls over runs of the
// prompt's tokens that start at multiples of it (first_pos and n moved
// along) give bitwise the results of one call over them all.
constexpr int kPromptTileTokens = 8;
void attention_prompt(float* out, int out_stride, const float* q, int q_stride, int heads, int n, int first_pos,
                      const float* k, const float* v, int head_dim, int window, float cap);

// x[n] = exp(x[n] − shift); returns Σ x. exp(−inf) = 0.
float exp_shifted(float* x, int n, float shift);

// The reference twins.
float exp_shifted_ref(float* x, int n, float shift);
void softmax_ref(float* x, int n);
void swiglu_ref(float* gate, const float* up, int n);
void rope_ref(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin);
void attention_group_ref(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                         int head_dim, int kv_stride, float* scores);

#ifdef __wasm_simd128__
void softmax__wasmsimd(float* x, int n);
void swiglu__wasmsimd(float* gate, const float* up, int n);
// Bitwise rope_ref (any sizes).
void rope__wasmsimd(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin);
float exp_shifted__wasmsimd(float* x, int n, float shift);
// head_dim % 4 == 0 (the public function falls back to _ref otherwise).
void attention_group__wasmsimd(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                               int head_dim, int kv_stride, float* scores);
#endif

}  // namespace nibble
