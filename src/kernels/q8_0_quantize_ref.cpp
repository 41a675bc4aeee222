// x[K] -> K/32 standard Q8_0 blocks + per-block Σq (reference; q8_quantize_util.h).
#include "kernels/q8_quantize_util.h"

namespace nibble {

void q8_0_quantize_ref(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums) {
  quantize_row_q8_blocks<Q8Rule>(x, K, blocks, sums);
}

}  // namespace nibble
