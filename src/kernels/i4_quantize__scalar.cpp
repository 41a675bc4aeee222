// x[K] f32 -> qs[K] int8 in [−8, 7], d[K/32] (fp16-exact f32), sums[K/32] = Σq
// (W4A4, scalar tier; rules in q8_quantize_util.h).
#include "kernels/q8_quantize_util.h"

namespace nibble {

void i4_quantize__scalar(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  quantize_row_q8_arrays<I4Rule>(x, K, qs, d, sums);
}

}  // namespace nibble
