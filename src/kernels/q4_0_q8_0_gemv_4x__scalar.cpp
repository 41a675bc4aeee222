// y[N] = W[N,K] · x[K] per activation row; W packed Q4_0, x Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q4_0_q8_0_gemv_4x__scalar(const Q4Weights& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<Q4PanelFormat<false, false>>(w, x, out, 1);
}

}  // namespace nibble
