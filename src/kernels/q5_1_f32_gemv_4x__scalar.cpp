// y[N] = W[N,K] · x[K] per activation row; W packed Q5_1 widened to f32, x f32 (scalar tier; the SIMD tiers run it too).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q5_1_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  scalar::panel_f32_tiles<Q4PanelFormat<true, true>>(w, x, out, 1);
}

}  // namespace nibble
