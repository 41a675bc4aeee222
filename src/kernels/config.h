// KernelConfig: the one place that names kernels. kernel_config() is picked
// once (the best tier this build has: wasm relaxed SIMD in relaxed-SIMD
// builds, wasm SIMD128 in the other SIMD builds, else scalar) and never
// changes; there is no global mutable tuning state. Tests and benchmarks can
// ask for a tier explicitly and pass it to matmul_with() (matmul.h).
#pragma once

#include "kernels/microkernels.h"

namespace nibble {

enum class KernelTier { kScalar, kWasmSimd, kWasmRelaxedSimd };

struct KernelConfig {
  const char* name;  // "scalar", "wasmsimd", "wasmrelaxedsimd"
  KernelTier tier;
  QuantizeQ8Fn quantize_q8;  // activations f32 -> Q8_0 (W4A8)
  const Q8Layout* q8_layout;  // null, or the layout its W4A8 kernels read
  struct Q4Kernels {
    Q4Q8Fn q8_gemv;    // W4A8, M = 1
    Q4Q8Fn q8_gemm;    // W4A8, M > 1
    Q4F32Fn f32_gemv;  // W4A32, M = 1
    Q4F32Fn f32_gemm;  // W4A32, M > 1
  };
  Q4Kernels q4_0;
  Q4Kernels q4_1;
  F32F32Fn f32_gemv;
  F32F32Fn f32_gemm;
};

// The kernels matmul() uses.
const KernelConfig& kernel_config();
// A given tier, or null if this build does not have it.
const KernelConfig* kernel_config_for(KernelTier tier);

}  // namespace nibble
