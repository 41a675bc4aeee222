// x[K] -> K/32 Q8_0 blocks holding signed 4-bit values (W4A4) + per-block Σq
// (reference; rules in q8_quantize_util.h).
#include "kernels/q8_quantize_util.h"

namespace nibble {

void i4_quantize_ref(const float* x, int64_t K, BlockQ8_0* blocks, int32_t* sums) {
  quantize_row_q8_blocks<I4Rule>(x, K, blocks, sums);
}

}  // namespace nibble
