// Y[M,N] = X[M,K] · W[N,K]ᵀ; W Q5_K blocks, X Q8_0 blocks (reference).
#include "kernels/microkernels.h"

namespace nibble {

void q5_k_q8_0_gemm_ref(const BlockQ5_K* w, int64_t N, int64_t K, const BlockQ8_0* x, int64_t M, float* y) {
  for (int64_t m = 0; m < M; ++m) q5_k_q8_0_gemv_ref(w, N, K, x + m * (K / kQK), y + m * N);
}

}  // namespace nibble
