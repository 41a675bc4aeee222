// Y[M,N] = X[M,K] · W[N,K]ᵀ (the GEMV tiles per activation row); W packed Q5_0, x Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q5_0_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<false, /*kRelaxed=*/true, /*kHigh=*/true>::q8_gemm(w, x, out, q5_0_q8_0_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
