#include "kernels/config.h"

namespace nibble {
namespace {

constexpr KernelConfig kScalarConfig = {
    "scalar",
    KernelTier::kScalar,
    q8_0_quantize__scalar,
    nullptr,
    {q4_0_q8_0_gemv_4x__scalar, q4_0_q8_0_gemm_4x4__scalar, q4_0_f32_gemv_4x__scalar,
     q4_0_f32_gemm_4x4__scalar},
    {q4_1_q8_0_gemv_4x__scalar, q4_1_q8_0_gemm_4x4__scalar, q4_1_f32_gemv_4x__scalar,
     q4_1_f32_gemm_4x4__scalar},
    f32_f32_gemv__scalar,
    f32_f32_gemm_4x4__scalar,
};

#ifdef __wasm_simd128__
constexpr KernelConfig kWasmSimdConfig = {
    "wasmsimd",
    KernelTier::kWasmSimd,
    q8_0_quantize__wasmsimd,
    &q8_layout__wasmsimd,
    {q4_0_q8_0_gemv_4x__wasmsimd, q4_0_q8_0_gemm_4x4__wasmsimd, q4_0_f32_gemv_4x__wasmsimd,
     q4_0_f32_gemm_4x4__wasmsimd},
    {q4_1_q8_0_gemv_4x__wasmsimd, q4_1_q8_0_gemm_4x4__wasmsimd, q4_1_f32_gemv_4x__wasmsimd,
     q4_1_f32_gemm_4x4__wasmsimd},
    f32_f32_gemv__wasmsimd,
    f32_f32_gemm_4x4__wasmsimd,
};
#endif

}  // namespace

const KernelConfig* kernel_config_for(KernelTier tier) {
  switch (tier) {
    case KernelTier::kScalar: return &kScalarConfig;
    case KernelTier::kWasmSimd:
#ifdef __wasm_simd128__
      return &kWasmSimdConfig;
#else
      return nullptr;
#endif
  }
  return nullptr;
}

const KernelConfig& kernel_config() {
#ifdef __wasm_simd128__
  return kWasmSimdConfig;
#else
  return kScalarConfig;
#endif
}

}  // namespace nibble
