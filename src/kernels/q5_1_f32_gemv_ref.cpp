// y[N] = W[N,K] · x[K]; W Q5_1 blocks dequantized, x f32 (reference).
#include "kernels/microkernels.h"
#include "kernels/ref_util.h"

namespace nibble {

void q5_1_f32_gemv_ref(const BlockQ5_1* w, int64_t N, int64_t K, const float* x, float* y) { ref::gemv_f32(w, N, K, x, y); }

}  // namespace nibble
