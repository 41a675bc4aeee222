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

#include "kernels/wasmsimd_util.h"
#include "ops/exp_wasmsimd.h"
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

// add_products over a run: acc[r][i] += scalars[r][k] · vectors[k·step + 4i
// .. 4i+3] for k < count (≥ 1). The pointers step through
// opaque_pointers(): clang otherwise rebuilds each address from k, which
// V8 ran as 8 scalar instructions a step instead of about 5.
template <int R>
inline void add_product_run(v128_t (&acc)[R][4], const float* const* scalars, const float* vectors, size_t step, int count) {
  const float* at[R];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r) at[r] = scalars[r];
  const float* const end = vectors + step * size_t(count);
  do {
    add_products<R>(acc, at, 0, vectors);
    vectors += step;
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r) ++at[r];
    wasmsimd::opaque_pointers(vectors, at[0]);
    if (R > 1) wasmsimd::opaque_pointers(at[R - 1]);
  } while (vectors != end);
}

// out[r][at .. at+15] = acc[r] for R rows.
template <int R>
inline void store_sums(const v128_t (&acc)[R][4], float* const* out, int at) {
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; ++i) wasm_v128_store(out[r] + at + 4 * i, acc[r][i]);
}

// dots_r[j] = (q_r · key j) · scale for j < keys rounded up to 16, R = 1 or
// 2 rows (kt: [head_dim, kTileKeys]), 16 keys at a time: 4·R sums stay in
// registers. The scale is applied here, four lanes at a time, rather than
// as a division per score in the row loop.
template <int R>
void tile_scores_simd(const float* const* q, const float* kt, int keys, int head_dim, float scale, float* const* dots) {
  const v128_t scale4 = wasm_f32x4_splat(scale);
  for (int j0 = 0; j0 < keys; j0 += 16) {
    v128_t acc[R][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) acc[r][i] = wasm_f32x4_splat(0.0f);
    add_product_run<R>(acc, q, kt + j0, kTileKeys, head_dim);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; ++r)
#pragma clang loop unroll(full)
      for (int i = 0; i < 4; ++i) acc[r][i] = wasm_f32x4_mul(acc[r][i], scale4);
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
    add_product_run<R>(acc, p, v + d0, size_t(head_dim), keys);
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

// The score rows of a tile: sr[r][j] = (q_r · key j of kt) · scale for
// j < keys (the SIMD tier also fills up to the next multiple of 16).
void tile_scores(const float* const* q, int rows, const float* kt, int keys, int head_dim, float scale,
                 float* const* dots) {
#ifdef __wasm_simd128__
  int r = 0;
  for (; r + 2 <= rows; r += 2) tile_scores_simd<2>(q + r, kt, keys, head_dim, scale, dots + r);
  if (r < rows) tile_scores_simd<1>(q + r, kt, keys, head_dim, scale, dots + r);
#else
  for (int r = 0; r < rows; ++r) {
    float* out = dots[r];
    std::fill(out, out + keys, 0.0f);
    for (int d = 0; d < head_dim; ++d)
      for (int j = 0; j < keys; ++j) out[j] += q[r][d] * kt[d * kTileKeys + j];
    for (int j = 0; j < keys; ++j) out[j] *= scale;
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

// One row's step of the online softmax over its tile of scores
// sr[kTileKeys], of which keys lo..hi are visible (the others, before the
// window's start, past the causal edge or past the tile's end, weigh 0):
// sr becomes exp(score − the new running max) (0 for the others), row_max
// the new max, row_sum its rescaled self plus the tile's sum. Returns the
// rescale factor exp(old max − new max) for the row's value sums. exp(−inf)
// = 0 for the masked keys and for a row's first tile; a factor under e^−60
// is 0, as exp_shifted flushes: it could only make subnormal sums, which x86
// handles in slow microcode. The SIMD tier keeps the tile's scores in
// registers from the masking to the exps, with exp_f32x4 inlined (it was
// calls per row to a max, exp_shifted and libm's exp: ~5% of prompt
// attention at 512 tokens, in isolation and in the model's profile).
float softmax_step(float* sr, int lo, int hi, float& row_max, float& row_sum) {
#ifdef __wasm_simd128__
  constexpr int kVecs = kTileKeys / 4;
  v128_t x[kVecs];
#pragma clang loop unroll(full)
  for (int i = 0; i < kVecs; ++i) x[i] = wasm_v128_load(sr + 4 * i);
  if (lo > 0 || hi < kTileKeys - 1) {
    const v128_t lo4 = wasm_i32x4_splat(lo), hi4 = wasm_i32x4_splat(hi);
    const v128_t minus_inf4 = wasm_f32x4_splat(-std::numeric_limits<float>::infinity());
    v128_t j = wasm_i32x4_make(0, 1, 2, 3);
#pragma clang loop unroll(full)
    for (int i = 0; i < kVecs; ++i) {
      const v128_t visible = wasm_v128_and(wasm_i32x4_ge(j, lo4), wasm_i32x4_le(j, hi4));
      x[i] = wasm_v128_bitselect(x[i], minus_inf4, visible);
      j = wasm_i32x4_add(j, wasm_i32x4_splat(4));
    }
  }
  v128_t m = x[0];
#pragma clang loop unroll(full)
  for (int i = 1; i < kVecs; ++i) m = wasm_f32x4_pmax(m, x[i]);
  m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
  m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
  const float new_max = std::max(row_max, wasm_f32x4_extract_lane(m, 0));
  const v128_t shift = wasm_f32x4_splat(new_max);
  v128_t sum = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(full)
  for (int i = 0; i < kVecs; ++i) {
    const v128_t e = exp_f32x4(wasm_f32x4_sub(x[i], shift));
    wasm_v128_store(sr + 4 * i, e);
    sum = wasm_f32x4_add(sum, e);
  }
  const float tile_sum = (wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 2)) +
                         (wasm_f32x4_extract_lane(sum, 1) + wasm_f32x4_extract_lane(sum, 3));
  // A row's first visible tile (row_max −inf) rescales by exp(−inf) = 0.
  const float rescale = row_max == -std::numeric_limits<float>::infinity()
                            ? 0.0f
                            : wasm_f32x4_extract_lane(exp_f32x4(wasm_f32x4_splat(row_max - new_max)), 0);
#else
  const float minus_inf = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < kTileKeys; ++j) sr[j] = j < lo || j > hi ? minus_inf : sr[j];
  const float new_max = std::max(row_max, *std::max_element(sr, sr + kTileKeys));
  const float tile_sum = exp_shifted(sr, kTileKeys, new_max);
  const float drop = row_max - new_max;
  const float rescale = drop < -60.0f ? 0.0f : std::exp(drop);
#endif
  row_max = new_max;
  row_sum = row_sum * rescale + tile_sum;
  return rescale;
}

// x[n] *= f.
void scale_row(float* x, int n, float f) {
  int i = 0;
#ifdef __wasm_simd128__
  const v128_t f4 = wasm_f32x4_splat(f);
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), f4));
#endif
  for (; i < n; ++i) x[i] *= f;
}

}  // namespace

void attention_prompt(float* out, int out_stride, const float* q, int q_stride, int heads, int n, int first_pos,
                      const float* k, const float* v, int head_dim, int window, float cap) {
  const int hd = head_dim, rows_max = kTileTokens * heads;
  thread_local std::vector<float> scratch;
  thread_local std::vector<const float*> q_rows;
  thread_local std::vector<int> row_tokens;
  thread_local std::vector<float> key_tiles;
  thread_local std::vector<float*> s_rows, acc_rows;
  scratch.resize(size_t(rows_max) * (kTileKeys + hd + 2) + size_t(hd) * kTileKeys);
  q_rows.resize(size_t(rows_max));
  row_tokens.resize(size_t(rows_max));
  s_rows.resize(size_t(rows_max));
  acc_rows.resize(size_t(rows_max));
  float* s = scratch.data();                     // [rows, kTileKeys]  scores, then their exps
  float* acc = s + size_t(rows_max) * kTileKeys;  // [rows, hd]  Σ exp · v
  float* row_max = acc + size_t(rows_max) * hd;  // [rows]  running max of the scores
  float* row_sum = row_max + rows_max;           // [rows]  Σ exp(score − row_max)
  float* kt = row_sum + rows_max;                // [hd, kTileKeys]  the key tile transposed
  // Scores are multiplied by 1/sqrt(head_dim) (exact for head dims 4^k,
  // 64 and 256; within an ulp of the division otherwise).
  const float scale = 1.0f / std::sqrt(float(hd));
  const float minus_inf = -std::numeric_limits<float>::infinity();
  // Without a window every query tile's key tiles start at 0, 32, ...: each
  // is transposed once per call (key_tiles, in order as first needed), with
  // all the call's keys in it; a query tile's keys past its last one only
  // give scores that are masked (softmax_step) and never read.
  const int all_end = first_pos + n;
  int tiles_done = 0;
  if (window == 0) key_tiles.resize(size_t((all_end + kTileKeys - 1) / kTileKeys) * hd * kTileKeys);
  const auto transposed = [&](int p0, int keys) {
    float* out = kt;
    if (window == 0) {
      out = key_tiles.data() + size_t(p0 / kTileKeys) * hd * kTileKeys;
      if (p0 / kTileKeys < tiles_done) return out;
      ++tiles_done;
      keys = std::min(kTileKeys, all_end - p0);
    }
    transpose_keys(k + size_t(p0) * hd, keys, hd, out);
    for (int d = 0; d < hd; ++d) std::fill(out + d * kTileKeys + keys, out + (d + 1) * kTileKeys, 0.0f);
    return out;
  };
  for (int r = 0; r < rows_max; ++r) {
    s_rows[size_t(r)] = s + size_t(r) * kTileKeys;
    acc_rows[size_t(r)] = acc + size_t(r) * hd;
  }
  // Row r of a tile: token t0 + r / heads, head r % heads.
  for (int t0 = 0; t0 < n; t0 += kTileTokens) {
    const int tokens = std::min(kTileTokens, n - t0), rows = tokens * heads;
    for (int t = 0, r = 0; t < tokens; ++t)  // (no division by heads per row)
      for (int h = 0; h < heads; ++h, ++r) {
        q_rows[size_t(r)] = q + size_t(t0 + t) * q_stride + h * hd;
        row_tokens[size_t(r)] = t0 + t;
      }
    std::fill(acc, acc + size_t(rows) * hd, 0.0f);
    std::fill(row_max, row_max + rows, minus_inf);
    std::fill(row_sum, row_sum + rows, 0.0f);
    // Token t sees positions [start(t), first_pos + t]; the tile, their union.
    const auto start_of = [&](int t) { return window > 0 ? std::max(0, first_pos + t + 1 - window) : 0; };
    const int end = first_pos + t0 + tokens;
    for (int p0 = start_of(t0); p0 < end; p0 += kTileKeys) {
      const int keys = std::min(kTileKeys, end - p0);
      // Zeros (or, see key_tiles, later keys) past `keys`: the SIMD score
      // loop runs over 16 keys at a time (a constant trip count clang
      // unrolls, the sums in registers); those scores are never read.
      tile_scores(q_rows.data(), rows, transposed(p0, keys), keys, hd, scale, s_rows.data());
      for (int r = 0; r < rows; ++r) {
        const int t = row_tokens[size_t(r)], last = first_pos + t, first = start_of(t);
        float* sr = s_rows[size_t(r)];
        if (p0 > last || p0 + keys <= first) {  // no key of the tile is visible to this row
          std::fill(sr, sr + keys, 0.0f);
          continue;
        }
        if (cap > 0.0f)
          for (int j = 0; j < keys; ++j) sr[j] = cap * std::tanh(sr[j] / cap);
        const int lo = std::max(first - p0, 0), hi = std::min(last - p0, keys - 1);
        // Before a row's first visible tile its sums are all +0 (0·v added):
        // scaling them leaves them so.
        const bool zero_sums = row_max[r] == minus_inf;
        const float rescale = softmax_step(sr, lo, hi, row_max[r], row_sum[r]);
        if (rescale != 1.0f && !zero_sums) scale_row(acc_rows[size_t(r)], hd, rescale);
      }
      tile_values(s_rows.data(), rows, v + size_t(p0) * hd, keys, hd, acc_rows.data());
    }
    for (int t = 0, r = 0; t < tokens; ++t)
      for (int h = 0; h < heads; ++h, ++r) {
        float* o = out + size_t(t0 + t) * out_stride + h * hd;
        const float* ar = acc_rows[size_t(r)];
        for (int d = 0; d < hd; ++d) o[d] = ar[d] / row_sum[r];
      }
  }
}

}  // namespace nibble
