// y = W · x per activation row; W packed Q4_K, X Q8_0 (scalar tier).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q4_k_q8_0_gemv_4x__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::k_q8_tiles<TensorType::Q4_K>(w, x, out, 1);
}

}  // namespace nibble
