// x[K] f32 -> qs[K] int8, d[K/32] (fp16-exact f32), sums[K/32] = Σq (wasm
// SIMD128 tier; the loop in quantize_row_wasmsimd.h).
#ifdef __wasm_simd128__

#include "kernels/quantize_row_wasmsimd.h"

namespace nibble {

void q8_0_quantize__wasmsimd(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  quantize_row_q8_0_wasmsimd(x, K, qs, d, sums);
}

}  // namespace nibble

#endif  // __wasm_simd128__
