// Seeded test data for the quantizer tests: 32-value blocks of several
// distributions, including the awkward ones (zeros, ties, outliers, huge and
// tiny magnitudes).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace nibble {
namespace testdata {

enum class Dist { kNormal, kUniform, kHeavyTailed, kOutliers, kSmallIntegers, kZeros, kConstant, kSparse };

inline const char* dist_name(Dist d) {
  switch (d) {
    case Dist::kNormal: return "normal";
    case Dist::kUniform: return "uniform";
    case Dist::kHeavyTailed: return "heavy-tailed";
    case Dist::kOutliers: return "outliers";
    case Dist::kSmallIntegers: return "small-integers";
    case Dist::kZeros: return "zeros";
    case Dist::kConstant: return "constant";
    case Dist::kSparse: return "sparse";
  }
  return "?";
}

// Appends one 32-value block of `dist` times `magnitude` to out.
inline void append_block(Dist dist, float magnitude, std::mt19937& rng, std::vector<float>* out) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_int_distribution<int> small_int(-3, 3);
  std::uniform_int_distribution<int> index(0, 31);
  float block[32];
  switch (dist) {
    case Dist::kNormal:
      for (float& v : block) v = normal(rng);
      break;
    case Dist::kUniform:
      for (float& v : block) v = uniform(rng);
      break;
    case Dist::kHeavyTailed: {
      // Student-t with 3 degrees of freedom: normal / sqrt(chi²₃ / 3).
      std::chi_squared_distribution<float> chi2(3.0f);
      for (float& v : block) v = normal(rng) / std::sqrt(chi2(rng) / 3.0f + 1e-6f);
      break;
    }
    case Dist::kOutliers:
      for (float& v : block) v = normal(rng);
      for (int k = 0; k < 2; ++k) block[index(rng)] = normal(rng) * 12.0f;
      break;
    case Dist::kSmallIntegers:  // many ties for the largest magnitude, exact halves
      for (float& v : block) v = float(small_int(rng));
      break;
    case Dist::kZeros:
      for (float& v : block) v = (rng() & 1) ? 0.0f : -0.0f;
      break;
    case Dist::kConstant: {
      const float c = normal(rng);
      for (float& v : block) v = c;
      break;
    }
    case Dist::kSparse:
      for (float& v : block) v = 0.0f;
      block[index(rng)] = normal(rng);
      block[index(rng)] = -normal(rng);
      break;
  }
  for (float v : block) out->push_back(v * magnitude);
}

// Importance weights: positive, spread over two orders of magnitude, some 0.
inline std::vector<float> random_importance(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> log10w(-1.0f, 1.0f);
  std::vector<float> w(size_t(n));
  for (float& v : w) v = (rng() % 16 == 0) ? 0.0f : std::pow(10.0f, log10w(rng));
  return w;
}

// "x = {v0, v1, ...}" with every float exact enough to reproduce the block.
inline std::string block_values(const float* x) {
  std::string s = "x = {";
  char buf[32];
  for (int j = 0; j < 32; ++j) {
    std::snprintf(buf, sizeof buf, "%s%.9g", j ? ", " : "", double(x[j]));
    s += buf;
  }
  return s + "}";
}

}  // namespace testdata
}  // namespace nibble
