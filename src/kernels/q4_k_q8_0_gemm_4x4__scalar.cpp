// Y = X · Wᵀ, up to 4 activation rows per unpacked panel; W packed Q4_K, X Q8_0 (scalar tier).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q4_k_q8_0_gemm_4x4__scalar(const PackedView& w, const Q8Activations& x, const OutputTile& out) {
  scalar::k_q8_tiles<TensorType::Q4_K>(w, x, out, 4);
}

}  // namespace nibble
