// Y[M,N] = X[M,K] · W[N,K]ᵀ; W packed Q5_K, X Q8_0 (wasm SIMD128 tier): the GEMV, which
// takes a group's activation rows in turn while its panels stay in cache
// (as the relaxed tier's: a GEMM of its own cost download for a type rare
// in published files).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/k_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q5_k_q8_0_gemm_4x4__wasmsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  q5_k_q8_0_gemv_4x__wasmsimd(w, x, out);  // every row of the tile in turn
}

}  // namespace nibble

#endif
