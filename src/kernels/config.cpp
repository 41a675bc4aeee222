#include "kernels/config.h"

namespace nibble {
namespace {

// The f32 kernels read F32Weights; the per-type sets take a PackedView.
template <F32F32Fn kKernel>
void f32_rows(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  kKernel(F32Weights{reinterpret_cast<const float*>(w.data), w.N, w.K}, x, out);
}

struct TypedKernels {
  TensorType type;
  TypeKernels kernels;
};

// The types added after Q4_0 / Q4_1 (Q5_0, Q5_1, IQ4_NL, Q8_0): each tier's
// own W4A8 kernels, and the scalar W4A32 kernels in every tier (W4A8 is the
// default; W4A32 is the accuracy reference).
#define NIBBLE_WIDER_TYPE_KERNELS(Id, t, tier, block_sums)                                              \
  {TensorType::Id, {t##_q8_0_gemv_4x__##tier, t##_q8_0_gemm_4x4__##tier, t##_f32_gemv_4x__scalar, \
                    t##_f32_gemm_4x4__scalar, block_sums}}
#define NIBBLE_WIDER_TYPES(tier)                                                                          \
  NIBBLE_WIDER_TYPE_KERNELS(Q5_0, q5_0, tier, false), NIBBLE_WIDER_TYPE_KERNELS(Q5_1, q5_1, tier, true), \
      NIBBLE_WIDER_TYPE_KERNELS(IQ4_NL, iq4_nl, tier, false), NIBBLE_WIDER_TYPE_KERNELS(Q8_0, q8_0, tier, false)

// A tier with the kernel sets of the types it runs, each at its type's index.
template <size_t kCount>
constexpr KernelConfig make_config(const char* name, KernelTier tier, QuantizeQ8Fn quantize_q8,
                                   QuantizeQ8Fn quantize_i4, const Q8Layout* q8_layout,
                                   const TypedKernels (&sets)[kCount]) {
  KernelConfig config{name, tier, quantize_q8, quantize_i4, q8_layout, {}};
  for (const TypedKernels& set : sets) config.by_type[tensor_type_index(set.type)] = set.kernels;
  return config;
}

constexpr KernelConfig kScalarConfig = make_config(
    "scalar", KernelTier::kScalar, q8_0_quantize__scalar, i4_quantize__scalar, nullptr,
    {{TensorType::F32, {nullptr, nullptr, f32_rows<f32_f32_gemv__scalar>, f32_rows<f32_f32_gemm_4x4__scalar>}},
     {TensorType::Q4_0, {q4_0_q8_0_gemv_4x__scalar, q4_0_q8_0_gemm_4x4__scalar, q4_0_f32_gemv_4x__scalar,
                         q4_0_f32_gemm_4x4__scalar}},
     {TensorType::Q4_1, {q4_1_q8_0_gemv_4x__scalar, q4_1_q8_0_gemm_4x4__scalar, q4_1_f32_gemv_4x__scalar,
                         q4_1_f32_gemm_4x4__scalar, /*reads_block_sums=*/true}},
     NIBBLE_WIDER_TYPES(scalar),
     {TensorType::Q4_K, {q4_k_q8_0_gemv_4x__scalar, q4_k_q8_0_gemm_4x4__scalar, q4_k_f32_gemv_4x__scalar,
                         q4_k_f32_gemm_4x4__scalar}},
     {TensorType::Q5_K, {q5_k_q8_0_gemv_4x__scalar, q5_k_q8_0_gemm_4x4__scalar, q5_k_f32_gemv_4x__scalar,
                         q5_k_f32_gemm_4x4__scalar}},
     {TensorType::Q6_K, {q6_k_q8_0_gemv_4x__scalar, q6_k_q8_0_gemm_4x4__scalar, q6_k_f32_gemv_4x__scalar,
                         q6_k_f32_gemm_4x4__scalar}}});

// A build has one of the two SIMD tiers: their Q4 kernels read different
// packed layouts, and the build packs for one (q4_panel.h).
#ifdef __wasm_simd128__
// Both SIMD tiers run f32 weights with these.
constexpr TypedKernels kWasmSimdF32 = {
    TensorType::F32, {nullptr, nullptr, f32_rows<f32_f32_gemv__wasmsimd>, f32_rows<f32_f32_gemm_4x4__wasmsimd>}};
#endif

#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)
constexpr KernelConfig kWasmSimdConfig = make_config(
    "wasmsimd", KernelTier::kWasmSimd, q8_0_quantize__wasmsimd, i4_quantize__wasmsimd, &q8_layout__wasmsimd,
    {kWasmSimdF32,
     {TensorType::Q4_0, {q4_0_q8_0_gemv_4x__wasmsimd, q4_0_q8_0_gemm_4x4__wasmsimd, q4_0_f32_gemv_4x__wasmsimd,
                         q4_0_f32_gemm_4x4__wasmsimd}},
     {TensorType::Q4_1, {q4_1_q8_0_gemv_4x__wasmsimd, q4_1_q8_0_gemm_4x4__wasmsimd, q4_1_f32_gemv_4x__wasmsimd,
                         q4_1_f32_gemm_4x4__wasmsimd, /*reads_block_sums=*/true}},
     NIBBLE_WIDER_TYPES(wasmsimd),
     {TensorType::Q4_K, {q4_k_q8_0_gemv_4x__wasmsimd, q4_k_q8_0_gemm_4x4__wasmsimd, q4_k_f32_gemv_4x__scalar,
                         q4_k_f32_gemm_4x4__scalar}},
     {TensorType::Q5_K, {q5_k_q8_0_gemv_4x__wasmsimd, q5_k_q8_0_gemm_4x4__wasmsimd, q5_k_f32_gemv_4x__scalar,
                         q5_k_f32_gemm_4x4__scalar}},
     {TensorType::Q6_K, {q6_k_q8_0_gemv_4x__wasmsimd, q6_k_q8_0_gemm_4x4__wasmsimd, q6_k_f32_gemv_4x__scalar,
                         q6_k_f32_gemm_4x4__scalar}}});
#endif

#ifdef NIBBLE_RELAXED_SIMD
// Relaxed SIMD changes the Q4 kernels only: the quantizers and the f32
// kernels are wasmsimd's.
constexpr KernelConfig kWasmRelaxedSimdConfig = make_config(
    "wasmrelaxedsimd", KernelTier::kWasmRelaxedSimd, q8_0_quantize__wasmsimd, i4_quantize__wasmsimd,
    &q8_layout__wasmrelaxedsimd,
    {kWasmSimdF32,
     {TensorType::Q4_0, {q4_0_q8_0_gemv_4x__wasmrelaxedsimd, q4_0_q8_0_gemm_4x4__wasmrelaxedsimd,
                         q4_0_f32_gemv_4x__wasmrelaxedsimd, q4_0_f32_gemm_4x4__wasmrelaxedsimd}},
     {TensorType::Q4_1, {q4_1_q8_0_gemv_4x__wasmrelaxedsimd, q4_1_q8_0_gemm_4x4__wasmrelaxedsimd,
                         q4_1_f32_gemv_4x__wasmrelaxedsimd, q4_1_f32_gemm_4x4__wasmrelaxedsimd,
                         /*reads_block_sums=*/true}},
     NIBBLE_WIDER_TYPES(wasmrelaxedsimd),
     {TensorType::Q4_K, {q4_k_q8_0_gemv_4x__wasmrelaxedsimd, q4_k_q8_0_gemm_4x4__wasmrelaxedsimd, q4_k_f32_gemv_4x__scalar,
                         q4_k_f32_gemm_4x4__scalar}},
     {TensorType::Q5_K, {q5_k_q8_0_gemv_4x__wasmrelaxedsimd, q5_k_q8_0_gemm_4x4__wasmrelaxedsimd, q5_k_f32_gemv_4x__scalar,
                         q5_k_f32_gemm_4x4__scalar}},
     {TensorType::Q6_K, {q6_k_q8_0_gemv_4x__wasmrelaxedsimd, q6_k_q8_0_gemm_4x4__wasmrelaxedsimd, q6_k_f32_gemv_4x__scalar,
                         q6_k_f32_gemm_4x4__scalar}}});
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
