// One row of a packed matrix back to f32: the embedding lookup of a model
// whose token embedding is stored INT4 (it is also the tied classifier).
#pragma once

#include <cstdint>

#include "kernels/packed_weights.h"

namespace nibble {

// out[K] = W[row, :]
void dequantize_row(const PackedWeights& w, int64_t row, float* out);

}  // namespace nibble
