// Y = X · Wᵀ, up to 4 activation rows per unpacked panel; W packed Q6_K, X f32 (scalar tier).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_f32_gemm_4x4__scalar(const PackedView& w, const F32Activations& x, const OutputTile& out) {
  scalar::k_f32_tiles<TensorType::Q6_K>(w, x, out, 4);
}

}  // namespace nibble
