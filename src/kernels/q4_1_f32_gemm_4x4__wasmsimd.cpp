// Y[M,N] = X[M,K] · W[N,K]ᵀ, 4 activation rows × 4 weight rows per tile; W packed Q4_1 widened to f32, X f32 (wasm SIMD128 tier).
// Relaxed-SIMD builds pack for the *__wasmrelaxedsimd kernels instead (q4_panel.h).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q4_1_f32_gemm_4x4__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<true, /*kRelaxed=*/false>::f32_gemm(w, x, out, q4_1_f32_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
