// Prompt attention in tiles (ops.h, attention_prompt): a tile of query rows
// (kTileTokens tokens × the group's heads) meets the keys a tile of kTileKeys
// at a time, with an online softmax (FlashAttention's shape): each key and
// value row is read once per query tile instead of once per query. In the
// SIMD build two query rows go through the score and value loops together,
// so each key or value vector loaded feeds two rows (without FMA, the loads
// and the splats are what a row alone spends beside its multiply-adds). A
// row's sums run in the same order whatever row it is paired with, so the
// result does not depend on how many heads a call gets.
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

constexpr int kTileTokens = kPromptTileTokens;  // query tokens per tile (× heads rows)
constexpr int kTileKeys = 32;   // key positions per tile

#ifdef __wasm_simd128__
// acc[r][i] += scalars[r][at] · vectors[4i .. 4i+3] for R rows: the four
// vectors are loaded once for the R rows.
template <int R>
inline void add_products(v128_t (&acc)[R][4], const float* const* scalars, int at, const float* vectors) {
  v128_t x[4];
#pragma clang loop unroll(full)
  for (int i = 0; i < 4; ++i) x[i] = wasm_v128_load(vectors + 4 * i);
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r) {
    const v128_t a = wasm_v128_load32_splat(scalars[r] + at);
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; ++i) acc[r][i] = wasm_f32x4_add(acc[r][i], wasm_f32x4_mul(a, x[i]));
  }
}

// out[r][at .. at+15] = acc[r] for R rows.
template <int R>
inline void store_sums(const v128_t (&acc)[R][4], float* const* out, int at) {
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; ++i) wasm_v128_store(out[r] + at + 4 * i, acc[r][i]);
}

// dots_r[kTileKeys] = q_r · the tile's keys for R = 1 or 2 rows (kt:
// [head_dim, kTileKeys]), 16 keys at a time: 4·R sums stay in registers.
template <int R>
void tile_scores_simd(const float* const* q, const float* kt, int head_dim, float* const* dots) {
  for (int j0 = 0; j0 < kTileKeys; j0 += 16) {
    v128_t acc[R][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) acc[r][i] = wasm_f32x4_splat(0.0f);
    for (int d = 0; d < head_dim; ++d) add_products<R>(acc, q, d, kt + d * kTileKeys + j0);
    store_sums<R>(acc, dots, j0);
  }
}

// out_r[head_dim] += Σ_j p_r[j] · v[j·head_dim ..] over `keys` rows for
// R = 1 or 2 rows, in slices of 16 values held in registers over the keys
// (head_dim a multiple of 16).
template <int R>
void tile_values_simd(const float* const* p, const float* v, int keys, int head_dim, float* const* out) {
  for (int d0 = 0; d0 < head_dim; d0 += 16) {
    v128_t acc[R][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) acc[r][i] = wasm_v128_load(out[r] + d0 + 4 * i);
    for (int j = 0; j < keys; ++j) add_products<R>(acc, p, j, v + size_t(j) * head_dim + d0);
    store_sums<R>(acc, out, d0);
  }
}

// kt[d·kTileKeys + j] = k[j·head_dim + d] for j < keys (head_dim % 4 == 0),
// four 4×4 blocks' worth of shuffles instead of a load and a store per value.
void transpose_keys_simd(const float* k, int keys, int head_dim, float* kt) {
  int j = 0;
  for (; j + 4 <= keys; j += 4) {
    const float* k0 = k + size_t(j) * head_dim;
    for (int d = 0; d < head_dim; d += 4) {
      const v128_t a = wasm_v128_load(k0 + d), b = wasm_v128_load(k0 + head_dim + d);
      const v128_t c = wasm_v128_load(k0 + 2 * head_dim + d), e = wasm_v128_load(k0 + 3 * head_dim + d);
      const v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
      const v128_t ce_lo = wasm_i32x4_shuffle(c, e, 0, 4, 1, 5), ce_hi = wasm_i32x4_shuffle(c, e, 2, 6, 3, 7);
      float* out = kt + size_t(d) * kTileKeys + j;
      wasm_v128_store(out, wasm_i64x2_shuffle(ab_lo, ce_lo, 0, 2));
      wasm_v128_store(out + kTileKeys, wasm_i64x2_shuffle(ab_lo, ce_lo, 1, 3));
      wasm_v128_store(out + 2 * kTileKeys, wasm_i64x2_shuffle(ab_hi, ce_hi, 0, 2));
      wasm_v128_store(out + 3 * kTileKeys, wasm_i64x2_shuffle(ab_hi, ce_hi, 1, 3));
    }
  }
  for (; j < keys; ++j)
    for (int d = 0; d < head_dim; ++d) kt[d * kTileKeys + j] = k[size_t(j) * head_dim + d];
}
#endif

// The score rows of a tile: sr[r][kTileKeys] = q_r · the keys of kt, R rows.
void tile_scores(const float* const* q, int rows, const float* kt, int head_dim, float* const* dots) {
#ifdef __wasm_simd128__
  int r = 0;
  for (; r + 2 <= rows; r += 2) tile_scores_simd<2>(q + r, kt, head_dim, dots + r);
  if (r < rows) tile_scores_simd<1>(q + r, kt, head_dim, dots + r);
#else
  for (int r = 0; r < rows; ++r) {
    float* out = dots[r];
    std::fill(out, out + kTileKeys, 0.0f);
    for (int d = 0; d < head_dim; ++d)
      for (int j = 0; j < kTileKeys; ++j) out[j] += q[r][d] * kt[d * kTileKeys + j];
  }
#endif
}

void tile_values(const float* const* p, int rows, const float* v, int keys, int head_dim, float* const* out) {
#ifdef __wasm_simd128__
  if (head_dim % 16 == 0) {
    int r = 0;
    for (; r + 2 <= rows; r += 2) tile_values_simd<2>(p + r, v, keys, head_dim, out + r);
    if (r < rows) tile_values_simd<1>(p + r, v, keys, head_dim, out + r);
    return;
  }
#endif
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < keys; ++j)
      for (int d = 0; d < head_dim; ++d) out[r][d] += p[r][j] * v[size_t(j) * head_dim + d];
}

void transpose_keys(const float* k, int keys, int head_dim, float* kt) {
#ifdef __wasm_simd128__
  if (head_dim % 4 == 0) return transpose_keys_simd(k, keys, head_dim, kt);
#endif
  for (int j = 0; j < keys; ++j)
    for (int d = 0; d < head_dim; ++d) kt[d * kTileKeys + j] = k[size_t(j) * head_dim + d];
}

// The largest of x[n] (−inf for n = 0).
float max_of(const float* x, int n) {
  float m = -std::numeric_limits<float>::infinity();
  int j = 0;
#ifdef __wasm_simd128__
  if (n >= 4) {
    v128_t m4 = wasm_v128_load(x);
    for (j = 4; j + 4 <= n; j += 4) m4 = wasm_f32x4_pmax(m4, wasm_v128_load(x + j));
    m4 = wasm_f32x4_pmax(m4, wasm_i32x4_shuffle(m4, m4, 2, 3, 0, 1));
    m4 = wasm_f32x4_pmax(m4, wasm_i32x4_shuffle(m4, m4, 1, 0, 3, 2));
    m = wasm_f32x4_extract_lane(m4, 0);
  }
#endif
  for (; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

}  // namespace

void attention_prompt(float* out, int out_stride, const float* q, int q_stride, int heads, int n, int first_pos,
                      const float* k, const float* v, int head_dim, int window, float cap) {
  const int hd = head_dim, rows_max = kTileTokens * heads;
  thread_local std::vector<float> scratch;
  thread_local std::vector<const float*> q_rows;
  thread_local std::vector<float*> s_rows, acc_rows;
  scratch.resize(size_t(rows_max) * (kTileKeys + hd + 2) + size_t(hd) * kTileKeys);
  q_rows.resize(size_t(rows_max));
  s_rows.resize(size_t(rows_max));
  acc_rows.resize(size_t(rows_max));
  float* s = scratch.data();                     // [rows, kTileKeys]  scores, then their exps
  float* acc = s + size_t(rows_max) * kTileKeys;  // [rows, hd]  Σ exp · v
  float* row_max = acc + size_t(rows_max) * hd;  // [rows]  running max of the scores
  float* row_sum = row_max + rows_max;           // [rows]  Σ exp(score − row_max)
  float* kt = row_sum + rows_max;                // [hd, kTileKeys]  the key tile transposed
  const float norm = std::sqrt(float(hd));
  const float minus_inf = -std::numeric_limits<float>::infinity();
  for (int r = 0; r < rows_max; ++r) {
    s_rows[size_t(r)] = s + size_t(r) * kTileKeys;
    acc_rows[size_t(r)] = acc + size_t(r) * hd;
  }
  // Row r of a tile: token t0 + r / heads, head r % heads.
  for (int t0 = 0; t0 < n; t0 += kTileTokens) {
    const int tokens = std::min(kTileTokens, n - t0), rows = tokens * heads;
    for (int r = 0; r < rows; ++r) q_rows[size_t(r)] = q + size_t(t0 + r / heads) * q_stride + (r % heads) * hd;
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
      transpose_keys(k + size_t(p0) * hd, keys, hd, kt);
      for (int d = 0; d < hd; ++d) std::fill(kt + d * kTileKeys + keys, kt + (d + 1) * kTileKeys, 0.0f);
      tile_scores(q_rows.data(), rows, kt, hd, s_rows.data());
      for (int r = 0; r < rows; ++r) {
        const int t = t0 + r / heads, last = first_pos + t, first = start_of(t);
        float* sr = s_rows[size_t(r)];
        if (p0 > last || p0 + keys <= first) {  // no key of the tile is visible to this row
          std::fill(sr, sr + keys, 0.0f);
          continue;
        }
        for (int j = 0; j < keys; ++j) sr[j] /= norm;
        if (cap > 0.0f)
          for (int j = 0; j < keys; ++j) sr[j] = cap * std::tanh(sr[j] / cap);
        if (p0 < first || p0 + keys - 1 > last)  // the tile crosses the window's start or the causal edge
          for (int j = 0; j < keys; ++j) sr[j] = p0 + j < first || p0 + j > last ? minus_inf : sr[j];
        const float tile_max = max_of(sr, keys);
        const float new_max = std::max(row_max[r], tile_max);
        // exp(−inf) = 0 for the masked keys and for a row's first tile. A
        // factor under e^−60 is 0, as exp_shifted flushes: it could only
        // make subnormal sums, which x86 handles in slow microcode.
        const float drop = row_max[r] - new_max;
        const float rescale = drop < -60.0f ? 0.0f : std::exp(drop);
        row_max[r] = new_max;
        row_sum[r] = row_sum[r] * rescale + exp_shifted(sr, keys, new_max);
        if (rescale != 1.0f) {
          float* ar = acc_rows[size_t(r)];
          for (int d = 0; d < hd; ++d) ar[d] *= rescale;
        }
      }
      tile_values(s_rows.data(), rows, v + size_t(p0) * hd, keys, hd, acc_rows.data());
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + size_t(t0 + r / heads) * out_stride + (r % heads) * hd;
      const float* ar = acc_rows[size_t(r)];
      for (int d = 0; d < hd; ++d) o[d] = ar[d] / row_sum[r];
    }
  }
}

}  // namespace nibble
