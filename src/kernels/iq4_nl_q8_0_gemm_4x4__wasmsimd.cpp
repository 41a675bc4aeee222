// Y[M,N] = X[M,K] · W[N,K]ᵀ (8×4 tiles on a pair-major copy of each group, widened once); W packed IQ4_NL, x Q8_0 (wasm SIMD128 tier).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/i8_q8_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void iq4_nl_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::i8_q8_gemm<TensorType::IQ4_NL, /*kRelaxed=*/false>(w, x, out, iq4_nl_q8_0_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
