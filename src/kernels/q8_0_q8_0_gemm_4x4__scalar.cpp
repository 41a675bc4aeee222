// Y[M,N] = X[M,K] · W[N,K]ᵀ, up to 4 activation rows per weight panel; W packed Q8_0, X Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q8_0_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<I8PanelFormat<TensorType::Q8_0>>(w, x, out, 4);
}

}  // namespace nibble
