// y[N] = W[N,K] · x[K] per activation row; W packed IQ4_NL, x Q8_0 (wasm relaxed-SIMD tier).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/i8_q8_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void iq4_nl_q8_0_gemv_4x__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::i8_q8_gemv<TensorType::IQ4_NL, /*kRelaxed=*/true>(w, x, out, iq4_nl_q8_0_gemv_4x__scalar);
}

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
