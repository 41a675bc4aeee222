// y = W · x per activation row; W packed Q6_K, X f32 (scalar tier).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_f32_gemv_4x__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  scalar::k_f32_tiles<TensorType::Q6_K>(w, x, out, 1);
}

}  // namespace nibble
