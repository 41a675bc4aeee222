// The f32 operators of this build against their _ref twins over awkward
// sizes (tails of 1..3 values, head sizes that are not multiples of 4, one
// position). In the wasm SIMD build the public functions run the SIMD tier,
// which sums in another order and computes exp by a polynomial; natively
// they are the reference itself.
//
// Bounds: softmax outputs are within 1e-6 relative of the reference (a few
// ulp from exp and the sum), or below 1e-25 (flushed); SwiGLU likewise; an attention output is a convex
// combination of value rows, so it is within 1e-5 · max|v| (the score sums
// in another order move the softmax weights by ~1e-6 relative).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"

namespace nibble {
namespace {

using Rng = std::mt19937;

std::vector<float> uniform(Rng& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& want, const std::vector<float>& got, float rel, float abs,
                  const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    const float tol = rel * std::fabs(want[i]) + abs;
    ASSERT_LE(std::fabs(got[i] - want[i]), tol) << what << ": index " << i << " expected " << want[i] << " got " << got[i];
  }
}

TEST(Ops, SoftmaxMatchesReference) {
  Rng rng(1);
  for (int n : {1, 2, 3, 4, 5, 7, 8, 31, 100, 257}) {
    for (float spread : {1.0f, 20.0f, 200.0f}) {
      std::vector<float> want = uniform(rng, size_t(n), -spread, spread), got = want;
      softmax_ref(want.data(), n);
      softmax(got.data(), n);
      // 1e-25: the SIMD exp flushes weights below e^-60 (~1e-26) to zero.
      expect_close(want, got, 1e-6f, 1e-25f, "softmax n = " + std::to_string(n) + " spread " + std::to_string(spread));
      float sum = 0.0f;
      for (float x : got) sum += x;
      EXPECT_NEAR(sum, 1.0f, 1e-5f) << "softmax n = " << n;
    }
  }
}

TEST(Ops, SwigluMatchesReference) {
  Rng rng(2);
  for (int n : {1, 2, 3, 4, 5, 7, 64, 1001, 1536}) {
    std::vector<float> gate = uniform(rng, size_t(n), -30.0f, 30.0f), up = uniform(rng, size_t(n), -2.0f, 2.0f);
    gate[0] = 0.0f;
    if (n > 1) gate[1] = -100.0f;  // exp(100): clamped, silu still ~0
    if (n > 2) gate[2] = 100.0f;
    std::vector<float> want = gate, got = gate;
    swiglu_ref(want.data(), up.data(), n);
    swiglu(got.data(), up.data(), n);
    expect_close(want, got, 1e-6f, 1e-30f, "swiglu n = " + std::to_string(n));
  }
}

TEST(Ops, AttentionGroupMatchesReference) {
  Rng rng(3);
  for (int head_dim : {4, 6, 8, 12, 36, 64, 80, 128}) {
    const int kv_stride = 3 * head_dim;  // three KV heads; the head under test is the second
    for (int heads : {1, 2, 3, 4, 7}) {
      for (int n_pos : {1, 2, 3, 4, 5, 63, 64, 65, 200}) {
        const std::vector<float> q = uniform(rng, size_t(heads) * head_dim, -2.0f, 2.0f);
        const std::vector<float> k = uniform(rng, size_t(n_pos) * kv_stride, -2.0f, 2.0f);
        const std::vector<float> v = uniform(rng, size_t(n_pos) * kv_stride, -3.0f, 3.0f);
        std::vector<float> want(q.size()), got(q.size(), NAN), scores(size_t(heads) * n_pos);
        attention_group_ref(want.data(), q.data(), heads, k.data() + head_dim, v.data() + head_dim, n_pos, head_dim,
                            kv_stride, scores.data());
        attention_group(got.data(), q.data(), heads, k.data() + head_dim, v.data() + head_dim, n_pos, head_dim,
                        kv_stride, scores.data());
        expect_close(want, got, 0.0f, 3e-5f,
                     "attention head_dim = " + std::to_string(head_dim) + " heads = " + std::to_string(heads) +
                         " n_pos = " + std::to_string(n_pos));
      }
    }
  }
}

// rope() with rope_table() rotates each pair by pos · theta^(−2i/head_dim).
TEST(Ops, RopeRotatesPairs) {
  const int head_dim = 8, rope_dim = 6, n_heads = 2, pos = 5;
  const float theta = 10000.0f;
  std::vector<float> cos_sin(rope_dim), vec(n_heads * head_dim);
  for (size_t i = 0; i < vec.size(); ++i) vec[i] = float(i + 1);
  const std::vector<float> before = vec;
  rope_table(cos_sin.data(), head_dim, rope_dim, pos, theta);
  rope(vec.data(), n_heads, head_dim, rope_dim, cos_sin.data());
  for (int h = 0; h < n_heads; ++h)
    for (int i = 0; i < head_dim; i += 2) {
      const float* b = &before[size_t(h * head_dim + i)];
      const float* a = &vec[size_t(h * head_dim + i)];
      if (i >= rope_dim) {
        EXPECT_EQ(a[0], b[0]);
        EXPECT_EQ(a[1], b[1]);
        continue;
      }
      const double angle = pos * std::pow(double(theta), -double(i) / head_dim);
      EXPECT_NEAR(a[0], b[0] * std::cos(angle) - b[1] * std::sin(angle), 1e-4) << "head " << h << " pair " << i;
      EXPECT_NEAR(a[1], b[0] * std::sin(angle) + b[1] * std::cos(angle), 1e-4) << "head " << h << " pair " << i;
    }
}

}  // namespace
}  // namespace nibble
