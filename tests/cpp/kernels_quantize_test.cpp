// Activation quantization f32 -> Q8_0 (W4A8) and -> signed 4-bit (W4A4):
// every tier gives the reference's bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/config.h"
#include "kernels/microkernels.h"
#include "support/kernel_test_util.h"

namespace nibble {
namespace {

using namespace kerneltest;

using QuantizeRef = void (*)(const float*, int64_t, BlockQ8_0*, int32_t*);

// The quantizer a tier holds in `tier_fn` against `ref_fn`; q within [lo, hi].
void expect_same_as_ref(const std::vector<float>& x, const std::string& what, QuantizeRef ref_fn = q8_0_quantize_ref,
                        QuantizeQ8Fn KernelConfig::*tier_fn = &KernelConfig::quantize_q8, int lo = -128, int hi = 127) {
  const int64_t K = int64_t(x.size()), nb = K / kQK;
  std::vector<BlockQ8_0> ref(static_cast<size_t>(nb));
  std::vector<int32_t> ref_sums(static_cast<size_t>(nb));
  ref_fn(x.data(), K, ref.data(), ref_sums.data());
  for (const BlockQ8_0& b : ref)
    for (int j = 0; j < kQK; ++j) ASSERT_TRUE(b.qs[j] >= lo && b.qs[j] <= hi) << what << ": " << int(b.qs[j]);
  for (const KernelConfig* c : tiers()) {
    std::vector<int8_t> qs(static_cast<size_t>(K));
    std::vector<float> d(static_cast<size_t>(nb));
    std::vector<int32_t> sums(static_cast<size_t>(nb));
    (c->*tier_fn)(x.data(), K, qs.data(), d.data(), sums.data());
    for (int64_t b = 0; b < nb; ++b) {
      ASSERT_EQ(f32_bits(d[b]), f32_bits(fp16_to_fp32(ref[b].d)))
          << c->name << " " << what << " K=" << K << " block " << b << ": expected d " << fp16_to_fp32(ref[b].d)
          << " got " << d[b];
      ASSERT_EQ(sums[b], ref_sums[b]) << c->name << " " << what << " K=" << K << " block " << b;
      for (int j = 0; j < kQK; ++j)
        ASSERT_EQ(int(qs[b * kQK + j]), int(ref[b].qs[j]))
            << c->name << " " << what << " K=" << K << " index " << b * kQK + j << " x=" << x[b * kQK + j];
    }
  }
}

TEST(KernelsQuantize, RandomRowsMatchReference) {
  Rng rng(21);
  for (int64_t K : {32, 64, 96, 4096}) expect_same_as_ref(random_activations(rng, K), "random");
}

TEST(KernelsQuantize, TiesRoundToEven) {
  // amax = 127 gives d = 1, so x·id = x and halves are exact ties.
  std::vector<float> x(kQK);
  for (int j = 0; j < kQK; ++j) x[j] = float(j) - 15.5f;  // −15.5 .. 15.5
  x[0] = 127.0f;
  expect_same_as_ref(x, "ties");
  std::vector<BlockQ8_0> b(1);
  int32_t sum;
  q8_0_quantize_ref(x.data(), kQK, b.data(), &sum);
  EXPECT_EQ(fp16_to_fp32(b[0].d), 1.0f);
  EXPECT_EQ(b[0].qs[1], -14);  // −14.5 -> −14
  EXPECT_EQ(b[0].qs[2], -14);  // −13.5 -> −14
  EXPECT_EQ(b[0].qs[16], 0);   // 0.5 -> 0
  EXPECT_EQ(b[0].qs[17], 2);   // 1.5 -> 2
}

TEST(KernelsQuantize, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(6 * kQK, 0.0f);  // block 0: all zeros
  for (int j = 0; j < kQK; ++j) {
    x[kQK + j] = j == 3 ? inf : 1.0f;                // an infinity
    x[2 * kQK + j] = j == 5 ? nan : -2.0f;           // a NaN
    x[3 * kQK + j] = 1e-40f * float(j + 1);          // subnormals
    x[4 * kQK + j] = 60000.0f * (j % 2 ? 1 : -1);    // large
    x[5 * kQK + j] = -3.0f;                          // constant
  }
  expect_same_as_ref(x, "special");
}

// Blocks whose step amax / 127 is t (exactly when t has at most 17
// significant bits): fp16 ties (t halfway between two fp16 values, the one
// below odd or even) and near-ties, in the normal and subnormal fp16
// ranges, around the smallest normal and the 65520 overflow edge, and
// random scales; rows of 1 to 7 blocks too (a SIMD tier that works four
// blocks at a time has a short last group).
TEST(KernelsQuantize, ScaleRoundingEdges) {
  Rng rng(22);
  const auto uniform = [&](float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); };
  std::vector<float> steps;
  for (int e = -28; e <= 16; ++e)
    for (uint32_t low : {0x1000u, 0x3000u, 0x0fffu, 0x1001u, 0x0u}) {
      // 10 mantissa bits kept, then `low` in the 13 rounded away.
      const uint32_t mantissa = ((uint32_t(e * 37) & 0x3ffu) << 13) | low;
      const float t = std::ldexp(1.0f + float(mantissa) / float(1 << 23), e);
      steps.push_back(t);
    }
  for (float t : {65504.0f, 65519.0f, 65520.0f, 65536.0f, 6.1035156e-05f, 6.1e-05f, 5.96e-08f, 2.98e-08f, 2.9802322e-08f})
    steps.push_back(t);
  for (int i = 0; i < 64; ++i) steps.push_back(std::ldexp(uniform(1.0f, 2.0f), int(uniform(-30.0f, 18.0f))));
  std::vector<float> x;
  for (float t : steps) {
    const size_t at = x.size();
    for (int j = 0; j < kQK; ++j) x.push_back(uniform(-1.0f, 1.0f) * 120.0f * t);
    x[at + size_t(t > 1.0f ? 7 : 21)] = (t > 0.01f ? -127.0f : 127.0f) * t;
  }
  expect_same_as_ref(x, "scale edges");
  for (int64_t blocks : {1, 2, 3, 5, 6, 7}) {
    const std::vector<float> part(x.begin(), x.begin() + blocks * kQK);
    expect_same_as_ref(part, "scale edges, " + std::to_string(blocks) + " blocks");
  }
}

TEST(KernelsQuantize, SignedFourBitTiersMatchReference) {
  const auto i4 = [](const std::vector<float>& x, const std::string& what) {
    expect_same_as_ref(x, what, i4_quantize_ref, &KernelConfig::quantize_i4, -8, 7);
  };
  Rng rng(41);
  for (int64_t K : {32, 96, 1024}) i4(random_activations(rng, K), "random");
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(4 * kQK, 0.0f);  // block 0: zeros
  for (int j = 0; j < kQK; ++j) {
    x[kQK + j] = j == 3 ? inf : 1.0f;
    x[2 * kQK + j] = j == 5 ? nan : -2.0f;
    x[3 * kQK + j] = 7.0f - float(j) * 0.5f;  // amax 8.5: steps of 8.5/7, ties, −8
  }
  i4(x, "special");
  // The step's sign puts the largest magnitude at the negative end: a
  // positive one (block 0), a negative one (block 1), a tie of +a and −a
  // (block 2, counted as negative), a random block flipped (block 3).
  std::vector<float> signs = random_activations(rng, 4 * kQK);
  for (int j = 0; j < kQK; ++j) {
    signs[j] = 0.25f * float(j % 29) - 3.0f;  // −3 .. 4
    signs[kQK + j] = -signs[j];
    signs[2 * kQK + j] = j == 0 ? 5.0f : j == 9 ? -5.0f : 0.1f * float(j);
    signs[3 * kQK + j] = -signs[3 * kQK + j];
  }
  i4(signs, "signs");
  std::vector<BlockQ8_0> b(4);
  std::vector<int32_t> sums(4);
  i4_quantize_ref(signs.data(), 4 * kQK, b.data(), sums.data());
  const int largest[] = {28, kQK + 28, 2 * kQK + 9};
  for (int k = 0; k < 3; ++k) {
    const int block = largest[k] / kQK;
    EXPECT_EQ(fp16_to_fp32(b[size_t(block)].d) < 0.0f, signs[size_t(largest[k])] > 0.0f) << "block " << block;
    EXPECT_LE(b[size_t(block)].qs[largest[k] % kQK], -7) << "block " << block;
  }
}

}  // namespace
}  // namespace nibble
