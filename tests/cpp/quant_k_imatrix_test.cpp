// Q4_K, Q5_K and Q6_K with importance data against ggml's quantize_q4_K &
// co. given quant_weights (llama-quantize --imatrix), byte for byte. No
// fixture file holds imatrix K-quants (the quality fixtures' model is too
// narrow for 256-blocks), so the expected bytes come from ggml itself: the
// FNV-1a hashes below are of ggml_quantize_chunk's output on this test's
// data with this test's importance (libggml-base of node-llama-cpp 3.21.1,
// x86-64), the same data as kMatrix builds here.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "quant/block_formats.h"
#include "quant/quantize.h"
#include "quant_test_data.h"

namespace nibble {
namespace {

using testdata::Dist;

constexpr int64_t kRows = 24, kCols = 512;  // two super-blocks per row

// x[kRows, kCols]: every row 16 blocks of mixed distributions, the rows'
// magnitudes from 1e-3 to 1e2.
std::vector<float> test_matrix(testdata::Rng& rng) {
  const Dist dists[] = {Dist::kNormal,        Dist::kUniform, Dist::kHeavyTailed, Dist::kOutliers,
                        Dist::kSmallIntegers, Dist::kZeros,   Dist::kConstant,    Dist::kSparse};
  const float magnitudes[] = {1e-3f, 0.02f, 0.5f, 1.0f, 7.0f, 100.0f};
  std::vector<float> x;
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t b = 0; b < kCols / 32; ++b) {
      // Mostly normal-like blocks, the others now and then.
      const Dist d = rng.integer(0, 3) == 0 ? dists[rng.integer(0, 7)] : dists[rng.integer(0, 3)];
      testdata::append_block(d, magnitudes[r % 6], rng, &x);
    }
  }
  return x;
}

uint64_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

std::vector<uint8_t> quantize(TensorType type, const std::vector<float>& x, const float* importance) {
  std::vector<uint8_t> out(size_t(kRows) * row_size(type, kCols));
  QuantizeOptions options;
  options.importance = importance;
  const Status s = quantize_matrix(type, x.data(), kRows, kCols, options, out.data(), out.size());
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

TEST(QuantKImatrix, SameBytesAsGgml) {
  testdata::Rng rng(1515);
  const std::vector<float> x = test_matrix(rng);
  const std::vector<float> importance = testdata::random_importance(kCols, rng);
  struct Expected {
    TensorType type;
    uint64_t with_importance;
  };
  const Expected expected[] = {
      {TensorType::Q4_K, 0x567a75066771b191ull},
      {TensorType::Q5_K, 0x9d4042bb23a36123ull},
      {TensorType::Q6_K, 0x440004c65258d100ull},
  };
  for (const Expected& e : expected) {
    const std::vector<uint8_t> weighted = quantize(e.type, x, importance.data());
    EXPECT_EQ(fnv1a(weighted), e.with_importance) << block_traits(e.type)->name;
    // The importance must change the result (else the test would pass on
    // the round-to-nearest rule too).
    EXPECT_NE(weighted, quantize(e.type, x, nullptr)) << block_traits(e.type)->name;
  }
}

}  // namespace
}  // namespace nibble
