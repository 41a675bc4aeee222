// y[N] = W[N,K] · x[K]; W Q8_0 blocks, x Q8_0 blocks (reference).
#include "kernels/microkernels.h"
#include "kernels/ref_util.h"

namespace nibble {

void q8_0_q8_0_gemv_ref(const BlockQ8_0* w, int64_t N, int64_t K, const BlockQ8_0* x, float* y) {
  ref::gemv_q8(w, N, K, x, y);
}

}  // namespace nibble
