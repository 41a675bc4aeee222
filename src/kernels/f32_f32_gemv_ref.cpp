// y[N] = W[N,K] · x[K], all f32, double accumulation (reference).
#include "kernels/microkernels.h"
#include "kernels/ref_util.h"

namespace nibble {

void f32_f32_gemv_ref(const float* w, int64_t N, int64_t K, const float* x, float* y) {
  for (int64_t n = 0; n < N; ++n) {
    double acc = 0.0;
    for (int64_t k = 0; k < K; ++k) acc += double(w[n * K + k]) * double(x[k]);
    y[n] = float(acc);
  }
}

}  // namespace nibble
