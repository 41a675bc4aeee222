#include "quant/hadamard.h"

#include <cmath>

namespace nibble {

void hadamard_rotate_blocks(float* x, int64_t K) {
  const float norm = 1.0f / std::sqrt(float(kRotationBlock));
  for (int64_t b = 0; b < K; b += kRotationBlock) {
    float* v = x + b;  // [32]
    for (int h = 1; h < kRotationBlock; h *= 2) {
      for (int i = 0; i < kRotationBlock; i += 2 * h) {
        for (int j = i; j < i + h; ++j) {
          const float a = v[j], c = v[j + h];
          v[j] = a + c;
          v[j + h] = a - c;
        }
      }
    }
    for (int j = 0; j < kRotationBlock; ++j) v[j] *= norm;
  }
}

}  // namespace nibble
