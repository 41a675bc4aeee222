// Y[M,N] = X[M,K] · W[N,K]ᵀ; W Q4_K blocks dequantized, X f32 (reference).
#include "kernels/microkernels.h"

namespace nibble {

void q4_k_f32_gemm_ref(const BlockQ4_K* w, int64_t N, int64_t K, const float* x, int64_t M, float* y) {
  for (int64_t m = 0; m < M; ++m) q4_k_f32_gemv_ref(w, N, K, x + m * K, y + m * N);
}

}  // namespace nibble
