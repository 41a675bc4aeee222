// KernelConfig: the one place that names kernels. kernel_config() is picked
// once (the best tier this build has: wasm relaxed SIMD in relaxed-SIMD
// builds, wasm SIMD128 in the other SIMD builds, else scalar) and never
// changes; there is no global mutable tuning state. Tests and benchmarks can
// ask for a tier explicitly and pass it to matmul_with() (matmul.h).
//
// A tier holds one kernel set per tensor type, indexed by the type's dense
// index in the tensor-type table (quant/block_formats.h); a type whose
// KernelFamily is kNone has none. A kernel test
// (EveryTierRunsExactlyTheTypesWithKernels) checks that every tier covers
// every type with kernels.
#pragma once

#include "kernels/microkernels.h"

namespace nibble {

enum class KernelTier { kScalar, kWasmSimd, kWasmRelaxedSimd };

// The kernels that run weights of one type.
struct TypeKernels {
  PackedQ8Fn q8_gemv = nullptr;    // W4A8, M = 1; null: the type has no W4A8
  PackedQ8Fn q8_gemm = nullptr;    //   kernels and ignores `precision` (f32)
  PackedF32Fn f32_gemv = nullptr;  // f32 activations, M = 1
  PackedF32Fn f32_gemm = nullptr;  // f32 activations, M > 1
  bool reads_block_sums = false;   // the f32 kernels read F32Activations::block_sums

  constexpr bool empty() const { return f32_gemv == nullptr; }
};

struct KernelConfig {
  const char* name;  // "scalar", "wasmsimd", "wasmrelaxedsimd"
  KernelTier tier;
  QuantizeQ8Fn quantize_q8;   // activations f32 -> Q8_0 (W4A8)
  QuantizeQ8Fn quantize_i4;   // activations f32 -> signed 4-bit in int8 lanes (W4A4)
  const Q8Layout* q8_layout;  // null, or the layout its W4A8 kernels read
  TypeKernels by_type[kTensorTypeCount];  // by tensor_type_index()

  // The kernels for `type`, or null if this tier has none.
  constexpr const TypeKernels* kernels_for(TensorType type) const {
    const int i = tensor_type_index(type);
    return i < 0 || by_type[i].empty() ? nullptr : &by_type[i];
  }
};

// The kernels matmul() uses.
const KernelConfig& kernel_config();
// A given tier, or null if this build does not have it.
const KernelConfig* kernel_config_for(KernelTier tier);

}  // namespace nibble
