// x[K] f32 -> qs[K] int8, d[K/32] (fp16-exact f32), sums[K/32] = Σq (scalar tier).
#include <algorithm>

#include "kernels/microkernels.h"
#include "kernels/q8_quantize_util.h"

namespace nibble {

void q8_0_quantize__scalar(const float* x, int64_t K, int8_t* qs, float* d, int32_t* sums) {
  for (int64_t b = 0; b < K / kQK; ++b) {
    const float* xb = x + b * kQK;
    int8_t* qb = qs + b * kQK;
    uint32_t amax_bits = 0;
    for (int j = 0; j < kQK; ++j) amax_bits = std::max(amax_bits, abs_bits(xb[j]));
    const Q8BlockScale scale = q8_block_scale(amax_bits);
    d[b] = fp16_to_fp32(scale.d_fp16);
    int32_t sum = 0;
    for (int j = 0; j < kQK; ++j) {
      qb[j] = q8_round(xb[j] * scale.id);
      sum += qb[j];
    }
    sums[b] = sum;
  }
}

}  // namespace nibble
