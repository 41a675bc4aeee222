// y[N] = W[N,K] · x[K]; W Q6_K blocks, x Q8_0 blocks (reference: k_superblock_q8(), k_panel.h).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q6_k_q8_0_gemv_ref(const BlockQ6_K* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y) {
  ref::k_gemv_q8<TensorType::Q6_K>(w, N, K, x, y);
}

}  // namespace nibble
