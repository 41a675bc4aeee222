// y[N] = W[N,K] · x[K] per activation row; W packed Q5_1, x Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q5_1_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<Q4PanelFormat<true, true>>(w, x, out, 1);
}

}  // namespace nibble
