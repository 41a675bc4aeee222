// y[N] = W[N,K] · x[K] per activation row; W packed Q5_1, x Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q5_1_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<true, /*kRelaxed=*/true, /*kHigh=*/true>::q8_gemv(w, x, out, q5_1_q8_0_gemv_4x__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
