// y[N] = W[N,K] · x[K] per activation row; W packed Q8_0 widened to f32, x f32 (scalar tier; the SIMD tiers run it too).
#include "kernels/microkernels.h"
#include "kernels/q4_scalar.h"

namespace nibble {

void q8_0_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  scalar::panel_f32_tiles<I8PanelFormat<TensorType::Q8_0>>(w, x, out, 1);
}

}  // namespace nibble
