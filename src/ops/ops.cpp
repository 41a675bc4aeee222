#include "ops/ops.h"

#include <cmath>
#include <limits>

namespace nibble {
namespace {

// Σ a[i]·b[i] in four interleaved partial sums, which the compiler turns into
// one f32x4 multiply-add chain (a single running sum cannot be vectorized
// without reordering it). Attention spends its time here.
float dot_product(const float* a, const float* b, int n) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s2) + (s1 + s3);
}

}  // namespace

void rmsnorm(float* out, const float* x, const float* weight, int n, float eps) {
  float ss = dot_product(x, x, n);
  ss /= float(n);
  ss += eps;
  const float scale = 1.0f / std::sqrt(ss);
  for (int i = 0; i < n; ++i) out[i] = weight[i] * (scale * x[i]);
}

namespace {

// cos and sin of a float angle, each rounded to float from a double
// evaluation: the correctly rounded values but for ties closer than about
// 1e-16 (libm's cosf and sinf, within an ulp, may round the other way
// there). Not libm's own: their reduction of huge angles brings a 2.8 KB
// table of 2/π into the download, about 3 KB gzipped, for RoPE alone.
// angle = k·π/2 + r, |r| ≤ π/4, in double: π/2 is split into pieces of 23
// bits (the last holds the rest), so k times each is exact for |k| < 2^30
// (angles below 1.6e9, beyond any context); then the Taylor series of sin r
// and cos r to r^17 and r^16 (the next terms are below 1e-17).
void cos_sin_of(float angle, float* cos_out, float* sin_out) {
  constexpr double kTwoOverPi = 0x1.45f306dc9c883p-1;
  constexpr double kPiOver2[4] = {0x1.921fb4p+0, 0x1.4442dp-24, 0x1.846988p-48, 0x1.8cc51701b839ap-72};
  const double a = angle;
  if (!std::isfinite(a)) {  // as cosf and sinf (an angle from a file's broken RoPE factors)
    *cos_out = *sin_out = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const double k = std::nearbyint(a * kTwoOverPi);
  const double r = (((a - k * kPiOver2[0]) - k * kPiOver2[1]) - k * kPiOver2[2]) - k * kPiOver2[3];
  const double r2 = r * r;
  // sin r = r·(1 − r²/(2·3)·(1 − r²/(4·5)·(…))), cos r = 1 − r²/(1·2)·(1 − r²/(3·4)·(…)).
  double sin_r = 1.0, cos_r = 1.0;
  for (int n = 16; n >= 2; n -= 2) sin_r = 1.0 - r2 / double(n * (n + 1)) * sin_r;
  for (int n = 15; n >= 1; n -= 2) cos_r = 1.0 - r2 / double(n * (n + 1)) * cos_r;
  sin_r *= r;
  const int quadrant = int(k - 4.0 * std::floor(k * 0.25));  // k mod 4, exact in double
  const double sin_a = quadrant == 0 ? sin_r : quadrant == 1 ? cos_r : quadrant == 2 ? -sin_r : -cos_r;
  const double cos_a = quadrant == 0 ? cos_r : quadrant == 1 ? -sin_r : quadrant == 2 ? -cos_r : sin_r;
  *cos_out = float(cos_a);
  *sin_out = float(sin_a);
}

}  // namespace

void rope_table(float* cos_sin, int rope_dim, int pos, float theta, const float* factors) {
  for (int i = 0; i < rope_dim; i += 2) {
    // Same float arithmetic as llama2.c's run.c, so the F32 path tracks it.
    const float freq = 1.0f / std::pow(theta, float(i) / float(rope_dim));
    const float angle = factors ? float(pos) * freq / factors[i / 2] : float(pos) * freq;
    cos_sin_of(angle, &cos_sin[i], &cos_sin[i + 1]);
  }
}

namespace {

// Rotates the pairs (x[i·step], x[i·step + offset]) of each head.
void rotate_pairs(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin, int step, int offset) {
  for (int h = 0; h < n_heads; ++h) {
    float* head = vec + h * head_dim;
    for (int i = 0; i < rope_dim / 2; ++i) {
      const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
      float* a = head + i * step;
      float* b = a + offset;
      const float x = *a, y = *b;
      *a = x * c - y * s;
      *b = x * s + y * c;
    }
  }
}

}  // namespace

void rope_ref(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin) {
  rotate_pairs(vec, n_heads, head_dim, rope_dim, cos_sin, 2, 1);
}

void rope(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin) {
#ifdef __wasm_simd128__
  rope__wasmsimd(vec, n_heads, head_dim, rope_dim, cos_sin);
#else
  rope_ref(vec, n_heads, head_dim, rope_dim, cos_sin);
#endif
}

void rope_half_split(float* vec, int n_heads, int head_dim, int rope_dim, const float* cos_sin) {
  rotate_pairs(vec, n_heads, head_dim, rope_dim, cos_sin, 1, rope_dim / 2);
}

void geglu(float* gate, const float* up, int n) {
  constexpr float kSqrt2OverPi = 0.7978845608f, kCubic = 0.044715f;
  for (int i = 0; i < n; ++i) {
    const float x = gate[i];
    gate[i] = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCubic * x * x))) * up[i];
  }
}

void add_to(float* x, const float* y, int n) {
  for (int i = 0; i < n; ++i) x[i] += y[i];
}

void softcap(float* x, int n, float cap) {
  // Multiplies by the reciprocal, as llama.cpp does.
  const float inverse = 1.0f / cap;
  for (int i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] * inverse);
}

void softmax_ref(float* x, int n) {
  float max = x[0];
  for (int i = 1; i < n; ++i) max = x[i] > max ? x[i] : max;
  const float sum = exp_shifted_ref(x, n, max);
  for (int i = 0; i < n; ++i) x[i] /= sum;
}

float exp_shifted_ref(float* x, int n, float shift) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void swiglu_ref(float* gate, const float* up, int n) {
  for (int i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g * (1.0f / (1.0f + std::exp(-g))) * up[i];
  }
}

namespace {

void attend_ref(float* out, const float* q, int heads, const float* k, const float* v, int n_pos, int head_dim,
                int kv_stride, float* scores, float cap) {
  // Divide (not multiply by the reciprocal) as llama2.c does.
  const float norm = std::sqrt(float(head_dim));
  for (int h = 0; h < heads; ++h, q += head_dim, out += head_dim) {
    for (int p = 0; p < n_pos; ++p) {
      const float* kp = k + int64_t(p) * kv_stride;
      scores[p] = dot_product(q, kp, head_dim) / norm;
    }
    if (cap > 0.0f) softcap(scores, n_pos, cap);
    softmax_ref(scores, n_pos);
    for (int i = 0; i < head_dim; ++i) out[i] = 0.0f;
    for (int p = 0; p < n_pos; ++p) {
      const float* vp = v + int64_t(p) * kv_stride;
      const float a = scores[p];
      for (int i = 0; i < head_dim; ++i) out[i] += a * vp[i];
    }
  }
}

}  // namespace

void attention_group_ref(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                         int head_dim, int kv_stride, float* scores) {
  attend_ref(out, q, heads, k, v, n_pos, head_dim, kv_stride, scores, 0.0f);
}

void attention_group_capped(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                            int head_dim, int kv_stride, float* scores, float cap) {
  attend_ref(out, q, heads, k, v, n_pos, head_dim, kv_stride, scores, cap);
}

#ifdef __wasm_simd128__
void softmax(float* x, int n) { softmax__wasmsimd(x, n); }
void swiglu(float* gate, const float* up, int n) { swiglu__wasmsimd(gate, up, n); }
float exp_shifted(float* x, int n, float shift) { return exp_shifted__wasmsimd(x, n, shift); }
void attention_group(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                     int head_dim, int kv_stride, float* scores) {
  if (head_dim % 4 == 0) {
    attention_group__wasmsimd(out, q, heads, k, v, n_pos, head_dim, kv_stride, scores);
  } else {
    attention_group_ref(out, q, heads, k, v, n_pos, head_dim, kv_stride, scores);
  }
}
#else
void softmax(float* x, int n) { softmax_ref(x, n); }
void swiglu(float* gate, const float* up, int n) { swiglu_ref(gate, up, n); }
float exp_shifted(float* x, int n, float shift) { return exp_shifted_ref(x, n, shift); }
void attention_group(float* out, const float* q, int heads, const float* k, const float* v, int n_pos,
                     int head_dim, int kv_stride, float* scores) {
  attention_group_ref(out, q, heads, k, v, n_pos, head_dim, kv_stride, scores);
}
#endif

}  // namespace nibble
