// Y[M,N] = X[M,K] · W[N,K]ᵀ, up to 4 activation rows per weight panel; W packed IQ4_NL, X Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void iq4_nl_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<I8PanelFormat<TensorType::IQ4_NL>>(w, x, out, 4);
}

}  // namespace nibble
