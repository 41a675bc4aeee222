// Y[M,N] = X[M,K] · W[N,K]ᵀ (the GEMV tiles per activation row); W packed Q5_1, x Q8_0 (wasm SIMD128 tier).
// Relaxed-SIMD builds pack for the *__wasmrelaxedsimd kernels instead (q4_panel.h).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q5_1_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<true, /*kRelaxed=*/false, /*kHigh=*/true>::q8_gemm(w, x, out, q5_1_q8_0_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
