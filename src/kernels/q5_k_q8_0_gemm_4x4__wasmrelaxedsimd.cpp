// Y[M,N] = X[M,K] · W[N,K]ᵀ; W packed Q5_K, X Q8_0 (wasm relaxed-SIMD tier): the GEMV,
// which takes a group's activation rows in turn while its panels stay in
// cache. A GEMM of its own (each group's super-blocks unpacked once) was
// 0.78 against 1.03 ms for 1536x576, M = 16, and cost 0.55 KB of download,
// for a type rare in published files.
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/k_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q5_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  q5_k_q8_0_gemv_4x__wasmrelaxedsimd(w, x, out);  // every row of the tile in turn
}

}  // namespace nibble

#endif
