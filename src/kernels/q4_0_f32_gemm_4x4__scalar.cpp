// Y[M,N] = X[M,K] · W[N,K]ᵀ, 4 activation rows × 4 weight rows per tile; W packed Q4_0 widened to f32, X f32 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q4_0_f32_gemm_4x4__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out) {
  scalar::panel_f32_tiles<Q4PanelFormat<false, false>>(w, x, out, 4);
}

}  // namespace nibble
