// The f32 operators against their definitions: the formulas evaluated in
// double precision here, from the same float inputs, over awkward sizes
// (tails of 1..3 values, head sizes that are not multiples of 4, one
// position). Every build checks the `_ref` loops; the wasm SIMD builds also
// check the public functions, which run the SIMD tier there (natively the
// public functions are the `_ref` loops themselves, so they are not checked
// twice).
//
// Bounds (ε = FLT_EPSILON): softmax output i is within
// (|x_i − max| + n + 4)·ε relative (x_i − max rounded once in float, the sum
// of n terms, exp and the division within a few ulp; the SIMD exp within 2
// ulp), or below 1e-25 (the SIMD tier flushes weights under e^−60 to zero).
// SwiGLU within 8ε relative (exp, two divisions, two products), or below
// 1e-30 (exp(100) overflows in float: silu ≈ 0). An attention output is a
// convex combination of value rows: within 1e-5 · max|v| (the float dot
// products move each score by ~1e-6 relative, the softmax weights as much;
// measured: up to 1.0e-6 = 3.4e-7 · max|v|, both tiers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ops/ops.h"

namespace nibble {
namespace {

using Rng = std::mt19937;

uint32_t f32_bits_of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

std::vector<float> uniform(Rng& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// The tiers of an operator this build has, each with the name it is reported by.
template <typename Fn>
struct Tier {
  const char* name;
  Fn fn;
};

template <typename Fn>
std::vector<Tier<Fn>> tiers(const char* ref_name, Fn ref, const char* simd_name, Fn simd) {
  std::vector<Tier<Fn>> out = {{ref_name, ref}};
#ifdef __wasm_simd128__
  out.push_back({simd_name, simd});
#endif
  return out;
}

// |got[i] − want[i]| ≤ tol(i) for every i; !(x <= tol) so that a NaN fails.
void expect_within(const std::vector<double>& want, const std::vector<float>& got,
                   const std::function<double(size_t)>& tol, const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    const double diff = std::fabs(double(got[i]) - want[i]);
    ASSERT_TRUE(diff <= tol(i)) << what << ": index " << i << " expected " << want[i] << " got " << got[i]
                                << " (bound " << tol(i) << ")";
  }
}

std::vector<double> softmax_definition(const std::vector<float>& x) {
  double max = x[0];
  for (float v : x) max = std::max(max, double(v));
  std::vector<double> out(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += out[i] = std::exp(double(x[i]) - max);
  for (double& v : out) v /= sum;
  return out;
}

TEST(Ops, SoftmaxMatchesDefinition) {
  for (const auto& tier : tiers("softmax_ref", softmax_ref, "softmax (SIMD tier)", softmax)) {
    Rng rng(1);
    for (int n : {1, 2, 3, 4, 5, 7, 8, 31, 100, 257}) {
      for (float spread : {1.0f, 20.0f, 200.0f}) {
        const std::vector<float> x = uniform(rng, size_t(n), -spread, spread);
        const std::vector<double> want = softmax_definition(x);
        const float max = *std::max_element(x.begin(), x.end());
        std::vector<float> got = x;
        tier.fn(got.data(), n);
        expect_within(
            want, got,
            [&](size_t i) { return want[i] * (std::fabs(double(x[i]) - max) + n + 4) * FLT_EPSILON + 1e-25; },
            std::string(tier.name) + " n = " + std::to_string(n) + " spread " + std::to_string(spread));
        if (HasFailure()) return;
      }
    }
  }
}

TEST(Ops, SwigluMatchesDefinition) {
  for (const auto& tier : tiers("swiglu_ref", swiglu_ref, "swiglu (SIMD tier)", swiglu)) {
    Rng rng(2);
    for (int n : {1, 2, 3, 4, 5, 7, 64, 1001, 1536}) {
      std::vector<float> gate = uniform(rng, size_t(n), -30.0f, 30.0f), up = uniform(rng, size_t(n), -2.0f, 2.0f);
      gate[0] = 0.0f;
      if (n > 1) gate[1] = -100.0f;  // exp(100) overflows in float: silu still ~0
      if (n > 2) gate[2] = 100.0f;
      std::vector<double> want(static_cast<size_t>(n));
      for (size_t i = 0; i < want.size(); ++i) want[i] = gate[i] / (1.0 + std::exp(-double(gate[i]))) * up[i];
      std::vector<float> got = gate;
      tier.fn(got.data(), up.data(), n);
      expect_within(
          want, got, [&](size_t i) { return 8 * FLT_EPSILON * std::fabs(want[i]) + 1e-30; },
          std::string(tier.name) + " n = " + std::to_string(n));
      if (HasFailure()) return;
    }
  }
}

// out[h] = Σ_p softmax_p(q_h·k_p / sqrt(head_dim)) · v_p, in double.
std::vector<double> attention_definition(const std::vector<float>& q, int heads, const float* k, const float* v,
                                         int n_pos, int head_dim, int kv_stride) {
  std::vector<double> out(q.size(), 0.0);
  for (int h = 0; h < heads; ++h) {
    std::vector<double> exact(static_cast<size_t>(n_pos));
    double max = -INFINITY;
    for (int p = 0; p < n_pos; ++p) {
      double dot = 0;
      for (int i = 0; i < head_dim; ++i) dot += double(q[size_t(h * head_dim + i)]) * k[p * kv_stride + i];
      exact[size_t(p)] = dot / std::sqrt(double(head_dim));
      max = std::max(max, exact[size_t(p)]);
    }
    double sum = 0;
    for (double& s : exact) sum += s = std::exp(s - max);
    for (int p = 0; p < n_pos; ++p)
      for (int i = 0; i < head_dim; ++i) out[size_t(h * head_dim + i)] += exact[size_t(p)] / sum * v[p * kv_stride + i];
  }
  return out;
}

TEST(Ops, AttentionGroupMatchesDefinition) {
  for (const auto& tier : tiers("attention_group_ref", attention_group_ref, "attention_group (SIMD tier)", attention_group)) {
    Rng rng(3);
    for (int head_dim : {4, 6, 8, 12, 36, 64, 80, 128}) {
      const int kv_stride = 3 * head_dim;  // three KV heads; the head under test is the second
      for (int heads : {1, 2, 3, 4, 7}) {
        for (int n_pos : {1, 2, 3, 4, 5, 63, 64, 65, 200}) {
          const std::vector<float> q = uniform(rng, size_t(heads) * head_dim, -2.0f, 2.0f);
          const std::vector<float> k = uniform(rng, size_t(n_pos) * kv_stride, -2.0f, 2.0f);
          const std::vector<float> v = uniform(rng, size_t(n_pos) * kv_stride, -3.0f, 3.0f);
          const std::vector<double> want =
              attention_definition(q, heads, k.data() + head_dim, v.data() + head_dim, n_pos, head_dim, kv_stride);
          std::vector<float> got(q.size(), NAN), scores(size_t(heads) * n_pos);
          tier.fn(got.data(), q.data(), heads, k.data() + head_dim, v.data() + head_dim, n_pos, head_dim, kv_stride,
                  scores.data());
          expect_within(want, got, [](size_t) { return 1e-5 * 3.0; },
                        std::string(tier.name) + " head_dim = " + std::to_string(head_dim) +
                            " heads = " + std::to_string(heads) + " n_pos = " + std::to_string(n_pos));
          if (HasFailure()) return;
        }
      }
    }
  }
}

// The tiled prompt attention against the one-token path it replaces for
// prompts (attention_group / attention_group_capped per token, over the
// positions the token sees), with query tiles that straddle the end of the
// prompt, key tiles that straddle the causal edge and the sliding window,
// and an earlier cache (first_pos > 0). Same bound as above: the sums run in
// another order.
TEST(Ops, AttentionPromptMatchesOneTokenPath) {
  Rng rng(5);
  for (int head_dim : {6, 64, 80, 128, 256}) {  // 64/80/128/256: the families' head dims
    for (int heads : {1, 3}) {
      for (int first_pos : {0, 3, 40}) {
        for (int n : {1, 5, 37, 71}) {
          for (int window : {0, 7, 45}) {
            for (float cap : {0.0f, 5.0f}) {
              const int positions = first_pos + n, q_stride = (heads + 1) * head_dim;
              const std::vector<float> q = uniform(rng, size_t(n) * q_stride, -2.0f, 2.0f);
              const std::vector<float> k = uniform(rng, size_t(positions) * head_dim, -2.0f, 2.0f);
              const std::vector<float> v = uniform(rng, size_t(positions) * head_dim, -3.0f, 3.0f);
              std::vector<float> got(size_t(n) * q_stride, NAN), want(got.size(), NAN), scores(size_t(heads) * positions);
              attention_prompt(got.data(), q_stride, q.data(), q_stride, heads, n, first_pos, k.data(), v.data(), head_dim,
                               window, cap);
              for (int t = 0; t < n; ++t) {
                const int end = first_pos + t + 1, start = window > 0 ? std::max(0, end - window) : 0;
                const size_t at = size_t(t) * q_stride;
                const float* ks = k.data() + size_t(start) * head_dim;
                const float* vs = v.data() + size_t(start) * head_dim;
                if (cap > 0.0f) {
                  attention_group_capped(want.data() + at, q.data() + at, heads, ks, vs, end - start, head_dim, head_dim,
                                         scores.data(), cap);
                } else {
                  attention_group(want.data() + at, q.data() + at, heads, ks, vs, end - start, head_dim, head_dim, scores.data());
                }
              }
              const std::string what = "head_dim = " + std::to_string(head_dim) + " heads = " + std::to_string(heads) +
                                       " first_pos = " + std::to_string(first_pos) + " n = " + std::to_string(n) +
                                       " window = " + std::to_string(window) + " cap = " + std::to_string(cap);
              for (int t = 0; t < n; ++t)
                for (int i = 0; i < heads * head_dim; ++i) {
                  const size_t at = size_t(t) * q_stride + i;
                  ASSERT_TRUE(std::fabs(got[at] - want[at]) <= 1e-5 * 3.0)
                      << what << ": token " << t << " value " << i << " expected " << want[at] << " got " << got[at];
                }
            }
          }
        }
      }
    }
  }
}

// What lets the model split prompt attention across threads: calls over
// runs of tokens that start at multiples of kPromptTileTokens, or over
// fewer heads, give bitwise the results of one call over everything (each
// row's sums run in one order, whatever tile or row it shares a pass with).
TEST(Ops, AttentionPromptSplitsAreBitwiseOneCall) {
  Rng rng(9);
  const int heads = 3, n = 37, first_pos = 5, positions = first_pos + n;
  for (int head_dim : {6, 64}) {
    for (int window : {0, 11}) {
      const int q_stride = heads * head_dim;
      const std::vector<float> q = uniform(rng, size_t(n) * q_stride, -2.0f, 2.0f);
      const std::vector<float> k = uniform(rng, size_t(positions) * head_dim, -2.0f, 2.0f);
      const std::vector<float> v = uniform(rng, size_t(positions) * head_dim, -3.0f, 3.0f);
      std::vector<float> whole(q.size(), NAN), by_tokens(q.size(), NAN), by_heads(q.size(), NAN);
      attention_prompt(whole.data(), q_stride, q.data(), q_stride, heads, n, first_pos, k.data(), v.data(), head_dim,
                       window, 0.0f);
      const int cuts[] = {0, kPromptTileTokens, 3 * kPromptTileTokens, n};
      for (int i = 0; i + 1 < 4; ++i) {
        const size_t at = size_t(cuts[i]) * q_stride;
        attention_prompt(by_tokens.data() + at, q_stride, q.data() + at, q_stride, heads, cuts[i + 1] - cuts[i],
                         first_pos + cuts[i], k.data(), v.data(), head_dim, window, 0.0f);
      }
      for (int h = 0; h < heads; ++h)
        attention_prompt(by_heads.data() + h * head_dim, q_stride, q.data() + h * head_dim, q_stride, 1, n, first_pos,
                         k.data(), v.data(), head_dim, window, 0.0f);
      for (size_t i = 0; i < whole.size(); ++i) {
        ASSERT_EQ(whole[i], by_tokens[i]) << "head_dim " << head_dim << " window " << window << " value " << i;
        ASSERT_EQ(whole[i], by_heads[i]) << "head_dim " << head_dim << " window " << window << " value " << i;
      }
    }
  }
}

// rope() with rope_table() rotates each pair by pos · theta^(−2i/rope_dim).
TEST(Ops, RopeRotatesPairs) {
  const int head_dim = 8, rope_dim = 6, n_heads = 2, pos = 5;
  const float theta = 10000.0f;
  std::vector<float> cos_sin(rope_dim), vec(n_heads * head_dim);
  for (size_t i = 0; i < vec.size(); ++i) vec[i] = float(i + 1);
  const std::vector<float> before = vec;
  rope_table(cos_sin.data(), rope_dim, pos, theta, nullptr);
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
      const double angle = pos * std::pow(double(theta), -double(i) / rope_dim);
      EXPECT_NEAR(a[0], b[0] * std::cos(angle) - b[1] * std::sin(angle), 1e-4) << "head " << h << " pair " << i;
      EXPECT_NEAR(a[1], b[0] * std::sin(angle) + b[1] * std::cos(angle), 1e-4) << "head " << h << " pair " << i;
    }
}

// rope() (the SIMD tier: two pairs at a time, a last odd pair alone) is
// bitwise rope_ref, over head and rope sizes with and without a part left
// unrotated, odd pair counts, head sizes not a multiple of 4 and one head.
TEST(Ops, RopeTiersAreBitwiseRef) {
  Rng rng(14);
  struct Shape { int n_heads, head_dim, rope_dim; };
  for (const Shape sh : {Shape{9, 64, 64}, Shape{3, 64, 32}, Shape{1, 8, 4}, Shape{2, 12, 12}, Shape{4, 8, 6}, Shape{5, 6, 6}}) {
    for (int pos : {0, 1, 37, 4095}) {
      std::vector<float> cos_sin(size_t(sh.rope_dim));
      rope_table(cos_sin.data(), sh.rope_dim, pos, 10000.0f, nullptr);
      const std::vector<float> vec = uniform(rng, size_t(sh.n_heads * sh.head_dim), -3.0f, 3.0f);
      std::vector<float> want = vec, got = vec;
      rope_ref(want.data(), sh.n_heads, sh.head_dim, sh.rope_dim, cos_sin.data());
      rope(got.data(), sh.n_heads, sh.head_dim, sh.rope_dim, cos_sin.data());
      for (size_t i = 0; i < vec.size(); ++i)
        ASSERT_EQ(f32_bits_of(want[i]), f32_bits_of(got[i]))
            << "heads " << sh.n_heads << " head_dim " << sh.head_dim << " rope_dim " << sh.rope_dim << " pos " << pos << " index " << i;
    }
  }
}

// rope_table's cos and sin (its own evaluation, not libm's float functions)
// are the double cos and sin of the float angle rounded to float, to within
// an ulp, from position 0 to 2^20; an angle that is not finite (a zero RoPE
// factor) gives NaN, as cosf would, rather than a trap.
TEST(Ops, RopeTableCosSinOfTheFloatAngle) {
  const int rope_dim = 128;
  const float theta = 10000.0f;
  std::vector<float> cos_sin(rope_dim);
  const auto ulp = [](float v) { return std::nextafter(std::fabs(v), INFINITY) - std::fabs(v); };
  for (int pos : {0, 1, 7, 511, 4097, 65535, 1 << 20}) {
    rope_table(cos_sin.data(), rope_dim, pos, theta, nullptr);
    for (int i = 0; i < rope_dim; i += 2) {
      const float angle = float(pos) * (1.0f / std::pow(theta, float(i) / float(rope_dim)));
      const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
      EXPECT_LE(std::fabs(cos_sin[size_t(i)] - c), ulp(c)) << "pos " << pos << " pair " << i;
      EXPECT_LE(std::fabs(cos_sin[size_t(i) + 1] - s), ulp(s)) << "pos " << pos << " pair " << i;
    }
  }
  std::vector<float> factors(rope_dim / 2, 1.0f);
  factors[3] = 0.0f;
  rope_table(cos_sin.data(), rope_dim, 5, theta, factors.data());
  EXPECT_TRUE(std::isnan(cos_sin[6]) && std::isnan(cos_sin[7]));
  EXPECT_FALSE(std::isnan(cos_sin[4]));
}

// rope_half_split() rotates (i, i + rope_dim/2) by pos · theta^(−2i/rope_dim)
// / factors[i], leaving the values past rope_dim alone.
TEST(Ops, RopeHalfSplitWithFrequencyFactors) {
  const int head_dim = 10, rope_dim = 8, n_heads = 2, pos = 7;
  const float theta = 500000.0f;
  const float factors[rope_dim / 2] = {1.0f, 1.5f, 4.0f, 32.0f};
  std::vector<float> cos_sin(rope_dim), vec(n_heads * head_dim);
  for (size_t i = 0; i < vec.size(); ++i) vec[i] = float(i) * 0.25f - 1.0f;
  const std::vector<float> before = vec;
  rope_table(cos_sin.data(), rope_dim, pos, theta, factors);
  rope_half_split(vec.data(), n_heads, head_dim, rope_dim, cos_sin.data());
  for (int h = 0; h < n_heads; ++h) {
    const float* b = &before[size_t(h * head_dim)];
    const float* a = &vec[size_t(h * head_dim)];
    for (int i = 0; i < rope_dim / 2; ++i) {
      const double angle = pos * std::pow(double(theta), -2.0 * i / rope_dim) / factors[i];
      const int j = i + rope_dim / 2;
      EXPECT_NEAR(a[i], b[i] * std::cos(angle) - b[j] * std::sin(angle), 1e-4) << "head " << h << " pair " << i;
      EXPECT_NEAR(a[j], b[i] * std::sin(angle) + b[j] * std::cos(angle), 1e-4) << "head " << h << " pair " << i;
    }
    for (int i = rope_dim; i < head_dim; ++i) EXPECT_EQ(a[i], b[i]);
  }
}

TEST(Ops, GegluAndSoftcap) {
  std::vector<float> gate = {-3.0f, -0.5f, 0.0f, 0.7f, 2.0f}, up = {2.0f, -1.0f, 5.0f, 1.0f, 0.5f};
  std::vector<float> x = gate;
  geglu(gate.data(), up.data(), int(gate.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double g = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));  // exact GELU, within 1e-3 of tanh's
    EXPECT_NEAR(gate[i], g * up[i], 2e-3) << i;
  }
  std::vector<float> s = {-100.0f, -1.0f, 0.0f, 3.0f, 1e9f};
  softcap(s.data(), int(s.size()), 5.0f);
  for (float v : s) EXPECT_LE(std::fabs(v), 5.0f);
  EXPECT_NEAR(s[1], 5.0 * std::tanh(-0.2), 1e-6);
  EXPECT_EQ(s[2], 0.0f);
  EXPECT_NEAR(s[4], 5.0f, 1e-6);
}

}  // namespace
}  // namespace nibble
