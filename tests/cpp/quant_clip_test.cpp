// The clipping search (ClipMode::kMse): never worse than round-to-nearest on
// the importance-weighted squared error, block by block, and better on average
// where clipping pays (heavy tails, outliers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "quant/block_formats.h"
#include "quant/quantize.h"
#include "quant_test_data.h"

namespace nibble {
namespace {

using testdata::Dist;

constexpr int64_t kCols = 256;  // one importance vector per row of 8 blocks

// Σ_j w[j]·(x[j] − x̂[j])² per 32-block of a quantized row of kCols values.
std::vector<double> block_errors(TensorType type, const float* x, const std::vector<uint8_t>& q,
                                 const float* importance) {
  std::vector<float> y(kCols);
  block_traits(type)->dequantize(q.data(), y.data(), kCols);
  std::vector<double> errors(kCols / 32, 0.0);
  for (int64_t j = 0; j < kCols; ++j) {
    const double w = importance ? double(importance[j]) : 1.0;
    const double diff = double(x[j]) - double(y[j]);
    errors[j / 32] += w * (diff * diff);
  }
  return errors;
}

std::vector<uint8_t> quantize_row(TensorType type, const float* x, ClipMode clip, const float* importance) {
  std::vector<uint8_t> q(row_size(type, kCols));
  QuantizeOptions options;
  options.clip = clip;
  options.importance = importance;
  block_traits(type)->quantize(x, q.data(), kCols, options);
  return q;
}

struct Comparison {
  int blocks = 0;
  int better = 0;             // blocks where clip=mse is strictly better
  double sum_rtn = 0, sum_mse = 0;
  double sum_ratio = 0;       // Σ err_mse / err_rtn over blocks with err_rtn > 0
  int ratio_blocks = 0;
};

// Quantizes `rows` rows of `dist` both ways and checks err_mse <= err_rtn for
// every block; returns the totals.
Comparison compare(TensorType type, Dist dist, float magnitude, bool with_importance, int rows, uint32_t seed) {
  testdata::Rng rng(seed);
  Comparison c;
  for (int r = 0; r < rows; ++r) {
    std::vector<float> x;
    for (int b = 0; b < kCols / 32; ++b) testdata::append_block(dist, magnitude, rng, &x);
    const std::vector<float> importance = testdata::random_importance(kCols, rng);
    const float* w = with_importance ? importance.data() : nullptr;
    // Round-to-nearest takes no importance (given it, Q4_0 / Q4_1 follow
    // llama.cpp's importance-weighted rules instead); its error is weighted.
    const std::vector<double> rtn = block_errors(type, x.data(), quantize_row(type, x.data(), ClipMode::kNone, nullptr), w);
    const std::vector<double> mse = block_errors(type, x.data(), quantize_row(type, x.data(), ClipMode::kMse, w), w);
    for (size_t b = 0; b < rtn.size(); ++b) {
      ++c.blocks;
      // A NaN error means the fp16 scale overflowed (|x| beyond ~5e5):
      // round-to-nearest cannot represent the block, anything is no worse.
      if (std::isnan(rtn[b])) continue;
      EXPECT_LE(mse[b], rtn[b]) << block_traits(type)->name << " " << testdata::dist_name(dist) << " magnitude "
                                << magnitude << (with_importance ? " with" : " without") << " importance: block "
                                << c.blocks - 1 << " (row " << r << ", block " << b << ") err_mse " << mse[b]
                                << " > err_rtn " << rtn[b] << "\n  " << testdata::block_values(&x[b * 32]);
      c.better += mse[b] < rtn[b];
      c.sum_rtn += rtn[b];
      c.sum_mse += mse[b];
      if (rtn[b] > 0) {
        c.sum_ratio += mse[b] / rtn[b];
        ++c.ratio_blocks;
      }
    }
  }
  return c;
}

void print(TensorType type, Dist dist, bool with_importance, const Comparison& c) {
  std::printf("  %s %-14s %-18s blocks %5d, better in %5d, total error %.4g -> %.4g (%.1f%% lower), mean ratio %.3f\n",
              block_traits(type)->name, testdata::dist_name(dist), with_importance ? "with importance" : "no importance",
              c.blocks, c.better, c.sum_rtn, c.sum_mse, c.sum_rtn > 0 ? 100.0 * (1.0 - c.sum_mse / c.sum_rtn) : 0.0,
              c.ratio_blocks ? c.sum_ratio / c.ratio_blocks : 1.0);
}

class ClipSearch : public ::testing::TestWithParam<TensorType> {};

TEST_P(ClipSearch, NeverWorseThanRoundToNearestOnAnyBlock) {
  const TensorType type = GetParam();
  const Dist dists[] = {Dist::kNormal, Dist::kHeavyTailed, Dist::kOutliers, Dist::kUniform,
                        Dist::kSmallIntegers, Dist::kSparse, Dist::kConstant, Dist::kZeros};
  uint32_t seed = 1;
  for (Dist dist : dists) {
    for (bool with_importance : {false, true}) {
      // 64 rows · 8 blocks = 512 blocks per case at magnitude 1, and a few
      // rows at extreme magnitudes (fp16 subnormal and large scales).
      const Comparison c = compare(type, dist, 1.0f, with_importance, 64, seed++);
      print(type, dist, with_importance, c);
      for (float magnitude : {1e-6f, 3e-3f, 500.0f, 1e5f}) compare(type, dist, magnitude, with_importance, 4, seed++);
      if (HasFailure()) return;
    }
  }
}

TEST_P(ClipSearch, BetterOnAverageForHeavyTails) {
  const TensorType type = GetParam();
  for (Dist dist : {Dist::kHeavyTailed, Dist::kOutliers, Dist::kNormal}) {
    for (bool with_importance : {false, true}) {
      const Comparison c = compare(type, dist, 1.0f, with_importance, 128, 1000 + uint32_t(dist));
      print(type, dist, with_importance, c);
      // Ask for a clear gain (at least 2% of the total error), not just any.
      EXPECT_LT(c.sum_mse, 0.98 * c.sum_rtn) << testdata::dist_name(dist) << " improvement only "
                                             << 100.0 * (1.0 - c.sum_mse / c.sum_rtn) << "%";
    }
  }
}

TEST_P(ClipSearch, NullImportanceMeansAllOnes) {
  const TensorType type = GetParam();
  testdata::Rng rng(5);
  const std::vector<float> ones(kCols, 1.0f);
  for (int r = 0; r < 16; ++r) {
    std::vector<float> x;
    for (int b = 0; b < kCols / 32; ++b) testdata::append_block(Dist::kHeavyTailed, 1.0f, rng, &x);
    EXPECT_EQ(quantize_row(type, x.data(), ClipMode::kMse, nullptr),
              quantize_row(type, x.data(), ClipMode::kMse, ones.data()))
        << "row " << r;
  }
}

TEST_P(ClipSearch, ImportanceSteersTheError) {
  // Columns with high importance should come out more accurate than when the
  // search ignores importance; measured in the importance-weighted error.
  const TensorType type = GetParam();
  testdata::Rng rng(11);
  std::vector<float> importance(kCols, 0.01f);
  for (int64_t j = 0; j < kCols; j += 5) importance[j] = 10.0f;
  double steered = 0, unsteered = 0;
  for (int r = 0; r < 128; ++r) {
    std::vector<float> x;
    for (int b = 0; b < kCols / 32; ++b) testdata::append_block(Dist::kNormal, 1.0f, rng, &x);
    for (double e : block_errors(type, x.data(), quantize_row(type, x.data(), ClipMode::kMse, importance.data()),
                                 importance.data())) {
      steered += e;
    }
    for (double e : block_errors(type, x.data(), quantize_row(type, x.data(), ClipMode::kMse, nullptr),
                                 importance.data())) {
      unsteered += e;
    }
  }
  std::printf("  %s weighted error: importance-aware %.4g, importance-blind %.4g\n", block_traits(type)->name,
              steered, unsteered);
  EXPECT_LT(steered, 0.8 * unsteered);
}

INSTANTIATE_TEST_SUITE_P(Int4, ClipSearch, ::testing::Values(TensorType::Q4_0, TensorType::Q4_1),
                         [](const ::testing::TestParamInfo<TensorType>& info) {
                           return std::string(block_traits(info.param)->name);
                         });

// FNV-1a over bytes.
uint64_t fnv1a(const std::vector<uint8_t>& bytes, uint64_t h = 1469598103934665603ull) {
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

TEST(ClipSearch, SameBytesInEveryBuild) {
  // The search uses only exactly rounded float/double arithmetic in a fixed
  // order, so native and wasm builds must agree byte for byte. The data are
  // portable too (quant_test_data.h). The constant was produced by this test;
  // if it changes on purpose (a new search), update it in the same change.
  testdata::Rng rng(2024);
  uint64_t h = 1469598103934665603ull;
  for (int r = 0; r < 64; ++r) {
    std::vector<float> x;
    for (int b = 0; b < kCols / 32; ++b) testdata::append_block(Dist(r % 8), 1.0f, rng, &x);
    const std::vector<float> importance = testdata::random_importance(kCols, rng);
    for (TensorType type : {TensorType::Q4_0, TensorType::Q4_1}) {
      h = fnv1a(quantize_row(type, x.data(), ClipMode::kMse, nullptr), h);
      h = fnv1a(quantize_row(type, x.data(), ClipMode::kMse, importance.data()), h);
    }
  }
  EXPECT_EQ(h, 0xe44fc7990db20711ull) << std::hex << "hash 0x" << h;
}

TEST(ClipSearch, Q8_0IgnoresClip) {
  testdata::Rng rng(3);
  std::vector<float> x;
  for (int b = 0; b < kCols / 32; ++b) testdata::append_block(Dist::kOutliers, 1.0f, rng, &x);
  EXPECT_EQ(quantize_row(TensorType::Q8_0, x.data(), ClipMode::kMse, nullptr),
            quantize_row(TensorType::Q8_0, x.data(), ClipMode::kNone, nullptr));
}

}  // namespace
}  // namespace nibble
