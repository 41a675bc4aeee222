// Y[M,N] = X[M,K] · W[N,K]ᵀ, up to 4 activation rows per weight panel; W packed Q5_1 widened to f32, X f32 (scalar tier; the SIMD tiers run it too).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q5_1_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  scalar::panel_f32_tiles<Q4PanelFormat<true, true>>(w, x, out, 4);
}

}  // namespace nibble
