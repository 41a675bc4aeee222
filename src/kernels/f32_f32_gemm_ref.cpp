// Y[M,N] = X[M,K] · W[N,K]ᵀ, all f32 (reference).
#include "kernels/microkernels.h"
#include "kernels/ref_util.h"

namespace nibble {

void f32_f32_gemm_ref(const float* w, int64_t N, int64_t K, const float* x, int64_t M, float* y) {
  for (int64_t m = 0; m < M; ++m) f32_f32_gemv_ref(w, N, K, x + m * K, y + m * N);
}

}  // namespace nibble
