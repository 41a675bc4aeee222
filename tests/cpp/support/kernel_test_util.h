// Seeded random matrices in standard GGUF layouts for the kernel tests, and
// the list of kernel tiers this build has.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/config.h"
#include "quant/block_formats.h"
#include "quant/fp16.h"

namespace nibble {
namespace kerneltest {

using Rng = std::mt19937;

// Every tier compiled into this build (scalar always; wasmsimd in SIMD
// builds, wasmrelaxedsimd instead in relaxed-SIMD builds).
inline std::vector<const KernelConfig*> tiers() {
  std::vector<const KernelConfig*> out;
  for (KernelTier t : {KernelTier::kScalar, KernelTier::kWasmSimd, KernelTier::kWasmRelaxedSimd})
    if (const KernelConfig* c = kernel_config_for(t)) out.push_back(c);
  return out;
}

// An fp16 value of random sign and magnitude 2^[lo_exp, hi_exp) · [1, 2).
inline uint16_t random_fp16(Rng& rng, int lo_exp = -14, int hi_exp = 2) {
  std::uniform_int_distribution<int> e(lo_exp, hi_exp - 1);
  std::uniform_real_distribution<float> f(1.0f, 2.0f);
  const float v = std::ldexp(f(rng), e(rng)) * (rng() & 1 ? -1.0f : 1.0f);
  return fp32_to_fp16(v);
}

inline void random_nibbles(Rng& rng, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = uint8_t(rng());
}

// N rows of K/32 blocks with random nibbles and scales of varied magnitude.
inline std::vector<BlockQ4_0> random_q4_0(Rng& rng, int64_t N, int64_t K) {
  std::vector<BlockQ4_0> w(size_t(N * (K / kQK)));
  for (auto& b : w) {
    b.d = random_fp16(rng);
    random_nibbles(rng, b.qs);
  }
  return w;
}
inline std::vector<BlockQ4_1> random_q4_1(Rng& rng, int64_t N, int64_t K) {
  std::vector<BlockQ4_1> w(size_t(N * (K / kQK)));
  for (auto& b : w) {
    b.d = random_fp16(rng);
    b.m = random_fp16(rng);
    random_nibbles(rng, b.qs);
  }
  return w;
}

// N rows of K/32 blocks of any 32-weight type: random bytes (every code,
// Q5's fifth bits, Q8_0's −128), then random scales of varied magnitude.
template <typename Block>
std::vector<Block> random_blocks(Rng& rng, int64_t N, int64_t K) {
  std::vector<Block> w(size_t(N * (K / kQK)));
  for (auto& b : w) {
    uint8_t* bytes = reinterpret_cast<uint8_t*>(&b);
    for (size_t i = 0; i < sizeof(Block); ++i) bytes[i] = uint8_t(rng());
    b.d = random_fp16(rng);
    if constexpr (std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>) b.m = random_fp16(rng);
  }
  return w;
}

// N rows of K/256 K-quant blocks of `type`: random bytes (codes, 6- or
// 8-bit scales, Q5_K/Q6_K high bits), fp16 super-block scales of varied
// magnitude (Q6_K's d sits at the block's end).
inline std::vector<uint8_t> random_k_blocks(Rng& rng, TensorType type, int64_t N, int64_t K) {
  const size_t block_bytes = tensor_type_info(type)->block_bytes;
  std::vector<uint8_t> w(size_t(N * (K / kQK_K)) * block_bytes);
  for (auto& b : w) b = uint8_t(rng());
  for (size_t at = 0; at < w.size(); at += block_bytes) {
    const uint16_t d = random_fp16(rng, -14, 0), dmin = random_fp16(rng, -14, 0);
    if (type == TensorType::Q6_K) {
      std::memcpy(&w[at + block_bytes - 2], &d, 2);
    } else {
      std::memcpy(&w[at], &d, 2);
      std::memcpy(&w[at + 2], &dmin, 2);
    }
  }
  return w;
}

// n floats, normal with a per-32-block magnitude 2^[-6, 6), some blocks of zeros.
inline std::vector<float> random_activations(Rng& rng, int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> e(-6, 5);
  float scale = 1.0f;
  for (int64_t i = 0; i < n; ++i) {
    if (i % kQK == 0) scale = (rng() % 16 == 0) ? 0.0f : std::ldexp(1.0f, e(rng));
    x[size_t(i)] = normal(rng) * scale;
  }
  return x;
}

inline std::string shape_str(int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
}

}  // namespace kerneltest
}  // namespace nibble
