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
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t g = wasm_v128_load(gate + i);
    const v128_t silu = wasm_f32x4_div(g, wasm_f32x4_add(one, exp_f32x4(wasm_f32x4_neg(g))));
    wasm_v128_store(gate + i, wasm_f32x4_mul(silu, wasm_v128_load(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + exp_f32(-gate[i])) * up[i];
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

// out[h·head_dim ..] = Σ_p scores[h·n_pos + p]·v_p for G heads, in slices of
// up to 16 values (8 for three heads: 3 × 16 values are 12 sums, which V8
// spilled) whose G sums stay in registers over all positions; each value
// vector is loaded once for the G heads.
template <int G>
void group_values(const float* scores, const float* v, int n_pos, int head_dim, int kv_stride, float* out) {
  constexpr int kSlice = G == 3 ? 8 : 16;
  for (int i0 = 0; i0 < head_dim; i0 += kSlice) {
    const int vectors = (head_dim - i0 < kSlice ? head_dim - i0 : kSlice) / 4;
    v128_t acc[G][kSlice / 4];
#pragma clang loop unroll(full)
    for (int h = 0; h < G; ++h)
#pragma clang loop unroll(full)
      for (int j = 0; j < kSlice / 4; ++j) acc[h][j] = wasm_f32x4_splat(0.0f);
    const float* vp = v + i0;
    if (vectors == kSlice / 4) {
      for (int pos = 0; pos < n_pos; ++pos, vp += kv_stride) {
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
    } else {  // the last, narrower slice (head_dim % 16 != 0)
      for (int pos = 0; pos < n_pos; ++pos, vp += kv_stride)
        for (int h = 0; h < G; ++h) {
          const v128_t a = wasm_f32x4_splat(scores[h * n_pos + pos]);
          for (int j = 0; j < vectors; ++j) acc[h][j] = wasm_f32x4_add(acc[h][j], wasm_f32x4_mul(a, wasm_v128_load(vp + 4 * j)));
        }
    }
    for (int h = 0; h < G; ++h)
      for (int j = 0; j < vectors; ++j) wasm_v128_store(out + h * head_dim + i0 + 4 * j, acc[h][j]);
  }
}

template <int G>
void attend(float* out, const float* q, const float* k, const float* v, int n_pos, int head_dim, int kv_stride,
            float* scores) {
  group_scores<G>(q, k, n_pos, head_dim, kv_stride, scores);
  for (int h = 0; h < G; ++h) softmax__wasmsimd(scores + h * n_pos, n_pos);
  group_values<G>(scores, v, n_pos, head_dim, kv_stride, out);
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
