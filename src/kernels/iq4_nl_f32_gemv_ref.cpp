// y[N] = W[N,K] · x[K]; W IQ4_NL blocks dequantized, x f32 (reference).
#include "kernels/microkernels.h"
#include "kernels/ref_util.h"

namespace nibble {

void iq4_nl_f32_gemv_ref(const BlockIQ4_NL* w, int64_t N, int64_t K, const float* x, float* y) { ref::gemv_f32(w, N, K, x, y); }

}  // namespace nibble
