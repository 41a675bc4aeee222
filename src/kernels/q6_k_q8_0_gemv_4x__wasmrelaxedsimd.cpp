// Y = X · Wᵀ, one activation row at a time; W packed Q6_K, X Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/k_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::k_q8_gemv<TensorType::Q6_K, /*kRelaxed=*/true>(w, x, out);
}

}  // namespace nibble

#endif
