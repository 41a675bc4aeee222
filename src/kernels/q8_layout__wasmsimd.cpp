// The activation layout of the wasm SIMD128 W4A8 kernels
// (q4_activations_wasmsimd.h), which matmul() writes once per call instead
// of once per kernel call.
// Relaxed-SIMD builds have the *__wasmrelaxedsimd kernels and their layout instead.
#if defined(__wasm_simd128__) && !defined(NIBBLE_RELAXED_SIMD)

#include "kernels/microkernels.h"
#include "kernels/q4_activations_wasmsimd.h"

namespace nibble {

const Q8Layout q8_layout__wasmsimd = {wasmsimd::q8_interleaved_ints<false>, wasmsimd::interleave_q8_into<false>};

}  // namespace nibble

#endif  // __wasm_simd128__ && !NIBBLE_RELAXED_SIMD
