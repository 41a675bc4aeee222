// The activation layout of the wasm SIMD128 W4A8 kernels (q4_wasmsimd.h),
// which matmul() writes once per call instead of once per kernel call.
#ifdef __wasm_simd128__

#include "kernels/microkernels.h"
#include "kernels/q4_wasmsimd.h"

namespace nibble {

const Q8Layout q8_layout__wasmsimd = {wasmsimd::q8_interleaved_ints, wasmsimd::interleave_q8_into};

}  // namespace nibble

#endif  // __wasm_simd128__
