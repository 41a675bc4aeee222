// y[N] = W[N,K] · x[K] per activation row; W packed Q8_0, x Q8_0 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q8_0_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::panel_q8_tiles<I8PanelFormat<TensorType::Q8_0>>(w, x, out, 1);
}

}  // namespace nibble
