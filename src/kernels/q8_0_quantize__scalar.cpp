// x[K] f32 -> qs[K] int8, d[K/32] (fp16-exact f32), sums[K/32] = Σq (scalar tier).
#include "kernels/q8_quantize_util.h"

namespace nibble {

void q8_0_quantize__scalar(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  quantize_row_q8_arrays<Q8Rule>(x, K, qs, d, sums);
}

}  // namespace nibble
