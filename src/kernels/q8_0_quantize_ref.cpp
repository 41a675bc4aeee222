// x[K] f32 -> K/32 standard Q8_0 blocks + per-block Σq (reference).
#include <algorithm>

#include "kernels/microkernels.h"
#include "kernels/q8_quantize_util.h"

namespace nibble {

void q8_0_quantize_ref(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums) {
  for (int64_t b = 0; b < K / kQK; ++b) {
    const float* xb = x + b * kQK;
    uint32_t amax_bits = 0;
    for (int j = 0; j < kQK; ++j) amax_bits = std::max(amax_bits, abs_bits(xb[j]));
    const Q8BlockScale scale = q8_block_scale(amax_bits);
    blocks[b].d = scale.d_fp16;
    int32_t sum = 0;
    for (int j = 0; j < kQK; ++j) {
      blocks[b].qs[j] = q8_round(xb[j] * scale.id);
      sum += blocks[b].qs[j];
    }
    sums[b] = sum;
  }
}

}  // namespace nibble
