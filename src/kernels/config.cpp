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

// A build has one of the two SIMD tiers: their Q4 kernels read different
// packed layouts, and the build packs for one (q4_panel.h).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)
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

#ifdef NIBBLE_RELAXED_SIMD
// Relaxed SIMD changes the Q4 kernels only: the quantizer and the f32
// kernels are wasmsimd's.
constexpr KernelConfig kWasmRelaxedSimdConfig = {
    "wasmrelaxedsimd",
    KernelTier::kWasmRelaxedSimd,
    q8_0_quantize__wasmsimd,
    &q8_layout__wasmrelaxedsimd,
    {q4_0_q8_0_gemv_4x__wasmrelaxedsimd, q4_0_q8_0_gemm_4x4__wasmrelaxedsimd, q4_0_f32_gemv_4x__wasmrelaxedsimd,
     q4_0_f32_gemm_4x4__wasmrelaxedsimd},
    {q4_1_q8_0_gemv_4x__wasmrelaxedsimd, q4_1_q8_0_gemm_4x4__wasmrelaxedsimd, q4_1_f32_gemv_4x__wasmrelaxedsimd,
     q4_1_f32_gemm_4x4__wasmrelaxedsimd},
    f32_f32_gemv__wasmsimd,
    f32_f32_gemm_4x4__wasmsimd,
};
#endif

}  // namespace

const KernelConfig* kernel_config_for(KernelTier tier) {
  switch (tier) {
    case KernelTier::kScalar: return &kScalarConfig;
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)
    case KernelTier::kWasmSimd: return &kWasmSimdConfig;
#endif
#ifdef NIBBLE_RELAXED_SIMD
    case KernelTier::kWasmRelaxedSimd: return &kWasmRelaxedSimdConfig;
#endif
    default: return nullptr;  // not in this build
  }
}

const KernelConfig& kernel_config() {
#if defined(NIBBLE_RELAXED_SIMD)
  return kWasmRelaxedSimdConfig;
#elif defined(__wasm_simd128__)
  return kWasmSimdConfig;
#else
  return kScalarConfig;
#endif
}

}  // namespace nibble
