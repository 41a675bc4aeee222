// y[N] = W[N,K] · x[K] per activation row; W packed Q4_0 widened to f32, x f32 (wasm SIMD128 tier).
// Relaxed-SIMD builds pack for the *__wasmrelaxedsimd kernels instead (q4_panel.h).
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

void q4_0_f32_gemv_4x__wasmsimd(const Q4Weights& w, const F32Activations& x, const OutputTile& out) {
  wasmsimd::Q4Kernels<false, /*kRelaxed=*/false>::f32_gemv(w, x, out, q4_0_f32_gemv_4x__scalar);
}

}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
