// Y[M,N] = X[M,K] · W[N,K]ᵀ (4×4 tiles sharing each widened weight vector); W packed IQ4_NL, x Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/i8_q8_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void iq4_nl_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::i8_q8_gemm<TensorType::IQ4_NL, /*kRelaxed=*/true>(w, x, out, iq4_nl_q8_0_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
