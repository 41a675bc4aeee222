// Y[M,N] = X[M,K] · W[N,K]ᵀ, 4 activation rows × 4 weight rows per tile; W packed Q4_1, X Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q4_1_q8_0_gemm_4x4__wasmrelaxedsimd(const Q4Weights& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<true, /*kRelaxed=*/true>::q8_gemm(w, x, out, q4_1_q8_0_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
