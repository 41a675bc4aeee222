// Prompt attention in tiles (ops.h, attention_prompt): a tile of query rows
// (kTileTokens tokens × the group's heads) meets the keys a tile of kTileKeys
// at a time, with an online softmax (FlashAttention's shape): each key and
// value row is read once per query tile instead of once per query, and the
// loops below run along contiguous rows, which clang vectorizes without
// reordering any sum.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#include "ops/ops.h"

namespace nibble {
namespace {

constexpr int kTileTokens = 4;  // query tokens per tile (× heads rows)
constexpr int kTileKeys = 32;   // key positions per tile

// dots[kTileKeys] = q · the tile's keys (kt: [head_dim, kTileKeys]). The
// SIMD build spells out the vectors (clang 14 left the plain loop scalar:
// prompts of 512 tokens ran at 0.7× of the one-token path).
void tile_scores(const float* q, const float* kt, int head_dim, float* dots) {
#ifdef __wasm_simd128__
  v128_t acc[kTileKeys / 4];
#pragma clang loop unroll(full)
  for (int j = 0; j < kTileKeys / 4; ++j) acc[j] = wasm_f32x4_splat(0.0f);
  for (int d = 0; d < head_dim; ++d) {
    const v128_t qd = wasm_f32x4_splat(q[d]);
    const float* kd = kt + d * kTileKeys;
#pragma clang loop unroll(full)
    for (int j = 0; j < kTileKeys / 4; ++j) acc[j] = wasm_f32x4_add(acc[j], wasm_f32x4_mul(qd, wasm_v128_load(kd + 4 * j)));
  }
#pragma clang loop unroll(full)
  for (int j = 0; j < kTileKeys / 4; ++j) wasm_v128_store(dots + 4 * j, acc[j]);
#else
  std::fill(dots, dots + kTileKeys, 0.0f);
  for (int d = 0; d < head_dim; ++d)
    for (int j = 0; j < kTileKeys; ++j) dots[j] += q[d] * kt[d * kTileKeys + j];
#endif
}

// out[head_dim] += Σ_j p[j] · v[j·head_dim ..] over `keys` rows, in slices
// of 16 values that stay in registers over the keys (SIMD build, head_dim a
// multiple of 16; otherwise plain loops).
void tile_values(const float* p, const float* v, int keys, int head_dim, float* out) {
#ifdef __wasm_simd128__
  if (head_dim % 16 == 0) {
    for (int d0 = 0; d0 < head_dim; d0 += 16) {
      v128_t acc[4];
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) acc[i] = wasm_v128_load(out + d0 + 4 * i);
      const float* vj = v + d0;
      for (int j = 0; j < keys; ++j, vj += head_dim) {
        const v128_t a = wasm_f32x4_splat(p[j]);
#pragma clang loop unroll(full)
        for (int i = 0; i < 4; ++i) acc[i] = wasm_f32x4_add(acc[i], wasm_f32x4_mul(a, wasm_v128_load(vj + 4 * i)));
      }
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) wasm_v128_store(out + d0 + 4 * i, acc[i]);
    }
    return;
  }
#endif
  for (int j = 0; j < keys; ++j)
    for (int d = 0; d < head_dim; ++d) out[d] += p[j] * v[size_t(j) * head_dim + d];
}

}  // namespace

void attention_prompt(float* out, int out_stride, const float* q, int q_stride, int heads, int n, int first_pos,
                      const float* k, const float* v, int head_dim, int window, float cap) {
  const int hd = head_dim, rows_max = kTileTokens * heads;
  thread_local std::vector<float> scratch;
  scratch.resize(size_t(rows_max) * (kTileKeys + hd + 2) + size_t(hd) * kTileKeys);
  float* s = scratch.data();                     // [rows, kTileKeys]  scores, then their exps
  float* acc = s + size_t(rows_max) * kTileKeys;  // [rows, hd]  Σ exp · v
  float* row_max = acc + size_t(rows_max) * hd;  // [rows]  running max of the scores
  float* row_sum = row_max + rows_max;           // [rows]  Σ exp(score − row_max)
  float* kt = row_sum + rows_max;                // [hd, kTileKeys]  the key tile transposed
  const float norm = std::sqrt(float(hd));
  const float minus_inf = -std::numeric_limits<float>::infinity();
  // Row r of a tile: token t0 + r / heads, head r % heads.
  for (int t0 = 0; t0 < n; t0 += kTileTokens) {
    const int tokens = std::min(kTileTokens, n - t0), rows = tokens * heads;
    std::fill(acc, acc + size_t(rows) * hd, 0.0f);
    std::fill(row_max, row_max + rows, minus_inf);
    std::fill(row_sum, row_sum + rows, 0.0f);
    // Token t sees positions [start(t), first_pos + t]; the tile, their union.
    const auto start_of = [&](int t) { return window > 0 ? std::max(0, first_pos + t + 1 - window) : 0; };
    const int end = first_pos + t0 + tokens;
    for (int p0 = start_of(t0); p0 < end; p0 += kTileKeys) {
      const int keys = std::min(kTileKeys, end - p0);
      // Zeros past `keys`: the score loop runs over whole tiles (a constant
      // trip count clang unrolls, the sums in registers); those are masked.
      for (int j = 0; j < keys; ++j)
        for (int d = 0; d < hd; ++d) kt[d * kTileKeys + j] = k[size_t(p0 + j) * hd + d];
      for (int j = keys; j < kTileKeys; ++j)
        for (int d = 0; d < hd; ++d) kt[d * kTileKeys + j] = 0.0f;
      for (int r = 0; r < rows; ++r) {
        const int t = t0 + r / heads, last = first_pos + t, first = start_of(t);
        float* sr = s + size_t(r) * kTileKeys;
        if (p0 > last || p0 + keys <= first) {  // no key of the tile is visible to this row
          std::fill(sr, sr + keys, 0.0f);
          continue;
        }
        const float* qr = q + size_t(t) * q_stride + (r % heads) * hd;
        tile_scores(qr, kt, hd, sr);
        for (int j = 0; j < keys; ++j) sr[j] /= norm;
        if (cap > 0.0f)
          for (int j = 0; j < keys; ++j) sr[j] = cap * std::tanh(sr[j] / cap);
        if (p0 < first || p0 + keys - 1 > last)  // the tile crosses the window's start or the causal edge
          for (int j = 0; j < keys; ++j) sr[j] = p0 + j < first || p0 + j > last ? minus_inf : sr[j];
        float tile_max = minus_inf;
        for (int j = 0; j < keys; ++j) tile_max = std::max(tile_max, sr[j]);
        const float new_max = std::max(row_max[r], tile_max);
        // exp(−inf) = 0 for the masked keys and for a row's first tile. A
        // factor under e^−60 is 0, as exp_shifted flushes: it could only
        // make subnormal sums, which x86 handles in slow microcode.
        const float drop = row_max[r] - new_max;
        const float rescale = drop < -60.0f ? 0.0f : std::exp(drop);
        row_max[r] = new_max;
        row_sum[r] = row_sum[r] * rescale + exp_shifted(sr, keys, new_max);
        if (rescale != 1.0f) {
          float* ar = acc + size_t(r) * hd;
          for (int d = 0; d < hd; ++d) ar[d] *= rescale;
        }
      }
      for (int r = 0; r < rows; ++r)
        tile_values(s + size_t(r) * kTileKeys, v + size_t(p0) * hd, keys, hd, acc + size_t(r) * hd);
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + size_t(t0 + r / heads) * out_stride + (r % heads) * hd;
      const float* ar = acc + size_t(r) * hd;
      for (int d = 0; d < hd; ++d) o[d] = ar[d] / row_sum[r];
    }
  }
}

}  // namespace nibble
