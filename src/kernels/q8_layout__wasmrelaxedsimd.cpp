// The activation layout of the wasm relaxed-SIMD W4A8 kernels
// (q4_activations_wasmsimd.h: their GEMV tiles read the int8 values as they
// are), which matmul() writes once per call instead of once per kernel call.
#ifdef NIBBLE_RELAXED_SIMD

#include "kernels/microkernels.h"
#include "kernels/q4_activations_wasmsimd.h"

namespace nibble {

const Q8Layout q8_layout__wasmrelaxedsimd = {wasmsimd::q8_interleaved_ints<true>, wasmsimd::interleave_q8_into<true>};

}  // namespace nibble

#endif  // NIBBLE_RELAXED_SIMD
