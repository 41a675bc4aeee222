// y[N] = W[N,K] · x[K] per activation row; W packed Q4_1 widened to f32, x f32 (scalar tier).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q4_1_f32_gemv_4x__scalar(const Q4Weights& w, const F32Activations& x, const OutputTile& out) {
  scalar::panel_f32_tiles<Q4PanelFormat<true, false>>(w, x, out, 1);
}

}  // namespace nibble
