// Seeded test data for the quantizer tests: 32-value blocks of several
// distributions, including the awkward ones (zeros, ties, outliers, huge and
// tiny magnitudes).
//
// Only +, −, ·, / and sqrt on mt19937 bits (all exactly rounded in IEEE), no
// <random> distributions or libm: the same seed gives the same floats in the
// native build (libstdc++, glibc) and the wasm build (libc++, musl), so the
// tests see the same data everywhere and can compare bytes across builds.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace nibble {
namespace testdata {

class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  uint32_t bits() { return uint32_t(engine_()); }
  // Uniform in [0, 1), 24 random bits.
  float uniform01() { return float(bits() >> 8) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform01(); }
  int integer(int lo, int hi) { return lo + int(bits() % uint32_t(hi - lo + 1)); }
  // Approximately standard normal: Irwin–Hall sum of 12 uniforms, minus 6.
  float normal() {
    float s = 0.0f;
    for (int i = 0; i < 12; ++i) s += uniform01();
    return s - 6.0f;
  }
  // Student-t with 3 degrees of freedom: normal / sqrt(chi²₃ / 3).
  float student_t3() {
    float chi2 = 0.0f;
    for (int i = 0; i < 3; ++i) {
      const float z = normal();
      chi2 += z * z;
    }
    return normal() / std::sqrt(chi2 / 3.0f + 1e-6f);
  }

 private:
  std::mt19937 engine_;
};

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
inline void append_block(Dist dist, float magnitude, Rng& rng, std::vector<float>* out) {
  float block[32];
  switch (dist) {
    case Dist::kNormal:
      for (float& v : block) v = rng.normal();
      break;
    case Dist::kUniform:
      for (float& v : block) v = rng.uniform(-1.0f, 1.0f);
      break;
    case Dist::kHeavyTailed:
      for (float& v : block) v = rng.student_t3();
      break;
    case Dist::kOutliers:  // normal, and two values drawn 12 times wider
      for (float& v : block) v = rng.normal();
      for (int k = 0; k < 2; ++k) block[rng.integer(0, 31)] = 12.0f * rng.normal();
      break;
    case Dist::kSmallIntegers:  // many ties for the largest magnitude, exact halves
      for (float& v : block) v = float(rng.integer(-3, 3));
      break;
    case Dist::kZeros:
      for (float& v : block) v = (rng.bits() & 1) ? 0.0f : -0.0f;
      break;
    case Dist::kConstant: {
      const float c = rng.normal();
      for (float& v : block) v = c;
      break;
    }
    case Dist::kSparse:
      for (float& v : block) v = 0.0f;
      block[rng.integer(0, 31)] = rng.normal();
      block[rng.integer(0, 31)] = -rng.normal();
      break;
  }
  for (float v : block) out->push_back(v * magnitude);
}

// Importance weights: 0.1 + 10·u³ for u uniform in [0, 1) (spread over two
// orders of magnitude, most small), one in 16 exactly 0.
inline std::vector<float> random_importance(int64_t n, Rng& rng) {
  std::vector<float> w(static_cast<size_t>(n));
  for (float& v : w) {
    const float u = rng.uniform01();
    v = (rng.bits() % 16 == 0) ? 0.0f : 0.1f + 10.0f * u * u * u;
  }
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
