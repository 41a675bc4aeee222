// y[N] = W[N,K] · x[K] per activation row, all f32, any K (wasm SIMD128 tier).
#ifdef __wasm_simd128__

#include "kernels/microkernels.h"
#include "kernels/f32_wasmsimd.h"

namespace nibble {

void f32_f32_gemv__wasmsimd(const F32Weights& w, const F32Activations& x, const OutputTile& out) {
  wasmsimd::f32_tiles(w, x, out, 1, f32_f32_gemv__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__
