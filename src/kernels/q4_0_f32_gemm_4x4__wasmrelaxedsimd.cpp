// Y[M,N] = X[M,K] · W[N,K]ᵀ, 4 activation rows × 4 weight rows per tile; W packed Q4_0 widened to f32, X f32 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q4_0_f32_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<false, /*kRelaxed=*/true>::f32_gemm(w, x, out, q4_0_f32_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
