// Y[M,N] = X[M,K] · W[N,K]ᵀ, 8×4 tiles on pair-major copies of each group (scales multiplied in); W packed Q6_K, X Q8_0 (wasm SIMD128 tier).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/k_q8_gemm_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::k_q8_gemm<TensorType::Q6_K>(w, x, out);
}

}  // namespace nibble

#endif
