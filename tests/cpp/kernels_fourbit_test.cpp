// W4A4, the 4-bit activations (its quantizer: kernels_quantize_test.cpp): matmul(..., kW4A4) of every type with integer
// kernels is BITWISE the reference (i4_quantize_ref, then the type's
// *_q8_0_gemm_ref) over awkward shapes, GEMV (M = 1) and GEMM; the
// Hadamard rotation of rotated weights (quant/hadamard.h) leaves products
// unchanged up to float rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/config.h"
#include "kernels/matmul.h"
#include "kernels/microkernels.h"
#include "kernels/packed_weights.h"
#include "quant/hadamard.h"
#include "support/kernel_test_util.h"

namespace nibble {
namespace {

using namespace kerneltest;

// The reference W4A4 product of N rows of blocks: each activation row
// quantized by i4_quantize_ref, then the type's W4A8 reference.
template <typename Block>
std::vector<float> reference(void (*ref_q8)(const Block*, int64_t, int64_t, const BlockQ8_0*, int64_t, float*),
                             const std::vector<Block>& w, const std::vector<float>& x, int64_t M, int64_t N,
                             int64_t K) {
  const int64_t nb = K / kQK;
  std::vector<BlockQ8_0> q(size_t(M * nb));
  std::vector<int32_t> sums(size_t(M * nb));
  for (int64_t m = 0; m < M; ++m) i4_quantize_ref(x.data() + m * K, K, q.data() + m * nb, sums.data() + m * nb);
  std::vector<float> y(size_t(M * N));
  ref_q8(w.data(), N, K, q.data(), M, y.data());
  return y;
}

template <typename Block>
void check_type(TensorType type, std::vector<Block> (*generate)(Rng&, int64_t, int64_t),
                void (*ref_q8)(const Block*, int64_t, int64_t, const BlockQ8_0*, int64_t, float*),
                std::initializer_list<int64_t> ks, uint32_t seed) {
  for (int64_t K : ks) {
    for (int64_t N : {1, 5, 17, 64}) {
      Rng rng(seed + uint32_t(K * 31 + N));
      const std::vector<Block> w = generate(rng, N, K);
      PackedWeights packed;
      ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size() * sizeof(Block), N, K, &packed).ok());
      for (int64_t M : {1, 3, 7, 13}) {
        const std::vector<float> x = random_activations(rng, M * K);
        const std::vector<float> want = reference(ref_q8, w, x, M, N, K);
        for (const KernelConfig* c : tiers()) {
          std::vector<float> y(size_t(M * N), std::nanf(""));
          ASSERT_TRUE(matmul_with(*c, packed, x.data(), M, y.data(), Precision::kW4A4).ok());
          for (size_t i = 0; i < y.size(); ++i)
            ASSERT_EQ(f32_bits(y[i]), f32_bits(want[i]))
                << c->name << " " << tensor_type_info(type)->name << " W4A4 " << shape_str(M, N, K) << " at m="
                << i / size_t(N) << " n=" << i % size_t(N) << ": expected " << want[i] << " got " << y[i];
        }
      }
    }
  }
}

// K-quant blocks come as bytes; view them as their block type.
template <typename Block, TensorType kType>
std::vector<Block> random_k(Rng& rng, int64_t N, int64_t K) {
  const std::vector<uint8_t> bytes = random_k_blocks(rng, kType, N, K);
  std::vector<Block> w(bytes.size() / sizeof(Block));
  std::memcpy(w.data(), bytes.data(), bytes.size());
  return w;
}

TEST(KernelsW4A4, EveryTypeAllTiersMatchReference) {
  check_type<BlockQ4_0>(TensorType::Q4_0, random_q4_0, q4_0_q8_0_gemm_ref, {32, 96, 288}, 1);
  check_type<BlockQ4_1>(TensorType::Q4_1, random_q4_1, q4_1_q8_0_gemm_ref, {32, 96}, 2);
  check_type<BlockQ5_0>(TensorType::Q5_0, random_blocks<BlockQ5_0>, q5_0_q8_0_gemm_ref, {32, 96}, 3);
  check_type<BlockQ5_1>(TensorType::Q5_1, random_blocks<BlockQ5_1>, q5_1_q8_0_gemm_ref, {32, 96}, 4);
  check_type<BlockIQ4_NL>(TensorType::IQ4_NL, random_blocks<BlockIQ4_NL>, iq4_nl_q8_0_gemm_ref, {32, 96}, 5);
  check_type<BlockQ8_0>(TensorType::Q8_0, random_blocks<BlockQ8_0>, q8_0_q8_0_gemm_ref, {32, 96}, 6);
  check_type<BlockQ4_K>(TensorType::Q4_K, random_k<BlockQ4_K, TensorType::Q4_K>, q4_k_q8_0_gemm_ref, {256}, 7);
  check_type<BlockQ5_K>(TensorType::Q5_K, random_k<BlockQ5_K, TensorType::Q5_K>, q5_k_q8_0_gemm_ref, {256}, 8);
  check_type<BlockQ6_K>(TensorType::Q6_K, random_k<BlockQ6_K, TensorType::Q6_K>, q6_k_q8_0_gemm_ref, {256}, 9);
}

TEST(KernelsW4A4, HadamardIsOrthonormalAndItsOwnInverse) {
  Rng rng(3);
  const std::vector<float> x = random_activations(rng, 96);
  std::vector<float> h = x;
  hadamard_rotate_blocks(h.data(), 96);
  for (int b = 0; b < 3; ++b) {
    double n0 = 0, n1 = 0;
    for (int j = 0; j < kQK; ++j) {
      n0 += double(x[b * kQK + j]) * x[b * kQK + j];
      n1 += double(h[b * kQK + j]) * h[b * kQK + j];
    }
    EXPECT_NEAR(n1, n0, 1e-5 * n0 + 1e-30) << "block " << b;
  }
  EXPECT_NE(h, x);
  hadamard_rotate_blocks(h.data(), 96);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(h[i], x[i], 1e-5f * (std::fabs(x[i]) + 1e-3f)) << i;
  // One basis vector spreads evenly over its block: ±1/√32 everywhere.
  std::vector<float> e(kQK, 0.0f);
  e[5] = 1.0f;
  hadamard_rotate_blocks(e.data(), kQK);
  for (float v : e) EXPECT_FLOAT_EQ(std::fabs(v), 1.0f / std::sqrt(32.0f));
}

// F32 weights stored as W·H, flagged rotated: matmul rotates x and gives W·x.
TEST(KernelsW4A4, RotatedWeightsGiveTheSameProduct) {
  const int64_t N = 5, K = 64, M = 3;
  Rng rng(9);
  const std::vector<float> w = random_activations(rng, N * K), x = random_activations(rng, M * K);
  std::vector<float> wh = w;
  for (int64_t r = 0; r < N; ++r) hadamard_rotate_blocks(wh.data() + r * K, K);
  PackedWeights plain, rotated;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::F32, w.data(), w.size() * 4, N, K, &plain).ok());
  ASSERT_TRUE(PackedWeights::Pack(TensorType::F32, wh.data(), wh.size() * 4, N, K, &rotated).ok());
  rotated.set_rotated_input(true);
  std::vector<float> want(size_t(M * N)), got(size_t(M * N)), unrotated(size_t(M * N));
  ASSERT_TRUE(matmul(plain, x.data(), M, want.data(), Precision::kW4A32).ok());
  ASSERT_TRUE(matmul(rotated, x.data(), M, got.data(), Precision::kW4A32).ok());
  rotated.set_rotated_input(false);
  ASSERT_TRUE(matmul(rotated, x.data(), M, unrotated.data(), Precision::kW4A32).ok());
  double scale = 0, off = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-4f * (std::fabs(want[i]) + 1.0f)) << i;
    scale = std::max(scale, double(std::fabs(want[i])));
    off = std::max(off, double(std::fabs(unrotated[i] - want[i])));
  }
  EXPECT_GT(off, 1e-3 * scale);  // without the flag the product is another one
  // Matrices sharing one input must agree on the rotation.
  const MatmulTarget mixed[] = {{&plain, want.data()}, {&rotated, got.data()}};
  rotated.set_rotated_input(true);
  EXPECT_FALSE(matmul_shared_input(mixed, 2, x.data(), 1, Precision::kW4A4).ok());
}

TEST(KernelsW4A4, PrecisionCodes) {
  Precision p;
  ASSERT_TRUE(precision_from_code(2, &p).ok());
  EXPECT_EQ(p, Precision::kW4A4);
  ASSERT_TRUE(precision_from_code(0, &p).ok());
  EXPECT_EQ(p, Precision::kW4A8);
  EXPECT_FALSE(precision_from_code(3, &p).ok());
  EXPECT_FALSE(precision_from_code(-1, &p).ok());
}

}  // namespace
}  // namespace nibble
