// Y[M,N] = X[M,K] · W[N,K]ᵀ, 4 activation rows × 4 weight rows per tile; W packed Q4_0, X Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q4_0_q8_0_gemm_4x4__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<Q4PanelFormat<false, false>>(w, x, out, 4);
}

}  // namespace nibble
