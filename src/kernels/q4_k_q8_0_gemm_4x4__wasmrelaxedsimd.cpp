// Y[M,N] = X[M,K] · W[N,K]ᵀ; W packed Q4_K, X Q8_0 (wasm relaxed-SIMD tier): the GEMV
// pair tile per activation row, each pair's panels in cache across the rows
// (1536x576, M = 16: 0.72 ms with each group's super-blocks unpacked once
// for all rows, 0.52 like this; and 0.6 KB less to download).
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/k_wasmsimd.h"
#include "kernels/microkernels.h"

namespace nibble {

void q4_k_q8_0_gemm_4x4__wasmrelaxedsimd(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  wasmsimd::k_q8_gemv_relaxed<TensorType::Q4_K>(w, x, out);  // every row of the tile in turn
}

}  // namespace nibble

#endif
