// y[N] = W[N,K] · x[K]; W Q5_K blocks dequantized by the row dequantizer, x f32 (reference).
#include "kernels/k_scalar.h"
#include "kernels/microkernels.h"

namespace nibble {

void q5_k_f32_gemv_ref(const BlockQ5_K* w, int64_t N, int64_t K, const float* x, float* y) {
  ref::k_gemv_f32<TensorType::Q5_K>(w, N, K, x, y);
}

}  // namespace nibble
