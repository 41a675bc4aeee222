// Every packed matmul kernel of every tier in this build against its _ref
// twin, over seeded random shapes; and matmul() itself (shared inputs, errors;
// with threads: thread_pool_test.cpp).
//
// W4A8: the packed tiers do the _ref arithmetic in the same order (integer
// block dot, then one float formula per block pair, blocks summed in order),
// so outputs must be BITWISE equal to the reference, which also checks every
// integer block dot exactly.
//
// W4A32 and F32 sum floats in another order than the double-precision
// reference. Bound used, with u = 2^-24 and T = Σ_k |terms| (for Q4_0
// |d·(q−8)·x|, for Q4_1 |d·q·x| + |m·x|, for F32 |w·x|):
//     |got − ref| ≤ (K/32 + 64)·u·T  (Q4)      (K + 8)·u·T  (F32)
// (a sum of n float terms is off by at most (n−1)·u·Σ|terms|; a Q4 output is
// a 32-term block sum, a scale multiply and a K/32-term sum of blocks; the
// F32 one a K-term sum), plus u·|ref| for rounding the reference to float.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <vector>

#include "kernels/config.h"
#include "kernels/dequantize_row.h"
#include "kernels/k_panel.h"
#include "kernels/matmul.h"
#include "kernels/microkernels.h"
#include "kernels/packed_weights.h"
#include "kernels/ref_util.h"
#include "support/kernel_test_util.h"

namespace nibble {
namespace {

using namespace kerneltest;

constexpr float kU = 1.0f / 16777216.0f;  // 2^-24

const int64_t kKs[] = {32, 64, 96, 4096};
// The relaxed tier's Q4 GEMM: pairs of groups (17, 64, 1000), a group unpaired in the
// layout (4) and one paired with a partial group (5); 1000's halves (125 groups each)
// split a pair, so a tile ends and the next starts with half of one. The
// relaxed tier's Q8_0 GEMV takes four groups at a time: 47's halves are 4 + 1
// and 4 + 2 groups, then a partial one.
const int64_t kNs[] = {1, 3, 4, 5, 17, 47, 64, 1000};
const int64_t kMs[] = {1, 2, 3, 7, 13, 64};  // 13: halves of 6 and 7 rows, GEMM tiles plus leftover rows
// Long rows with many outputs add no new tile or block case, only time (the
// ASan build runs this test at -O1): shapes with K·N above this are skipped.
constexpr int64_t kMaxKN = 300000;
// Nor do many activation rows on long rows: a row's sums do not depend on M,
// which only moves the row tiling (that M = 64 still meets with N = 1000 at
// K = 32 and with N ≤ 5 at K = 4096). Products above M·N·K = 4096·64·13 are
// skipped: the tiers then run 40 % of the multiply-adds (the K-quants 50 %).
constexpr int64_t kMaxMNK = 4096 * 64 * 13;

// Activations X[M,K] quantized by the reference, in both layouts.
struct QuantizedX {
  std::vector<BlockQ8_0> blocks;  // [M, K/32] standard
  std::vector<int8_t> qs;         // [M, K]
  std::vector<float> d;           // [M, K/32]
  std::vector<int32_t> sums;      // [M, K/32]
  Q8Activations view(int64_t K) const { return {qs.data(), d.data(), sums.data(), K}; }
};

QuantizedX quantize_ref(const std::vector<float>& x, int64_t M, int64_t K) {
  const int64_t nb = K / kQK;
  QuantizedX q;
  q.blocks.resize(size_t(M * nb));
  q.sums.resize(size_t(M * nb));
  for (int64_t m = 0; m < M; ++m) q8_0_quantize_ref(x.data() + m * K, K, q.blocks.data() + m * nb, q.sums.data() + m * nb);
  for (const BlockQ8_0& b : q.blocks) {
    q.qs.insert(q.qs.end(), b.qs, b.qs + kQK);
    q.d.push_back(fp16_to_fp32(b.d));
  }
  return q;
}

std::vector<float> block_sums(const std::vector<float>& x) {
  std::vector<float> s(x.size() / kQK, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) s[i / kQK] += x[i];
  return s;
}

// T = Σ_k |terms| of each output (see the bound at the top).
float abs_terms(const BlockQ4_0& b, const float* x) {
  float t = 0;
  for (int j = 0; j < kQK; ++j) {
    const int q = j < 16 ? (b.qs[j] & 15) : (b.qs[j - 16] >> 4);
    t += std::fabs(fp16_to_fp32(b.d) * float(q - 8) * x[j]);
  }
  return t;
}
float abs_terms(const BlockQ4_1& b, const float* x) {
  float t = 0;
  for (int j = 0; j < kQK; ++j) {
    const int q = j < 16 ? (b.qs[j] & 15) : (b.qs[j - 16] >> 4);
    t += std::fabs(fp16_to_fp32(b.d) * float(q) * x[j]) + std::fabs(fp16_to_fp32(b.m) * x[j]);
  }
  return t;
}
float abs_terms(const BlockQ5_1& b, const float* x) {
  float t = 0;
  for (int j = 0; j < kQK; ++j)
    t += std::fabs(fp16_to_fp32(b.d) * float(ref::code(b, j)) * x[j]) + std::fabs(fp16_to_fp32(b.m) * x[j]);
  return t;
}
template <typename Block>  // Q5_0, IQ4_NL, Q8_0: |w·x|
float abs_terms(const Block& b, const float* x) {
  float t = 0;
  for (int j = 0; j < kQK; ++j) t += std::fabs(ref::weight(b, j) * x[j]);
  return t;
}
template <typename Block>
std::vector<float> tolerances(const std::vector<Block>& w, const std::vector<float>& x, int64_t M, int64_t N,
                              int64_t K, const std::vector<float>& ref) {
  const int64_t nb = K / kQK;
  std::vector<float> tol(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double t = 0;
      for (int64_t b = 0; b < nb; ++b) t += abs_terms(w[size_t(n * nb + b)], x.data() + m * K + b * kQK);
      tol[size_t(m * N + n)] = float((nb + 64) * kU * t) + kU * std::fabs(ref[size_t(m * N + n)]) + 1e-30f;
    }
  return tol;
}

void expect_bitwise(const std::vector<float>& want, const std::vector<float>& got, const std::string& what,
                    int64_t M, int64_t N, int64_t K) {
  int failures = 0;
  for (size_t i = 0; i < want.size() && failures < 5; ++i) {
    if (f32_bits(want[i]) != f32_bits(got[i])) {
      ADD_FAILURE() << what << " " << shape_str(M, N, K) << " at y[" << i / N << "," << i % N
                    << "]: expected " << want[i] << " got " << got[i] << " (bitwise)";
      ++failures;
    }
  }
}

void expect_near(const std::vector<float>& want, const std::vector<float>& got, const std::vector<float>& tol,
                 const std::string& what, int64_t M, int64_t N, int64_t K) {
  int failures = 0;
  for (size_t i = 0; i < want.size() && failures < 5; ++i) {
    if (!(std::fabs(want[i] - got[i]) <= tol[i])) {
      ADD_FAILURE() << what << " " << shape_str(M, N, K) << " at y[" << i / N << "," << i % N
                    << "]: expected " << want[i] << " got " << got[i] << " tolerance " << tol[i];
      ++failures;
    }
  }
}

// Runs a packed kernel over the whole output in up to four tiles: rows split
// at M/2 and columns at a group boundary near N/2 when N > 8 (checks tiles
// that start mid-matrix, as the thread pool makes them).
template <typename Weights, typename Act, typename Fn>
std::vector<float> run_kernel(Fn kernel, const Weights& w, const Act& x, int64_t M, int64_t N) {
  std::vector<float> y(size_t(M * N), std::nanf(""));
  const int64_t n_split = N > 8 ? (N / 2) / kPackRows * kPackRows : N;
  const int64_t m_split = M / 2;
  const int64_t row_ranges[2][2] = {{0, m_split}, {m_split, M}};
  for (const auto& rows : row_ranges) {
    const int64_t m0 = rows[0], m1 = rows[1];
    if (m0 == m1) continue;
    kernel(w, x, OutputTile{y.data(), N, m0, m1, 0, n_split});
    if (n_split < N) kernel(w, x, OutputTile{y.data(), N, m0, m1, n_split, N});
  }
  return y;
}

// Every tier's kernels of `type` (and matmul_with) against the references'
// outputs want8 (W4A8, bitwise) and want32 (W4A32, within tol).
void expect_tiers_match(TensorType type, const PackedWeights& packed, const std::vector<float>& x, const QuantizedX& q,
                        const std::vector<float>& want8, const std::vector<float>& want32, const std::vector<float>& tol,
                        int64_t M, int64_t N, int64_t K) {
  const PackedView view{packed.data(), N, K};
  const std::vector<float> sums = block_sums(x);
  const F32Activations xf{x.data(), sums.data(), K};
  for (const KernelConfig* c : tiers()) {
    const TypeKernels& k = *c->kernels_for(type);
    const std::string name = std::string(c->name) + " " + tensor_type_info(type)->name;
    expect_bitwise(want8, run_kernel(k.q8_gemv, view, q.view(K), M, N), name + " W4A8 gemv", M, N, K);
    expect_bitwise(want8, run_kernel(k.q8_gemm, view, q.view(K), M, N), name + " W4A8 gemm", M, N, K);
    expect_near(want32, run_kernel(k.f32_gemv, view, xf, M, N), tol, name + " W4A32 gemv", M, N, K);
    expect_near(want32, run_kernel(k.f32_gemm, view, xf, M, N), tol, name + " W4A32 gemm", M, N, K);
    // Through matmul_with (activation quantization included).
    std::vector<float> y(size_t(M * N));
    ASSERT_TRUE(matmul_with(*c, packed, x.data(), M, y.data(), Precision::kW4A8).ok());
    expect_bitwise(want8, y, name + " matmul W4A8", M, N, K);
    ASSERT_TRUE(matmul_with(*c, packed, x.data(), M, y.data(), Precision::kW4A32).ok());
    expect_near(want32, y, tol, name + " matmul W4A32", M, N, K);
  }
}

template <typename Block, typename Gen, typename RefQ8, typename RefF32>
void check_panel_type(TensorType type, Gen generate, RefQ8 ref_q8, RefF32 ref_f32, uint32_t seed) {
  for (int64_t K : kKs) {
    for (int64_t N : kNs) {
      if (K * N > kMaxKN) continue;
      Rng rng(seed + uint32_t(K * 7919 + N));
      const std::vector<Block> w = generate(rng, N, K);
      PackedWeights packed;
      ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size() * sizeof(Block), N, K, &packed).ok());
      const int64_t max_m = 64;
      const std::vector<float> x_all = random_activations(rng, max_m * K);
      for (int64_t M : kMs) {
        if (M * N * K > kMaxMNK) continue;
        const std::vector<float> x(x_all.begin(), x_all.begin() + M * K);
        const QuantizedX q = quantize_ref(x, M, K);
        std::vector<float> want8(size_t(M * N)), want32(size_t(M * N));
        ref_q8(w.data(), N, K, q.blocks.data(), M, want8.data());
        ref_f32(w.data(), N, K, x.data(), M, want32.data());
        expect_tiers_match(type, packed, x, q, want8, want32, tolerances(w, x, M, N, K, want32), M, N, K);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

// K-quants: K a multiple of 256. The W4A32 kernels sum 256 products per
// super-block, then the super-blocks: bound (256 + K/256 + 8)·u·Σ|w·x|.
template <typename Block>
void check_k_type(TensorType type, void (*ref_q8)(const Block*, int64_t, int64_t, const BlockQ8_0*, int64_t, float*),
                  void (*ref_f32)(const Block*, int64_t, int64_t, const float*, int64_t, float*), uint32_t seed) {
  for (int64_t K : {256, 768, 2304}) {
    for (int64_t N : kNs) {
      if (K * N > kMaxKN) continue;
      Rng rng(seed + uint32_t(K * 7919 + N));
      const std::vector<uint8_t> w = random_k_blocks(rng, type, N, K);
      const Block* blocks = reinterpret_cast<const Block*>(w.data());
      PackedWeights packed;
      ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size(), N, K, &packed).ok());
      std::vector<float> wd(size_t(N * K));
      block_traits(type)->dequantize(w.data(), wd.data(), N * K);
      const std::vector<float> x_all = random_activations(rng, 64 * K);
      for (int64_t M : kMs) {
        if (M * N * K > kMaxMNK) continue;
        const std::vector<float> x(x_all.begin(), x_all.begin() + M * K);
        const QuantizedX q = quantize_ref(x, M, K);
        std::vector<float> want8(size_t(M * N)), want32(size_t(M * N)), tol(size_t(M * N));
        ref_q8(blocks, N, K, q.blocks.data(), M, want8.data());
        ref_f32(blocks, N, K, x.data(), M, want32.data());
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double t = 0;
            for (int64_t k = 0; k < K; ++k) t += std::fabs(double(wd[n * K + k]) * x[m * K + k]);
            tol[m * N + n] = float((kQK_K + K / kQK_K + 8) * kU * t) + kU * std::fabs(want32[m * N + n]) + 1e-30f;
          }
        expect_tiers_match(type, packed, x, q, want8, want32, tol, M, N, K);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(KernelsMatmul, Q4_0AllTiersMatchReference) {
  check_panel_type<BlockQ4_0>(TensorType::Q4_0, random_q4_0, q4_0_q8_0_gemm_ref, q4_0_f32_gemm_ref, 100);
}

TEST(KernelsMatmul, Q4_1AllTiersMatchReference) {
  check_panel_type<BlockQ4_1>(TensorType::Q4_1, random_q4_1, q4_1_q8_0_gemm_ref, q4_1_f32_gemm_ref, 200);
}

TEST(KernelsMatmul, Q5_0AllTiersMatchReference) {
  check_panel_type<BlockQ5_0>(TensorType::Q5_0, random_blocks<BlockQ5_0>, q5_0_q8_0_gemm_ref, q5_0_f32_gemm_ref, 400);
}

TEST(KernelsMatmul, Q5_1AllTiersMatchReference) {
  check_panel_type<BlockQ5_1>(TensorType::Q5_1, random_blocks<BlockQ5_1>, q5_1_q8_0_gemm_ref, q5_1_f32_gemm_ref, 500);
}

TEST(KernelsMatmul, IQ4_NLAllTiersMatchReference) {
  check_panel_type<BlockIQ4_NL>(TensorType::IQ4_NL, random_blocks<BlockIQ4_NL>, iq4_nl_q8_0_gemm_ref, iq4_nl_f32_gemm_ref, 600);
}

TEST(KernelsMatmul, Q8_0AllTiersMatchReference) {
  check_panel_type<BlockQ8_0>(TensorType::Q8_0, random_blocks<BlockQ8_0>, q8_0_q8_0_gemm_ref, q8_0_f32_gemm_ref, 700);
}

TEST(KernelsMatmul, Q4_KAllTiersMatchReference) {
  check_k_type<BlockQ4_K>(TensorType::Q4_K, q4_k_q8_0_gemm_ref, q4_k_f32_gemm_ref, 400);
}
TEST(KernelsMatmul, Q5_KAllTiersMatchReference) {
  check_k_type<BlockQ5_K>(TensorType::Q5_K, q5_k_q8_0_gemm_ref, q5_k_f32_gemm_ref, 500);
}
TEST(KernelsMatmul, Q6_KAllTiersMatchReference) {
  check_k_type<BlockQ6_K>(TensorType::Q6_K, q6_k_q8_0_gemm_ref, q6_k_f32_gemm_ref, 600);
}

// The int16 sums of the SIMD tiers at their bounds: every code at its
// smallest or largest value (Q6_K scales −128 or −1) against activations all
// −128 or all 127 (Q8_0 blocks set by hand; the quantizer rarely gives −128).
// M = 12: run_kernel's halves of 6 rows reach the GEMM tiles (a full one
// and a padded one), not only the GEMV's; N = 32: run_kernel's halves of
// four groups, which the relaxed Q8_0 GEMV takes in one pass.
template <typename Block>
void check_extreme_codes(TensorType type, void (*ref_q8)(const Block*, int64_t, int64_t, const BlockQ8_0*, int64_t, float*)) {
  const int64_t N = 32, K = 512, M = 12;
  const size_t block_bytes = tensor_type_info(type)->block_bytes;
  const int64_t blocks = N * K / tensor_type_info(type)->block_size;
  // Q8_0: 0, −1, −128, 127; IQ4_NL also code 4 (the largest residue of its relaxed GEMV).
  std::vector<uint8_t> fills = {0x00, 0xFF, 0x80, 0x7F};
  if (type == TensorType::IQ4_NL) fills.push_back(0x44);
  for (uint8_t fill : fills) {
    std::vector<uint8_t> w(size_t(blocks) * block_bytes, fill);
    for (size_t at = 0; at < w.size(); at += block_bytes) {
      const uint16_t one = 0x3C00;
      if (type == TensorType::Q6_K) {
        if (fill == 0) std::memset(&w[at + offsetof(BlockQ6_K, scales)], 0x80, sizeof(BlockQ6_K::scales));
        std::memcpy(&w[at + offsetof(BlockQ6_K, d)], &one, 2);
      } else {
        std::memcpy(&w[at], &one, 2);
        if (type == TensorType::Q4_K || type == TensorType::Q5_K || type == TensorType::Q4_1 || type == TensorType::Q5_1)
          std::memcpy(&w[at + 2], &one, 2);  // dmin, m
      }
    }
    PackedWeights packed;
    ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size(), N, K, &packed).ok());
    for (int8_t a : {int8_t(-128), int8_t(127)}) {
      QuantizedX q;
      for (int64_t i = 0; i < M * K / kQK; ++i) {
        BlockQ8_0 b;
        b.d = 0x3C00;
        std::fill(std::begin(b.qs), std::end(b.qs), a);
        q.blocks.push_back(b);
        q.qs.insert(q.qs.end(), b.qs, b.qs + kQK);
        q.d.push_back(1.0f);
        q.sums.push_back(kQK * a);
      }
      std::vector<float> want(size_t(M * N));
      ref_q8(reinterpret_cast<const Block*>(w.data()), N, K, q.blocks.data(), M, want.data());
      const PackedView view{packed.data(), N, K};
      for (const KernelConfig* c : tiers()) {
        const TypeKernels& k = *c->kernels_for(type);
        const std::string name = std::string(c->name) + " " + tensor_type_info(type)->name + " extreme";
        expect_bitwise(want, run_kernel(k.q8_gemv, view, q.view(K), M, N), name + " W4A8 gemv", M, N, K);
        expect_bitwise(want, run_kernel(k.q8_gemm, view, q.view(K), M, N), name + " W4A8 gemm", M, N, K);
      }
    }
  }
}
TEST(KernelsMatmul, ExtremeCodesAndActivationsMatchReference) {
  check_extreme_codes<BlockQ4_0>(TensorType::Q4_0, q4_0_q8_0_gemm_ref);
  check_extreme_codes<BlockQ4_1>(TensorType::Q4_1, q4_1_q8_0_gemm_ref);
  check_extreme_codes<BlockQ5_0>(TensorType::Q5_0, q5_0_q8_0_gemm_ref);
  check_extreme_codes<BlockQ8_0>(TensorType::Q8_0, q8_0_q8_0_gemm_ref);
  check_extreme_codes<BlockIQ4_NL>(TensorType::IQ4_NL, iq4_nl_q8_0_gemm_ref);
  check_extreme_codes<BlockQ5_1>(TensorType::Q5_1, q5_1_q8_0_gemm_ref);
  check_extreme_codes<BlockQ4_K>(TensorType::Q4_K, q4_k_q8_0_gemm_ref);
  check_extreme_codes<BlockQ5_K>(TensorType::Q5_K, q5_k_q8_0_gemm_ref);
  check_extreme_codes<BlockQ6_K>(TensorType::Q6_K, q6_k_q8_0_gemm_ref);
}

// The K-quant W4A8 references against the exact product of the row
// dequantizer's weights and the dequantized activations: every float step of
// k_superblock_q8() rounds once, so with T = Σ_k (|d·sc·q'| + |dmin·m|)·|x̂_k|
// (q' = q, Q6_K q − 32) the error is at most (K/32 + 64)·u·T.
TEST(KernelsMatmul, KQuantW4A8ReferenceMatchesRowDequantizer) {
  const int64_t N = 9, K = 768;
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    Rng rng(21 + uint32_t(type));
    const std::vector<uint8_t> w = random_k_blocks(rng, type, N, K);
    std::vector<float> wd(size_t(N * K)), y(N);
    block_traits(type)->dequantize(w.data(), wd.data(), N * K);
    const QuantizedX q = quantize_ref(random_activations(rng, K), 1, K);
    if (type == TensorType::Q4_K) q4_k_q8_0_gemv_ref(reinterpret_cast<const BlockQ4_K*>(w.data()), N, K, q.blocks.data(), y.data());
    if (type == TensorType::Q5_K) q5_k_q8_0_gemv_ref(reinterpret_cast<const BlockQ5_K*>(w.data()), N, K, q.blocks.data(), y.data());
    if (type == TensorType::Q6_K) q6_k_q8_0_gemv_ref(reinterpret_cast<const BlockQ6_K*>(w.data()), N, K, q.blocks.data(), y.data());
    const size_t block_bytes = tensor_type_info(type)->block_bytes;
    for (int64_t n = 0; n < N; ++n) {
      double exact = 0, t = 0;
      for (int64_t b = 0; b < K / kQK_K; ++b) {
        KCodes c;
        decode_k_block(type, w.data() + size_t(n * (K / kQK_K) + b) * block_bytes, &c);
        for (int k = 0; k < kQK_K; ++k) {
          const int64_t i = b * kQK_K + k;
          const double xd = double(q.d[size_t(i / kQK)]) * q.qs[size_t(i)];
          exact += double(wd[size_t(n * K + i)]) * xd;
          const int s = type == TensorType::Q6_K ? k / 16 : k / kQK;
          const double scale = type == TensorType::Q6_K ? double(int8_t(c.sc[s])) : double(c.sc[s]);
          const double code = type == TensorType::Q6_K ? double(c.q[k]) - 32 : double(c.q[k]);
          const double min = type == TensorType::Q6_K ? 0.0 : double(c.dmin) * c.m[s];
          t += (std::fabs(double(c.d) * scale * code) + std::fabs(min)) * std::fabs(xd);
        }
      }
      EXPECT_LE(std::fabs(double(y[size_t(n)]) - exact), double(K / kQK + 64) * kU * t + 1e-30)
          << tensor_type_info(type)->name << " row " << n;
    }
  }
}

TEST(KernelsMatmul, DefaultConfigIsTheBestTierBuilt) {
  // The tiers the *AllTiersMatchReference tests run, by name.
  std::vector<std::string> names;
  for (const KernelConfig* c : tiers()) names.push_back(c->name);
#if defined(NIBBLE_RELAXED_SIMD)
  EXPECT_EQ(kernel_config().tier, KernelTier::kWasmRelaxedSimd);
  // wasmsimd's Q4 kernels read the other packed layout (q4_panel.h).
  EXPECT_EQ(kernel_config_for(KernelTier::kWasmSimd), nullptr);
  EXPECT_EQ(names, (std::vector<std::string>{"scalar", "wasmrelaxedsimd"}));
#elif defined(__wasm_simd128__)
  EXPECT_EQ(kernel_config().tier, KernelTier::kWasmSimd);
  EXPECT_EQ(kernel_config_for(KernelTier::kWasmRelaxedSimd), nullptr);
  EXPECT_EQ(names, (std::vector<std::string>{"scalar", "wasmsimd"}));
#else
  EXPECT_EQ(kernel_config().tier, KernelTier::kScalar);
  EXPECT_EQ(kernel_config_for(KernelTier::kWasmSimd), nullptr);
  EXPECT_EQ(kernel_config_for(KernelTier::kWasmRelaxedSimd), nullptr);
  EXPECT_EQ(names, (std::vector<std::string>{"scalar"}));
#endif
  EXPECT_EQ(names.back(), kernel_config().name);
}

// (A runtime check: under UBSan, GCC does not treat a function's address as
// a constant that differs from null, so config.cpp cannot static_assert it.)
TEST(KernelsMatmul, EveryTierRunsExactlyTheTypesWithKernels) {
  for (const KernelConfig* c : tiers())
    for (const TensorTypeInfo& t : kTensorTypes)
      EXPECT_EQ(t.has_kernels(), c->kernels_for(t.type) != nullptr) << c->name << " " << t.name;
}

// dequantize_row (packed row -> f32) and the _ref kernels' weights are
// bitwise the row dequantizer of src/quant, for every panel type.
template <typename Block>
void check_dequantize_row(TensorType type, uint32_t seed) {
  Rng rng(seed);
  const int64_t N = 7, K = 96, nb = K / kQK;
  const auto w = random_blocks<Block>(rng, N, K);
  PackedWeights p;
  ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size() * sizeof(Block), N, K, &p).ok());
  std::vector<float> row(K), want(K);
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row(p, n, row.data());
    block_traits(type)->dequantize(&w[size_t(n * nb)], want.data(), K);
    for (int64_t k = 0; k < K; ++k) {
      ASSERT_EQ(f32_bits(row[k]), f32_bits(want[k])) << tensor_type_info(type)->name << " row " << n << " k " << k;
      ASSERT_EQ(f32_bits(ref::weight(w[size_t(n * nb + k / kQK)], int(k % kQK))), f32_bits(want[k]))
          << tensor_type_info(type)->name << " ref::weight, row " << n << " k " << k;
    }
  }
}

TEST(KernelsMatmul, DequantizeRowMatchesBlocks) {
  check_dequantize_row<BlockQ4_0>(TensorType::Q4_0, 9);
  check_dequantize_row<BlockQ4_1>(TensorType::Q4_1, 10);
  check_dequantize_row<BlockQ5_0>(TensorType::Q5_0, 11);
  check_dequantize_row<BlockQ5_1>(TensorType::Q5_1, 12);
  check_dequantize_row<BlockIQ4_NL>(TensorType::IQ4_NL, 13);
  check_dequantize_row<BlockQ8_0>(TensorType::Q8_0, 14);
}

TEST(KernelsMatmul, DequantizeRowMatchesKQuantBlocks) {
  Rng rng(10);
  const int64_t N = 7, K = 512;
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K}) {
    const std::vector<uint8_t> w = random_k_blocks(rng, type, N, K);
    std::vector<float> want(size_t(N * K)), row(K);
    block_traits(type)->dequantize(w.data(), want.data(), N * K);
    PackedWeights p;
    ASSERT_TRUE(PackedWeights::Pack(type, w.data(), w.size(), N, K, &p).ok());
    for (int64_t n = 0; n < N; ++n) {
      dequantize_row(p, n, row.data());
      for (int64_t k = 0; k < K; ++k)
        ASSERT_EQ(f32_bits(row[k]), f32_bits(want[n * K + k])) << tensor_type_info(type)->name << " row " << n << " k " << k;
    }
  }
}

TEST(KernelsMatmul, GemvReferenceIsGemmReferenceRow) {
  Rng rng(5);
  const int64_t N = 5, K = 64;
  const auto w0 = random_q4_0(rng, N, K);
  const auto x = random_activations(rng, K);
  const QuantizedX q = quantize_ref(x, 1, K);
  std::vector<float> a(N), b(N);
  q4_0_q8_0_gemv_ref(w0.data(), N, K, q.blocks.data(), a.data());
  q4_0_q8_0_gemm_ref(w0.data(), N, K, q.blocks.data(), 1, b.data());
  expect_bitwise(a, b, "q4_0 gemv_ref vs gemm_ref", 1, N, K);
}

TEST(KernelsMatmul, F32AllTiersMatchReference) {
  for (int64_t K : {1, 7, 32, 172, 1000}) {
    for (int64_t N : {1, 3, 4, 5, 17, 64}) {
      Rng rng(uint32_t(300 + K * 31 + N));
      std::vector<float> w = random_activations(rng, N * K);
      PackedWeights packed;
      ASSERT_TRUE(PackedWeights::Pack(TensorType::F32, w.data(), w.size() * 4, N, K, &packed).ok());
      const PackedView view{packed.data(), N, K};
      for (int64_t M : kMs) {
        const std::vector<float> x = random_activations(rng, M * K);
        std::vector<float> want(size_t(M * N)), tol(size_t(M * N));
        f32_f32_gemm_ref(w.data(), N, K, x.data(), M, want.data());
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double t = 0;
            for (int64_t k = 0; k < K; ++k) t += std::fabs(double(w[n * K + k]) * x[m * K + k]);
            tol[m * N + n] = float((K + 8) * kU * t) + kU * std::fabs(want[m * N + n]) + 1e-30f;
          }
        const F32Activations xf{x.data(), nullptr, K};
        for (const KernelConfig* c : tiers()) {
          const std::string name = std::string(c->name) + " f32";
          const TypeKernels& k = *c->kernels_for(TensorType::F32);
          expect_near(want, run_kernel(k.f32_gemv, view, xf, M, N), tol, name + " gemv", M, N, K);
          expect_near(want, run_kernel(k.f32_gemm, view, xf, M, N), tol, name + " gemm", M, N, K);
          std::vector<float> y(size_t(M * N));
          for (Precision p : {Precision::kW4A8, Precision::kW4A32}) {
            ASSERT_TRUE(matmul_with(*c, packed, x.data(), M, y.data(), p).ok());
            expect_near(want, y, tol, name + " matmul", M, N, K);
          }
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

// Matrices sharing one input (mixed types, row counts not multiples of 4):
// each output is bitwise matmul() alone. (With threads: thread_pool_test.cpp.)
TEST(KernelsMatmul, SharedInputMatchesSeparateProducts) {
  Rng rng(11);
  const int64_t K = 320, rows[] = {577, 190, 6};
  const auto w0 = random_q4_0(rng, rows[0], K);
  const auto w1 = random_q4_1(rng, rows[1], K);
  const auto wf = random_activations(rng, rows[2] * K);
  PackedWeights p[3];
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, w0.data(), w0.size() * sizeof(BlockQ4_0), rows[0], K, &p[0]).ok());
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_1, w1.data(), w1.size() * sizeof(BlockQ4_1), rows[1], K, &p[1]).ok());
  ASSERT_TRUE(PackedWeights::Pack(TensorType::F32, wf.data(), wf.size() * 4, rows[2], K, &p[2]).ok());
  for (int64_t M : {1, 5, 70}) {
    const auto x = random_activations(rng, M * K);
    for (Precision prec : {Precision::kW4A8, Precision::kW4A32}) {
      std::vector<float> alone[3], shared[3];
      MatmulTarget targets[3];
      for (int i = 0; i < 3; ++i) {
        alone[i].resize(size_t(M * rows[i]));
        shared[i].assign(size_t(M * rows[i]), -1.0f);
        ASSERT_TRUE(matmul(p[i], x.data(), M, alone[i].data(), prec).ok());
        targets[i] = {&p[i], shared[i].data()};
      }
      ASSERT_TRUE(matmul_shared_input(targets, 3, x.data(), M, prec).ok());
      for (int i = 0; i < 3; ++i)
        expect_bitwise(alone[i], shared[i], "shared input, target " + std::to_string(i), M, rows[i], K);
    }
  }
  // Row lengths must agree.
  const auto narrow = random_q4_0(rng, 4, 32);
  PackedWeights q;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, narrow.data(), narrow.size() * sizeof(BlockQ4_0), 4, 32, &q).ok());
  std::vector<float> x(static_cast<size_t>(K)), y0(static_cast<size_t>(rows[0])), y1(4);
  const MatmulTarget mismatched[] = {{&p[0], y0.data()}, {&q, y1.data()}};
  const Status s = matmul_shared_input(mismatched, 2, x.data(), 1, Precision::kW4A8);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(s.message().find("same row length"), std::string::npos) << s.message();
}

TEST(KernelsMatmul, RejectsBadArguments) {
  PackedWeights empty;
  float x[32] = {}, y[4] = {};
  Status s = matmul(empty, x, 1, y, Precision::kW4A8);
  EXPECT_EQ(s.kind(), ErrorKind::kState);
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();

  Rng rng(1);
  const auto w = random_q4_0(rng, 4, 32);
  PackedWeights p;
  ASSERT_TRUE(PackedWeights::Pack(TensorType::Q4_0, w.data(), w.size() * sizeof(BlockQ4_0), 4, 32, &p).ok());
  s = matmul(p, x, 0, y, Precision::kW4A8);
  EXPECT_EQ(s.kind(), ErrorKind::kOutOfRange);
  EXPECT_NE(s.message().find("M = 0"), std::string::npos) << s.message();
  s = matmul(p, nullptr, 1, y, Precision::kW4A8);
  EXPECT_EQ(s.kind(), ErrorKind::kInvalidArgument);
  EXPECT_TRUE(matmul(p, x, 1, y, Precision::kW4A8).ok());
}

}  // namespace
}  // namespace nibble
