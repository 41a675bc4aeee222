// wasm SIMD128 tier of the f32 operators (ops.h). Attention and the two exp
// users (softmax, SwiGLU) are what decoding spends outside the matmuls; the
// plain loops leave exp to libm one value at a time and reload the output
// row of the attention for every position.
#include <wasm_simd128.h>

#include <algorithm>
#include <cmath>

#include "kernels/wasmsimd_util.h"
#include "ops/exp_wasmsimd.h"
#include "ops/ops.h"

namespace nibble {
namespace {

using wasmsimd::reduce4_f32;

float exp_f32(float x) { return wasm_f32x4_extract_lane(exp_f32x4(wasm_f32x4_splat(x)), 0); }

// The four lanes' maximum.
float max_lanes(v128_t v) {
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

float sum_lanes(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 2)) +
         (wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 3));
}

}  // namespace

float exp_shifted__wasmsimd(float* x, int n, float shift) {
  const v128_t shift_v = wasm_f32x4_splat(shift);
  v128_t sum4 = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), shift_v));
    wasm_v128_store(x + i, e);
    sum4 = wasm_f32x4_add(sum4, e);
  }
  float sum = sum_lanes(sum4);
  for (; i < n; ++i) {
    x[i] = exp_f32(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void softmax__wasmsimd(float* x, int n) {
  int i = 0;
  v128_t max4 = wasm_f32x4_splat(x[0]);
  for (; i + 4 <= n; i += 4) max4 = wasm_f32x4_pmax(max4, wasm_v128_load(x + i));
  float max = max_lanes(max4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const float sum = exp_shifted__wasmsimd(x, n, max);
  const v128_t sum_v = wasm_f32x4_splat(sum);
  for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_div(wasm_v128_load(x + i), sum_v));
  for (; i < n; ++i) x[i] /= sum;
}

void swiglu__wasmsimd(float* gate, const float* up, int n) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  // Four vectors a step, their exp chains (~20 dependent operations each)
  // pinned side by side (exp_f32x4_steps: 1.2–1.3x the speed of two
  // unpinned chains), and without exp_f32x4's masks: for g > 60 the flush
  // made 1 + e^−g exactly 1, and so does e^−60 (NaN stays NaN either way),
  // so the results are the same floats. The last n % 16 values go through
  // the same step from a zero-padded copy (one copy of the step in the
  // download).
  constexpr int N = 4, W = 4 * N;
  ExpPins<N> pins;
  alignas(16) float tail[2 * W];
  for (int i = 0; i < n; i += W) {
    float* g_at = gate + i;
    const float* up_at = up + i;
    const int left = n - i;
    if (left < W) {
      for (int k = 0; k < 2 * W; ++k) tail[k] = k % W < left ? (k < W ? g_at : up_at)[k % W] : 0.0f;
      g_at = tail;
      up_at = tail + W;
    }
    v128_t g[N], e[N];
#pragma clang loop unroll(full)
    for (int k = 0; k < N; ++k) {
      g[k] = wasm_v128_load(g_at + 4 * k);
      e[k] = wasm_f32x4_neg(g[k]);
    }
    exp_f32x4_steps(e, pins.get());
#pragma clang loop unroll(full)
    for (int k = 0; k < N; ++k)
      wasm_v128_store(g_at + 4 * k, wasm_f32x4_mul(wasm_f32x4_div(g[k], wasm_f32x4_add(one, e[k])), wasm_v128_load(up_at + 4 * k)));
    if (left < W)
      for (int k = 0; k < left; ++k) gate[i + k] = tail[k];
  }
}

// Two pairs (x, y) at a time: (x·c, y·c) + (y·s, x·s) with the first lane
// of each pair negated, i.e. x·c − y·s and y·c + x·s: the scalar loop's
// products, added in the other order (exact the same float). Each four
// pairs' cos and sin lanes are spread once for all the heads; a last odd
// pair (rope_dim % 4 == 2) goes alone.
void rope__wasmsimd(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin) {
  const v128_t negate_first = wasm_f32x4_make(-0.0f, 0.0f, -0.0f, 0.0f);
  const int even = rope_dim & ~3;
  if (even < rope_dim)
    for (float* x = vec + even; x < vec + n_heads * head_dim; x += head_dim) {
      const float c = cos_sin[even], s = cos_sin[even + 1], a = x[0], b = x[1];
      x[0] = a * c - b * s;
      x[1] = a * s + b * c;
    }
  for (int i = 0; i < even; i += 4) {
    const v128_t cs = wasm_v128_load(cos_sin + i);
    const v128_t c = wasm_i32x4_shuffle(cs, cs, 0, 0, 2, 2), s = wasm_v128_xor(wasm_i32x4_shuffle(cs, cs, 1, 1, 3, 3), negate_first);
    float* x = vec + i;
    for (int h = 0; h < n_heads; ++h, x += head_dim) {
      const v128_t v = wasm_v128_load(x);
      wasm_v128_store(x, wasm_f32x4_add(wasm_f32x4_mul(v, c), wasm_f32x4_mul(wasm_i32x4_shuffle(v, v, 1, 0, 3, 2), s)));
    }
  }
}

namespace {

// Scores of G query heads (rows of head_dim at q + h·head_dim) against
// every key row, into scores[h·n_pos + p], divided by sqrt(head_dim). P
// positions at a time: each key vector is loaded once for the G heads, each
// query vector once for P positions. The G·P sums stay in registers (at
// most 8: 3 heads × 4 positions = 12 sums made V8 spill four of them on
// every step), then are reduced four at a time.
template <int G>
void group_scores(const float* q, const float* k, int n_pos, int head_dim, int kv_stride, float* scores) {
  constexpr int P = G == 3 ? 2 : 4, kSums = G * P;
  const float norm = std::sqrt(float(head_dim));
  const v128_t norm4 = wasm_f32x4_splat(norm);
  int p = 0;
  for (; p + P <= n_pos; p += P) {
    const float* k0 = k + int64_t(p) * kv_stride;
    v128_t acc[kSums];  // acc[h·P + j]: head h, position p + j
#pragma clang loop unroll(full)
    for (int i = 0; i < kSums; ++i) acc[i] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < head_dim; i += 4) {
      v128_t qi[G];
#pragma clang loop unroll(full)
      for (int h = 0; h < G; ++h) qi[h] = wasm_v128_load(q + h * head_dim + i);
#pragma clang loop unroll(full)
      for (int j = 0; j < P; ++j) {
        const v128_t kj = wasm_v128_load(k0 + j * kv_stride + i);
#pragma clang loop unroll(full)
        for (int h = 0; h < G; ++h) acc[h * P + j] = wasm_f32x4_add(acc[h * P + j], wasm_f32x4_mul(qi[h], kj));
      }
    }
    alignas(16) float sums[(kSums + 3) / 4 * 4];
#pragma clang loop unroll(full)
    for (int r = 0; r < kSums; r += 4) {
      constexpr int kLast = kSums - 1;  // a short last group repeats its last sum
      const v128_t four = reduce4_f32(acc[r], acc[std::min(r + 1, kLast)], acc[std::min(r + 2, kLast)], acc[std::min(r + 3, kLast)]);
      wasm_v128_store(sums + r, wasm_f32x4_div(four, norm4));
    }
#pragma clang loop unroll(full)
    for (int h = 0; h < G; ++h)
#pragma clang loop unroll(full)
      for (int j = 0; j < P; ++j) scores[h * n_pos + p + j] = sums[h * P + j];
  }
  for (; p < n_pos; ++p) {
    const float* kp = k + int64_t(p) * kv_stride;
    for (int h = 0; h < G; ++h) {
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int i = 0; i < head_dim; i += 4)
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(q + h * head_dim + i), wasm_v128_load(kp + i)));
      scores[h * n_pos + p] = sum_lanes(acc) / norm;
    }
  }
}

// out[h·head_dim ..] += Σ_p scores[h·n_pos + p]·v_p over positions p in
// [p0, p1) for G heads, in slices of up to 16 values (8 for three heads:
// 3 × 16 values are 12 sums, which V8 spilled) whose G sums stay in
// registers over the positions; each value vector is loaded once for the G
// heads. A last, narrower slice (head_dim % 16 != 0, or % 8 for three
// heads) adds up in `out` itself.
template <int G>
void group_values(const float* scores, const float* v, int n_pos, int p0, int p1, int head_dim, int kv_stride, float* out) {
  constexpr int kSlice = G == 3 ? 8 : 16;
  for (int i0 = 0; i0 < head_dim; i0 += kSlice) {
    const float* vp = v + int64_t(p0) * kv_stride + i0;
    if (head_dim - i0 < kSlice) {
      for (int pos = p0; pos < p1; ++pos, vp += kv_stride)
        for (int h = 0; h < G; ++h)
          for (int i = 0; i < head_dim - i0; i += 4) {
            float* o = out + h * head_dim + i0 + i;
            wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), wasm_f32x4_mul(wasm_f32x4_splat(scores[h * n_pos + pos]),
                                                                                 wasm_v128_load(vp + i))));
          }
      break;
    }
    v128_t acc[G][kSlice / 4];
#pragma clang loop unroll(full)
    for (int h = 0; h < G; ++h)
#pragma clang loop unroll(full)
      for (int j = 0; j < kSlice / 4; ++j) acc[h][j] = wasm_v128_load(out + h * head_dim + i0 + 4 * j);
    for (int pos = p0; pos < p1; ++pos, vp += kv_stride) {
      v128_t a[G];
#pragma clang loop unroll(full)
      for (int h = 0; h < G; ++h) a[h] = wasm_f32x4_splat(scores[h * n_pos + pos]);
#pragma clang loop unroll(full)
      for (int j = 0; j < kSlice / 4; ++j) {
        const v128_t vj = wasm_v128_load(vp + 4 * j);
#pragma clang loop unroll(full)
        for (int h = 0; h < G; ++h) acc[h][j] = wasm_f32x4_add(acc[h][j], wasm_f32x4_mul(a[h], vj));
      }
    }
#pragma clang loop unroll(full)
    for (int h = 0; h < G; ++h)
#pragma clang loop unroll(full)
      for (int j = 0; j < kSlice / 4; ++j) wasm_v128_store(out + h * head_dim + i0 + 4 * j, acc[h][j]);
  }
}

// The values go through group_values kValueBlock positions at a time: a
// block's rows (16 KB at head_dim 64) come from memory for its first slice
// and from L1 for the others, where one pass over all the positions per
// slice read every row from memory again for every slice. The sums carry
// over in `out` (zeros first), so each output adds its products in
// position order, as before.
constexpr int kValueBlock = 64;
template <int G>
void attend(float* out, const float* q, const float* k, const float* v, int n_pos, int head_dim, int kv_stride,
            float* scores) {
  group_scores<G>(q, k, n_pos, head_dim, kv_stride, scores);
  for (int h = 0; h < G; ++h) softmax__wasmsimd(scores + h * n_pos, n_pos);
  std::fill(out, out + G * head_dim, 0.0f);
#pragma clang loop unroll(disable)
  for (int p0 = 0; p0 < n_pos; p0 += kValueBlock)
    group_values<G>(scores, v, n_pos, p0, std::min(n_pos, p0 + kValueBlock), head_dim, kv_stride, out);
}

}  // namespace

// Up to three heads at a time: three heads × four positions of sums are
// twelve vectors, which with the loads still fit V8's sixteen registers.
void attention_group__wasmsimd(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                               int head_dim, int kv_stride, float* scores) {
  for (int h = 0; h < heads;) {
    const int g = heads - h >= 3 ? 3 : heads - h;
    float* o = out + h * head_dim;
    const float* qh = q + h * head_dim;
    if (g == 3) attend<3>(o, qh, k, v, n_pos, head_dim, kv_stride, scores);
    else if (g == 2) attend<2>(o, qh, k, v, n_pos, head_dim, kv_stride, scores);
    else attend<1>(o, qh, k, v, n_pos, head_dim, kv_stride, scores);
    h += g;
  }
}

}  // namespace nibble
