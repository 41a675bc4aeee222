// Y[M,N] = X[M,K] · W[N,K]ᵀ in 4×4 tiles, all f32, any K (wasm SIMD128 tier).
#ifdef __wasm_simd128__

#include "kernels/microkernels.h"
#include "kernels/f32_wasmsimd.h"

namespace nibble {

void f32_f32_gemm_4x4__wasmsimd(const F32Weights& w, const F32Activations& x, const OutputTile& out) {
  wasmsimd::f32_tiles(w, x, out, 4, f32_f32_gemm_4x4__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__
