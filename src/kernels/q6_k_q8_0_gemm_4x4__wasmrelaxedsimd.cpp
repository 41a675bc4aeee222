// Y[M,N] = X[M,K] · W[N,K]ᵀ; W packed Q6_K, X Q8_0 (wasm relaxed-SIMD tier): the GEMV,
// which takes a group's activation rows in turn while its panels stay in
// cache (as Q4_K's and Q5_K's: the unpack-once GEMM cost download).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/k_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  q6_k_q8_0_gemv_4x__wasmrelaxedsimd(w, x, out);  // every row of the tile in turn
}

}  // namespace nibble

#endif
