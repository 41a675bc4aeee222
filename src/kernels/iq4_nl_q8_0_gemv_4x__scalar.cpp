// y[N] = W[N,K] · x[K] per activation row; W packed IQ4_NL, x Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void iq4_nl_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<I8PanelFormat<TensorType::IQ4_NL>>(w, x, out, 1);
}

}  // namespace nibble
